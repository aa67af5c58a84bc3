//! The merged feeds: `/feed.atom`, `/feeds/{output}.atom`, `/feeds/{output}.json`.
//!
//! Cheap to poll: the ETag comes from the store's change counter and the request's selection,
//! so a revalidation (`If-None-Match`, `If-Modified-Since`) is answered 304 without rendering;
//! `Cache-Control` allows caching until the soonest scheduled fetch.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::export::{self, Filters, Format};
use crate::store::Cursor;

/// Query parameters of the feed routes and `/api/entries`.
#[derive(Debug, Default, Deserialize)]
pub struct FeedParams {
    pub tag: Option<String>,
    pub feed: Option<String>,
    pub q: Option<String>,
    pub since: Option<String>,
    pub limit: Option<String>,
    pub before: Option<String>,
}

impl FeedParams {
    /// Validated selection; a bad value is a 400 naming the parameter.
    pub fn selection(&self) -> Result<Filters, ApiError> {
        let non_empty = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let since = match non_empty(&self.since) {
            None => None,
            Some(s) => Some(parse_since(&s).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "since: `{s}` is not a date (write 2026-01-14 or 2026-01-14T09:00:00Z)"
                ))
            })?),
        };
        let limit = match non_empty(&self.limit) {
            None => None,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "limit: `{s}` is not a positive number"
                    )));
                }
            },
        };
        let before = match non_empty(&self.before) {
            None => None,
            Some(s) => Some(Cursor::decode(&s).ok_or_else(|| {
                ApiError::BadRequest(format!("before: `{s}` is not a paging cursor"))
            })?),
        };
        Ok(Filters {
            tag: non_empty(&self.tag),
            feed: non_empty(&self.feed),
            q: non_empty(&self.q),
            since,
            limit,
            before,
        })
    }
}

fn parse_since(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

pub async fn default_feed(
    State(state): State<Arc<AppState>>,
    Query(params): Query<FeedParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render(&state, None, Format::Atom, &params, &headers).await
}

pub async fn named_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    Query(params): Query<FeedParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (name, format) = if let Some(n) = file.strip_suffix(".atom") {
        (n, Format::Atom)
    } else if let Some(n) = file.strip_suffix(".json") {
        (n, Format::Json)
    } else {
        return Err(ApiError::NotFound(format!(
            "no feed `{file}`: use /feeds/NAME.atom or /feeds/NAME.json"
        )));
    };
    render(&state, Some(name), format, &params, &headers).await
}

async fn render(
    state: &Arc<AppState>,
    name: Option<&str>,
    format: Format,
    params: &FeedParams,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let output = state
        .config
        .output(name)
        .ok_or_else(|| ApiError::NotFound(format!("no output named `{}`", name.unwrap_or(""))))?
        .clone();
    let selection = params.selection()?;
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let if_modified_since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .map(|d| d.with_timezone(&Utc));

    let poll = Poll {
        output: output.name.clone(),
        format,
        selection: selection.clone(),
        if_none_match,
        if_modified_since,
    };
    // A revalidation is a few reads of one row: answered here, without a trip to the blocking
    // pool, when no render holds the read connection (otherwise below, after it).
    if let Some(not_modified) = poll.answer_if_fresh_now(state)? {
        return Ok(not_modified);
    }
    state
        .with_store(move |store, state| {
            let now = Utc::now();
            let validators = poll.validators(store, state, now)?;
            if validators.fresh {
                return Ok(validators.not_modified());
            }
            let cache_headers = validators.headers;
            let started = std::time::Instant::now();
            let feeds = state.feeds();
            let merged =
                export::merged_feed(store, &state.config, &feeds, &output, &selection, now)?;
            let body = format.render(&merged);
            state
                .metrics
                .exported(format.extension(), started.elapsed().as_secs_f64());
            let content_type = match format {
                Format::Atom => "application/atom+xml; charset=utf-8",
                Format::Json => "application/feed+json; charset=utf-8",
            };
            let mut resp = (cache_headers, body).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            Ok(resp)
        })
        .await
}

