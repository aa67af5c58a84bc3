//! Shared helpers for Tributary's integration tests.
//!
//! - [`FeedServer`]: a stand-in news site on 127.0.0.1 (port 0) serving `fixtures/`, recording
//!   every request it gets, with faults a test can switch on per path (a forced status, other
//!   bytes, no validators).
//! - [`Workspace`]: a temporary folder with a config file (`[storage] database`) and a
//!   `feeds.toml` written by the test, plus [`Workspace::tributary`] to run the real binary.
//! - [`Pipeline`]: the library pipeline (config, store, fetcher, refresher) over a workspace.
//! - [`parse_atom`]: reads a merged Atom document fully, failing on anything ill-formed.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use tributary::config::{Config, FeedConfig, FeedsFile};
use tributary::export::{self, Format};
use tributary::fetch::Fetcher;
use tributary::model::{FeedRecord, RefreshReport, StoredEntry};
use tributary::refresh::{CycleReport, Refresher, Selection};
use tributary::store::{EntryFilter, Store};

/// The folder `tributary demo` and these tests serve.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A file under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    fixtures_dir().join(rel)
}

/// The Last-Modified every fixture file is served with.
pub const FIXTURE_LAST_MODIFIED: &str = "Wed, 14 Jan 2026 10:00:00 GMT";

/// The seed article's title (`fixtures/feeds/analysis.atom`).
pub const SEED_TITLE: &str = "An Alliance Without Illusions: Why Russia Needs Azerbaijan";

/// The seed article's link.
pub const SEED_LINK: &str =
    "https://caucasus-analysis.example/en/analysis/alliance-without-illusions";

// ---------------------------------------------------------------------------------------------
// The fault-injecting feed server
// ---------------------------------------------------------------------------------------------

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
}

/// How one path answers, when a test changed it.
#[derive(Debug, Clone, Default)]
struct PathSetup {
    /// Answer this status (with no feed body) whatever the request.
    status: Option<u16>,
    /// Serve these bytes and this content type instead of the fixture file.
    body: Option<(Vec<u8>, String)>,
    /// How many times the body was replaced: each replacement gets a later Last-Modified.
    version: u32,
    /// Send no ETag/Last-Modified and ignore conditional headers (always 200).
    no_validators: bool,
    /// Wait this long before answering at all (a hung server when long).
    delay: Option<std::time::Duration>,
    /// Answer this way instead of the normal answer (redirects, statuses with headers,
    /// generated or broken bodies).
    fault: Option<Fault>,
}

#[derive(Debug, Default)]
struct Shared {
    requests: Vec<SeenRequest>,
    /// Every request with all its headers and arrival time, in arrival order.
    details: Vec<RequestDetail>,
    /// Requests being answered now, and the most ever at once, by `Host`.
    in_flight: HashMap<String, usize>,
    max_in_flight: HashMap<String, usize>,
    paths: HashMap<String, PathSetup>,
}

/// A stand-in news site on loopback. Files under `fixtures/` are served at their relative path
/// (`/feeds/analysis.atom`) with a content type by extension and no charset, a strong ETag (a
/// hash of the bytes), a fixed Last-Modified, and 304 on revalidation. Stops when dropped.
#[derive(Debug)]
pub struct FeedServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FeedServer {
    /// Starts the server on its own thread and runtime, so it serves both async library tests
    /// and the `tributary` binary run from plain tests.
    pub fn start() -> FeedServer {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = Router::new().fallback(answer).with_state(state);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
        });
        FeedServer {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        f(&mut self.shared.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.with(|s| s.requests.clone())
    }

    /// The requests for one path, in arrival order.
    pub fn requests_to(&self, path: &str) -> Vec<SeenRequest> {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.path == path)
                .cloned()
                .collect()
        })
    }

    /// Makes `path` answer `status` (500, 404, 304, …) until [`FeedServer::reset`].
    pub fn answer_status(&self, path: &str, status: u16) {
        self.with(|s| s.paths.entry(path.to_string()).or_default().status = Some(status));
    }

    /// Makes `path` serve `bytes` as `content_type`, with a new ETag and a later Last-Modified
    /// than before. Clears a forced status.
    pub fn serve_bytes(&self, path: &str, bytes: impl Into<Vec<u8>>, content_type: &str) {
        let bytes = bytes.into();
        self.with(|s| {
            let setup = s.paths.entry(path.to_string()).or_default();
            setup.status = None;
            setup.body = Some((bytes, content_type.to_string()));
            setup.version += 1;
        });
    }

    /// Makes `path` answer in full every time, without ETag or Last-Modified.
    pub fn without_validators(&self, path: &str) {
        self.with(|s| s.paths.entry(path.to_string()).or_default().no_validators = true);
    }

    /// Drops a forced status on `path` (served bytes stay).
    pub fn reset(&self, path: &str) {
        self.with(|s| {
            if let Some(setup) = s.paths.get_mut(path) {
                setup.status = None;
            }
        });
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The strong ETag the server gives `bytes`.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = format!("{:x}", Sha256::digest(bytes));
    format!("\"{}\"", &digest[..16])
}

fn content_type_for(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("atom") => "application/atom+xml",
        Some("rss") => "application/rss+xml",
        Some("xml") => "text/xml",
        Some("json") => "application/feed+json",
        Some("html") => "text/html",
        _ => "application/octet-stream",
    }
}

