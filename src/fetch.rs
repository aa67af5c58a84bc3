//! Fetching feed documents over HTTP like a good citizen.
//!
//! One reqwest client for the whole process: a User-Agent naming Tributary, connect and
//! total timeouts, gzip/brotli/deflate, an optional proxy (standard `HTTPS_PROXY`/`HTTP_PROXY`/
//! `NO_PROXY` variables are honoured too). Conditional GET sends the feed's stored ETag and
//! Last-Modified; a 304 comes back as [`FetchOutcome::NotModified`]. Bodies are read as a
//! stream and cut at the configured cap, which also applies after decompression, so a huge or
//! gzip-bombed answer never sits in memory.
//!
//! Redirects are followed here, not inside reqwest, so that permanent ones (301/308) can be
//! reported to the caller (who moves the feed after three in a row) while temporary ones
//! (302/303/307) are followed and forgotten; loops and more than five hops are errors, and a
//! feed's own headers and credentials never follow it to another host.
//!
//! Politeness: at most `per_host` requests at once to one host, an optional minimum delay
//! between requests to one host, and a host that answered 429 is left alone until its
//! `Retry-After` has passed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::FetchConfig;

/// What the server answered, besides the body.
#[derive(Debug, Clone)]
pub struct ResponseMeta {
    /// The URL the body came from, after redirects.
    pub final_url: Url,
    pub status: u16,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    /// How long the server says the answer stays fresh (`Cache-Control: max-age`, else `Expires`).
    pub fresh_for: Option<Duration>,
    /// Where the leading permanent redirects (301/308) of this request pointed, if any.
    pub permanent_target: Option<Url>,
}

/// A completed request.
#[derive(Debug)]
pub enum FetchOutcome {
    /// 304: the stored copy is current.
    NotModified(ResponseMeta),
    /// 2xx with its body (at most the configured cap).
    Body(ResponseMeta, Vec<u8>),
}

/// Why a fetch failed; each message is the reason shown in `status`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {code} {reason}")]
    Status {
        code: u16,
        reason: String,
        retry_after: Option<Duration>,
        /// The address that answered (after redirects).
        url: Box<Url>,
    },
    #[error("response larger than the {limit}-byte limit (fetch.max_body)")]
    BodyTooLarge { limit: u64 },
    #[error("{0}")]
    Redirects(String),
    #[error("host {host} asked to be left alone until {until} (429 Too Many Requests)")]
    HostDeferred { host: String, until: DateTime<Utc> },
    #[error("request failed: {0}")]
    Request(String),
    #[error("invalid request header: {0}")]
    Header(String),
}

/// What to ask for.
#[derive(Debug, Clone, Copy)]
pub struct FetchRequest<'a> {
    pub url: &'a Url,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    /// Per-feed headers (cookies, tokens): sent, never logged.
    pub headers: &'a BTreeMap<String, String>,
    /// Per-feed HTTP basic credentials (user, password): sent, never logged.
    pub basic_auth: Option<(&'a str, &'a str)>,
    /// The address the admin configured: the feed's own headers and credentials go only to
    /// its host, even after the feed has moved elsewhere.
    pub home: &'a Url,
}

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// One host's share of politeness: concurrent slots, last request time, 429 deferral.
#[derive(Debug)]
struct HostState {
    slots: Arc<Semaphore>,
    last_request: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    deferred_until: Mutex<Option<DateTime<Utc>>>,
}

/// The HTTP client with its limits.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    timeout: Duration,
    per_host: usize,
    host_delay: Duration,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
}

impl Fetcher {
    /// Builds the client from `[fetch]` settings.
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(cfg.per_host)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(proxy) = &cfg.proxy {
            let p = reqwest::Proxy::all(proxy)
                .map_err(|e| FetchError::Request(format!("proxy: {e}")))?;
            builder = builder.proxy(p);
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Request(error_chain(&e)))?;
        Ok(Fetcher {
            client,
            max_body: cfg.max_body,
            timeout: cfg.timeout,
            per_host: cfg.per_host.max(1),
            host_delay: cfg.host_delay,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    fn host(&self, url: &Url) -> Arc<HostState> {
        self.host_named(host_key(url))
    }

    fn host_named(&self, host: String) -> Arc<HostState> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host)
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(self.per_host)),
                    last_request: tokio::sync::Mutex::new(None),
                    deferred_until: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Leaves `url`'s host alone until `until` (after a 429), for every feed on it.
    pub fn defer_host(&self, url: &Url, until: DateTime<Utc>) {
        self.defer_host_named(host_key(url), until);
    }

    /// [`Fetcher::defer_host`] for a host named as [`host_key`] names it (a stored hold).
    pub fn defer_host_named(&self, host: String, until: DateTime<Utc>) {
        let host = self.host_named(host);
        let mut d = host
            .deferred_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *d = Some(d.map_or(until, |old| old.max(until)));
    }

