//! A small static site on 127.0.0.1 standing in for the outlets: `tributary demo` and the
//! integration tests serve `fixtures/` through it.
//!
//! It behaves like a well-kept news site: a strong ETag and Last-Modified on every file, 304 on
//! revalidation, content types by extension without a charset (so Tributary must find the
//! encoding itself, as it must with many regional sites).

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running fixture server; stops when dropped.
#[derive(Debug)]
pub struct FixtureServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl FixtureServer {
    /// Serves the files under `root` on an ephemeral loopback port.
    pub async fn start(root: &Path) -> std::io::Result<FixtureServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new()
            .fallback(serve_file)
            .with_state(Arc::new(root.to_path_buf()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FixtureServer {
            addr,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The content type a news site would send for a file name, without a charset.
pub fn content_type_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "atom" => "application/atom+xml",
        "rss" => "application/rss+xml",
        "xml" | "rdf" => "text/xml",
        "json" => "application/feed+json",
        "html" | "htm" => "text/html",
        "opml" => "text/x-opml",
        _ => "application/octet-stream",
    }
}

async fn serve_file(State(root): State<Arc<PathBuf>>, req: Request) -> Response {
    let rel = req.uri().path().trim_start_matches('/');
    let rel = Path::new(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = root.join(rel);
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let digest = format!("{:x}", Sha256::digest(&bytes));
    let etag = format!("\"{}\"", &digest[..16]);
    let modified = tokio::fs::metadata(&path)
        .await
        .and_then(|m| m.modified())
        .map(|t| httpdate(chrono::DateTime::<chrono::Utc>::from(t)))
        .unwrap_or_default();
    if not_modified(req.headers(), &etag, &modified) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type_for(&path)),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

fn not_modified(headers: &HeaderMap, etag: &str, modified: &str) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm.split(',').any(|t| t.trim() == etag || t.trim() == "*");
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == modified)
}

/// An HTTP date (RFC 7231 IMF-fixdate).
pub fn httpdate(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
