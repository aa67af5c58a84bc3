//! Digest pages: `/digest.atom` (one entry per day), `/digest/{date}.html`, `/digest/{date}.md`
//! and `/digest/latest.html` (the day that just ended). Built from the store on each request, so
//! a late item appears as soon as it is stored.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};

use super::{ApiError, AppState};
use crate::digest::{self, DigestFormat};

pub async fn atom(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let body = state
        .with_store(|store, state| {
            let days = digest::recent_days(store, &state.config, &state.feeds(), Utc::now())?;
            Ok(digest::render_atom(&days, &state.config.server.base_url))
        })
        .await?;
    Ok(typed(body, "application/atom+xml; charset=utf-8"))
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let (day, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| ApiError::NotFound(format!("no digest `{file}`")))?;
    let format = match ext {
        "html" => DigestFormat::Html,
        "md" => DigestFormat::Md,
        _ => {
            return Err(ApiError::NotFound(format!(
                "no digest `{file}`: use .html or .md"
            )));
        }
    };
    let date = if day == "latest" {
        digest::previous_day(Utc::now(), state.config.digest.timezone)
    } else {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("`{day}` is not a date: write YYYY-MM-DD")))?
    };
    let body = state
        .with_store(move |store, state| {
            let d = digest::build(store, &state.config, &state.feeds(), date)?;
            Ok(format.render(&d, &state.config.server.base_url))
        })
        .await?;
    let content_type = match format {
        DigestFormat::Md => "text/markdown; charset=utf-8",
        _ => "text/html; charset=utf-8",
    };
    Ok(typed(body, content_type))
}

fn typed(body: String, content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}
