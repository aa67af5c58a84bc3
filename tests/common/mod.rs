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
}

#[derive(Debug, Default)]
struct Shared {
    requests: Vec<SeenRequest>,
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
        s.paths.get(&path).cloned().unwrap_or_default()
    };
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
