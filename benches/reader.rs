//! Reader web UI benchmark: page render times on an archive of one million entries.
//!
//! `cargo bench --bench reader` (release build). The issue asks for the stream page at p50
//! ≤ 30 ms and a search at p50 ≤ 50 ms on a 1M-entry database.
//!
//! 1. The database: 300 feeds (a third in Russian) with one million entries over three years,
//!    written with SQL rows like those `Store::store_fetch` writes (the full-text index follows
//!    through the schema's triggers), because the pipeline would take hours for a million. Words
//!    follow a Zipf law over a vocabulary of real English and Russian news words and a long tail
//!    of made-up names, so a search meets words in almost every entry ("the"), in a fifth of
//!    them ("russia"), in a few percent ("баку") and in a handful (a made-up name). Every tenth
//!    entry joins the story of a recent entry of another feed; one in fifty is published days
//!    before it was seen (a late feed), so time order and insertion order differ. The database
//!    is kept under `target/bench-reader/`, keyed by schema and generator version, and reused
//!    by later runs; `TRIBUTARY_BENCH_REBUILD=1` builds it again, `TRIBUTARY_BENCH_ENTRIES=N`
//!    asks for another size.
//! 2. The real binary serves it (`tributary serve`), and each page is fetched over loopback
//!    (sequential requests after a warm-up; p50 and p95 of the whole request): the stream, an
//!    older page of it, the stream of one feed, of a tag of 100 feeds and of a tag of 12, the
//!    search for each kind of word, entry pages and `/sources`.
//!
//! Only 127.0.0.1 traffic. Prints a table and writes it to `target/bench-reader/results.md`.

// Built as a test harness (without `harness = false`) nothing here runs.
#![cfg_attr(test, allow(dead_code, unused_imports))]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::params;

#[path = "support/mod.rs"]
mod support;
use support::{mix, schema_version, wait_healthy};

use tributary::model::rfc3339;
use tributary::store::{FeedIdentity, Store};

/// Bump when the generated data changes: a cached database of another version is rebuilt.
const GENERATOR_VERSION: u32 = 1;
const DEFAULT_ENTRIES: usize = 1_000_000;
const FEEDS: usize = 300;
/// Entries written per transaction while building.
const BATCH: usize = 20_000;
/// Timed requests per page (after the warm-up ones).
const SAMPLES: usize = 40;
const WARMUP: usize = 3;

/// Real words, most frequent first: the head of each language's Zipf law.
const ENGLISH: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "on",
    "for",
    "said",
    "with",
    "is",
    "by",
    "at",
    "from",
    "as",
    "that",
    "was",
    "its",
    "will",
    "has",
    "russia",
    "government",
    "minister",
    "president",
    "azerbaijan",
    "georgia",
    "armenia",
    "kazakhstan",
    "officials",
    "talks",
    "new",
    "year",
    "region",
    "oil",
    "gas",
    "border",
    "security",
    "trade",
    "energy",
    "week",
    "foreign",
    "economic",
    "agreement",
    "visit",
    "meeting",
    "baku",
    "tbilisi",
    "yerevan",
    "moscow",
    "astana",
    "pipeline",
    "corridor",
    "caspian",
    "election",
    "parliament",
    "court",
    "police",
    "protest",
    "opposition",
    "prices",
    "bank",
    "port",
    "ferry",
    "railway",
    "water",
    "power",
    "million",
    "billion",
    "deal",
    "project",
];
const RUSSIAN: &[&str] = &[
    "в",
    "и",
    "на",
    "с",
    "по",
    "что",
    "не",
    "о",
    "для",
    "года",
    "это",
    "как",
    "из",
    "заявил",
    "россии",
    "президент",
    "министр",
    "правительство",
    "переговоры",
    "азербайджана",
    "грузии",
    "армении",
    "казахстана",
    "москвы",
    "газа",
    "нефти",
    "границы",
    "сообщает",
    "проект",
    "баку",
    "соглашение",
    "визит",
    "встреча",
    "цены",
    "банк",
    "парламент",
    "суд",
    "выборы",
    "порт",
    "железной",
    "дороги",
    "каспийского",
    "транзит",
    "коридор",
    "энергетики",
];
const LATIN_SYLLABLES: [&str; 24] = [
    "ka", "ro", "mi", "ta", "ne", "su", "lo", "va", "de", "ri", "bo", "ga", "ze", "pu", "li",
    "sha", "ku", "me", "no", "ti", "ra", "vo", "di", "zu",
];
const CYRILLIC_SYLLABLES: [&str; 24] = [
    "ка", "ро", "ми", "та", "не", "су", "ло", "ва", "де", "ри", "бо", "га", "зе", "пу", "ли", "ша",
    "ку", "ме", "но", "ти", "ра", "во", "ди", "зу",
];
/// Made-up names after the real words: the long tail of each vocabulary.
const TAIL: usize = 60_000;