/// A request for a merged feed, as far as revalidating it goes.
struct Poll {
    output: String,
    format: Format,
    selection: Filters,
    if_none_match: Option<String>,
    if_modified_since: Option<DateTime<Utc>>,
}

/// The validators and caching headers of the document a [`Poll`] asks for, and whether the
/// reader's copy is still current.
struct Validators {
    headers: [(header::HeaderName, String); 3],
    fresh: bool,
}

impl Validators {
    fn not_modified(self) -> Response {
        (StatusCode::NOT_MODIFIED, self.headers).into_response()
    }
}

impl Poll {
    /// Reads the store's change counter and time and compares them with what the reader has.
    fn validators(
        &self,
        store: &crate::store::Store,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<Validators, ApiError> {
        let version = store.version()?;
        let changed_at = store.newest_change()?;
        let etag = etag(version, &self.output, self.format, &self.selection);
        let max_age = state.max_age(store, now)?;
        let fresh = match (&self.if_none_match, self.if_modified_since) {
            // If-None-Match uses the weak comparison (RFC 9110 13.1.2): a proxy may have
            // weakened the tag to W/"…".
            (Some(inm), _) => inm
                .split(',')
                .map(str::trim)
                .any(|t| t.trim_start_matches("W/") == etag || t == "*"),
            // Against the change itself, not the Last-Modified sent: that may be a second
            // earlier (see `last_modified`).
            (None, Some(since)) => changed_at.unwrap_or(now).timestamp() <= since.timestamp(),
            (None, None) => false,
        };
        let last_modified = crate::demo::httpdate(last_modified(changed_at, now));
        Ok(Validators {
            headers: [
                (header::ETAG, etag),
                (header::LAST_MODIFIED, last_modified),
                (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
            ],
            fresh,
        })
    }

    /// The `304` answer when the reader's copy is current and the read connection is free
    /// right now; `None` when the document must be rendered or the connection is busy.
    fn answer_if_fresh_now(&self, state: &AppState) -> Result<Option<Response>, ApiError> {
        if self.if_none_match.is_none() && self.if_modified_since.is_none() {
            return Ok(None);
        }
        let Ok(store) = state.store.try_lock() else {
            return Ok(None);
        };
        let validators = self.validators(&store, state, Utc::now())?;
        Ok(validators.fresh.then(|| validators.not_modified()))
    }
}

/// `Last-Modified` for a store that last changed at `changed_at`: that second, once it is
/// over. HTTP dates count whole seconds, so while the second of the last change is still
/// running another change may follow within it and carry the same date; until then the second
/// before is sent, and a reader revalidating by date gets the document again instead of a
/// `304` that would hide the later change. Never later than `now`.
fn last_modified(changed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let open_second = now.timestamp();
    let t = changed_at.map_or(open_second, |c| c.timestamp());
    DateTime::from_timestamp(t.min(open_second - 1), 0).unwrap_or(now)
}

/// A strong validator: the store's change counter plus everything that selects the document.
fn etag(version: i64, output: &str, format: Format, selection: &Filters) -> String {
    let mut h = Sha256::new();
    h.update(version.to_le_bytes());
    h.update(output.as_bytes());
    h.update(format.extension().as_bytes());
    h.update(selection.query_string().as_bytes());
    if let Some(c) = selection.before {
        h.update(c.encode().as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn last_modified_is_the_change_once_its_second_is_over() {
        let now = t("2026-01-14T09:00:05.300Z");
        let lm = |changed: Option<&str>| last_modified(changed.map(t), now);
        assert_eq!(lm(Some("2026-01-14T08:59:00Z")), t("2026-01-14T08:59:00Z"));
        assert_eq!(lm(Some("2026-01-14T09:00:04Z")), t("2026-01-14T09:00:04Z"));
        // Another change may still follow within this second.
        assert_eq!(lm(Some("2026-01-14T09:00:05Z")), t("2026-01-14T09:00:04Z"));
        // A clock that went back, or no change recorded: never later than the second before.
        assert_eq!(lm(Some("2026-01-14T10:00:00Z")), t("2026-01-14T09:00:04Z"));
        assert_eq!(lm(None), t("2026-01-14T09:00:04Z"));
    }
}