async fn answer(State(shared): State<Arc<Mutex<Shared>>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let path = parts.uri.path().to_string();
    let text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let seen = SeenRequest {
        path: path.clone(),
        if_none_match: text(header::IF_NONE_MATCH),
        if_modified_since: text(header::IF_MODIFIED_SINCE),
        user_agent: text(header::USER_AGENT),
    };
    let setup = {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        s.requests.push(seen.clone());
        s.details.push(RequestDetail::of(&path, &parts.headers));
        s.paths.get(&path).cloned().unwrap_or_default()
    };
    // Counted as in flight until answered (for streamed faults: until the body is sent).
    let in_flight = InFlight::enter(&shared, text(header::HOST).unwrap_or_default());
    if let Some(delay) = setup.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = &setup.fault {
        return fault.respond(in_flight);
    }
    if let Some(code) = setup.status {
        let status = StatusCode::from_u16(code).expect("valid status");
        if status == StatusCode::NOT_MODIFIED {
            return status.into_response();
        }
        return (status, format!("forced status {code}\n")).into_response();
    }
    let (bytes, content_type, last_modified) = match setup.body {
        Some((bytes, ct)) => (
            bytes,
            ct,
            format!("Wed, 14 Jan 2026 11:{:02}:00 GMT", setup.version % 60),
        ),
        None => {
            let rel = Path::new(path.trim_start_matches('/'));
            if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                return StatusCode::NOT_FOUND.into_response();
            }
            match tokio::fs::read(fixtures_dir().join(rel)).await {
                Ok(bytes) => (
                    bytes,
                    content_type_for(&path).to_string(),
                    FIXTURE_LAST_MODIFIED.to_string(),
                ),
                Err(_) => return StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    let etag = etag_of(&bytes);
    if !setup.no_validators {
        let fresh = match &seen.if_none_match {
            Some(inm) => inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"),
            None => seen.if_modified_since.as_deref() == Some(last_modified.as_str()),
        };
        if fresh {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        }
    }
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).expect("content type"),
    );
    if !setup.no_validators {
        h.insert(
            header::ETAG,
            HeaderValue::from_str(&etag).expect("etag value"),
        );
        h.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_str(&last_modified).expect("date value"),
        );
    }
    resp
}

// ---------------------------------------------------------------------------------------------
// A temporary workspace and the binary
// ---------------------------------------------------------------------------------------------

/// What one run of the binary did.
pub type RunOutput = (i32, String, String);

/// A temporary folder holding `tributary.toml` (the database under `data/`) and `feeds.toml`.
#[derive(Debug)]
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    /// A workspace whose config only sets the database (and keeps every entry).
    pub fn new() -> Workspace {
        Self::with_config("")
    }

    /// A workspace whose config adds `extra` after the `[storage]` table.
    pub fn with_config(extra: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temporary folder");
        let text =
            format!("[storage]\ndatabase = \"data/tributary.db\"\nretention_days = 0\n\n{extra}");
        std::fs::write(dir.path().join("tributary.toml"), text).expect("write config");
        Workspace { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.root().join("tributary.toml")
    }

    pub fn feeds_path(&self) -> PathBuf {
        self.root().join("feeds.toml")
    }

    /// Where `[storage] database` points.
    pub fn db_path(&self) -> PathBuf {
        self.root().join("data/tributary.db")
    }

    /// Writes `feeds.toml` as given.
    pub fn write_feeds(&self, text: &str) {
        std::fs::write(self.feeds_path(), text).expect("write feeds.toml");
    }

    /// Writes a `feeds.toml` with one `[[feed]]` per `(id, path on server)`.
    pub fn feeds_on(&self, server: &FeedServer, feeds: &[(&str, &str)]) {
        let mut text = String::from("# Feeds served by the test server.\n");
        for (id, path) in feeds {
            text.push_str(&format!(
                "\n[[feed]]\nid = \"{id}\"\nurl = \"{}\"\n",
                server.url(path)
            ));
        }
        self.write_feeds(&text);
    }

    /// The config as the binary loads it.
    pub fn config(&self) -> Config {
        Config::load(Some(&self.config_path())).expect("valid test config")
    }

    /// The feeds list as the binary loads it.
    pub fn feeds(&self, config: &Config) -> FeedsFile {
        FeedsFile::load(&self.feeds_path(), config).expect("valid test feeds.toml")
    }

    /// Refreshes every configured feed through the library, as `tributary fetch --all` does,
    /// into the workspace's database.
    pub fn fetch_in_process(&self) -> CycleReport {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async { Pipeline::open(self).fetch_all().await })
    }

    /// Runs `tributary --config … --feeds … ARGS` in the workspace.
    pub fn tributary(&self, args: &[&str]) -> RunOutput {
        let mut all: Vec<String> = vec![
            "--config".into(),
            self.config_path().display().to_string(),
            "--feeds".into(),
            self.feeds_path().display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        run_tributary(self.root(), &all)
    }
}

