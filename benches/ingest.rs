//! Ingest benchmark: how fast Tributary fetches, parses and stores many feeds, next to newsboat.
//!
//! Run with `cargo bench --bench ingest` (a quick run: `TRIBUTARY_BENCH_FEEDS=100 cargo bench
//! --bench ingest`). Cargo builds the release binary `target/release/tributary` first; the
//! benchmark runs that real binary as a child process, the way cron runs it.
//!
//! 1. Generates N distinct RSS 2.0 feeds (default 1,000) of 50 items each, about 50 KB per
//!    document, deterministic (seeded by the feed's index).
//! 2. Serves them from one HTTP server on 127.0.0.1 (port 0) inside this process: strong ETag,
//!    Last-Modified, `If-None-Match` answered with 304, gzip when the client accepts it.
//! 3. Runs `tributary fetch --all` into an empty database (cold), then again (every feed
//!    answers 304), measuring wall time, CPU time and the child's peak RSS (`ru_maxrss`), and
//!    checks the exit codes, the stored entry count and that every re-poll was conditional.
//! 4. Runs `newsboat -x reload` on the same URLs with the same number of threads, cold cache,
//!    in the same run, and checks the items it stored.
//! 5. Prints a table and marks each target met or missed.
//!
//! Settings (environment variables):
//! - `TRIBUTARY_BENCH_FEEDS` (1000): number of feeds.
//! - `TRIBUTARY_BENCH_CONCURRENCY` (16): `[fetch] concurrency` and `per_host` for Tributary,
//!   `reload-threads` for newsboat.
//! - `TRIBUTARY_BENCH_GZIP` (1): `0` serves every document uncompressed.
//! - `TRIBUTARY_BENCH_NEWSBOAT` (1): `0` skips newsboat.
//! - `TRIBUTARY_BENCH_NEWSBOAT_REPOLL` (0): `1` also times a second `newsboat -x reload`.
//! - `TRIBUTARY_BENCH_INSTALL` (1): `0` never runs `apt-get install newsboat` when it is missing.
//! - `TRIBUTARY_BENCH_KEEP` (0): `1` keeps the work folder (databases, logs) for inspection.
//! - `TRIBUTARY_BENCH_STRICT` (0): `1` exits with 2 when a target is missed.
//! - `TRIBUTARY_BENCH_TIME_LIMIT` (180): seconds one measured run may take; a cold fetch
//!   stopped there is reported over the feeds it stored, and the re-poll asks for those.
//! - `TRIBUTARY_BENCH_BASELINE` (unset): the path of another `tributary` binary (an older
//!   build, say) whose cold fetch and re-poll run in the same benchmark, after this build's,
//!   each into its own empty database, so a change is judged by a ratio measured side by side.
//! - `TRIBUTARY_BENCH_PERF` (unset): `cold` (or `1`) records the cold fetch with
//!   `perf record --call-graph dwarf`, `repoll` the re-poll; the file is named in the output
//!   (keep the work folder to read it).
//!
//! Peak RSS comes from `getrusage(RUSAGE_CHILDREN)` in a small wrapper process (this same
//! executable, re-run with `TRIBUTARY_BENCH_WRAP_OUT` set) whose only child is the measured
//! command, so each number belongs to exactly one run.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Items in every generated feed.
const ENTRIES_PER_FEED: usize = 50;
/// Set in the wrapper process: where it writes what it measured.
const WRAP_ENV: &str = "TRIBUTARY_BENCH_WRAP_OUT";
/// Set in the wrapper process: seconds before the measured command is killed.
const WRAP_TIMEOUT_ENV: &str = "TRIBUTARY_BENCH_WRAP_TIMEOUT";

/// Targets (for the 1,000-feed run on a 2-core machine).
const TARGET_RATIO: f64 = 10.0;
const TARGET_REPOLL_FEEDS_PER_S: f64 = 2000.0;
const TARGET_RSS_MIB: f64 = 100.0;

