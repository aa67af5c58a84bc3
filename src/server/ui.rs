//! The reader web UI: pages for analysts who read and search the archive in a browser rather
//! than subscribing to the merged feed.
//!
//! - `/` the merged stream, newest first, one row per story with the outlets that carried it;
//!   filters by tag, feed and day, full-text search with the matches marked, keyset paging.
//! - `/entries/{id}` one entry: its sanitized content, original link, dates, and the story's
//!   other outlets.
//! - `/sources` every configured feed's health and how much of it other feeds also carried.
//!
//! Pages are rendered on the server ([`pages`], maud templates checked at compile time) and
//! need no script. Feed HTML reaches a page exactly as the store holds it, which is after the
//! sanitizer ran at ingest; it is never decoded, re-parsed or trusted a second time. Every
//! response carries a Content-Security-Policy that forbids scripts, frames and remote styles
//! outright, so even markup that slipped past the sanitizer could not run. The stylesheet and
//! icon are compiled into the binary and served from this origin: no external assets.

mod lang;
mod pages;

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::config::FeedsFile;
use crate::model::StoredEntry;
use crate::status::feed_statuses;
use crate::store::{Cursor, EntryFilter, FeedStoryCounts, Snippet};

/// Stories on one page of the stream.
pub const PAGE_SIZE: usize = 30;

/// What a UI page may load: its own stylesheet and icon, and images (feed content shows
/// pictures from the outlets' sites). No script, frame, font, plugin or connection of any kind;
/// forms post only here; no page may be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("ui/tributary.css");
const ICON: &str = include_str!("ui/tributary.svg");

/// A short hash of the stylesheet, put in its URL so a new build is never styled by a cached
/// old one.
static STYLESHEET_VERSION: LazyLock<String> = LazyLock::new(|| {
    Sha256::digest(STYLESHEET.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The UI routes, each answering with the security headers.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(stream))
        .route("/entries/{id}", get(entry))
        .route("/sources", get(sources))
        .route("/static/tributary.css", get(stylesheet))
        .route("/static/tributary.svg", get(icon))
        .layer(middleware::from_fn(security_headers))
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

/// An HTML page with a status.
fn html(status: StatusCode, page: maud::Markup) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page.into_string(),
    )
        .into_response()
}

/// A failed page as HTML. The status comes from [`ApiError`] (which also logs internal
/// failures); only the messages meant for readers are shown.
fn error_page(err: ApiError) -> Response {
    let message = match &err {
        ApiError::BadRequest(m) | ApiError::NotFound(m) | ApiError::Unavailable(m) => m.clone(),
        ApiError::Unauthorized(_) | ApiError::Internal(_) => {
            "Something went wrong on the server; the details are in its log.".to_string()
        }
    };
    let status = err.into_response().status();
    html(status, pages::error(status, &message))
}

/// The stream's query string as typed; empty values mean "no filter".
#[derive(Debug, Default, Deserialize)]
pub struct StreamParams {
    pub q: Option<String>,
    pub tag: Option<String>,
    pub feed: Option<String>,
    pub day: Option<String>,
    pub before: Option<String>,
}

/// A validated selection of the stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub q: Option<String>,
    pub tag: Option<String>,
    pub feed: Option<String>,
    /// A day in the digest timezone.
    pub day: Option<NaiveDate>,
    pub before: Option<Cursor>,
}

impl StreamParams {
    fn selection(&self) -> Result<Selection, ApiError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let day = match given(&self.day) {
            None => None,
            Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                ApiError::BadRequest(format!("day: `{d}` is not a date (write 2026-01-14)"))
            })?),
        };
        let before = match given(&self.before) {
            None => None,
            Some(c) => Some(Cursor::decode(&c).ok_or_else(|| {
                ApiError::BadRequest(format!("before: `{c}` is not a position in the stream"))
            })?),
        };
        Ok(Selection {
            q: given(&self.q).map(|q| q.chars().take(200).collect()),
            tag: given(&self.tag),
            feed: given(&self.feed),
            day,
            before,
        })
    }
}