/// Runs the `tributary` binary in `cwd` with exactly `args`, with no Tributary or proxy
/// settings inherited from the environment.
pub fn run_tributary(cwd: &Path, args: &[String]) -> RunOutput {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(args).current_dir(cwd);
    for var in [
        "TRIBUTARY_CONFIG",
        "TRIBUTARY_FEEDS",
        "TRIBUTARY_DB",
        "TRIBUTARY_LOG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run the tributary binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// The library pipeline over a workspace
// ---------------------------------------------------------------------------------------------

/// Config, feeds list, store and refresher as `tributary fetch` builds them.
#[derive(Debug)]
pub struct Pipeline {
    pub config: Arc<Config>,
    pub feeds: Arc<FeedsFile>,
    pub refresher: Refresher,
}

impl Pipeline {
    /// Loads the workspace's config and feeds and opens its database.
    pub fn open(ws: &Workspace) -> Pipeline {
        let config = Arc::new(ws.config());
        let feeds = Arc::new(ws.feeds(&config));
        let store = Store::open(&config.storage.database).expect("open the database");
        let fetcher = Fetcher::new(&config.fetch).expect("HTTP client");
        let refresher = Refresher::new(
            config.clone(),
            Arc::new(fetcher),
            Arc::new(Mutex::new(store)),
        );
        Pipeline {
            config,
            feeds,
            refresher,
        }
    }

    pub fn feed(&self, id: &str) -> &FeedConfig {
        self.feeds.get(id).expect("feed configured")
    }

    /// Refreshes one feed (due or not), the way a fetch run does.
    pub async fn refresh(&self, id: &str) -> RefreshReport {
        let feed = self.feed(id).clone();
        let mut reports = self
            .refresher
            .refresh_many(&[feed], Selection::All, |_| {})
            .await
            .expect("refresh");
        assert_eq!(reports.len(), 1, "one feed refreshed");
        reports.remove(0)
    }

    /// One cycle over every configured feed, as `tributary fetch --all` runs it.
    pub async fn fetch_all(&self) -> CycleReport {
        self.refresher
            .run_cycle(self.feeds.clone(), Selection::All, |_| {})
            .await
            .expect("fetch cycle")
    }

    /// The feed's stored row.
    pub fn record(&self, id: &str) -> FeedRecord {
        self.refresher
            .store()
            .lock()
            .unwrap()
            .feed(id)
            .expect("read feed row")
            .expect("feed row exists")
    }

    /// The stored entries of one feed, newest first.
    pub fn entries(&self, id: &str) -> Vec<StoredEntry> {
        self.refresher
            .store()
            .lock()
            .unwrap()
            .entries(&EntryFilter {
                feed_ids: Some(vec![id.to_string()]),
                limit: 10_000,
                ..Default::default()
            })
            .expect("read entries")
    }

    /// The default output as merged Atom.
    pub fn export_atom(&self) -> String {
        let store = self.refresher.store().lock().unwrap();
        let output = self.config.output(None).expect("an output");
        let merged = export::merged_feed(
            &store,
            &self.config,
            &self.feeds,
            output,
            &export::Filters::default(),
            chrono::Utc::now(),
        )
        .expect("merged feed");
        Format::Atom.render(&merged)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading merged Atom back
// ---------------------------------------------------------------------------------------------

/// One `<entry>` of a merged feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtomEntry {
    pub id: String,
    pub title: String,
    pub link: Option<String>,
    pub published: Option<String>,
    pub updated: String,
    pub summary: Option<String>,
    pub content: Option<String>,
    /// `<source><id>`
    pub source_id: String,
    /// `<link rel="related">` hrefs: other outlets that carried the same story.
    pub related: Vec<String>,
}

/// A merged Atom document, read in full.
#[derive(Debug, Clone, Default)]
pub struct AtomDoc {
    pub id: String,
    pub title: String,
    pub entries: Vec<AtomEntry>,
    /// Every element's text, unescaped, with the element's path (`feed/entry/content`).
    pub texts: Vec<(String, String)>,
    /// Every attribute value, unescaped, with its element path and name (`…/link@href`).
    pub attributes: Vec<(String, String)>,
}

impl AtomDoc {
    pub fn entry_titled(&self, title: &str) -> Option<&AtomEntry> {
        self.entries.iter().find(|e| e.title == title)
    }

    pub fn titles(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.title.as_str()).collect()
    }
}

/// XML 1.0 `Char`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Reads a merged Atom document to its end with quick-xml. Panics (failing the test) if it is
/// not well-formed XML 1.0 with one `feed` root in the Atom namespace, if a reference is
/// undefined, or if any character (raw or referenced) is outside XML 1.0.
pub fn parse_atom(xml: &str) -> AtomDoc {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;

    if let Some(bad) = xml.chars().find(|c| !is_xml_char(*c)) {
        panic!(
            "the document holds U+{:04X}, which XML 1.0 forbids",
            bad as u32
        );
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut doc = AtomDoc::default();
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut roots = 0;
    let mut entry = AtomEntry::default();
    let attrs = |e: &quick_xml::events::BytesStart<'_>, path: &str, doc: &mut AtomDoc| {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.unwrap_or_else(|err| panic!("bad attribute in {path}: {err}"));
            let name = a.key.as_ref().to_string();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .unwrap_or_else(|err| panic!("bad attribute value {path}@{name}: {err}"))
                .into_owned();
            assert!(
                value.chars().all(is_xml_char),
                "{path}@{name} references a character XML 1.0 forbids"
            );
            doc.attributes
                .push((format!("{path}@{name}"), value.clone()));
            out.push((name, value));
        }
        out
    };
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at byte {}: {e}", reader.error_position()));
        match event {
            Event::Start(e) | Event::Empty(e) if stack.is_empty() && roots > 0 => {
                panic!("a second root element <{:?}>", e.name());
            }
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if stack.is_empty() {
                    roots += 1;
                    assert_eq!(name, "feed", "the root element is <feed>");
                }
                let path = path_of(&stack, &name);
                let a = attrs(&e, &path, &mut doc);
                if path == "feed" {
                    assert!(
                        a.iter()
                            .any(|(k, v)| k == "xmlns" && v == "http://www.w3.org/2005/Atom"),
                        "the feed is in the Atom namespace"
                    );
                }
                if path == "feed/entry" {
                    entry = AtomEntry::default();
                }
                stack.push((name, String::new()));
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                assert!(!stack.is_empty(), "an empty root element");
                let path = path_of(&stack, &name);
                let a = attrs(&e, &path, &mut doc);
                if path == "feed/entry/link" {
                    let rel = a.iter().find(|(k, _)| k == "rel").map(|(_, v)| v.as_str());
                    let href = a.iter().find(|(k, _)| k == "href").map(|(_, v)| v.clone());
                    match rel {
                        Some("alternate") | None => entry.link = href,
                        Some("related") => entry.related.extend(href),
                        Some(_) => {}
                    }
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t.xml10_content());
                } else {
                    assert!(
                        t.xml10_content().trim().is_empty(),
                        "text outside the root element"
                    );
                }
            }
            Event::CData(t) => {
                let top = stack.last_mut().expect("CDATA outside the root element");
                top.1.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let top = stack
                    .last_mut()
                    .expect("a reference outside the root element");
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap_or_else(|| panic!("undefined entity &{};", &*r))
                        .to_string(),
                    Err(e) => panic!("bad character reference &{};: {e}", &*r),
                };
                assert!(
                    c.chars().all(is_xml_char),
                    "a reference to a character XML 1.0 forbids: &{};",
                    &*r
                );
                top.1.push_str(&c);
            }
            Event::End(_) => {
                let (name, text) = stack.pop().expect("an end tag without a start");
                let path = path_of(&stack, &name);
                match path.as_str() {
                    "feed/id" => doc.id = text.clone(),
                    "feed/title" => doc.title = text.clone(),
                    "feed/entry/id" => entry.id = text.clone(),
                    "feed/entry/title" => entry.title = text.clone(),
                    "feed/entry/published" => entry.published = Some(text.clone()),
                    "feed/entry/updated" => entry.updated = text.clone(),
                    "feed/entry/summary" => entry.summary = Some(text.clone()),
                    "feed/entry/content" => entry.content = Some(text.clone()),
                    "feed/entry/source/id" => entry.source_id = text.clone(),
                    "feed/entry" => doc.entries.push(std::mem::take(&mut entry)),
                    _ => {}
                }
                doc.texts.push((path, text));
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => panic!("a merged feed carries no DOCTYPE"),
            Event::Eof => break,
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    doc
}