fn main() -> ExitCode {
    if let Some(out) = std::env::var_os(WRAP_ENV) {
        return wrapper(Path::new(&out));
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("ingest bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/// The Tributary run `TRIBUTARY_BENCH_PERF` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profiled {
    Cold,
    Repoll,
}

#[derive(Debug, Clone)]
struct Settings {
    feeds: usize,
    concurrency: usize,
    gzip: bool,
    newsboat: bool,
    newsboat_repoll: bool,
    install: bool,
    keep: bool,
    strict: bool,
    /// Which Tributary run to record with `perf`, if any.
    perf: Option<Profiled>,
    /// Another Tributary binary to measure in the same run, for an A/B comparison.
    baseline: Option<PathBuf>,
    time_limit: u64,
}

fn env_flag(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(v.trim(), "0" | "false" | "no" | "off" | ""),
        Err(_) => default,
    }
}

fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => {
            let n: usize = v
                .trim()
                .parse()
                .with_context(|| format!("{name}={v:?} is not a number"))?;
            ensure!(n > 0, "{name} must be at least 1");
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> Result<Settings> {
        Ok(Settings {
            feeds: env_number("TRIBUTARY_BENCH_FEEDS", 1000)?,
            concurrency: env_number("TRIBUTARY_BENCH_CONCURRENCY", 16)?,
            gzip: env_flag("TRIBUTARY_BENCH_GZIP", true),
            newsboat: env_flag("TRIBUTARY_BENCH_NEWSBOAT", true),
            newsboat_repoll: env_flag("TRIBUTARY_BENCH_NEWSBOAT_REPOLL", false),
            install: env_flag("TRIBUTARY_BENCH_INSTALL", true),
            keep: env_flag("TRIBUTARY_BENCH_KEEP", false),
            strict: env_flag("TRIBUTARY_BENCH_STRICT", false),
            perf: match std::env::var("TRIBUTARY_BENCH_PERF")
                .as_deref()
                .map(str::trim)
            {
                Ok("repoll") => Some(Profiled::Repoll),
                Ok("0" | "" | "no" | "false" | "off") | Err(_) => None,
                Ok(_) => Some(Profiled::Cold),
            },
            time_limit: env_number("TRIBUTARY_BENCH_TIME_LIMIT", 180)? as u64,
            baseline: match std::env::var_os("TRIBUTARY_BENCH_BASELINE") {
                Some(p) if !p.is_empty() => {
                    let p = PathBuf::from(p);
                    ensure!(
                        p.is_file(),
                        "TRIBUTARY_BENCH_BASELINE={} is not a file",
                        p.display()
                    );
                    Some(p)
                }
                _ => None,
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Feed generation
// ---------------------------------------------------------------------------------------------

/// SplitMix64: small, fast, and the same sequence on every machine.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Place names, most frequent first.
const PLACES: &str = "Baku Moscow Tbilisi Yerevan Astana Tashkent Almaty Bishkek Dushanbe Ashgabat \
    Ganja Batumi Kutaisi Gyumri Samarkand Bukhara Osh Shymkent Aktau Atyrau Sumgait Nakhchivan \
    Lankaran Shusha Rustavi Zugdidi Vanadzor Karaganda Pavlodar Khujand Namangan Andijan Fergana \
    Termez Turkmenbashi Mary Kazan Makhachkala Grozny Derbent";

/// Content words of regional headlines and reports, most frequent first. The vocabulary
/// continues with generated words (names, rarer terms) so that word frequencies follow a long
/// tail, as in real news text.
const NEWS_WORDS: &str = "government president minister talks gas oil deal border election \
    parliament sanctions exports trade pipeline energy bank prices security visit agreement \
    court opposition protest budget inflation currency railway corridor transit investment \
    ceasefire peace troops drone attack officials ministry decree reform tax tariff customs \
    migrants workers wages pension grain wheat water drought floods earthquake airport flights \
    port shipping Caspian Black Sea summit delegation ambassador embassy treaty alliance \
    partnership cooperation forum conference report survey growth decline record crisis debt \
    loan fund project construction road bridge power plant electricity grid nuclear solar wind \
    mining gold copper uranium cotton harvest tourism hotel festival football champion \
    journalist media arrest trial sentence verdict police investigation corruption scandal \
    resignation appointment cabinet mayor governor region district village city capital \
    republic province referendum constitution amendment law bill vote coalition party leader";

/// Function words mixed into running text (not into the vocabulary's frequency tail).
const FUNCTION_WORDS: &str = "the of and to in a on for with by at from that as is was \
    were will has have after over under between its their this which while";

const SYLLABLES: &[&str] = &[
    "ka", "ra", "to", "mi", "san", "bek", "ov", "li", "dar", "za", "gor", "tel", "an", "shu", "ny",
    "vo", "ber", "ik", "sal", "mu", "den", "ta", "rov", "ya", "zar", "in", "kol", "ve",
];

const TAGS: &[&str] = &[
    "energy",
    "politics",
    "economy",
    "transport",
    "security",
    "society",
    "diplomacy",
    "agriculture",
];

const AUTHORS: &[&str] = &[
    "Aynur Mammadova",
    "Giorgi Beridze",
    "Ani Petrosyan",
    "Dauren Abenov",
    "Nodira Karimova",
    "Elena Sokolova",
    "Timur Aliyev",
    "Zarina Yusupova",
];

/// Words in the vocabulary (real ones first, then generated ones).
const VOCABULARY: usize = 8000;

/// Draws words from a Zipf-Mandelbrot distribution over a fixed list, rank `k` with weight
/// `1 / (k + offset)^exponent`: a long tail, and a head no heavier than real headlines have
/// (the commonest content word lands in about one title in twenty).
#[derive(Debug)]
struct Zipf {
    words: Vec<String>,
    /// Cumulative weights, rank 1 first.
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(words: Vec<String>, offset: f64, exponent: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + offset).powf(exponent);
                total
            })
            .collect();
        Zipf { words, cumulative }
    }

    fn sample<'a>(&'a self, rng: &mut Rng) -> &'a str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let i = self.cumulative.partition_point(|&c| c < u);
        &self.words[i.min(self.words.len() - 1)]
    }
}

/// The word lists every feed draws from (the same for every run).
#[derive(Debug)]
struct Lexicon {
    places: Zipf,
    words: Zipf,
    function: Vec<&'static str>,
}

impl Lexicon {
    fn new() -> Lexicon {
        let mut words: Vec<String> = NEWS_WORDS.split_whitespace().map(str::to_string).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        let mut rng = Rng::new(0xC0FFEE);
        while words.len() < VOCABULARY {
            let n = 2 + rng.below(3);
            let w: String = (0..n).map(|_| rng.pick(SYLLABLES)).collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        Lexicon {
            places: Zipf::new(
                PLACES.split_whitespace().map(str::to_string).collect(),
                3.0,
                1.0,
            ),
            words: Zipf::new(words, 20.0, 1.0),
            function: FUNCTION_WORDS.split_whitespace().collect(),
        }
    }

    /// A headline: a place and five to eight content words, a few function words between.
    fn title(&self, rng: &mut Rng) -> String {
        let mut t = format!("{}:", self.places.sample(rng));
        for i in 0..5 + rng.below(4) {
            t.push(' ');
            if i > 0 && rng.below(4) == 0 {
                t.push_str(rng.pick(&self.function));
                t.push(' ');
            }
            let w = self.words.sample(rng);
            t.push_str(&if i == 0 { capitalize(w) } else { w.to_string() });
        }
        t
    }

    /// A sentence of running text: content words with function words between.
    fn sentence(&self, rng: &mut Rng, words: usize) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            if rng.below(5) < 2 {
                s.push_str(rng.pick(&self.function));
            } else if rng.below(10) == 0 {
                s.push_str(self.places.sample(rng));
            } else {
                s.push_str(self.words.sample(rng));
            }
        }
        capitalize(&s) + "."
    }

    /// The ~700-byte HTML body of one item: paragraphs with links and a little markup.
    fn description_html(&self, rng: &mut Rng, site: &str, place: &str) -> String {
        let mut html = String::new();
        let tag = rng.pick(TAGS);
        let _ = write!(
            html,
            "<p><strong>{place}</strong> — {} <a href=\"{site}/tags/{tag}\">{tag}</a> {}</p>",
            self.sentence(rng, 12),
            self.sentence(rng, 10)
        );
        let _ = write!(
            html,
            "<p>{} <em>{}</em> {}</p>",
            self.sentence(rng, 14),
            self.words.sample(rng),
            self.sentence(rng, 9)
        );
        while html.len() < 560 {
            let n = rng.below(900_000) + 100_000;
            let _ = write!(
                html,
                "<p>{} <a href=\"{site}/news/{n}\" title=\"Related\">Read more</a></p>",
                self.sentence(rng, 10)
            );
        }
        html
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Escapes text for XML character data and attribute values.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// One generated feed, ready to serve.
#[derive(Debug)]
struct Document {
    body: Bytes,
    gzip: Option<Bytes>,
    etag: String,
    etag_gzip: String,
    last_modified: String,
}

/// FNV-1a, 64 bits: enough for an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    h
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn feed_url(base: SocketAddr, index: usize) -> String {
    format!("http://{base}/feeds/{index:04}.xml")
}

/// The RSS 2.0 document of feed `index`: 50 items, about 50 KB, the same bytes for the same
/// index. Even-numbered feeds carry their HTML in CDATA, odd ones entity-escaped, as
/// publishers do both.
fn generate_feed(lex: &Lexicon, index: usize, base: SocketAddr) -> String {
    let mut rng = Rng::new(index as u64);
    let site = format!("https://outlet-{index:04}.example");
    let home = lex.places.sample(&mut rng).to_string();
    let built: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 14, 12, 0, 0).unwrap()
        - TimeDelta::minutes((index % 97) as i64);
    let mut xml = String::with_capacity(56 * 1024);
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n\
         <channel>\n\
         <title>{home} Daily {index:04}: regional news</title>\n\
         <link>{site}/</link>\n\
         <description>News, analysis and opinion from {home} and the region (outlet {index:04}).</description>\n\
         <language>en</language>\n\
         <lastBuildDate>{}</lastBuildDate>\n\
         <ttl>30</ttl>\n\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n",
        built.to_rfc2822(),
        feed_url(base, index)
    );
    for item in 0..ENTRIES_PER_FEED {
        let title = lex.title(&mut rng);
        let place = title.split(':').next().unwrap_or_default().to_string();
        let article = index * 1000 + item;
        let slug: String = title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let published = built - TimeDelta::minutes((item * 41 + rng.below(30)) as i64);
        let link = format!("{site}/news/{article}-{slug}");
        let html = lex.description_html(&mut rng, &site, &place);
        let description = if index.is_multiple_of(2) {
            format!("<![CDATA[{html}]]>")
        } else {
            xml_escape(&html)
        };
        let _ = write!(
            xml,
            "<item>\n\
             <title>{}</title>\n\
             <link>{}</link>\n\
             <guid isPermaLink=\"false\">outlet-{index:04}-article-{article}</guid>\n\
             <pubDate>{}</pubDate>\n\
             <dc:creator>{}</dc:creator>\n\
             <description>{description}</description>\n\
             </item>\n",
            xml_escape(&title),
            xml_escape(&link),
            published.to_rfc2822(),
            rng.pick(AUTHORS),
        );
    }
    xml.push_str("</channel>\n</rss>\n");
    xml
}

