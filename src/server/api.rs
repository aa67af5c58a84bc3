//! JSON for scripts (`/api/entries`, `/api/feeds`, admin refresh), the sources as OPML, and
//! the admin's views: `/healthz` and `/metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::feeds::FeedParams;
use super::{ApiError, AppState};
use crate::export::{self, opml};
use crate::metrics::StoreGauges;
use crate::model::{FeedState, rfc3339};
use crate::status::feed_statuses;
use crate::store::Cursor;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such page".into())
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let text = state
        .with_store(|store, state| {
            let feeds = state.feeds();
            let statuses = feed_statuses(&feeds, &store.feeds()?);
            let gauges = StoreGauges {
                entries: store.counts()?.entries,
                shared_stories: store.shared_story_count()?,
                feeds_failing: statuses
                    .iter()
                    .filter(|s| {
                        matches!(
                            s.state,
                            FeedState::Failing | FeedState::Backoff | FeedState::Gone
                        )
                    })
                    .count() as u64,
                feeds_configured: feeds.feeds.len() as u64,
            };
            Ok(state.metrics.render(gauges))
        })
        .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

pub async fn opml(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let body = state
        .with_store(|store, state| {
            let title = state
                .config
                .output(None)
                .map_or("Tributary sources", |o| o.title.as_str())
                .to_string();
            Ok(opml::render(
                &state.feeds(),
                &store.feeds()?,
                &title,
                Utc::now(),
            ))
        })
        .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/x-opml; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

/// `/api/entries`: the merged stream (one entry per story) with cluster membership, paged.
pub async fn entries(
    State(state): State<Arc<AppState>>,
    Query(params): Query<FeedParams>,
) -> Result<Json<Value>, ApiError> {
    let selection = params.selection()?;
    state
        .with_store(move |store, state| {
            let output = state.config.output(None).ok_or_else(|| ApiError::Internal("no output configured".into()))?;
            let feeds = state.feeds();
            let merged = export::merged_feed(store, &state.config, &feeds, output, &selection, Utc::now())?;
            let entries: Vec<Value> = merged
                .entries
                .iter()
                .map(|e| {
                    json!({
                        "id": e.uid,
                        "entry_id": e.rowid,
                        "feed": e.feed_id,
                        "feed_title": e.feed_title,
                        "title": e.title,
                        "link": e.link,
                        "published": e.published.map(rfc3339),
                        "updated": rfc3339(e.updated),
                        "first_seen": rfc3339(e.first_seen),
                        "summary": e.summary,
                        "content": e.content,
                        "excerpt": e.excerpt,
                        "authors": e.authors,
                        "tags": e.tags,
                        "cluster": { "id": e.cluster_id, "size": e.related.len() + 1, "also_reported_by": e.related },
                    })
                })
                .collect();
            Ok(Json(json!({ "entries": entries, "next": merged.next.as_ref().map(Cursor::encode) })))
        })
        .await
}

/// `/api/feeds`: every configured feed's health.
pub async fn feeds(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    state
        .with_store(|store, state| {
            let rows = feed_statuses(&state.feeds(), &store.feeds()?);
            Ok(Json(
                serde_json::to_value(rows).map_err(|e| ApiError::Internal(e.to_string()))?,
            ))
        })
        .await
}

/// `POST /api/feeds/{id}/refresh`: fetch one feed now. Needs `Authorization: Bearer TOKEN`
/// with the token from the environment variable named by `server.admin_token_env`.
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let feeds = state.feeds();
    let feed = feeds
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no feed `{id}` in feeds.toml")))?;
    let refresher = state
        .refresher
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("this server does not fetch feeds".into()))?;
    let report = refresher.refresh_feed(feed, &feeds.feeds).await;
    Ok(Json(json!({
        "feed": report.feed_id,
        "new": report.inserted,
        "updated": report.updated,
        "folded": report.folded,
        "not_modified": report.not_modified,
        "error": report.error,
        "warnings": report.warnings,
    })))
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let var = &state.config.server.admin_token_env;
    let expected = std::env::var(var)
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "admin routes are disabled: set the environment variable {var}"
            ))
        })?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("missing `Authorization: Bearer TOKEN`".into()))?;
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("wrong admin token".into()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