fn path_of(stack: &[(String, String)], name: &str) -> String {
    let mut p: Vec<&str> = stack.iter().map(|(n, _)| n.as_str()).collect();
    p.push(name);
    p.join("/")
}

// ---------------------------------------------------------------------------------------------
// Faults: slow and hung answers, redirects, statuses with headers, generated and broken bodies
// ---------------------------------------------------------------------------------------------

/// One request with every header, as the server saw it.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub path: String,
    /// Header names lower-cased, in the order they came.
    pub headers: Vec<(String, String)>,
    /// When the request arrived.
    pub at: std::time::Instant,
}

impl RequestDetail {
    fn of(path: &str, headers: &axum::http::HeaderMap) -> RequestDetail {
        RequestDetail {
            path: path.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            at: std::time::Instant::now(),
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Host` the client addressed (`127.0.0.1:PORT` or `localhost:PORT`).
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }
}

/// Where the bytes of a streamed body come from.
#[derive(Debug, Clone)]
pub enum BodySource {
    /// These bytes, sent in 16 KiB chunks.
    Bytes(Arc<Vec<u8>>),
    /// `head`, then `unit` over and over until `total` bytes were sent in all. Generated while
    /// sending, so a 100 MB answer costs the server no memory.
    Repeat {
        head: Vec<u8>,
        unit: Vec<u8>,
        total: u64,
    },
}

/// A body the server streams instead of a fixture.
#[derive(Debug, Clone)]
pub struct StreamedBody {
    pub source: BodySource,
    pub content_type: String,
    /// `Content-Encoding` to announce; the bytes are sent exactly as given.
    pub content_encoding: Option<String>,
    /// Announce `Content-Length`; otherwise the body is sent chunked.
    pub content_length: bool,
    /// More response headers (`Cache-Control`, `Expires`, …).
    pub headers: Vec<(String, String)>,
}

impl StreamedBody {
    fn total(&self) -> u64 {
        match &self.source {
            BodySource::Bytes(b) => b.len() as u64,
            BodySource::Repeat { total, .. } => *total,
        }
    }

    fn chunks(
        &self,
    ) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + use<> {
        const CHUNK: usize = 16 * 1024;
        let (head, block, total): (Vec<u8>, Arc<Vec<u8>>, u64) = match &self.source {
            BodySource::Bytes(b) => (Vec::new(), b.clone(), b.len() as u64),
            BodySource::Repeat { head, unit, total } => {
                let mut block = Vec::with_capacity(CHUNK + unit.len());
                while block.len() < CHUNK && !unit.is_empty() {
                    block.extend_from_slice(unit);
                }
                (head.clone(), Arc::new(block), *total)
            }
        };
        let repeat = matches!(self.source, BodySource::Repeat { .. });
        futures_util::stream::unfold(0u64, move |sent| {
            let head = head.clone();
            let block = block.clone();
            async move {
                if sent >= total {
                    return None;
                }
                let left = usize::try_from(total - sent).unwrap_or(usize::MAX);
                let chunk: Vec<u8> = if repeat {
                    if (sent as usize) < head.len() {
                        head[sent as usize..].iter().copied().take(left).collect()
                    } else if block.is_empty() {
                        return None;
                    } else {
                        block[..block.len().min(left)].to_vec()
                    }
                } else {
                    let at = sent as usize;
                    block[at..at + CHUNK.min(left)].to_vec()
                };
                let n = chunk.len() as u64;
                Some((Ok(axum::body::Bytes::from(chunk)), sent + n))
            }
        })
    }
}

/// A way of answering that a test switched on for one path.
#[derive(Debug, Clone)]
enum Fault {
    Redirect {
        status: u16,
        location: String,
    },
    Status {
        status: u16,
        headers: Vec<(String, String)>,
    },
    Streamed(StreamedBody),
    /// 200 with its headers and `prefix`, then nothing for `stall`, then the end.
    StallBody {
        prefix: Vec<u8>,
        stall: std::time::Duration,
    },
    /// 200 with its headers and `prefix`, then the connection is torn down mid-body.
    AbortBody {
        prefix: Vec<u8>,
    },
}

impl Fault {
    fn respond(&self, in_flight: InFlight) -> Response {
        match self {
            Fault::Redirect { status, location } => {
                let status = StatusCode::from_u16(*status).expect("valid status");
                let mut resp = (status, "moved\n").into_response();
                resp.headers_mut().insert(
                    header::LOCATION,
                    HeaderValue::from_str(location).expect("location value"),
                );
                resp
            }
            Fault::Status { status, headers } => {
                let status = StatusCode::from_u16(*status).expect("valid status");
                let mut resp = (status, format!("status {}\n", status.as_u16())).into_response();
                for (k, v) in headers {
                    resp.headers_mut().insert(
                        header::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                        HeaderValue::from_str(v).expect("header value"),
                    );
                }
                resp
            }
            Fault::Streamed(body) => {
                let chunks = futures_util::StreamExt::map(body.chunks(), move |c| {
                    let _sending = &in_flight;
                    c
                });
                let mut resp = axum::body::Body::from_stream(chunks).into_response();
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(&body.content_type).expect("content type"),
                );
                if let Some(enc) = &body.content_encoding {
                    h.insert(
                        header::CONTENT_ENCODING,
                        HeaderValue::from_str(enc).expect("encoding"),
                    );
                }
                for (k, v) in &body.headers {
                    h.insert(
                        header::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                        HeaderValue::from_str(v).expect("header value"),
                    );
                }
                if body.content_length {
                    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.total()));
                }
                resp
            }
            Fault::StallBody { prefix, stall } => {
                let prefix = axum::body::Bytes::from(prefix.clone());
                let stall = *stall;
                let stream = futures_util::stream::unfold(0u8, move |step| {
                    let _sending = &in_flight;
                    let prefix = prefix.clone();
                    async move {
                        match step {
                            0 => Some((Ok::<_, std::io::Error>(prefix), 1)),
                            1 => {
                                tokio::time::sleep(stall).await;
                                None
                            }
                            _ => None,
                        }
                    }
                });
                feed_response(axum::body::Body::from_stream(stream))
            }
            Fault::AbortBody { prefix } => {
                let prefix = axum::body::Bytes::from(prefix.clone());
                let stream = futures_util::stream::unfold(0u8, move |step| {
                    let _sending = &in_flight;
                    let prefix = prefix.clone();
                    async move {
                        match step {
                            0 => Some((Ok(prefix), 1)),
                            1 => {
                                // Let the headers and the first bytes reach the client first.
                                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                                Some((Ok(axum::body::Bytes::new()), 2))
                            }
                            2 => Some((
                                Err(std::io::Error::new(
                                    std::io::ErrorKind::ConnectionAborted,
                                    "the site went away mid-answer",
                                )),
                                3,
                            )),
                            _ => None,
                        }
                    }
                });
                feed_response(axum::body::Body::from_stream(stream))
            }
        }
    }
}

fn feed_response(body: axum::body::Body) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/rss+xml"),
    );
    resp
}

/// Counts one request as being answered until dropped (also when the client goes away).
struct InFlight {
    shared: Arc<Mutex<Shared>>,
    host: String,
}

impl InFlight {
    /// The key counting requests to every host together.
    const ALL: &'static str = "*";

    fn enter(shared: &Arc<Mutex<Shared>>, host: String) -> InFlight {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        for key in [host.as_str(), Self::ALL] {
            let now = {
                let n = s.in_flight.entry(key.to_string()).or_default();
                *n += 1;
                *n
            };
            let max = s.max_in_flight.entry(key.to_string()).or_default();
            *max = (*max).max(now);
        }
        InFlight {
            shared: shared.clone(),
            host,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        for key in [self.host.as_str(), Self::ALL] {
            if let Some(n) = s.in_flight.get_mut(key) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl FeedServer {
    /// The most requests ever answered at once for `host` (a `Host` header value such as
    /// [`FeedServer::host`]).
    pub fn max_concurrent(&self, host: &str) -> usize {
        self.with(|s| s.max_in_flight.get(host).copied().unwrap_or(0))
    }

    /// The most requests ever answered at once, whatever the host.
    pub fn max_concurrent_overall(&self) -> usize {
        self.with(|s| s.max_in_flight.get(InFlight::ALL).copied().unwrap_or(0))
    }

    /// `http://localhost:PORT/…`: the same server under another host name (a different host
    /// for politeness and for where credentials may go).
    pub fn url_via_localhost(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    /// `127.0.0.1:PORT`, the host key of [`FeedServer::url`] addresses.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    fn set_fault(&self, path: &str, fault: Option<Fault>) {
        self.with(|s| s.paths.entry(path.to_string()).or_default().fault = fault);
    }

    /// Makes `path` wait `delay` before answering at all (a hung server when long).
    pub fn delay_answers(&self, path: &str, delay: std::time::Duration) {
        self.with(|s| s.paths.entry(path.to_string()).or_default().delay = Some(delay));
    }

    /// Makes `path` answer `status` (301, 302, 307, 308, …) with `Location: location`.
    pub fn redirect(&self, path: &str, status: u16, location: &str) {
        self.set_fault(
            path,
            Some(Fault::Redirect {
                status,
                location: location.to_string(),
            }),
        );
    }

    /// Makes `path` answer `status` with these extra headers (`Retry-After`, …).
    pub fn answer_status_with(&self, path: &str, status: u16, headers: &[(&str, &str)]) {
        self.set_fault(
            path,
            Some(Fault::Status {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
        );
    }

    /// Makes `path` stream `body`.
    pub fn serve_streamed(&self, path: &str, body: StreamedBody) {
        self.set_fault(path, Some(Fault::Streamed(body)));
    }

    /// Makes `path` send its headers and `prefix` at once, then nothing for `stall`.
    pub fn stall_body(&self, path: &str, prefix: &[u8], stall: std::time::Duration) {
        self.set_fault(
            path,
            Some(Fault::StallBody {
                prefix: prefix.to_vec(),
                stall,
            }),
        );
    }

    /// Makes `path` send its headers and `prefix`, then tear the connection down.
    pub fn abort_body(&self, path: &str, prefix: &[u8]) {
        self.set_fault(
            path,
            Some(Fault::AbortBody {
                prefix: prefix.to_vec(),
            }),
        );
    }

    /// Drops every fault and delay on `path` set with the methods above.
    pub fn clear_faults(&self, path: &str) {
        self.with(|s| {
            if let Some(setup) = s.paths.get_mut(path) {
                setup.fault = None;
                setup.delay = None;
            }
        });
    }

    /// Every request so far with all its headers, in arrival order.
    pub fn request_details(&self) -> Vec<RequestDetail> {
        self.with(|s| s.details.clone())
    }

    /// The requests for one path with all their headers, in arrival order.
    pub fn details_to(&self, path: &str) -> Vec<RequestDetail> {
        self.with(|s| {
            s.details
                .iter()
                .filter(|r| r.path == path)
                .cloned()
                .collect()
        })
    }
}

/// A site that accepts connections, reads the request and resets the connection (TCP RST)
/// without answering. Stops when dropped.
#[derive(Debug)]
pub struct ResetServer {
    addr: SocketAddr,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ResetServer {
    pub fn start() -> ResetServer {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = connections.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                use tokio::io::AsyncReadExt;
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        _ = &mut stopped => break,
                    };
                    let Ok((mut stream, _)) = accepted else {
                        continue;
                    };
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(
                            std::time::Duration::from_secs(5),
                            stream.read(&mut buf),
                        )
                        .await
                        {
                            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buf[..n]),
                            _ => break,
                        }
                    }
                    let _ = stream.set_zero_linger();
                    drop(stream);
                }
            });
        });
        ResetServer {
            addr,
            connections,
            stop: Some(stop),
        }
    }

    /// The absolute URL of `path` on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many connections were accepted (and reset).
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for ResetServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("compress");
    enc.finish().expect("compress")
}