    /// Performs one conditional GET, following redirects itself.
    pub async fn fetch(&self, req: FetchRequest<'_>) -> Result<FetchOutcome, FetchError> {
        let mut url = req.url.clone();
        let mut visited = vec![url.clone()];
        let mut permanent_target: Option<Url> = None;
        let mut leading_permanent = true;
        loop {
            let same_host = host_key(&url) == host_key(req.home);
            let (resp, permit) = self.send_once(&url, &req, same_host).await?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc.trim()).ok())
                    .ok_or_else(|| {
                        FetchError::Redirects(format!(
                            "HTTP {} without a usable Location",
                            status.as_u16()
                        ))
                    })?;
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(FetchError::Redirects(format!(
                        "redirect to a non-http URL {next}"
                    )));
                }
                if visited.contains(&next) {
                    visited.push(next);
                    let chain: Vec<String> = visited.iter().map(Url::to_string).collect();
                    return Err(FetchError::Redirects(format!(
                        "redirect loop: {}",
                        chain.join(" → ")
                    )));
                }
                if visited.len() > MAX_REDIRECTS {
                    return Err(FetchError::Redirects(format!(
                        "more than {MAX_REDIRECTS} redirects (last: {next})"
                    )));
                }
                let permanent = matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                if leading_permanent && permanent {
                    permanent_target = Some(next.clone());
                } else {
                    leading_permanent = false;
                }
                visited.push(next.clone());
                url = next;
                continue;
            }
            let mut meta = response_meta(&resp);
            meta.permanent_target = permanent_target;
            if status == StatusCode::NOT_MODIFIED {
                return Ok(FetchOutcome::NotModified(meta));
            }
            if !status.is_success() {
                let retry_after = resp
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                return Err(FetchError::Status {
                    code: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("").to_string(),
                    retry_after,
                    url: Box::new(url.clone()),
                });
            }
            if resp.content_length().is_some_and(|n| n > self.max_body) {
                return Err(FetchError::BodyTooLarge {
                    limit: self.max_body,
                });
            }
            let body = self.read_capped(resp).await?;
            drop(permit);
            return Ok(FetchOutcome::Body(meta, body));
        }
    }

    /// One request to `url`, inside its host's politeness limits. The feed's own headers and
    /// credentials are sent only to the feed's own host.
    async fn send_once(
        &self,
        url: &Url,
        req: &FetchRequest<'_>,
        same_host: bool,
    ) -> Result<(reqwest::Response, tokio::sync::OwnedSemaphorePermit), FetchError> {
        let host = self.host(url);
        let deferred = *host
            .deferred_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(until) = deferred.filter(|u| *u > Utc::now()) {
            return Err(FetchError::HostDeferred {
                host: host_key(url),
                until,
            });
        }
        // Held by the caller until the body is read: `per_host` bounds downloads, not just requests.
        let permit = host
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Request(e.to_string()))?;
        if !self.host_delay.is_zero() {
            let mut last = host.last_request.lock().await;
            if let Some(at) = *last {
                tokio::time::sleep_until(at + self.host_delay).await;
            }
            *last = Some(tokio::time::Instant::now());
        }

        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/atom+xml, application/rss+xml, application/rdf+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.3",
            ),
        );
        if same_host {
            for (name, value) in req.headers {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| FetchError::Header(name.clone()))?;
                let mut value = HeaderValue::from_str(value)
                    .map_err(|_| FetchError::Header(name.to_string()))?;
                value.set_sensitive(true);
                headers.insert(name, value);
            }
        }
        if let Some(etag) = req.etag.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = req
            .last_modified
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::IF_MODIFIED_SINCE, lm);
        }
        let mut builder = self.client.get(url.clone()).headers(headers);
        if same_host && let Some((user, password)) = req.basic_auth {
            builder = builder.basic_auth(user, Some(password));
        }
        let resp = builder.send().await.map_err(|e| self.classify(e))?;
        Ok((resp, permit))
    }

    async fn read_capped(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::BodyTooLarge {
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_redirect() {
            FetchError::Redirects(error_chain(&e))
        } else if e.is_connect() {
            FetchError::Connect(error_chain(&e))
        } else {
            FetchError::Request(error_chain(&e))
        }
    }
}

fn response_meta(resp: &reqwest::Response) -> ResponseMeta {
    let h = resp.headers();
    let text = |name: HeaderName| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    let max_age = text(header::CACHE_CONTROL)
        .map(|cc| cc.to_ascii_lowercase())
        .and_then(|cc| {
            cc.split(',').find_map(|d| {
                let d = d.trim();
                d.strip_prefix("max-age=")
                    .and_then(|n| n.trim_matches('"').parse::<u64>().ok())
            })
        });
    let fresh_for = max_age.map(Duration::from_secs).or_else(|| {
        let expires = text(header::EXPIRES)?;
        let at = DateTime::parse_from_rfc2822(&expires)
            .ok()?
            .with_timezone(&Utc);
        (at - Utc::now()).to_std().ok()
    });
    ResponseMeta {
        final_url: resp.url().clone(),
        status: resp.status().as_u16(),
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        content_type: text(header::CONTENT_TYPE),
        fresh_for,
        permanent_target: None,
    }
}

/// The politeness key of a URL: its host, lower-cased, with the port when not the default.
pub fn host_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// `Retry-After` as a delay: seconds, or an HTTP date relative to `now`.
pub fn parse_retry_after(v: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An error with its sources, joined: reqwest hides the useful part (DNS, TLS, reset) inside.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now: DateTime<Utc> = "2026-01-14T10:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 14 Jan 2026 10:05:00 GMT", now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            parse_retry_after("Wed, 14 Jan 2026 09:05:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
