//! Server benchmarks on a database of one million entries.
//!
//! `cargo bench --bench server` (release build; at most about ten minutes a run).
//!
//! 1. The database: generated RSS feeds are served from a local HTTP server and ingested through
//!    the real pipeline ([`Refresher::run_cycle`]: fetch, decode, parse, clean, dedup, store) for
//!    up to two minutes; these are the newest entries, the ones `/feed.atom` serves. The rest of
//!    the archive, dated over three years of simulated fetches of 1,000 more feeds, is written
//!    with SQL rows like those `Store::store_fetch` writes (see [`bulk_fill`]), because the
//!    store ingests a few hundred entries per second here and a million would take hours. One
//!    run spends at most three and a half minutes building; the database and its progress are
//!    kept under `target/bench-server/` with the generator version and schema migrations it was
//!    built with (another generator version or changed migrations rebuild it; a database from
//!    before newly added migrations is migrated, as a reader's database is on upgrade), and
//!    the next run goes on building where this one stopped (the table says when the database
//!    is still partial). `TRIBUTARY_BENCH_REBUILD=1` starts over; `TRIBUTARY_BENCH_ENTRIES=N`
//!    asks for another size; `TRIBUTARY_BENCH_BUILD_ONLY=1` builds the database and stops.
//! 2. A copy of it is served by the real binary (`tributary serve`), and measured from outside:
//!    - time to render `/feed.atom` with 500 entries: p50 over 60 sequential requests on
//!      loopback (an upper bound of server time), plus the same work in-process;
//!    - `wrk -t2 -c32 -d10s` on the 304 path (`If-None-Match` with the current ETag) and on the
//!      full path;
//!    - `wrk` while a second process runs `tributary fetch --all` on the same database against
//!      1,000 local feeds: no non-2xx/3xx answer, no socket error, and no "database is locked" in
//!      either process's output.
//!
//! Only 127.0.0.1 traffic. Prints a table with the targets and writes it, with the method, to
//! `target/bench-server/results.md`.

// Built as a test harness (without `harness = false`) nothing here runs.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

#[path = "support/mod.rs"]
mod support;
use support::{mix, schema_version, wait_healthy};

use tributary::config::{Config, FeedsFile};
use tributary::dedup;
use tributary::export::{self, Filters, Format};
use tributary::fetch::Fetcher;
use tributary::model::{NewEntry, rfc3339};
use tributary::refresh::{Refresher, Selection};
use tributary::store::{FeedIdentity, Store};