/// One language's words with Zipf weights (the word of rank r drawn with weight 1/r).
struct Vocabulary {
    real: &'static [&'static str],
    syllables: [&'static str; 24],
    /// Cumulative weights over `real` followed by `TAIL` made-up words.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(real: &'static [&'static str], syllables: [&'static str; 24]) -> Vocabulary {
        let mut total = 0.0;
        let cumulative = (0..real.len() + TAIL)
            .map(|r| {
                total += 1.0 / (r + 1) as f64;
                total
            })
            .collect();
        Vocabulary {
            real,
            syllables,
            cumulative,
        }
    }

    /// The word of rank `r` (0-based).
    fn word(&self, r: usize) -> String {
        if let Some(w) = self.real.get(r) {
            return (*w).to_string();
        }
        let n = r - self.real.len();
        let s = &self.syllables;
        format!(
            "{}{}{}{}",
            s[n % 24],
            s[(n / 24) % 24],
            s[(n / 576) % 24],
            s[n / 13_824 % 24]
        )
    }

    fn draw(&self, seed: u64) -> String {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = (seed >> 11) as f64 / (1u64 << 53) as f64 * total;
        let r = self.cumulative.partition_point(|c| *c < x);
        self.word(r.min(self.cumulative.len() - 1))
    }

    fn text(&self, seed: u64, words: usize) -> String {
        (0..words as u64)
            .map(|i| self.draw(mix(seed ^ (i << 40))))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Feed `f`'s id, language, and tags.
fn feed_id(f: usize) -> String {
    format!("outlet-{f:03}")
}

fn is_russian(f: usize) -> bool {
    f.is_multiple_of(3)
}

fn feed_tags(f: usize) -> Vec<&'static str> {
    let mut tags = vec![if is_russian(f) { "ru" } else { "en" }];
    tags.push(["caucasus", "central-asia", "russia"][(f / 3) % 3]);
    if f % 25 == 7 {
        tags.push("wire");
    }
    tags
}

/// Which feed writes entry `i`: a few feeds publish far more than most.
fn feed_of(i: u64) -> usize {
    let u = (mix(i ^ 0xFEED) >> 11) as f64 / (1u64 << 53) as f64;
    ((u * u) * FEEDS as f64) as usize
}

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

/// The database for `entries` entries, built unless a complete one is cached.
fn ensure_database(dir: &Path, entries: usize, end: DateTime<Utc>) -> PathBuf {
    let name = format!(
        "reader-s{}-g{GENERATOR_VERSION}-{entries}.db",
        schema_version()
    );
    let db = dir.join(&name);
    let done = dir.join(format!("{name}.complete"));
    let rebuild = std::env::var("TRIBUTARY_BENCH_REBUILD").is_ok_and(|v| v == "1");
    if db.is_file() && done.is_file() && !rebuild {
        println!("database: {} (cached)", db.display());
        return db;
    }
    // Databases of other versions are left behind by schema changes: remove them.
    for old in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let n = old.file_name().to_string_lossy().to_string();
        if n.starts_with("reader-") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    let started = Instant::now();
    build_database(&db, entries, end);
    std::fs::write(&done, "").expect("mark the database complete");
    println!(
        "database: {} built in {:.0} s",
        db.display(),
        started.elapsed().as_secs_f64()
    );
    db
}