fn build_document(lex: &Lexicon, index: usize, base: SocketAddr, gzip: bool) -> Result<Document> {
    let xml = generate_feed(lex, index, base);
    let hash = fnv1a(xml.as_bytes());
    let built: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 14, 12, 0, 0).unwrap()
        - TimeDelta::minutes((index % 97) as i64);
    let gz = if gzip {
        let mut enc = GzEncoder::new(Vec::with_capacity(xml.len() / 3), Compression::fast());
        enc.write_all(xml.as_bytes())?;
        Some(Bytes::from(enc.finish()?))
    } else {
        None
    };
    Ok(Document {
        body: Bytes::from(xml),
        gzip: gz,
        etag: format!("\"{hash:016x}\""),
        etag_gzip: format!("\"{hash:016x}-gzip\""),
        last_modified: http_date(built),
    })
}

// ---------------------------------------------------------------------------------------------
// The feed server
// ---------------------------------------------------------------------------------------------

/// What the server saw since the last reset.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    with_if_none_match: AtomicU64,
    with_if_modified_since: AtomicU64,
    not_modified: AtomicU64,
    ok: AtomicU64,
    other: AtomicU64,
    gzip: AtomicU64,
    body_bytes: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    requests: u64,
    with_if_none_match: u64,
    with_if_modified_since: u64,
    not_modified: u64,
    ok: u64,
    other: u64,
    gzip: u64,
    body_bytes: u64,
}

impl Counters {
    fn take(&self) -> Seen {
        let t = |a: &AtomicU64| a.swap(0, Ordering::SeqCst);
        Seen {
            requests: t(&self.requests),
            with_if_none_match: t(&self.with_if_none_match),
            with_if_modified_since: t(&self.with_if_modified_since),
            not_modified: t(&self.not_modified),
            ok: t(&self.ok),
            other: t(&self.other),
            gzip: t(&self.gzip),
            body_bytes: t(&self.body_bytes),
        }
    }
}

#[derive(Debug)]
struct Site {
    docs: Vec<Document>,
    counters: Counters,
}

/// Whether an `If-None-Match` list names one of our tags (weak comparison, as RFC 9110 says).
fn etag_matches(list: &str, tags: &[&str]) -> bool {
    list.split(',').map(str::trim).any(|t| {
        t == "*" || {
            let t = t.strip_prefix("W/").unwrap_or(t);
            tags.contains(&t)
        }
    })
}

async fn serve_feed(
    State(site): State<Arc<Site>>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let c = &site.counters;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let doc = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| site.docs.get(n));
    let Some(doc) = doc else {
        c.other.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NOT_FOUND.into_response();
    };
    let wants_gzip = doc.gzip.is_some()
        && headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let etag = if wants_gzip {
        &doc.etag_gzip
    } else {
        &doc.etag
    };
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let ims = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok());
    if ims.is_some() {
        c.with_if_modified_since.fetch_add(1, Ordering::Relaxed);
    }
    let fresh = match inm {
        Some(list) => {
            c.with_if_none_match.fetch_add(1, Ordering::Relaxed);
            etag_matches(list, &[&doc.etag, &doc.etag_gzip])
        }
        None => ims.is_some_and(|v| v.trim() == doc.last_modified),
    };
    let mut h = HeaderMap::new();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::ETAG, value(etag));
    h.insert(header::LAST_MODIFIED, value(&doc.last_modified));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if fresh {
        c.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    c.ok.fetch_add(1, Ordering::Relaxed);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/rss+xml; charset=utf-8"),
    );
    let body = match (&doc.gzip, wants_gzip) {
        (Some(gz), true) => {
            c.gzip.fetch_add(1, Ordering::Relaxed);
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            gz.clone()
        }
        _ => doc.body.clone(),
    };
    c.body_bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    (StatusCode::OK, h, body).into_response()
}