impl Selection {
    /// The selection as a query string (`q=…&tag=…`), with `before` when given: for links
    /// that keep the reader's filters.
    pub fn query_string(&self, before: Option<Cursor>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [("q", &self.q), ("tag", &self.tag), ("feed", &self.feed)] {
            if let Some(v) = value {
                q.append_pair(key, v);
            }
        }
        if let Some(d) = self.day {
            q.append_pair("day", &d.format("%Y-%m-%d").to_string());
        }
        if let Some(c) = before {
            q.append_pair("before", &c.encode());
        }
        q.finish()
    }

    /// `/` with this selection (and `before`).
    pub fn href(&self, before: Option<Cursor>) -> String {
        let qs = self.query_string(before);
        if qs.is_empty() {
            "/".to_string()
        } else {
            format!("/?{qs}")
        }
    }

    /// The same selection on another day (or none), from the first page.
    pub fn with_day(&self, day: Option<NaiveDate>) -> Selection {
        Selection {
            day,
            before: None,
            ..self.clone()
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.q.is_some() || self.tag.is_some() || self.feed.is_some() || self.day.is_some()
    }
}

/// The feeds a tag or feed filter leaves, by id (`None`: every feed, as stored).
fn selected_feeds(feeds: &FeedsFile, sel: &Selection) -> Option<Vec<String>> {
    if sel.tag.is_none() && sel.feed.is_none() {
        return None;
    }
    let mut ids: Vec<String> = feeds
        .feeds
        .iter()
        .filter(|f| sel.tag.as_ref().is_none_or(|t| f.tags.contains(t)))
        .filter(|f| sel.feed.as_ref().is_none_or(|id| &f.id == id))
        .map(|f| f.id.clone())
        .collect();
    // A feed no longer in feeds.toml keeps its stored entries; its id still selects them.
    if let (Some(id), None) = (&sel.feed, &sel.tag)
        && feeds.get(id).is_none()
    {
        ids.push(id.clone());
    }
    Some(ids)
}

/// The instant a day starts in `tz` (the first instant that exists, across DST gaps).
fn start_of(day: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// A feed's name for readers: configured title, else its own, else its id.
fn display_title(feeds: &FeedsFile, id: &str, own: &str) -> String {
    match feeds.get(id) {
        Some(f) => f.display_title(Some(own)).to_string(),
        None if own.is_empty() => id.to_string(),
        None => own.to_string(),
    }
}

fn label_outlets(feeds: &FeedsFile, e: &mut StoredEntry) {
    e.feed_title = display_title(feeds, &e.feed_id, &e.feed_title);
    if let Some(f) = feeds.get(&e.feed_id) {
        e.tags = f.tags.clone();
    }
    for r in &mut e.related {
        r.feed_title = display_title(feeds, &r.feed_id, &r.feed_title);
    }
}

/// What the stream page shows.
#[derive(Debug)]
pub struct StreamView {
    pub selection: Selection,
    pub entries: Vec<StoredEntry>,
    pub snippets: std::collections::HashMap<i64, Snippet>,
    /// Where the next (older) page starts, when there is one.
    pub next: Option<Cursor>,
    /// Every tag and every feed (id, name) of feeds.toml, for the filter form.
    pub tags: Vec<String>,
    pub feeds: Vec<(String, String)>,
    pub timezone: chrono_tz::Tz,
}

async fn stream(
    State(state): State<Arc<AppState>>,
    Query(params): Query<StreamParams>,
) -> Response {
    let selection = match params.selection() {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let result = state
        .with_store(move |store, state| {
            let feeds = state.feeds();
            let tz = state.config.digest.timezone;
            let feed_ids = selected_feeds(&feeds, &selection);
            let (since, until) = match selection.day {
                Some(day) => (
                    Some(start_of(day, tz)),
                    day.succ_opt().map(|next| start_of(next, tz)),
                ),
                None => (None, None),
            };
            let mut entries = store.stories(&EntryFilter {
                feed_ids,
                since,
                until,
                query: selection.q.clone(),
                before: selection.before,
                limit: PAGE_SIZE + 1,
            })?;
            let next = (entries.len() > PAGE_SIZE)
                .then(|| {
                    entries.truncate(PAGE_SIZE);
                    entries.last().map(Cursor::after)
                })
                .flatten();
            for e in &mut entries {
                label_outlets(&feeds, e);
            }
            let snippets = match &selection.q {
                Some(q) => {
                    let ids: Vec<i64> = entries.iter().map(|e| e.rowid).collect();
                    store.search_snippets(q, &ids)?
                }
                None => Default::default(),
            };
            let tags: BTreeSet<String> = feeds.feeds.iter().flat_map(|f| f.tags.clone()).collect();
            let view = StreamView {
                selection,
                entries,
                snippets,
                next,
                tags: tags.into_iter().collect(),
                feeds: feeds
                    .feeds
                    .iter()
                    .map(|f| (f.id.clone(), f.display_title(None).to_string()))
                    .collect(),
                timezone: tz,
            };
            Ok(pages::stream(&view))
        })
        .await;
    match result {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(e),
    }
}

async fn entry(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let not_found = || ApiError::NotFound(format!("There is no entry {id} in this archive."));
    let Ok(rowid) = id.parse::<i64>() else {
        return error_page(not_found());
    };
    let result = state
        .with_store(move |store, state| {
            let feeds = state.feeds();
            let Some(mut e) = store.entry(rowid)? else {
                return Ok(None);
            };
            label_outlets(&feeds, &mut e);
            Ok(Some(pages::entry(&e, state.config.digest.timezone)))
        })
        .await;
    match result {
        Ok(Some(page)) => html(StatusCode::OK, page),
        Ok(None) => error_page(not_found()),
        Err(e) => error_page(e),
    }
}

/// One row of the sources page.
#[derive(Debug)]
pub struct SourceRow {
    pub status: crate::status::FeedStatus,
    pub tags: Vec<String>,
    pub counts: FeedStoryCounts,
}

async fn sources(State(state): State<Arc<AppState>>) -> Response {
    let result = state
        .with_store(|store, state| {
            let feeds = state.feeds();
            let statuses = feed_statuses(&feeds, &store.feeds()?);
            let shared = store.shared_entry_counts()?;
            let rows: Vec<SourceRow> = statuses
                .into_iter()
                .map(|status| SourceRow {
                    tags: feeds
                        .get(&status.id)
                        .map(|f| f.tags.clone())
                        .unwrap_or_default(),
                    counts: FeedStoryCounts {
                        entries: status.entries,
                        shared: shared.get(&status.id).copied().unwrap_or(0),
                    },
                    status,
                })
                .collect();
            Ok(pages::sources(
                &rows,
                state.config.digest.timezone,
                Utc::now(),
            ))
        })
        .await;
    match result {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parameters_select_nothing_and_bad_ones_name_themselves() {
        let p = StreamParams {
            q: Some("  ".into()),
            tag: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(p.selection().unwrap(), Selection::default());
        let bad_day = StreamParams {
            day: Some("14.01.2026".into()),
            ..Default::default()
        };
        assert!(
            matches!(bad_day.selection(), Err(ApiError::BadRequest(m)) if m.starts_with("day:"))
        );
        let bad_cursor = StreamParams {
            before: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(
            matches!(bad_cursor.selection(), Err(ApiError::BadRequest(m)) if m.starts_with("before:"))
        );
    }

    #[test]
    fn links_keep_the_filters_and_add_the_position() {
        let sel = Selection {
            q: Some("Баку".into()),
            tag: Some("caucasus".into()),
            day: NaiveDate::from_ymd_opt(2026, 1, 14),
            ..Default::default()
        };
        let c = Cursor {
            time: DateTime::from_timestamp(1_768_370_400, 0).unwrap(),
            id: 7,
        };
        assert_eq!(
            sel.href(Some(c)),
            "/?q=%D0%91%D0%B0%D0%BA%D1%83&tag=caucasus&day=2026-01-14&before=1768370400%7E7"
        );
        assert_eq!(Selection::default().href(None), "/");
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
        assert_eq!(
            crate::model::rfc3339(start_of(day, chrono_tz::Asia::Baku)),
            "2026-01-13T20:00:00Z"
        );
        assert_eq!(
            crate::model::rfc3339(start_of(day, chrono_tz::UTC)),
            "2026-01-14T00:00:00Z"
        );
    }
}