/// Bump when the generated data changes: a cached database of another version is rebuilt.
const GENERATOR_VERSION: u32 = 2;
const DEFAULT_ENTRIES: usize = 1_000_000;
/// Feeds ingested through the pipeline, each serving this many new items per fetch round.
const PIPE_FEEDS: usize = 200;
const PIPE_ITEMS_PER_FETCH: usize = 50;
/// How long the pipeline ingests when the whole database would not fit in five minutes.
const PIPELINE_BUDGET: Duration = Duration::from_secs(120);
/// How long one run spends building the database; a later run goes on where it stopped.
const BUILD_BUDGET: Duration = Duration::from_secs(210);
/// Feeds whose history is bulk-filled.
const ARCHIVE_FEEDS: usize = 1_000;
/// Items stored per simulated fetch of an archive feed.
const ARCHIVE_BATCH: usize = 50;
/// Feeds fetched by the second process while the server is under load.
const LIVE_FEEDS: usize = 1_000;
const LIVE_ITEMS: usize = 20;
/// Entries in the rendered feed.
const FEED_ENTRIES: usize = 500;
/// Requests timed for the render measurement.
const RENDER_REQUESTS: usize = 60;
/// Longest the ingest-under-load phase may run.
const LOADED_INGEST_LIMIT: Duration = Duration::from_secs(240);

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` asks benchmarks to name themselves.
        println!("server: bench");
        return;
    }
    let started = Instant::now();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-server");
    std::fs::create_dir_all(&dir).expect("create target/bench-server");
    let entries = std::env::var("TRIBUTARY_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ENTRIES);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(&dir, entries, started));
}

async fn run(dir: &Path, entries: usize, started: Instant) {
    let generator = Generator::start().await;
    let dataset = ensure_database(dir, entries, &generator).await;
    println!("database: {}", dataset.describe());
    if std::env::var("TRIBUTARY_BENCH_BUILD_ONLY").is_ok_and(|v| v == "1") {
        return;
    }

    // A working copy: the ingest under load writes to it.
    let work = dir.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("create work folder");
    let db = work.join("tributary.db");
    std::fs::copy(dir.join("database.db"), &db).expect("copy the database");
    let port = free_port();
    let config_path = work.join("tributary.toml");
    std::fs::write(&config_path, config_text("tributary.db", Some(port))).expect("config");
    let all_feeds = work.join("feeds-all.toml");
    let live_feeds = work.join("feeds-live.toml");
    std::fs::write(
        &all_feeds,
        feeds_text(&dataset.pipe_base, &generator.base(), true),
    )
    .expect("feeds");
    std::fs::write(
        &live_feeds,
        feeds_text(&dataset.pipe_base, &generator.base(), false),
    )
    .expect("feeds");
    let base = format!("http://127.0.0.1:{port}");
    let feed_url = format!("{base}/feed.atom");

    let serve_log = work.join("serve.log");
    let mut server = spawn_tributary(&config_path, &all_feeds, &["serve"], &serve_log);
    let client = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    wait_healthy(&client, &base, &mut server).await;

    let mut report = Report {
        dataset: dataset.describe(),
        load_before: load_average(),
        ..Default::default()
    };

    // --- render /feed.atom with 500 entries ---------------------------------------------------
    let first = client.get(&feed_url).send().await.expect("GET /feed.atom");
    assert_eq!(first.status(), 200);
    let etag = first
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_string();
    let body = first.text().await.expect("body");
    let served_entries = body.matches("<entry>").count();
    assert_eq!(served_entries, FEED_ENTRIES, "the feed holds 500 entries");
    report.feed_bytes = body.len();
    let mut latencies = Vec::new();
    for _ in 0..RENDER_REQUESTS {
        let t = Instant::now();
        let resp = client.get(&feed_url).send().await.expect("GET");
        let status = resp.status();
        let _ = resp.bytes().await.expect("body");
        latencies.push(t.elapsed());
        assert_eq!(status, 200);
    }
    report.render_http = Stats::of(&latencies);
    println!(
        "render /feed.atom over HTTP: {}",
        report.render_http.describe()
    );
    let (inproc_full, inproc_validators, inproc_newest) =
        render_in_process(&config_path, &all_feeds);
    report.render_inproc = inproc_full;
    report.validators_inproc = inproc_validators;
    report.newest_change_inproc = inproc_newest;
    println!(
        "in-process: store reads + render {}; validators only {}",
        report.render_inproc.describe(),
        report.validators_inproc.describe()
    );

    // --- wrk on the 304 and full paths ----------------------------------------------------------
    ensure_wrk();
    let revalidate = client
        .get(&feed_url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(revalidate.status(), 304, "the current ETag revalidates");
    let inm = format!("If-None-Match: {etag}");
    report.wrk_304 = wrk(&feed_url, &["-H", &inm], 10);
    println!("wrk 304 path: {}", report.wrk_304.describe());
    settle(&client, &feed_url, &etag).await;
    report.wrk_full = wrk(&feed_url, &[], 10);
    println!("wrk full path: {}", report.wrk_full.describe());
    settle(&client, &feed_url, &etag).await;

    // --- wrk while a second process ingests 1,000 feeds ------------------------------------------
    let before = count_entries(&db);
    let fetch_log = work.join("fetch.log");
    let ingest_started = Instant::now();
    let mut fetch = spawn_tributary(&config_path, &live_feeds, &["fetch", "--all"], &fetch_log);
    // One wrk run for the whole ingest (stopped with SIGINT, which makes wrk print its totals),
    // so no request is abandoned half-way.
    let limit = format!("{}s", LOADED_INGEST_LIMIT.as_secs() + 60);
    let loaded_wrk = Command::new("wrk")
        .args(["-t2", "-c8", "-d", &limit, "--timeout", "60s", &feed_url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let fetch_status = loop {
        if let Some(status) = fetch.try_wait().expect("fetch status") {
            break Some(status);
        }
        if ingest_started.elapsed() > LOADED_INGEST_LIMIT {
            let _ = fetch.kill();
            let _ = fetch.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ingest_seconds = ingest_started.elapsed().as_secs_f64();
    let loaded = match loaded_wrk {
        Ok(child) => {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            match child.wait_with_output() {
                Ok(out) => parse_wrk(&String::from_utf8_lossy(&out.stdout), out.status.success()),
                Err(_) => WrkRun::failed(),
            }
        }
        Err(_) => WrkRun::failed(),
    };
    let after = count_entries(&db);
    report.loaded = loaded;
    report.ingest = IngestRun {
        exit: fetch_status.and_then(|s| s.code()),
        seconds: ingest_seconds,
        new_entries: after.saturating_sub(before),
        fetches: generator.live_requests.load(Ordering::Relaxed),
        locked_in_fetch: count_locked(&fetch_log),
        locked_in_server: 0,
    };
    println!("wrk during fetch --all: {}", report.loaded.describe());

    let _ = server.kill();
    let _ = server.wait();
    report.ingest.locked_in_server = count_locked(&serve_log);
    println!(
        "fetch --all: exit {:?}, {} new entries in {:.1} s; \"database is locked\": {} in fetch output, {} in server output",
        report.ingest.exit,
        report.ingest.new_entries,
        report.ingest.seconds,
        report.ingest.locked_in_fetch,
        report.ingest.locked_in_server
    );

    report.machine = machine();
    report.load_after = load_average();
    report.total = started.elapsed();
    let table = report.markdown();
    println!("\n{table}");
    std::fs::write(dir.join("results.md"), &table).expect("write results.md");
    println!("written to {}", dir.join("results.md").display());
}

// ---------------------------------------------------------------------------------------------
// Generated feeds
// ---------------------------------------------------------------------------------------------

/// Which generated outlet family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Ingested through the pipeline while the database is built.
    Pipe,
    /// Bulk-filled history.
    Archive,
    /// Fetched by `tributary fetch --all` during the load test.
    Live,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pipe => "pipe",
            Kind::Archive => "arch",
            Kind::Live => "live",
        }
    }
}

const SYLLABLES: [&str; 48] = [
    "ka", "ro", "mi", "ta", "ne", "su", "lo", "va", "de", "ri", "bo", "ga", "ze", "pu", "li",
    "sha", "ku", "me", "no", "ti", "ra", "vo", "di", "be", "go", "za", "pe", "lu", "ko", "ma",
    "ni", "te", "ru", "vi", "da", "bi", "gu", "zo", "pa", "le", "ki", "mo", "nu", "to", "re", "ve",
    "du", "ba",
];

/// One of 48³ (110,592) pseudo-words: regional names readers have never seen.
fn word(n: u64) -> String {
    let n = n % (48 * 48 * 48);
    let mut w = String::new();
    for d in [n / (48 * 48), (n / 48) % 48, n % 48] {
        w.push_str(SYLLABLES[d as usize]);
    }
    w
}

fn words(seed: u64, n: usize) -> Vec<String> {
    (0..n as u64).map(|i| word(mix(seed ^ (i << 48)))).collect()
}

/// One generated item.
#[derive(Debug, Clone)]
struct Item {
    guid: String,
    title: String,
    link: String,
    published: DateTime<Utc>,
    summary_html: String,
    author: String,
}

/// When the item `k` of feed `f` was published; feed pairs share every 20th story.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    start: DateTime<Utc>,
    step: TimeDelta,
}

fn item(kind: Kind, f: usize, k: usize, timeline: Timeline) -> Item {
    let shared = k.is_multiple_of(20);
    // A story two outlets of a pair both carry has the same seed, link and time.
    let owner = if shared { f / 2 * 2 } else { f };
    let seed = mix(((kind as u64) << 56) ^ ((owner as u64) << 28) ^ k as u64 ^ u64::from(shared));
    let jitter =
        TimeDelta::seconds((seed % (timeline.step.num_seconds().max(2) as u64 / 2)) as i64);
    let published = timeline.start + timeline.step * k as i32 + jitter;
    let mut title_words = words(seed, 7);
    if let Some(first) = title_words.first_mut() {
        let mut c = first.chars();
        *first = c
            .next()
            .map(|h| h.to_uppercase().chain(c).collect())
            .unwrap_or_default();
    }
    let body = words(seed.rotate_left(17), 40).join(" ");
    let link = if shared {
        format!(
            "https://pool-{}.example/story/{}/{k}",
            kind.name(),
            owner / 2
        )
    } else {
        format!("https://{}-{f}.example/news/{k}", kind.name())
    };
    Item {
        guid: format!("{}-{f}-{k}", kind.name()),
        title: title_words.join(" "),
        link,
        published,
        summary_html: format!("<p>{body}.</p>"),
        author: format!("Desk {}", f % 7),
    }
}

fn rss(kind: Kind, f: usize, items: std::ops::Range<usize>, timeline: Timeline) -> String {
    let mut out = String::with_capacity(items.len() * 600 + 512);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>\
         <title>Outlet {f} ({})</title><link>https://{}-{f}.example/</link><description>Regional news</description>",
        kind.name(),
        kind.name()
    );
    // Newest first, as feeds list them.
    for k in items.rev() {
        let it = item(kind, f, k, timeline);
        let _ = write!(
            out,
            "<item><title>{}</title><link>{}</link><guid isPermaLink=\"false\">{}</guid>\
             <dc:creator>{}</dc:creator><pubDate>{}</pubDate><description><![CDATA[{}]]></description></item>",
            it.title,
            it.link,
            it.guid,
            it.author,
            it.published.to_rfc2822(),
            it.summary_html
        );
    }
    out.push_str("</channel></rss>\n");
    out
}

/// The local outlets: `/pipe/N.rss` (the current round's items) and `/live/N.rss`.
#[derive(Debug)]
struct Generator {
    addr: SocketAddr,
    state: Arc<GenState>,
    live_requests: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct GenState {
    round: AtomicUsize,
    pipe: Mutex<Timeline>,
    live: Timeline,
    live_requests: Arc<AtomicUsize>,
}

impl Generator {
    async fn start() -> Generator {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let now = Utc::now();
        let live_requests = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(GenState {
            round: AtomicUsize::new(0),
            pipe: Mutex::new(Timeline {
                start: now - TimeDelta::days(10),
                step: TimeDelta::minutes(10),
            }),
            live: Timeline {
                start: now - TimeDelta::hours(1),
                step: TimeDelta::minutes(2),
            },
            live_requests: live_requests.clone(),
        });
        let app = Router::new()
            .route("/{kind}/{file}", axum::routing::get(serve_feed))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Generator {
            addr,
            state,
            live_requests,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn serve_feed(
    State(state): State<Arc<GenState>>,
    UrlPath((kind, file)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(f) = file
        .strip_suffix(".rss")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let round = state.round.load(Ordering::Relaxed);
    let (kind, range, timeline) = match kind.as_str() {
        "pipe" => (
            Kind::Pipe,
            round * PIPE_ITEMS_PER_FETCH..(round + 1) * PIPE_ITEMS_PER_FETCH,
            *state.pipe.lock().unwrap_or_else(|p| p.into_inner()),
        ),
        "live" => {
            state.live_requests.fetch_add(1, Ordering::Relaxed);
            (Kind::Live, 0..LIVE_ITEMS, state.live)
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let etag = format!("\"{}-{f}-{round}\"", kind.name());
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let body = tokio::task::spawn_blocking(move || rss(kind, f, range, timeline))
        .await
        .expect("generate");
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml".to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

/// How the database was built, as recorded in `stamp.json`.
#[derive(Debug, Clone, Default)]
struct Dataset {
    requested: usize,
    entries: u64,
    pipe_entries: usize,
    pipe_seconds: f64,
    bulk_entries: usize,
    bulk_seconds: f64,
    /// The outlets' address when the pipeline feeds were fetched (their stored URLs).
    pipe_base: String,
    /// The archive's newest simulated fetch.
    bulk_end: Option<DateTime<Utc>>,
    /// The next archive item index to store.
    bulk_next: usize,
    complete: bool,
    /// Work done by earlier runs.
    resumed: bool,
}

impl Dataset {
    fn describe(&self) -> String {
        let rate = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
        format!(
            "{} entries: {} ingested through the pipeline from {PIPE_FEEDS} generated RSS feeds over HTTP \
             ({:.0} s, {:.0} entries/s), {} written as SQL rows for 1,000 archive feeds, \
             {ARCHIVE_BATCH} items per feed and transaction ({:.0} s, {:.0} entries/s){}{}",
            fmt_int(self.entries as usize),
            fmt_int(self.pipe_entries),
            self.pipe_seconds,
            rate(self.pipe_entries, self.pipe_seconds),
            fmt_int(self.bulk_entries),
            self.bulk_seconds,
            rate(self.bulk_entries, self.bulk_seconds),
            if self.resumed {
                "; built over several runs"
            } else {
                ""
            },
            if self.complete {
                String::new()
            } else {
                format!(
                    "; PARTIAL: {} of {} so far, the next run goes on building",
                    fmt_int(self.entries as usize),
                    fmt_int(self.requested)
                )
            }
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "version": GENERATOR_VERSION,
            "migrations": migrations(),
            "requested": self.requested,
            "entries": self.entries,
            "pipe_entries": self.pipe_entries,
            "pipe_seconds": self.pipe_seconds,
            "pipe_base": self.pipe_base,
            "bulk_entries": self.bulk_entries,
            "bulk_seconds": self.bulk_seconds,
            "bulk_end": self.bulk_end.map(|t| t.to_rfc3339()),
            "bulk_next": self.bulk_next,
            "complete": self.complete,
        })
    }

    fn from_json(v: &Value) -> Dataset {
        Dataset {
            requested: v["requested"].as_u64().unwrap_or(0) as usize,
            entries: v["entries"].as_u64().unwrap_or(0),
            pipe_entries: v["pipe_entries"].as_u64().unwrap_or(0) as usize,
            pipe_seconds: v["pipe_seconds"].as_f64().unwrap_or(0.0),
            pipe_base: v["pipe_base"].as_str().unwrap_or_default().to_string(),
            bulk_entries: v["bulk_entries"].as_u64().unwrap_or(0) as usize,
            bulk_seconds: v["bulk_seconds"].as_f64().unwrap_or(0.0),
            bulk_end: v["bulk_end"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            bulk_next: v["bulk_next"].as_u64().unwrap_or(0) as usize,
            complete: v["complete"].as_bool().unwrap_or(false),
            resumed: true,
        }
    }
}

fn config_text(database: &str, port: Option<u16>) -> String {
    let mut text = format!(
        "[storage]\ndatabase = \"{database}\"\nretention_days = 0\n\n\
         [fetch]\nconcurrency = 16\nper_host = 16\ntimeout = \"60s\"\n\n"
    );
    if let Some(port) = port {
        let _ = write!(
            text,
            "[server]\nlisten = \"127.0.0.1:{port}\"\nadmin_token_env = \"TRIBUTARY_BENCH_ADMIN_TOKEN\"\n\n"
        );
    }
    let _ = write!(
        text,
        "[[output]]\nname = \"all\"\ntitle = \"Tributary: all sources\"\nlimit = {FEED_ENTRIES}\n"
    );
    text
}

fn archive_base() -> &'static str {
    // Never fetched: the archive feeds' history is bulk-filled.
    "http://127.0.0.1:9"
}

/// `feeds.toml` text: every feed (`all`) or only the live ones.
fn feeds_text(pipe_base: &str, live_base: &str, all: bool) -> String {
    let mut out = String::from("# Generated outlets for the server benchmark.\n");
    let mut add = |id: String, url: String| {
        let _ = write!(out, "\n[[feed]]\nid = \"{id}\"\nurl = \"{url}\"\n");
    };
    if all {
        for f in 0..PIPE_FEEDS {
            add(format!("pipe-{f:04}"), format!("{pipe_base}/pipe/{f}.rss"));
        }
        for f in 0..ARCHIVE_FEEDS {
            add(
                format!("arch-{f:04}"),
                format!("{}/arch/{f}.rss", archive_base()),
            );
        }
    }
    for f in 0..LIVE_FEEDS {
        add(format!("live-{f:04}"), format!("{live_base}/live/{f}.rss"));
    }
    out
}

fn load(config_path: &Path, feeds_path: &Path) -> (Arc<Config>, Arc<FeedsFile>) {
    let config = Arc::new(Config::load(Some(config_path)).expect("bench config"));
    let feeds = Arc::new(FeedsFile::load(feeds_path, &config).expect("bench feeds"));
    (config, feeds)
}

/// The database to measure: `database.db` under `dir`, built (or built further) within
/// [`BUILD_BUDGET`] per run. Its progress is kept in `stamp.json`.
async fn ensure_database(dir: &Path, entries: usize, generator: &Generator) -> Dataset {
    let deadline = Instant::now() + BUILD_BUDGET;
    let stamp_path = dir.join("stamp.json");
    let db = dir.join("database.db");
    let build = dir.join("build");
    let rebuild = std::env::var("TRIBUTARY_BENCH_REBUILD").is_ok_and(|v| v == "1");
    let stamp = std::fs::read_to_string(&stamp_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(|s| {
            let built_with: Vec<&str> = s["migrations"]
                .as_array()
                .map(|m| m.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let now = migrations();
            s["version"] == GENERATOR_VERSION
                && s["requested"] == entries
                && built_with.len() <= now.len()
                && now.iter().zip(&built_with).all(|(a, b)| a == b)
        })
        .filter(|_| !rebuild && db.exists());
    let mut ds = match stamp {
        Some(s) if s["migrations"].as_array().map(Vec::len) != Some(migrations().len()) => {
            // Built before the newest migrations: brought up to date by them, as a reader's
            // own database is when Tributary is upgraded.
            let migrating = Instant::now();
            Store::open(&db).expect("migrate the cached database");
            println!(
                "database: migrated to schema {} in {:.1} s",
                schema_version(),
                migrating.elapsed().as_secs_f64()
            );
            let ds = Dataset::from_json(&s);
            std::fs::write(
                &stamp_path,
                serde_json::to_string_pretty(&ds.to_json()).unwrap(),
            )
            .expect("stamp");
            ds
        }
        Some(s) => Dataset::from_json(&s),
        None => {
            for stale in [
                "database.db",
                "database.db-wal",
                "database.db-shm",
                "stamp.json",
            ] {
                let _ = std::fs::remove_file(dir.join(stale));
            }
            Dataset {
                requested: entries,
                ..Default::default()
            }
        }
    };
    if ds.complete {
        return ds;
    }
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(&build).expect("build folder");
    let config_path = build.join("tributary.toml");
    std::fs::write(&config_path, config_text("../database.db", None)).expect("config");
    let pipe_base = if ds.pipe_base.is_empty() {
        generator.base()
    } else {
        ds.pipe_base.clone()
    };
    let feeds_path = build.join("feeds.toml");
    std::fs::write(&feeds_path, feeds_text(&pipe_base, &generator.base(), true)).expect("feeds");
    let (config, feeds) = load(&config_path, &feeds_path);
    let store = Arc::new(Mutex::new(
        Store::open(&config.storage.database).expect("open the database"),
    ));

    if ds.pipe_base.is_empty() {
        // Through the pipeline, round by round: each round every feed serves new items.
        let pipe_feeds = Arc::new(FeedsFile {
            path: None,
            feeds: feeds
                .feeds
                .iter()
                .filter(|f| f.id.starts_with("pipe-"))
                .cloned()
                .collect(),
        });
        let fetcher = Arc::new(Fetcher::new(&config.fetch).expect("client"));
        let refresher = Refresher::new(config.clone(), fetcher, store.clone());
        let pipe_started = Instant::now();
        let mut budget = PIPELINE_BUDGET;
        // Item dates advance 10 minutes per item from ten days ago: at most 1,400 per feed.
        let max_rounds = entries
            .div_ceil(PIPE_FEEDS * PIPE_ITEMS_PER_FETCH)
            .min(1_400 / PIPE_ITEMS_PER_FETCH);
        for round in 0..max_rounds {
            generator.state.round.store(round, Ordering::Relaxed);
            let cycle = refresher
                .run_cycle(pipe_feeds.clone(), Selection::All, |_| {})
                .await
                .expect("fetch cycle");
            let failed: Vec<_> = cycle.failed().collect();
            assert!(failed.is_empty(), "pipeline fetches failed: {failed:?}");
            ds.pipe_entries += cycle.reports.iter().map(|r| r.inserted).sum::<usize>();
            let elapsed = pipe_started.elapsed();
            let rate = ds.pipe_entries as f64 / elapsed.as_secs_f64();
            if round == 0 && entries as f64 / rate <= 300.0 {
                // The whole database fits in five minutes through the pipeline.
                budget = Duration::from_secs(330);
            }
            println!(
                "pipeline round {round}: {} entries, {rate:.0} entries/s",
                fmt_int(ds.pipe_entries)
            );
            if elapsed >= budget || ds.pipe_entries >= entries {
                break;
            }
        }
        ds.pipe_seconds = pipe_started.elapsed().as_secs_f64();
        ds.pipe_base = pipe_base;
        ds.bulk_end = Some(Utc::now() - TimeDelta::days(11));
    }

    // The rest as history: simulated fetches of the archive feeds over three years.
    let bulk_started = Instant::now();
    let plan = BulkPlan {
        total: entries.saturating_sub(ds.pipe_entries),
        end: ds
            .bulk_end
            .unwrap_or_else(|| Utc::now() - TimeDelta::days(11)),
    };
    let (store_for_bulk, feeds_for_bulk, from) = (store.clone(), feeds.clone(), ds.bulk_next);
    let db_for_bulk = db.clone();
    let (stored, next) = tokio::task::spawn_blocking(move || {
        let mut s = store_for_bulk.lock().unwrap_or_else(|p| p.into_inner());
        bulk_fill(&mut s, &db_for_bulk, &feeds_for_bulk, &plan, from, deadline)
    })
    .await
    .expect("bulk fill");
    ds.bulk_entries += stored;
    ds.bulk_seconds += bulk_started.elapsed().as_secs_f64();
    ds.bulk_next = next;
    ds.entries = store.lock().unwrap().counts().expect("counts").entries;
    ds.complete = ds.entries as usize >= entries;
    // Closing the last connection merges the write-ahead log into the file.
    drop(store);
    std::fs::write(
        &stamp_path,
        serde_json::to_string_pretty(&ds.to_json()).unwrap(),
    )
    .expect("stamp");
    let _ = std::fs::remove_dir_all(&build);
    ds
}

/// What the archive holds: `total` entries over the archive feeds, the newest fetched at `end`.
#[derive(Debug, Clone, Copy)]
struct BulkPlan {
    total: usize,
    end: DateTime<Utc>,
}

/// Stores the archive's entries from item index `from` on, batch by batch in time order as
/// fetch runs would have stored them, until done or `deadline`. Returns how many were stored
/// and the next item index.
///
/// The rows are written with SQL on a connection of their own, not through
/// `Store::store_fetch`: on this machine that ingests a few hundred entries per second, so a
/// million would take hours. Each row holds what `store_fetch` writes for the item (key, stable
/// id, canonical URL, revision, excerpt, times; the change counter, the feed counts and the
/// full-text index move once per batch, as in `store_fetch`); stories are clustered as the
/// generator shares them (every 20th item of a feed pair, the pair's even feed seen first)
/// instead of by the dedup code.
fn bulk_fill(
    store: &mut Store,
    db: &Path,
    feeds: &FeedsFile,
    plan: &BulkPlan,
    from: usize,
    deadline: Instant,
) -> (usize, usize) {
    let total = plan.total;
    if total == 0 {
        return (0, 0);
    }
    let archive: Vec<_> = feeds
        .feeds
        .iter()
        .filter(|f| f.id.starts_with("arch-"))
        .collect();
    let fingerprints: Vec<String> = archive.iter().map(|f| f.fingerprint()).collect();
    let urls: Vec<String> = archive.iter().map(|f| f.url.to_string()).collect();
    let per_feed = |f: usize| total / ARCHIVE_FEEDS + usize::from(f < total % ARCHIVE_FEEDS);
    let longest = per_feed(0);
    let span = TimeDelta::days(3 * 365);
    let timeline = Timeline {
        start: plan.end - span,
        step: TimeDelta::seconds((span.num_seconds() / longest as i64).max(2)),
    };
    store
        .sync_feeds(
            archive.iter().enumerate().map(|(i, f)| FeedIdentity {
                id: &f.id,
                url: &urls[i],
                fingerprint: &fingerprints[i],
            }),
            timeline.start,
        )
        .expect("archive feed rows");
    let mut conn = rusqlite::Connection::open(db).expect("open the database for the bulk fill");
    conn.busy_timeout(Duration::from_secs(30))
        .expect("busy timeout");
    // A benchmark input, rebuilt when lost: no fsync per transaction.
    conn.pragma_update(None, "synchronous", "OFF")
        .expect("synchronous");
    let mut stored = 0usize;
    let mut batch_start = from;
    while batch_start < longest && Instant::now() < deadline {
        let batch_end = (batch_start + ARCHIVE_BATCH).min(longest);
        let at = timeline.start + timeline.step * batch_end as i32;
        let at_text = rfc3339(at);
        let tx = conn.transaction().expect("begin");
        let first_of_batch: i64 = tx
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM entries", [], |r| {
                r.get(0)
            })
            .expect("the next entry id");
        {
            let mut new_cluster = tx
                .prepare_cached("INSERT INTO clusters (primary_entry, created_at) VALUES (0, ?1)")
                .expect("prepare");
            let mut set_primary = tx
                .prepare_cached("UPDATE clusters SET primary_entry = ?2 WHERE id = ?1")
                .expect("prepare");
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entries (feed_id, entry_key, uid, guid, link, canonical_url, title, summary,
                        content, authors, published, updated, first_seen, sort_time, revision, excerpt, cluster_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?10, ?11, ?10, ?12, ?13, ?14)",
                )
                .expect("prepare");
            let stored_before = stored;
            // Shared stories of this batch: (feed pair, item) -> cluster.
            let mut shared = std::collections::HashMap::new();
            for (f, feed) in archive.iter().enumerate() {
                let items = batch_start..batch_end.min(per_feed(f));
                // As `Store::store_prepared` does: the feed's entry count moves once a batch.
                tributary::store::count_inserted(&tx, &feed.id, items.len())
                    .expect("count the feed's entries");
                for k in items {
                    let it = item(Kind::Archive, f, k, timeline);
                    let entry = NewEntry {
                        id: it.guid.clone(),
                        id_from_feed: true,
                        title: it.title,
                        link: Some(it.link),
                        published: Some(it.published),
                        updated: None,
                        summary: Some(it.summary_html),
                        content: None,
                        authors: vec![it.author],
                    };
                    let key = dedup::entry_key(&entry, dedup::KeyMode::Guid);
                    let link = entry.link.as_deref().unwrap_or_default();
                    let excerpt = tributary::parse::excerpt(
                        &tributary::clean::plain_text(entry.summary.as_deref().unwrap_or("")),
                        600,
                    );
                    let pair = (k.is_multiple_of(20)).then_some((f / 2, k));
                    let joined = pair.and_then(|p| shared.get(&p).copied());
                    let cluster = match joined {
                        Some(c) => c,
                        None => {
                            new_cluster.execute([&at_text]).expect("insert a cluster");
                            let c = tx.last_insert_rowid();
                            if let Some(p) = pair {
                                shared.insert(p, c);
                            }
                            c
                        }
                    };
                    insert
                        .execute(rusqlite::params![
                            feed.id,
                            key,
                            dedup::entry_uid(&feed.id, &key),
                            entry.id,
                            link,
                            dedup::canonical_url(link),
                            entry.title,
                            entry.summary,
                            serde_json::to_string(&entry.authors).expect("authors"),
                            rfc3339(it.published),
                            at_text,
                            dedup::revision_hash(&entry),
                            excerpt,
                            cluster
                        ])
                        .expect("insert an entry");
                    if joined.is_none() {
                        set_primary
                            .execute(rusqlite::params![cluster, tx.last_insert_rowid()])
                            .expect("set the story's primary entry");
                    }
                    stored += 1;
                }
            }
            tributary::store::count_changes(&tx, stored - stored_before)
                .expect("move the change counter");
        }
        // As `Store::store_prepared` does: the batch's entries reach the full-text index in
        // one statement.
        tributary::store::index_for_search(&tx, first_of_batch)
            .expect("index the batch for search");
        tx.commit().expect("commit");
        batch_start = batch_end;
        println!(
            "bulk fill: item {batch_start} of {longest} per feed, {} entries this run",
            fmt_int(stored)
        );
    }
    (stored, batch_start)
}

/// The schema migrations of this source tree, in order, each named with a digest of its SQL:
/// a cached database whose migrations are not the first of these is rebuilt.
fn migrations() -> Vec<String> {
    use sha2::{Digest, Sha256};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("src/store/migrations")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let sql = std::fs::read(p).expect("a migration");
            let digest: String = Sha256::digest(&sql)[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            format!("{name} {digest}")
        })
        .collect()
}

fn count_entries(db: &Path) -> u64 {
    Store::open(db)
        .and_then(|s| s.counts())
        .map(|c| c.entries)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    p50: Duration,
    p90: Duration,
    max: Duration,
    n: usize,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut v = samples.to_vec();
        v.sort();
        Stats {
            p50: v[v.len() / 2],
            p90: v[v.len() * 9 / 10],
            max: *v.last().unwrap(),
            n: v.len(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "p50 {} (p90 {}, max {}, n = {})",
            ms(self.p50),
            ms(self.p90),
            ms(self.max),
            self.n
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// What the feed handler does, timed in this process on the same file: the validators (all a
/// 304 needs) and then reading the 500 entries and rendering Atom.
fn render_in_process(config_path: &Path, feeds_path: &Path) -> (Stats, Stats, Stats) {
    let (config, feeds) = load(config_path, feeds_path);
    let store = Store::open(&config.storage.database).expect("open");
    let output = config.output(None).expect("an output");
    let mut full = Vec::new();
    let mut validators = Vec::new();
    let mut newest = Vec::new();
    for i in 0..RENDER_REQUESTS + 3 {
        let t = Instant::now();
        store.version().expect("version");
        let n = Instant::now();
        store.newest_change().expect("newest change");
        let n = n.elapsed();
        store.earliest_next_fetch().expect("next fetch");
        let v = t.elapsed();
        let merged = export::merged_feed(
            &store,
            &config,
            &feeds,
            output,
            &Filters::default(),
            Utc::now(),
        )
        .expect("merged feed");
        let body = Format::Atom.render(&merged);
        assert_eq!(merged.entries.len(), FEED_ENTRIES);
        assert!(!body.is_empty());
        if i >= 3 {
            full.push(t.elapsed());
            validators.push(v);
            newest.push(n);
        }
    }
    (Stats::of(&full), Stats::of(&validators), Stats::of(&newest))
}

/// One or more `wrk` runs, added up.
#[derive(Debug, Clone, Default)]
struct WrkRun {
    requests: u64,
    seconds: f64,
    bytes: f64,
    non_2xx_3xx: u64,
    socket_errors: u64,
    latency_avg: String,
    failed_to_run: bool,
}

impl WrkRun {
    fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    fn failed() -> WrkRun {
        WrkRun {
            failed_to_run: true,
            ..Default::default()
        }
    }

    fn describe(&self) -> String {
        if self.failed_to_run {
            return "wrk did not run".into();
        }
        format!(
            "{:.1} requests/s ({} requests in {:.1} s, {:.0} bytes/request, latency avg {}); non-2xx/3xx {}; socket errors {}",
            self.rps(),
            self.requests,
            self.seconds,
            if self.requests > 0 {
                self.bytes / self.requests as f64
            } else {
                0.0
            },
            self.latency_avg,
            self.non_2xx_3xx,
            self.socket_errors
        )
    }
}

fn ensure_wrk() {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return;
    }
    println!("installing wrk (Debian package)");
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-qq", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
}

/// Waits until the server has worked off requests a finished `wrk` run left behind: one more
/// request through the store answers.
async fn settle(client: &reqwest::Client, url: &str, etag: &str) {
    let _ = client
        .get(url)
        .header(header::IF_NONE_MATCH, etag)
        .timeout(Duration::from_secs(300))
        .send()
        .await;
}

/// `wrk -t2 -c32 -dNs --timeout 30s [extra] URL`, parsed.
fn wrk(url: &str, extra: &[&str], seconds: u32) -> WrkRun {
    let duration = format!("{seconds}s");
    let out = Command::new("wrk")
        .args(["-t2", "-c32", "-d", &duration, "--timeout", "30s"])
        .args(extra)
        .arg(url)
        .output();
    match out {
        Ok(out) => parse_wrk(&String::from_utf8_lossy(&out.stdout), out.status.success()),
        Err(_) => WrkRun::failed(),
    }
}

/// Reads wrk's summary.
fn parse_wrk(text: &str, success: bool) -> WrkRun {
    let mut run = WrkRun {
        failed_to_run: !success,
        ..Default::default()
    };
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Latency") {
            run.latency_avg = rest.split_whitespace().next().unwrap_or("").to_string();
        } else if line.contains(" requests in ") {
            // "123 requests in 10.00s, 1.23MB read"
            let mut parts = line.split_whitespace();
            run.requests = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let secs = parts.nth(2).unwrap_or("0s,");
            run.seconds = parse_wrk_duration(secs.trim_end_matches(','));
            run.bytes = parts.next().map(parse_wrk_bytes).unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx_3xx = rest.trim().parse().unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            run.socket_errors = rest
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        }
    }
    run
}

fn parse_wrk_duration(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or(0.0);
    match unit {
        "ms" => v / 1000.0,
        "us" => v / 1e6,
        "m" => v * 60.0,
        _ => v,
    }
}

fn parse_wrk_bytes(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len()));
    let v: f64 = num.parse().unwrap_or(0.0);
    match unit {
        "KB" => v * 1024.0,
        "MB" => v * 1024.0 * 1024.0,
        "GB" => v * 1024.0 * 1024.0 * 1024.0,
        _ => v,
    }
}

/// Lines of a log that say the database was locked.
fn count_locked(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.to_lowercase().contains("database is locked"))
        .count()
}

#[derive(Debug, Clone, Default)]
struct IngestRun {
    exit: Option<i32>,
    seconds: f64,
    new_entries: u64,
    fetches: usize,
    locked_in_fetch: usize,
    locked_in_server: usize,
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs `tributary --config C --feeds F ARGS` with stdout and stderr into `log`.
fn spawn_tributary(config: &Path, feeds: &Path, args: &[&str], log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.arg("--config")
        .arg(config)
        .arg("--feeds")
        .arg(feeds)
        .args(args)
        .current_dir(config.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file"))
        .stderr(file);
    for var in [
        "TRIBUTARY_CONFIG",
        "TRIBUTARY_FEEDS",
        "TRIBUTARY_DB",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.spawn().expect("start tributary")
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores ({model})")
}

/// The 1-minute load average: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn fmt_int(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Report {
    dataset: String,
    machine: String,
    feed_bytes: usize,
    render_http: Stats,
    render_inproc: Stats,
    validators_inproc: Stats,
    newest_change_inproc: Stats,
    load_before: String,
    load_after: String,
    wrk_304: WrkRun,
    wrk_full: WrkRun,
    loaded: WrkRun,
    ingest: IngestRun,
    total: Duration,
}

impl Report {
    fn markdown(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "**no**" };
        let render_ok = self.render_http.p50 <= Duration::from_millis(20);
        let r304_ok = !self.wrk_304.failed_to_run && self.wrk_304.rps() >= 10_000.0;
        let loaded_ok = !self.loaded.failed_to_run
            && self.loaded.requests > 0
            && self.loaded.non_2xx_3xx == 0
            && self.loaded.socket_errors == 0;
        let locked_ok = self.ingest.locked_in_fetch == 0 && self.ingest.locked_in_server == 0;
        let ingest_ok = self.ingest.exit == Some(0)
            && self.ingest.new_entries == (LIVE_FEEDS * LIVE_ITEMS) as u64;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Machine: {}; load average {} before the measurements, {} after. Database: {}.",
            self.machine, self.load_before, self.load_after, self.dataset
        );
        let _ = writeln!(t);
        let _ = writeln!(t, "| measure | result | target | met |");
        let _ = writeln!(t, "|---|---|---|---|");
        let _ = writeln!(
            t,
            "| `/feed.atom`, {FEED_ENTRIES} entries ({} KB), request time on loopback | p50 {} (p90 {}, n = {}) | p50 ≤ 20 ms | {} |",
            self.feed_bytes / 1024,
            ms(self.render_http.p50),
            ms(self.render_http.p90),
            self.render_http.n,
            yes(render_ok)
        );
        let _ = writeln!(
            t,
            "| the same work in-process: validators, {FEED_ENTRIES} entries read, Atom rendered | p50 {} (p90 {}) | – | – |",
            ms(self.render_inproc.p50),
            ms(self.render_inproc.p90)
        );
        let _ = writeln!(
            t,
            "| in-process: validators only (all a 304 needs) | p50 {} (p90 {}) | – | – |",
            ms(self.validators_inproc.p50),
            ms(self.validators_inproc.p90)
        );
        let _ = writeln!(
            t,
            "| in-process: of which the newest change (`Store::newest_change`) | p50 {} (p90 {}) | – | – |",
            ms(self.newest_change_inproc.p50),
            ms(self.newest_change_inproc.p90)
        );
        let _ = writeln!(
            t,
            "| `wrk -t2 -c32 -d10s`, 304 path (`If-None-Match`) | {:.0} requests/s, latency avg {}, {} non-2xx/3xx | ≥ 10,000 requests/s | {} |",
            self.wrk_304.rps(),
            self.wrk_304.latency_avg,
            self.wrk_304.non_2xx_3xx,
            yes(r304_ok)
        );
        let _ = writeln!(
            t,
            "| `wrk -t2 -c32 -d10s`, full path | {:.1} requests/s, latency avg {}, {} non-2xx/3xx | – | – |",
            self.wrk_full.rps(),
            self.wrk_full.latency_avg,
            self.wrk_full.non_2xx_3xx
        );
        let _ = writeln!(
            t,
            "| `wrk -t2 -c8` on the full path during `fetch --all` of {LIVE_FEEDS} feeds | {} requests in {:.0} s ({:.1}/s, latency avg {}), {} non-2xx/3xx, {} socket errors | zero errors | {} |",
            self.loaded.requests,
            self.loaded.seconds,
            self.loaded.rps(),
            self.loaded.latency_avg,
            self.loaded.non_2xx_3xx,
            self.loaded.socket_errors,
            yes(loaded_ok)
        );
        let _ = writeln!(
            t,
            "| `fetch --all` meanwhile (second process, same database) | exit {}, {} feeds fetched, {} new entries in {:.0} s | all stored | {} |",
            self.ingest
                .exit
                .map_or("killed at the time limit".to_string(), |c| c.to_string()),
            self.ingest.fetches,
            self.ingest.new_entries,
            self.ingest.seconds,
            yes(ingest_ok)
        );
        let _ = writeln!(
            t,
            "| \"database is locked\" in the output of server / fetch | {} / {} | 0 / 0 | {} |",
            self.ingest.locked_in_server,
            self.ingest.locked_in_fetch,
            yes(locked_ok)
        );
        let _ = writeln!(t);
        let _ = writeln!(t, "Benchmark run time: {:.0} s.", self.total.as_secs_f64());
        t
    }
}