/// A gzip stream (about 1 KB per MiB) that inflates to `mib` MiB of zero bytes: a gzip bomb.
/// Built from one compressed MiB repeated, so making a 128 MiB bomb takes milliseconds.
pub fn gzip_bomb(mib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    assert!(mib >= 2, "a bomb of at least 2 MiB");
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    // Each MiB ends with a sync flush, so its deflate blocks are byte-aligned; every MiB after
    // the first refers only to the zeros before it and can be repeated verbatim.
    let mut flushed = |input: &[u8], flush: FlushCompress| {
        let mut out = Vec::with_capacity(64 * 1024);
        let mut consumed = 0usize;
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(64 * 1024);
            }
            let before = c.total_in();
            let status = c
                .compress_vec(&input[consumed..], &mut out, flush)
                .expect("deflate");
            consumed += (c.total_in() - before) as usize;
            let done = consumed == input.len() && out.capacity() - out.len() >= 1024;
            if matches!(status, flate2::Status::StreamEnd) || done {
                break;
            }
        }
        out
    };
    let first = flushed(&zeros, FlushCompress::Sync);
    let next = flushed(&zeros, FlushCompress::Sync);
    let last = flushed(&[], FlushCompress::Finish);
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(&first);
    for _ in 1..mib {
        out.extend_from_slice(&next);
    }
    out.extend_from_slice(&last);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((u64::from(mib) << 20) as u32).to_le_bytes());
    out
}