fn build_database(db: &Path, entries: usize, end: DateTime<Utc>) {
    let span = TimeDelta::days(3 * 365);
    let start = end - span;
    let step = span.num_milliseconds() as f64 / entries as f64;
    let mut store = Store::open(db).expect("create the database");
    let ids: Vec<String> = (0..FEEDS).map(feed_id).collect();
    let urls: Vec<String> = (0..FEEDS)
        .map(|f| format!("https://outlet-{f}.example/rss"))
        .collect();
    store
        .sync_feeds(
            (0..FEEDS).map(|f| FeedIdentity {
                id: &ids[f],
                url: &urls[f],
                fingerprint: "bench",
            }),
            start,
        )
        .expect("feed rows");
    drop(store);

    let english = Vocabulary::new(ENGLISH, LATIN_SYLLABLES);
    let russian = Vocabulary::new(RUSSIAN, CYRILLIC_SYLLABLES);
    let mut conn = rusqlite::Connection::open(db).expect("open the database");
    // A benchmark input, rebuilt when lost: no fsync per transaction.
    conn.pragma_update(None, "synchronous", "OFF")
        .expect("synchronous");
    conn.pragma_update(None, "cache_size", -262_144)
        .expect("cache size");
    // The entry triggers (full-text index, change counter) are set aside while rows are
    // written and put back after: the index is then built in one pass, which is many times
    // faster than row by row.
    let triggers: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("list triggers")
            .collect::<Result<_, _>>()
            .expect("read triggers")
    };
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{name}\""))
            .expect("drop trigger");
    }
    let now_text = rfc3339(end);
    conn.execute(
        "UPDATE feeds SET state = 'ok', title = 'Outlet ' || substr(id, 8), format = 'rss2',
             last_fetch = ?1, last_success = ?1, next_fetch = ?1",
        [&now_text],
    )
    .expect("feed health");

    // Recent entries by feed, for stories another feed carries too: (entry id, cluster, title).
    let mut recent: Vec<(i64, i64, String, usize)> = Vec::new();
    let mut written = 0usize;
    while written < entries {
        let tx = conn.transaction().expect("begin");
        {
            let mut new_cluster = tx
                .prepare_cached("INSERT INTO clusters (primary_entry, created_at) VALUES (?1, ?2)")
                .expect("prepare");
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entries (id, feed_id, entry_key, uid, guid, link, canonical_url,
                        title, summary, content, authors, published, updated, first_seen,
                        sort_time, revision, excerpt, cluster_id)
                     VALUES (?1, ?2, ?3, ?4, ?3, ?5, ?5, ?6, ?7, NULL, '[]', ?8, ?9, ?9, ?8, ?10, ?11, ?12)",
                )
                .expect("prepare");
            for i in written..(written + BATCH).min(entries) {
                let id = i as i64 + 1;
                let seed = mix(i as u64);
                let f = feed_of(i as u64);
                let vocabulary = if is_russian(f) { &russian } else { &english };
                let seen = start + TimeDelta::milliseconds((i as f64 * step) as i64);
                // One in fifty comes from a feed that is days late.
                let published = if seed.is_multiple_of(50) {
                    seen - TimeDelta::hours(1 + (seed >> 8) as i64 % 240)
                } else {
                    seen - TimeDelta::seconds((seed >> 16) as i64 % 900)
                };
                // One in ten is a story a feed of the same language carried recently.
                let joined = (seed % 10 == 3)
                    .then(|| {
                        recent
                            .iter()
                            .rev()
                            .find(|(_, _, _, rf)| *rf != f && is_russian(*rf) == is_russian(f))
                    })
                    .flatten()
                    .cloned();
                let title = match &joined {
                    Some((_, _, t, _)) => t.clone(),
                    None => {
                        let mut t = vocabulary.text(seed ^ 0x7171, 8);
                        if let Some(c) = t.chars().next() {
                            t.replace_range(..c.len_utf8(), &c.to_uppercase().to_string());
                        }
                        t
                    }
                };
                let excerpt = vocabulary.text(seed ^ 0xE0E0, 70);
                let cluster = match &joined {
                    Some((_, c, _, _)) => *c,
                    None => {
                        new_cluster
                            .execute(params![id, rfc3339(seen)])
                            .expect("insert a cluster");
                        tx.last_insert_rowid()
                    }
                };
                let key = format!("https://outlet-{f}.example/news/{i}");
                insert
                    .execute(params![
                        id,
                        feed_id(f),
                        key,
                        tributary::dedup::entry_uid(&feed_id(f), &key),
                        key,
                        title,
                        format!("<p>{excerpt}.</p>"),
                        rfc3339(published),
                        rfc3339(seen),
                        format!("{seed:016x}"),
                        excerpt,
                        cluster
                    ])
                    .expect("insert an entry");
                recent.push((id, cluster, title, f));
                if recent.len() > 64 {
                    recent.remove(0);
                }
            }
        }
        tx.commit().expect("commit");
        written = (written + BATCH).min(entries);
        if written.is_multiple_of(200_000) || written == entries {
            println!("database: {written} of {entries} entries written");
        }
    }
    for (_, sql) in &triggers {
        conn.execute_batch(sql).expect("restore trigger");
    }
    println!("database: building the full-text index");
    conn.execute_batch(
        "INSERT INTO entries_fts (entries_fts) VALUES ('rebuild');
         UPDATE feeds SET entry_count = (SELECT count(*) FROM entries e WHERE e.feed_id = feeds.id);
         UPDATE store_version SET version = version + 1, changed_at = (SELECT max(updated) FROM entries);
         PRAGMA optimize;",
    )
    .expect("build the full-text index");
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