/// The loopback server, on its own thread and runtime; stopped by [`FeedServer::stop`].
#[derive(Debug)]
struct FeedServer {
    addr: SocketAddr,
    site: Arc<Site>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl FeedServer {
    fn start(listener: std::net::TcpListener, site: Arc<Site>) -> Result<FeedServer> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/feeds/{file}", axum::routing::get(serve_feed))
            .with_state(site.clone());
        let thread = std::thread::Builder::new()
            .name("feed-server".into())
            .spawn(move || -> Result<()> {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()?;
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await?;
                    Ok::<_, anyhow::Error>(())
                })?;
                // Connections a client left open must not keep the thread alive.
                rt.shutdown_timeout(Duration::from_secs(1));
                Ok(())
            })?;
        Ok(FeedServer {
            addr,
            site,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    fn take_counters(&self) -> Seen {
        self.site.counters.take()
    }

    fn stop(&mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(r) => r?,
                Err(_) => bail!("the feed server thread panicked"),
            }
        }
        Ok(())
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// Measured child processes
// ---------------------------------------------------------------------------------------------

/// The wrapper process: runs the command in its arguments, waits for it (killing it at the
/// timeout), and writes wall time, CPU time and peak RSS of that one child.
fn wrapper(out: &Path) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some((program, rest)) = args.split_first() else {
        eprintln!("ingest bench wrapper: no command");
        return ExitCode::FAILURE;
    };
    let timeout = std::env::var(WRAP_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(600);
    let started = Instant::now();
    let mut child = match Command::new(program)
        .args(rest)
        .env_remove(WRAP_ENV)
        .env_remove(WRAP_TIMEOUT_ENV)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ingest bench wrapper: cannot start {program:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > Duration::from_secs(timeout) => {
                timed_out = true;
                let _ = child.kill();
                match child.wait() {
                    Ok(s) => break s,
                    Err(e) => {
                        eprintln!("ingest bench wrapper: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => {
                eprintln!("ingest bench wrapper: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let usage = match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("ingest bench wrapper: getrusage: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    let report = serde_json::json!({
        "code": status.code(),
        "signal": std::os::unix::process::ExitStatusExt::signal(&status),
        "timed_out": timed_out,
        "wall_s": wall,
        "user_s": secs(usage.user_time()),
        "sys_s": secs(usage.system_time()),
        "max_rss_kib": usage.max_rss(),
    });
    match std::fs::write(out, report.to_string()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ingest bench wrapper: writing {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

/// What one measured run did.
#[derive(Debug, Clone, Default)]
struct Measured {
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    wall_s: f64,
    cpu_s: f64,
    max_rss_mib: f64,
}

impl Measured {
    fn succeeded(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    fn describe_exit(&self) -> String {
        if self.timed_out {
            format!("killed after {:.0} s (time limit)", self.wall_s)
        } else if let Some(sig) = self.signal {
            format!("killed by signal {sig}")
        } else {
            format!("exit code {}", self.code.unwrap_or(-1))
        }
    }
}

/// A command to measure: program, arguments, environment, where its output goes.
#[derive(Debug)]
struct Job<'a> {
    program: &'a Path,
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
    env_remove: Vec<&'a str>,
    cwd: &'a Path,
    log: PathBuf,
    timeout: Duration,
}

fn measure(job: &Job<'_>) -> Result<Measured> {
    let me = std::env::current_exe().context("finding the benchmark executable")?;
    let out = job.log.with_extension("rusage.json");
    let _ = std::fs::remove_file(&out);
    let log = std::fs::File::create(&job.log)
        .with_context(|| format!("creating {}", job.log.display()))?;
    let mut cmd = Command::new(me);
    cmd.arg(job.program)
        .args(&job.args)
        .current_dir(job.cwd)
        .env(WRAP_ENV, &out)
        .env(WRAP_TIMEOUT_ENV, job.timeout.as_secs().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    for name in &job.env_remove {
        cmd.env_remove(name);
    }
    for (k, v) in &job.env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .with_context(|| format!("running {}", job.program.display()))?;
    ensure!(
        status.success(),
        "the measuring wrapper failed ({status}); see {}",
        job.log.display()
    );
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    Ok(Measured {
        code: v["code"].as_i64().map(|c| c as i32),
        signal: v["signal"].as_i64().map(|c| c as i32),
        timed_out: v["timed_out"].as_bool().unwrap_or(false),
        wall_s: f("wall_s"),
        cpu_s: f("user_s") + f("sys_s"),
        max_rss_mib: f("max_rss_kib") / 1024.0,
    })
}

/// Runs a helper command (not measured) with a time limit; returns its status and output.
fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<(bool, String)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let started = Instant::now();
    // Read the pipes on other threads so a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stdout.as_mut() {
            let _ = std::io::Read::read_to_string(p, &mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(p, &mut s);
        }
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = out.join().unwrap_or_default() + &err.join().unwrap_or_default();
    match status {
        Some(s) => Ok((s.success(), text)),
        None => Ok((false, format!("timed out after {timeout:?}\n{text}"))),
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/usr/local/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------------------------
// Tributary
// ---------------------------------------------------------------------------------------------

struct TributaryRuns {
    cold: Measured,
    cold_seen: Seen,
    /// Feeds stored completely by the cold run (all of them unless it hit the time limit).
    cold_feeds: u64,
    /// Entries in the database after the cold run.
    entries: u64,
    repoll: Measured,
    repoll_seen: Seen,
    /// Feeds the re-poll asked for.
    repoll_feeds: u64,
    notes: Vec<String>,
    problems: Vec<String>,
}

fn write_config(dir: &Path, s: &Settings) -> Result<PathBuf> {
    let config = dir.join("tributary.toml");
    std::fs::write(
        &config,
        format!(
            "# Ingest benchmark settings.\n\
             [storage]\n\
             database = \"tributary.db\"\n\
             retention_days = 0\n\
             \n\
             [fetch]\n\
             concurrency = {c}\n\
             per_host = {c}\n",
            c = s.concurrency
        ),
    )?;
    Ok(config)
}

fn write_feeds(path: &Path, feeds: &[(String, String)]) -> Result<()> {
    let mut text = String::from("# Ingest benchmark feeds, all on one loopback host.\n");
    for (id, url) in feeds {
        let _ = write!(text, "\n[[feed]]\nid = \"{id}\"\nurl = \"{url}\"\n");
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// What `tributary status --json` says: entries in all, and the ids of the feeds in state `ok`
/// with the entry count the benchmark expects.
#[derive(Debug, Default)]
struct Status {
    entries: u64,
    complete: Vec<String>,
    first_problem: Option<String>,
}

fn tributary_status(bin: &Path, common: &[OsString], dir: &Path) -> Result<Status> {
    let out = Command::new(bin)
        .args(common)
        .args(["status", "--json"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("running tributary status --json")?;
    ensure!(
        out.status.success(),
        "tributary status --json failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).context("reading status --json")?;
    let mut st = Status::default();
    for r in &rows {
        let entries = r["entries"].as_u64().unwrap_or(0);
        st.entries += entries;
        let id = r["id"].as_str().unwrap_or("?");
        if r["state"] == "ok" && entries == ENTRIES_PER_FEED as u64 {
            st.complete.push(id.to_string());
        } else if r["state"] != "new" && st.first_problem.is_none() {
            st.first_problem = Some(format!(
                "{id} is {} with {entries} entries ({})",
                r["state"].as_str().unwrap_or("?"),
                r["last_error"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(st)
}

fn run_tributary(
    bin: &Path,
    dir: &Path,
    urls: &[String],
    s: &Settings,
    server: &FeedServer,
) -> Result<TributaryRuns> {
    let config = write_config(dir, s)?;
    let feeds_file = dir.join("feeds.toml");
    let feeds: Vec<(String, String)> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| (format!("outlet-{i:04}"), u.clone()))
        .collect();
    write_feeds(&feeds_file, &feeds)?;
    let db = dir.join("tributary.db");
    let common_for = |feeds_file: &Path| -> Vec<OsString> {
        vec![
            "--config".into(),
            config.clone().into(),
            "--feeds".into(),
            feeds_file.into(),
            "--db".into(),
            db.clone().into(),
        ]
    };
    let common = common_for(&feeds_file);
    // Only the benchmark's own settings reach the child.
    let scrub = vec![
        "TRIBUTARY_CONFIG",
        "TRIBUTARY_FEEDS",
        "TRIBUTARY_DB",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ];
    let perf = if s.perf.is_some() {
        let p = find_in_path("perf");
        if p.is_none() {
            eprintln!(
                "  TRIBUTARY_BENCH_PERF is set but perf is not installed: running without it"
            );
        }
        p
    } else {
        None
    };
    let perf_data = dir.join("perf.data");
    let profile_cold = s.perf == Some(Profiled::Cold);
    let job = |log: &str, feeds_file: &Path, profile: bool| {
        let mut args = common_for(feeds_file);
        args.extend(["fetch".into(), "--all".into()]);
        let (program, args) = match (&perf, profile) {
            (Some(perf), true) => {
                let mut a: Vec<OsString> = vec![
                    "record".into(),
                    "--call-graph".into(),
                    "dwarf,8192".into(),
                    "-F".into(),
                    // A re-poll lasts a fraction of a second: sample it densely.
                    if profile_cold { "99" } else { "1999" }.into(),
                    "-o".into(),
                    perf_data.clone().into(),
                    "--".into(),
                    bin.into(),
                ];
                a.extend(args);
                (perf.as_path(), a)
            }
            _ => (bin, args),
        };
        Job {
            program,
            args,
            env: vec![("NO_PROXY".into(), "127.0.0.1,localhost".into())],
            env_remove: scrub.clone(),
            cwd: dir,
            log: dir.join(log),
            timeout: Duration::from_secs(s.time_limit),
        }
    };
    let n = urls.len() as u64;
    let mut problems = Vec::new();
    let mut notes = Vec::new();

    server.take_counters();
    eprintln!(
        "  tributary fetch --all (cold, empty database, time limit {} s{}) ...",
        s.time_limit,
        if perf.is_some() && profile_cold {
            ", under perf record"
        } else {
            ""
        }
    );
    let cold = measure(&job("tributary-cold.log", &feeds_file, profile_cold))?;
    let cold_seen = server.take_counters();
    if perf.is_some() {
        notes.push(format!(
            "the {} ran under perf record (slower than usual); profile: perf report -i {}",
            if profile_cold {
                "cold fetch"
            } else {
                "re-poll"
            },
            perf_data.display()
        ));
    }
    let st = tributary_status(bin, &common, dir)?;
    let cold_feeds = st.complete.len() as u64;
    if cold.timed_out {
        notes.push(format!(
            "the cold fetch was stopped at the time limit ({} s, TRIBUTARY_BENCH_TIME_LIMIT) with \
             {cold_feeds} of {n} feeds stored; its rates are over those feeds, and the re-poll \
             asks for those feeds only",
            s.time_limit
        ));
    } else if !cold.succeeded() {
        problems.push(format!(
            "cold fetch: {}, see {}",
            cold.describe_exit(),
            dir.join("tributary-cold.log").display()
        ));
    }
    if st.entries != cold_feeds * ENTRIES_PER_FEED as u64 {
        problems.push(format!(
            "cold fetch stored {} entries for {cold_feeds} complete feeds, expected {}",
            st.entries,
            cold_feeds * ENTRIES_PER_FEED as u64
        ));
    }
    if !cold.timed_out {
        if cold_feeds != n {
            problems.push(format!(
                "{} feeds not complete after the cold fetch, e.g. {}",
                n - cold_feeds,
                st.first_problem.as_deref().unwrap_or("?")
            ));
        }
        if cold_seen.ok != n || cold_seen.other > 0 {
            problems.push(format!(
                "cold fetch: the server sent {} documents for {n} feeds ({} unknown paths asked)",
                cold_seen.ok, cold_seen.other
            ));
        }
    }

    // The re-poll asks for the feeds the cold run stored (all of them, normally).
    let repoll_file = if cold_feeds == n {
        feeds_file.clone()
    } else {
        let path = dir.join("feeds-stored.toml");
        let stored: Vec<(String, String)> = feeds
            .iter()
            .filter(|(id, _)| st.complete.contains(id))
            .cloned()
            .collect();
        write_feeds(&path, &stored)?;
        path
    };
    eprintln!("  tributary fetch --all (re-poll of {cold_feeds} feeds, each answers 304) ...");
    let repoll = measure(&job("tributary-repoll.log", &repoll_file, !profile_cold))?;
    let repoll_seen = server.take_counters();
    if !repoll.succeeded() {
        problems.push(format!(
            "re-poll: {}, see {}",
            repoll.describe_exit(),
            dir.join("tributary-repoll.log").display()
        ));
    }
    let m = cold_feeds;
    if repoll_seen.requests != m
        || repoll_seen.with_if_none_match != m
        || repoll_seen.not_modified != m
    {
        problems.push(format!(
            "re-poll: {} requests for {m} feeds, {} with If-None-Match, {} answered 304",
            repoll_seen.requests, repoll_seen.with_if_none_match, repoll_seen.not_modified
        ));
    }
    let after = tributary_status(bin, &common_for(&repoll_file), dir)?;
    if after.entries != st.entries {
        problems.push(format!(
            "after the re-poll the database holds {} entries, {} before",
            after.entries, st.entries
        ));
    }
    Ok(TributaryRuns {
        cold,
        cold_seen,
        cold_feeds,
        entries: st.entries,
        repoll,
        repoll_seen,
        repoll_feeds: m,
        notes,
        problems,
    })
}

// ---------------------------------------------------------------------------------------------
// newsboat
// ---------------------------------------------------------------------------------------------

struct NewsboatRuns {
    version: String,
    cold: Measured,
    cold_seen: Seen,
    items: u64,
    /// Feeds whose items newsboat stored.
    feeds_stored: u64,
    etags_after_cold: u64,
    repoll: Option<(Measured, Seen)>,
    problems: Vec<String>,
}

/// Finds newsboat, installing the Debian package when allowed; `Err` says why it cannot run.
fn newsboat_binary(s: &Settings) -> std::result::Result<PathBuf, String> {
    if let Some(p) = find_in_path("newsboat") {
        return Ok(p);
    }
    if !s.install {
        return Err("newsboat is not installed (and TRIBUTARY_BENCH_INSTALL=0)".into());
    }
    let Some(apt) = find_in_path("apt-get") else {
        return Err("newsboat is not installed and there is no apt-get to install it".into());
    };
    eprintln!("  newsboat is missing: apt-get update && apt-get install -y newsboat ...");
    let limit = Duration::from_secs(300);
    let step = |args: &[&str]| -> std::result::Result<(), String> {
        let mut cmd = Command::new(&apt);
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        match run_bounded(&mut cmd, limit) {
            Ok((true, _)) => Ok(()),
            Ok((false, out)) => {
                let tail: Vec<&str> = out.lines().rev().take(5).collect();
                Err(format!(
                    "apt-get {} failed: {}",
                    args.join(" "),
                    tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
                ))
            }
            Err(e) => Err(format!("apt-get {}: {e}", args.join(" "))),
        }
    };
    step(&["update", "-qq"])?;
    step(&["install", "-y", "-qq", "newsboat"])?;
    find_in_path("newsboat")
        .ok_or_else(|| "apt-get installed newsboat but it is not on PATH".into())
}

/// Items stored, feeds they came from, and feeds with a stored ETag, in newsboat's cache.
fn newsboat_items(cache: &Path) -> Result<(u64, u64, u64)> {
    let conn =
        rusqlite::Connection::open_with_flags(cache, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let items: i64 = conn.query_row("SELECT count(*) FROM rss_item", [], |r| r.get(0))?;
    let feeds: i64 = conn.query_row("SELECT count(DISTINCT feedurl) FROM rss_item", [], |r| {
        r.get(0)
    })?;
    let etags: i64 = conn.query_row("SELECT count(*) FROM rss_feed WHERE etag <> ''", [], |r| {
        r.get(0)
    })?;
    Ok((items as u64, feeds as u64, etags as u64))
}

fn run_newsboat(
    bin: &Path,
    dir: &Path,
    urls: &[String],
    s: &Settings,
    server: &FeedServer,
) -> Result<NewsboatRuns> {
    let nb = dir.join("newsboat");
    let home = nb.join("home");
    std::fs::create_dir_all(&home)?;
    let url_file = nb.join("urls");
    std::fs::write(&url_file, urls.join("\n") + "\n")?;
    let config = nb.join("config");
    std::fs::write(
        &config,
        format!(
            "reload-threads {}\ndownload-retries 1\ndownload-timeout 60\n",
            s.concurrency
        ),
    )?;
    let cache = nb.join("cache.db");
    let version = Command::new(bin)
        .arg("--version")
        .env("HOME", &home)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "newsboat".into());
    let args: Vec<OsString> = vec![
        "-u".into(),
        url_file.into(),
        "-c".into(),
        cache.clone().into(),
        "-C".into(),
        config.into(),
        "-x".into(),
        "reload".into(),
    ];
    let job = |log: &str, timeout: u64| Job {
        program: bin,
        args: args.clone(),
        env: vec![
            ("HOME".into(), home.clone().into()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").into()),
            ("XDG_DATA_HOME".into(), home.join(".local/share").into()),
            ("no_proxy".into(), "127.0.0.1,localhost".into()),
            ("TERM".into(), "dumb".into()),
        ],
        env_remove: vec![
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        ],
        cwd: &nb,
        log: nb.join(log),
        timeout: Duration::from_secs(timeout),
    };
    let expected = (urls.len() * ENTRIES_PER_FEED) as u64;
    let mut problems = Vec::new();

    server.take_counters();
    eprintln!("  newsboat -x reload (cold, empty cache) ...");
    let cold = measure(&job("newsboat-cold.log", s.time_limit))?;
    let cold_seen = server.take_counters();
    if !cold.succeeded() {
        problems.push(format!(
            "cold reload: {}, see {}",
            cold.describe_exit(),
            nb.join("newsboat-cold.log").display()
        ));
    }
    let (items, feeds, etags) = match newsboat_items(&cache) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("cannot read newsboat's cache: {e}"));
            (0, 0, 0)
        }
    };
    if items != expected && !cold.timed_out {
        problems.push(format!(
            "stored {items} items from {feeds} feeds, expected {expected}"
        ));
    }
    // A re-poll for the record (not a target), when asked for.
    let repoll = if s.newsboat_repoll && cold.succeeded() {
        eprintln!("  newsboat -x reload (re-poll) ...");
        let m = measure(&job("newsboat-repoll.log", s.time_limit))?;
        Some((m, server.take_counters()))
    } else {
        None
    };
    Ok(NewsboatRuns {
        version,
        cold,
        cold_seen,
        items,
        feeds_stored: feeds,
        etags_after_cold: etags,
        repoll,
        problems,
    })
}

// ---------------------------------------------------------------------------------------------
// The run and the table
// ---------------------------------------------------------------------------------------------

fn rate(n: f64, secs: f64) -> f64 {
    if secs > 0.0 { n / secs } else { 0.0 }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn run() -> Result<bool> {
    let s = Settings::from_env()?;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tributary"));
    ensure!(
        bin.is_file(),
        "{} is missing: run `cargo build --release` (cargo bench builds it too)",
        bin.display()
    );
    let work = tempfile::Builder::new()
        .prefix("tributary-ingest-bench-")
        .tempdir()?;
    let dir = work.path().to_path_buf();
    eprintln!(
        "ingest bench: {} feeds x {ENTRIES_PER_FEED} entries, concurrency {}, binary {}, work folder {}",
        s.feeds,
        s.concurrency,
        bin.display(),
        dir.display()
    );

    // 1. The feeds (their self links need the port, so bind first).
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let t = Instant::now();
    let lex = Lexicon::new();
    let docs: Vec<Document> = (0..s.feeds)
        .map(|i| build_document(&lex, i, addr, s.gzip))
        .collect::<Result<_>>()?;
    let raw_bytes: usize = docs.iter().map(|d| d.body.len()).sum();
    let gz_bytes: usize = docs
        .iter()
        .map(|d| d.gzip.as_ref().map_or(0, Bytes::len))
        .sum();
    let urls: Vec<String> = (0..s.feeds).map(|i| feed_url(addr, i)).collect();
    if s.keep {
        std::fs::write(dir.join("sample-feed.xml"), &docs[0].body)?;
    }
    eprintln!(
        "  generated {} feeds in {:.1} s: {:.1} KiB per document on average{}",
        s.feeds,
        t.elapsed().as_secs_f64(),
        raw_bytes as f64 / s.feeds as f64 / 1024.0,
        if s.gzip {
            format!(
                ", {:.1} KiB gzipped",
                gz_bytes as f64 / s.feeds as f64 / 1024.0
            )
        } else {
            String::new()
        }
    );

    // 2. The server.
    let site = Arc::new(Site {
        docs,
        counters: Counters::default(),
    });
    let mut server = FeedServer::start(listener, site)?;
    ensure!(
        server.addr.ip().is_loopback(),
        "the server must be on loopback"
    );

    // 3. Tributary, and the baseline build when one is named (never under perf).
    let trib = run_tributary(&bin, &dir, &urls, &s, &server)?;
    let baseline = match &s.baseline {
        Some(other) => {
            let base_dir = dir.join("baseline");
            std::fs::create_dir_all(&base_dir)?;
            eprintln!("  baseline build {}:", other.display());
            let plain = Settings {
                perf: None,
                ..s.clone()
            };
            Some(run_tributary(other, &base_dir, &urls, &plain, &server)?)
        }
        None => None,
    };

    // 4. newsboat.
    let newsboat = if s.newsboat {
        match newsboat_binary(&s) {
            Ok(nb) => Some(Ok(run_newsboat(&nb, &dir, &urls, &s, &server)?)),
            Err(why) => Some(Err(why)),
        }
    } else {
        None
    };
    server.stop()?;

    // 5. The table.
    let n = s.feeds as f64;
    let cold_fps = rate(trib.cold_feeds as f64, trib.cold.wall_s);
    let cold_eps = rate(trib.entries as f64, trib.cold.wall_s);
    let repoll_fps = rate(trib.repoll_feeds as f64, trib.repoll.wall_s);
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Tributary ingest benchmark: {} feeds x {ENTRIES_PER_FEED} entries, {:.1} KiB per document \
         ({}), concurrency {c}, per_host {c}, {} CPUs",
        s.feeds,
        raw_bytes as f64 / n / 1024.0,
        if s.gzip {
            format!(
                "{:.1} KiB gzipped on the wire",
                gz_bytes as f64 / n / 1024.0
            )
        } else {
            "uncompressed on the wire".into()
        },
        cpu_count(),
        c = s.concurrency
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| run                          | feeds | wall s | feeds/s | entries/s |  CPU s | peak RSS MiB |"
    );
    let _ = writeln!(
        out,
        "|------------------------------|------:|-------:|--------:|----------:|-------:|-------------:|"
    );
    let mut row = |name: &str, m: &Measured, feeds: u64, entries: u64| {
        let _ = writeln!(
            out,
            "| {name:<28} | {feeds:>5} | {:>6.2} | {:>7.1} | {:>9} | {:>6.2} | {:>12.1} |",
            m.wall_s,
            rate(feeds as f64, m.wall_s),
            if entries > 0 {
                format!("{:.0}", rate(entries as f64, m.wall_s))
            } else {
                "-".into()
            },
            m.cpu_s,
            m.max_rss_mib
        );
    };
    row(
        "Tributary cold fetch",
        &trib.cold,
        trib.cold_feeds,
        trib.entries,
    );
    row(
        "Tributary re-poll (all 304)",
        &trib.repoll,
        trib.repoll_feeds,
        0,
    );
    if let Some(b) = &baseline {
        row("baseline cold fetch", &b.cold, b.cold_feeds, b.entries);
        row("baseline re-poll (all 304)", &b.repoll, b.repoll_feeds, 0);
    }
    let mut nb_cold_fps = None;
    let mut notes = trib.notes.clone();
    match &newsboat {
        Some(Ok(nb)) => {
            row("newsboat cold reload", &nb.cold, nb.feeds_stored, nb.items);
            if let Some((m, _)) = &nb.repoll {
                row("newsboat re-poll", m, nb.feeds_stored, 0);
                if m.timed_out {
                    notes.push(format!(
                        "newsboat's re-poll was stopped at the time limit ({:.0} s)",
                        m.wall_s
                    ));
                }
            }
            nb_cold_fps = Some(rate(nb.feeds_stored as f64, nb.cold.wall_s));
            if nb.cold.timed_out {
                notes.push(format!(
                    "newsboat was stopped at its time limit ({:.0} s) with {} feeds stored; its rate is over those",
                    nb.cold.wall_s, nb.feeds_stored
                ));
            }
        }
        Some(Err(why)) => notes.push(format!("newsboat could not run: {why}")),
        None => notes.push("newsboat skipped (TRIBUTARY_BENCH_NEWSBOAT=0)".into()),
    }
    let ratio = nb_cold_fps.map(|nb| rate(cold_fps, nb));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| target                            | measured                 | goal              | result |"
    );
    let _ = writeln!(
        out,
        "|-----------------------------------|--------------------------|-------------------|--------|"
    );
    let mut missed = 0;
    let mut target = |name: &str, measured: String, goal: &str, ok: Option<bool>| {
        let result = match ok {
            Some(ok) => {
                if !ok {
                    missed += 1;
                }
                verdict(ok)
            }
            None => "n/a",
        };
        let _ = writeln!(
            out,
            "| {name:<33} | {measured:<24} | {goal:<17} | {result:<6} |"
        );
    };
    target(
        "cold ingest, Tributary / newsboat",
        ratio.map_or("-".into(), |r| format!("{r:.2}x")),
        ">= 10x newsboat",
        ratio.map(|r| r >= TARGET_RATIO),
    );
    // Over part of the feeds, the re-poll and memory figures say nothing about the target.
    let partial = trib.cold_feeds < s.feeds as u64;
    let suffix = if partial {
        format!(" ({} feeds)", trib.cold_feeds)
    } else {
        String::new()
    };
    let judged = |ok: bool| (!partial).then_some(ok);
    target(
        "304 re-poll",
        format!("{repoll_fps:.0} feeds/s{suffix}"),
        ">= 2000 feeds/s",
        judged(repoll_fps >= TARGET_REPOLL_FEEDS_PER_S),
    );
    target(
        "peak RSS, cold fetch",
        format!("{:.1} MiB{suffix}", trib.cold.max_rss_mib),
        "<= 100 MiB",
        judged(trib.cold.max_rss_mib <= TARGET_RSS_MIB),
    );
    target(
        "peak RSS, re-poll",
        format!("{:.1} MiB{suffix}", trib.repoll.max_rss_mib),
        "<= 100 MiB",
        judged(trib.repoll.max_rss_mib <= TARGET_RSS_MIB),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Tributary: cold {cold_fps:.1} feeds/s, {cold_eps:.0} entries/s, {} entries stored; \
         server sent {} documents ({:.1} MiB); re-poll: {} requests, {} with If-None-Match, {} answered 304",
        trib.entries,
        trib.cold_seen.ok,
        trib.cold_seen.body_bytes as f64 / 1048576.0,
        trib.repoll_seen.requests,
        trib.repoll_seen.with_if_none_match,
        trib.repoll_seen.not_modified
    );
    if let Some(Ok(nb)) = &newsboat {
        let _ = write!(
            out,
            "{}: cold {:.1} feeds/s, {} items stored, {} feeds with an ETag stored; server sent {} documents ({} gzipped)",
            nb.version,
            rate(nb.feeds_stored as f64, nb.cold.wall_s),
            nb.items,
            nb.etags_after_cold,
            nb.cold_seen.ok,
            nb.cold_seen.gzip
        );
        if let Some((_, seen)) = &nb.repoll {
            let _ = write!(
                out,
                "; re-poll: {} requests, {} with If-None-Match, {} with If-Modified-Since, {} answered 304",
                seen.requests,
                seen.with_if_none_match,
                seen.with_if_modified_since,
                seen.not_modified
            );
        }
        let _ = writeln!(out);
    }
    if let Some(Ok(nb)) = &newsboat {
        let per_feed = |m: &Measured, feeds: u64| {
            if feeds > 0 {
                m.cpu_s * 1000.0 / feeds as f64
            } else {
                0.0
            }
        };
        let (t, b) = (
            per_feed(&trib.cold, trib.cold_feeds),
            per_feed(&nb.cold, nb.feeds_stored),
        );
        let _ = writeln!(
            out,
            "CPU per feed, cold (steadier than wall time on a busy machine): Tributary {t:.0} ms, \
             newsboat {b:.0} ms (Tributary uses {:.1}x newsboat's CPU per feed)",
            rate(t, b)
        );
    }
    if let Some(b) = &baseline {
        if s.perf.is_some() {
            notes
                .push("only this build ran under perf: the ratio to the baseline is skewed".into());
        }
        let per_feed = |m: &Measured, feeds: u64| rate(m.cpu_s * 1000.0, feeds as f64);
        let (t, o) = (
            per_feed(&trib.cold, trib.cold_feeds),
            per_feed(&b.cold, b.cold_feeds),
        );
        let _ = writeln!(
            out,
            "this build against the baseline, cold: {:.2}x its feeds/s; CPU per feed {t:.1} ms \
             against {o:.1} ms ({:.2}x)",
            rate(cold_fps, rate(b.cold_feeds as f64, b.cold.wall_s)),
            rate(t, o)
        );
    }
    if s.feeds != 1000 || s.concurrency != 16 {
        notes.push("the targets are stated for 1,000 feeds at concurrency 16".into());
    }
    let mut problems: Vec<String> = trib
        .problems
        .iter()
        .map(|p| format!("Tributary {p}"))
        .collect();
    if let Some(b) = &baseline {
        problems.extend(b.problems.iter().map(|p| format!("baseline {p}")));
    }
    if let Some(Ok(nb)) = &newsboat {
        problems.extend(nb.problems.iter().map(|p| format!("newsboat {p}")));
    }
    if partial {
        notes.push(
            "the cold fetch did not store every feed: the re-poll and memory targets are not \
             judged (n/a), and the cold rate is an upper bound (it falls as the database fills)"
                .into(),
        );
    }
    for n in &notes {
        let _ = writeln!(out, "note: {n}");
    }
    for p in &problems {
        let _ = writeln!(out, "PROBLEM: {p}");
    }
    let judged_count = 1 + 3 * usize::from(!partial) - usize::from(ratio.is_none());
    let _ = writeln!(
        out,
        "targets: {} met, {missed} missed, {} not judged",
        judged_count - missed,
        4 - judged_count
    );
    print!("{out}");
    std::io::stdout().flush()?;

    if s.keep {
        let kept = work.keep();
        eprintln!("work folder kept: {}", kept.display());
    }
    let trib_failed = !trib.problems.is_empty();
    ensure!(
        !trib_failed,
        "Tributary did not ingest the feeds correctly (see PROBLEM lines)"
    );
    Ok(!(s.strict && missed > 0))
}
