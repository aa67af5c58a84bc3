//! The HTTP server: merged feeds for readers, health for supervisors.
//!
//! [`router`] is pure (state in, routes out) and [`serve`] runs it on a listener until the
//! shutdown future resolves, so `tributary run`, `tributary serve`, `tributary demo` and the
//! tests all bind and serve the same way (tests bind port 0).

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tokio::net::TcpListener;

use crate::config::{Config, FeedsFile};
use crate::export::{self, Format};
use crate::store::Store;

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Replaced when `feeds.toml` is reloaded.
    pub feeds: RwLock<Arc<FeedsFile>>,
    pub store: Arc<Mutex<Store>>,
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/feed.atom", get(default_feed))
        .route("/feeds/{file}", get(named_feed))
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

/// A handler failure, mapped to a status in one place; internals are logged, never returned.
#[derive(Debug)]
pub enum ApiError {
    NotFound(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound(what) => {
                (StatusCode::NOT_FOUND, format!("not found: {what}\n")).into_response()
            }
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
            }
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn default_feed(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    render_output(&state, None, Format::Atom).await
}

async fn named_feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let (name, format) = if let Some(n) = file.strip_suffix(".atom") {
        (n, Format::Atom)
    } else if let Some(n) = file.strip_suffix(".json") {
        (n, Format::Json)
    } else {
        return Err(ApiError::NotFound(file));
    };
    render_output(&state, Some(name), format).await
}

async fn render_output(
    state: &Arc<AppState>,
    name: Option<&str>,
    format: Format,
) -> Result<Response, ApiError> {
    let output = state
        .config
        .output(name)
        .ok_or_else(|| ApiError::NotFound(format!("output `{}`", name.unwrap_or(""))))
        .cloned()?;
    let state = state.clone();
    let body = tokio::task::spawn_blocking(move || {
        let feeds = state
            .feeds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
        let merged = export::merged_feed(&store, &state.config, &feeds, &output, Utc::now())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>(format.render(&merged))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let content_type = match format {
        Format::Atom => "application/atom+xml; charset=utf-8",
        Format::Json => "application/feed+json; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