/// One run of the binary watched while it ran.
#[derive(Debug)]
pub struct WatchedRun {
    /// The exit code; `None` if it had to be killed at the deadline (or died of a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The highest peak resident set size (`VmHWM`, KiB) seen while it ran.
    pub peak_rss_kib: u64,
    /// It was still running at the deadline and was killed.
    pub killed_at_deadline: bool,
    pub elapsed: std::time::Duration,
}

/// `Command` for the `tributary` binary in `cwd`, with no Tributary or proxy settings inherited
/// from the environment (as [`run_tributary`] runs it).
pub fn tributary_command(cwd: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.args(args).current_dir(cwd);
    for var in [
        "TRIBUTARY_CONFIG",
        "TRIBUTARY_FEEDS",
        "TRIBUTARY_DB",
        "TRIBUTARY_LOG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The peak resident set size (`VmHWM`, KiB) of a running process, from `/proc`.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Workspace {
    /// `--config … --feeds … ARGS` as strings.
    pub fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = vec![
            "--config".into(),
            self.config_path().display().to_string(),
            "--feeds".into(),
            self.feeds_path().display().to_string(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// The `tributary --config … --feeds … ARGS` command, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        tributary_command(self.root(), &self.args(args))
    }

    /// Runs `tributary ARGS` like [`Workspace::tributary`], polling its peak memory while it
    /// runs and killing it if it is still running after `deadline`.
    pub fn tributary_watched(&self, args: &[&str], deadline: std::time::Duration) -> WatchedRun {
        use std::io::Read;
        use std::process::Stdio;
        let started = std::time::Instant::now();
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the tributary binary");
        let pid = child.id();
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("stdout")));
        let err = drain(Box::new(child.stderr.take().expect("stderr")));
        let mut peak = 0u64;
        let mut killed = false;
        let status = loop {
            if let Some(kib) = peak_rss_kib(pid) {
                peak = peak.max(kib);
            }
            if let Some(status) = child.try_wait().expect("wait for tributary") {
                break status;
            }
            if started.elapsed() > deadline {
                killed = true;
                let _ = child.kill();
                break child.wait().expect("wait for tributary");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        WatchedRun {
            code: status.code(),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            peak_rss_kib: peak,
            killed_at_deadline: killed,
            elapsed: started.elapsed(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The demo feeds, fetched into SQLite and served by Tributary's own HTTP server
// ---------------------------------------------------------------------------------------------

/// The demo world the server tests and the JSON Feed checks read: the fixture outlets served by
/// [`tributary::demo::FixtureServer`] from a private copy of `fixtures/feeds/`, fetched through
/// the real pipeline into a SQLite file, and served by [`tributary::server::serve`] on
/// 127.0.0.1 (port 0).
pub mod served {
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex, RwLock};

    use axum::http::{HeaderMap, StatusCode};
    use tributary::config::{Config, FeedsFile};
    use tributary::demo::FixtureServer;
    use tributary::fetch::Fetcher;
    use tributary::metrics::Metrics;
    use tributary::refresh::{CycleReport, Refresher, Selection};
    use tributary::server::AppState;
    use tributary::store::Store;

    /// A running demo: outlets, database and Tributary's server. Both servers stop when it is
    /// dropped (or with the test's runtime).
    #[derive(Debug)]
    pub struct ServedDemo {
        dir: tempfile::TempDir,
        /// The stand-in outlets.
        pub site: FixtureServer,
        pub config: Arc<Config>,
        pub feeds: Arc<FeedsFile>,
        /// The fetching side, writing through its own connection.
        pub refresher: Refresher,
        /// What the server's handlers share (its own read connection).
        pub state: Arc<AppState>,
        pub metrics: Arc<Metrics>,
        /// `http://127.0.0.1:PORT` of Tributary's server.
        pub base: String,
        /// The first fetch cycle.
        pub first_cycle: CycleReport,
        client: reqwest::Client,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
    }

    /// One HTTP answer, read in full, exactly as sent (no decompression).
    #[derive(Debug, Clone)]
    pub struct Reply {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Vec<u8>,
    }

    impl Reply {
        /// A header's value as text.
        pub fn header(&self, name: &str) -> Option<String> {
            self.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        }

        /// The body as UTF-8 text (panics otherwise).
        pub fn text(&self) -> String {
            String::from_utf8(self.body.clone()).expect("a UTF-8 body")
        }

        /// The body as JSON (panics otherwise).
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!(
                    "the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&self.body)
                )
            })
        }
    }

    impl ServedDemo {
        /// The demo as `tributary demo` sets it up.
        pub async fn start() -> ServedDemo {
            Self::start_with("", "").await
        }

        /// `config_extra` is appended to the service config (tables such as `[server]` or
        /// `[[output]]`); `feeds_extra` is appended to `demo-feeds.toml`, with `{base}` replaced
        /// by the outlets' URL like the rest of the file.
        pub async fn start_with(config_extra: &str, feeds_extra: &str) -> ServedDemo {
            let dir = tempfile::tempdir().expect("temporary folder");
            let site_root = dir.path().join("site");
            copy_dir(&super::fixture("feeds"), &site_root.join("feeds"));
            let site = FixtureServer::start(&site_root)
                .await
                .expect("start the outlets");

            let config_path = dir.path().join("tributary.toml");
            let config_text = format!(
                "[storage]\ndatabase = \"data/tributary.db\"\nretention_days = 0\n\n{config_extra}"
            );
            std::fs::write(&config_path, &config_text).expect("write config");
            let mut config = Config::parse_str(&config_text, &config_path, dir.path())
                .unwrap_or_else(|e| panic!("test config: {e}"));
            config.path = Some(config_path);

            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("bind loopback");
            let addr = listener.local_addr().expect("local address");
            let base = format!("http://{addr}");
            config.server.listen = addr;
            config.server.base_url = base.clone();
            let config = Arc::new(config);

            let feeds_path = dir.path().join("feeds.toml");
            let template = std::fs::read_to_string(super::fixture("demo-feeds.toml"))
                .expect("read demo-feeds.toml");
            let feeds_text =
                format!("{template}\n{feeds_extra}").replace("{base}", &site.base_url());
            std::fs::write(&feeds_path, &feeds_text).expect("write feeds.toml");
            let mut feeds = FeedsFile::parse_str(&feeds_text, &feeds_path, &config)
                .unwrap_or_else(|e| panic!("demo feeds: {e}"));
            feeds.path = Some(feeds_path);
            let feeds = Arc::new(feeds);

            let metrics = Arc::new(Metrics::new());
            let writer = Store::open(&config.storage.database).expect("open the database");
            let fetcher = Arc::new(Fetcher::new(&config.fetch).expect("HTTP client"));
            let refresher = Refresher::new(config.clone(), fetcher, Arc::new(Mutex::new(writer)))
                .with_metrics(metrics.clone());
            let first_cycle = refresher
                .run_cycle(feeds.clone(), Selection::All, |_| {})
                .await
                .expect("the first fetch cycle");

            let state = Arc::new(AppState {
                config: config.clone(),
                feeds: RwLock::new(feeds.clone()),
                store: Arc::new(Mutex::new(
                    Store::open(&config.storage.database).expect("the server's connection"),
                )),
                metrics: metrics.clone(),
                refresher: Some(refresher.clone()),
                poll: Default::default(),
            });
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(tributary::server::serve(listener, state.clone(), async {
                let _ = stopped.await;
            }));
            let client = reqwest::Client::builder()
                .no_proxy()
                .no_gzip()
                .no_brotli()
                .no_deflate()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("HTTP client");
            ServedDemo {
                dir,
                site,
                config,
                feeds,
                refresher,
                state,
                metrics,
                base,
                first_cycle,
                client,
                stop: Some(stop),
            }
        }

        /// The temporary folder holding config, feeds list, database and outlets.
        pub fn root(&self) -> &Path {
            self.dir.path()
        }

        /// The SQLite file.
        pub fn db_path(&self) -> PathBuf {
            self.config.storage.database.clone()
        }

        /// The outlets' copy of a fixture feed (`wire.rss`), which a test may edit.
        pub fn site_feed(&self, file: &str) -> PathBuf {
            self.root().join("site/feeds").join(file)
        }

        /// Absolute URL of `path_and_query` on Tributary's server.
        pub fn url(&self, path_and_query: &str) -> String {
            if path_and_query.starts_with("http") {
                path_and_query.to_string()
            } else {
                format!("{}{path_and_query}", self.base)
            }
        }

        /// The raw HTTP client (no proxy, no automatic decompression, no redirects).
        pub fn client(&self) -> &reqwest::Client {
            &self.client
        }

        /// `GET` with the given request headers.
        pub async fn get_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
            let mut req = self.client.get(self.url(path_and_query));
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            read(req).await
        }

        /// `GET` without extra headers.
        pub async fn get(&self, path_and_query: &str) -> Reply {
            self.get_with(path_and_query, &[]).await
        }

        /// `POST` with the given headers and body.
        pub async fn post(
            &self,
            path_and_query: &str,
            headers: &[(&str, &str)],
            body: Vec<u8>,
        ) -> Reply {
            let mut req = self.client.post(self.url(path_and_query)).body(body);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            read(req).await
        }

        /// Another fetch cycle over every configured feed, as `tributary fetch --all` runs it.
        pub async fn refetch(&self) -> CycleReport {
            self.refresher
                .run_cycle(self.feeds.clone(), Selection::All, |_| {})
                .await
                .expect("fetch cycle")
        }
    }

    impl Drop for ServedDemo {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
        }
    }

    async fn read(req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("Tributary's server answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("read the body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create folder");
        for entry in std::fs::read_dir(from).expect("read fixtures") {
            let entry = entry.expect("fixture entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy fixture");
            }
        }
    }
}