/// p50 and p95 of a page's request times.
#[derive(Debug, Clone, Copy)]
struct Stats {
    p50: Duration,
    p95: Duration,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Stats {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            p50: at(0.5),
            p95: at(0.95),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// One measured page: what it is, the request paths (cycled through), what the p50 must stay
/// under, and what it found.
struct Case {
    name: String,
    paths: Vec<String>,
    target: Option<Duration>,
    note: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

fn hits(db: &Path, word: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(
        "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?1",
        [format!("\"{word}\"*")],
        |r| r.get(0),
    )
    .expect("count hits")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` asks benchmarks to name themselves.
        println!("reader: bench");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-reader");
    std::fs::create_dir_all(&dir).expect("create target/bench-reader");
    let entries = std::env::var("TRIBUTARY_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ENTRIES);
    // Generated times end at a fixed instant, so a cached database is the same database.
    let end: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().expect("end time");
    let db = ensure_database(&dir, entries, end);

    let rare = Vocabulary::new(ENGLISH, LATIN_SYLLABLES).word(ENGLISH.len() + TAIL - 5_000);
    let cases_words = [
        ("search, rare word", rare.clone()),
        ("search, common word", "russia".to_string()),
        ("search, very common word", "the".to_string()),
        ("search, Cyrillic word", "баку".to_string()),
        ("search, two words", "gas pipeline".to_string()),
        ("search, very common and rare word", format!("the {rare}")),
    ];

    let work = dir.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work folder");
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let config = work.join("tributary.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\ndatabase = \"{}\"\nretention_days = 0\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
            db.display()
        ),
    )
    .expect("config");
    let feeds = work.join("feeds.toml");
    let mut text = String::from("# Generated outlets for the reader benchmark.\n");
    for f in 0..FEEDS {
        let tags = feed_tags(f)
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            text,
            "\n[[feed]]\nid = \"{}\"\nurl = \"https://outlet-{f}.example/rss\"\ntags = [{tags}]\n",
            feed_id(f)
        );
    }
    std::fs::write(&feeds, text).expect("feeds");
    let mut server = spawn_server(&config, &feeds, &work.join("serve.log"));
    let base = format!("http://127.0.0.1:{port}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    rt.block_on(wait_healthy(&client, &base, &mut server));

    // An older page of the stream: follow "Older" links ten pages deep.
    let mut older = "/".to_string();
    for _ in 0..10 {
        let body = rt.block_on(get(&client, &base, &older)).1;
        older = body
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|h| h.contains("before="))
            .map(|h| h.replace("&amp;", "&"))
            .expect("an Older link on the stream page");
    }
    let entry_paths: Vec<String> = (0..SAMPLES as u64)
        .map(|i| format!("/entries/{}", 1 + mix(i) % entries as u64))
        .collect();

    let q = |w: &str| {
        format!(
            "/?q={}",
            url::form_urlencoded::byte_serialize(w.as_bytes()).collect::<String>()
        )
    };
    let stream_target = Some(Duration::from_millis(30));
    let search_target = Some(Duration::from_millis(50));
    let mut cases = vec![
        Case {
            name: "stream `/`".into(),
            paths: vec!["/".into()],
            target: stream_target,
            note: String::new(),
        },
        Case {
            name: "stream, 10 pages older".into(),
            paths: vec![older],
            target: stream_target,
            note: String::new(),
        },
        Case {
            name: "stream of one feed".into(),
            paths: vec![format!("/?feed={}", feed_id(40))],
            target: stream_target,
            note: String::new(),
        },
        Case {
            name: "stream of a tag (100 feeds)".into(),
            paths: vec!["/?tag=central-asia".into()],
            target: stream_target,
            note: String::new(),
        },
        Case {
            name: "stream of a tag (12 feeds)".into(),
            paths: vec!["/?tag=wire".into()],
            target: stream_target,
            note: String::new(),
        },
    ];
    for (name, words) in &cases_words {
        let counted = words
            .split(' ')
            .map(|w| format!("`{w}` {} hits", hits(&db, w)))
            .collect::<Vec<_>>()
            .join(", ");
        cases.push(Case {
            name: (*name).to_string(),
            paths: vec![q(words)],
            target: search_target,
            note: counted,
        });
    }
    cases.push(Case {
        name: "search in a tag, common word".into(),
        paths: vec![format!("{}&tag=caucasus", q("russia"))],
        target: search_target,
        note: String::new(),
    });
    cases.push(Case {
        name: "entry page".into(),
        paths: entry_paths,
        target: None,
        note: format!("{SAMPLES} random entries"),
    });
    cases.push(Case {
        name: "`/sources`".into(),
        paths: vec!["/sources".into()],
        target: None,
        note: format!("{FEEDS} feeds"),
    });

    let load_before = load_average();
    let mut rows = Vec::new();
    for case in &cases {
        let mut samples = Vec::new();
        for n in 0..WARMUP + SAMPLES {
            let path = &case.paths[n % case.paths.len()];
            let t = Instant::now();
            let (status, body) = rt.block_on(get(&client, &base, path));
            let took = t.elapsed();
            assert_eq!(status, 200, "GET {path}");
            assert!(body.contains("</html>"), "GET {path} is a whole page");
            if n >= WARMUP {
                samples.push(took);
            }
        }
        let stats = Stats::of(&mut samples);
        let verdict = match case.target {
            Some(t) if stats.p50 <= t => format!("≤ {} ms: met", t.as_millis()),
            Some(t) => format!("≤ {} ms: MISSED", t.as_millis()),
            None => String::new(),
        };
        println!(
            "{:<32} p50 {:>7} ms  p95 {:>7} ms  {verdict} {}",
            case.name,
            ms(stats.p50),
            ms(stats.p95),
            case.note
        );
        rows.push((case, stats, verdict));
    }
    let load_after = load_average();
    let _ = server.kill();
    let _ = server.wait();

    let mut md = String::new();
    let _ = writeln!(
        md,
        "{} entries in {FEEDS} feeds; {SAMPLES} sequential requests per page over loopback after \
         {WARMUP} warm-up ones, whole request timed; load average {load_before} before, \
         {load_after} after.\n",
        entries
    );
    let _ = writeln!(md, "| page | p50 ms | p95 ms | target | notes |");
    let _ = writeln!(md, "|---|---:|---:|---|---|");
    for (case, stats, verdict) in &rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            case.name,
            ms(stats.p50),
            ms(stats.p95),
            verdict,
            case.note
        );
    }
    std::fs::write(dir.join("results.md"), &md).expect("write results");
    println!("\n{md}");
}

fn spawn_server(config: &Path, feeds: &Path, log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(config)
        .arg("--feeds")
        .arg(feeds)
        .arg("serve")
        .env_remove("TRIBUTARY_DB")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .spawn()
        .expect("start tributary serve")
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let resp = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}
