//! The HTTP server: merged feeds for readers, JSON for scripts, health and metrics for admins.
//!
//! [`router`] is pure (state in, routes out) and [`serve`] runs it on a listener until the
//! shutdown future resolves, so `tributary run`, `tributary serve`, `tributary demo` and the
//! tests all bind and serve the same way (tests bind port 0). Every route answers within a
//! timeout, request bodies are capped, responses are gzip-compressed when the client asks,
//! and errors map to status codes in one place ([`ApiError`]).

mod api;
mod digests;
mod error;
mod feeds;
mod ui;

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;

use crate::config::{Config, FeedsFile};
use crate::metrics::Metrics;
use crate::refresh::Refresher;
use crate::store::Store;

/// Longest time a request may take before the server answers 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body accepted.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Replaced when `feeds.toml` is reloaded.
    pub feeds: RwLock<Arc<FeedsFile>>,
    /// A read connection of the server's own (writers use theirs; WAL lets both proceed).
    pub store: Arc<Mutex<Store>>,
    pub metrics: Arc<Metrics>,
    /// Present when this process may fetch (admin refresh).
    pub refresher: Option<Refresher>,
    /// What every poll needs and changes rarely, kept between requests.
    pub poll: PollCache,
}

/// How long a poll's `Cache-Control: max-age` (from the soonest scheduled fetch) is reused
/// before the feeds table is read again.
const MAX_AGE_REUSE: Duration = Duration::from_secs(1);

/// Kept between polls so that a revalidation reads only the store's one-row change counter:
/// the soonest scheduled fetch (a scan of the feeds table) is read at most once per
/// [`MAX_AGE_REUSE`].
#[derive(Debug, Default)]
pub struct PollCache {
    next_fetch: Mutex<Option<(std::time::Instant, Option<DateTime<Utc>>)>>,
}

impl AppState {
    /// The feeds list now in force.
    pub fn feeds(&self) -> Arc<FeedsFile> {
        self.feeds.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Seconds readers may cache a feed: until the soonest scheduled fetch, between one minute
    /// and one hour (five minutes when nothing is scheduled).
    pub fn max_age(&self, store: &Store, now: DateTime<Utc>) -> Result<i64, ApiError> {
        let mut cached = self
            .poll
            .next_fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let next = match *cached {
            Some((read, next)) if read.elapsed() < MAX_AGE_REUSE => next,
            _ => {
                let next = store.earliest_next_fetch()?;
                *cached = Some((std::time::Instant::now(), next));
                next
            }
        };
        Ok(next
            .map(|t| (t - now).num_seconds())
            .unwrap_or(300)
            .clamp(60, 3600))
    }

    /// Runs blocking store work off the async threads.
    pub async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store, &AppState) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
            f(&store, &state)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("handler task failed: {e}")))?
    }
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/feed.atom", get(feeds::default_feed))
        .route("/feeds/{file}", get(feeds::named_feed))
        .route("/opml", get(api::opml))
        .route("/digest.atom", get(digests::atom))
        .route("/digest/{file}", get(digests::page))
        .route("/api/entries", get(api::entries))
        .route("/api/feeds", get(api::feeds))
        .route("/api/feeds/{id}/refresh", post(api::refresh))
        .merge(ui::routes())
        .fallback(api::not_found)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
