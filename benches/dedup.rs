//! Ingest rate with duplicate folding, against a small and a large archive.
//!
//! ```text
//! cargo bench --bench dedup
//! TRIBUTARY_BENCH_ARCHIVES=2000,50000 TRIBUTARY_BENCH_NEW=5000 cargo bench --bench dedup
//! ```
//!
//! For each archive size N (default 10 000 and 1 000 000) a fresh SQLite file is opened with
//! [`Store::open`] and filled through [`Store::store_fetch`], in fetches of 500, with N entries
//! from 200 feeds arriving at a steady 1 500 a day: the archive spans N / 1 500 days and the
//! title-token index, as in production, holds only the last two dedup windows. Then a new
//! stream (default 20 000 entries, a fifth of them another feed's story again under a changed
//! title or a tracking link) is stored in fetches of 100, and its ingest rate is measured.
//! Both archives get the same new stream; the report prints both rates and their ratio, which
//! should stay at or above 0.7: folding must not slow down as the archive grows.
//!
//! Only the archive's last week is written like the new stream; older entries get headlines of
//! unique words, the cheapest kind to store (see [`Stream`]).
//!
//! Filling is the slow part (about 13 minutes for a million entries: see docs/dedup.md), so
//! each filled archive is kept in `TRIBUTARY_BENCH_DIR` (default `target/dedup-bench/`) under a
//! name holding its size, the schema version and [`STREAM_VERSION`], and later runs start from
//! a copy of it. `TRIBUTARY_BENCH_REFILL=1` fills again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tributary::model::NewEntry;
use tributary::store::{DedupSettings, FeedIdentity, FetchRecord, FetchRecordOutcome, Store};

const FEEDS: usize = 200;
const ENTRIES_PER_DAY: i64 = 1_500;
const FILL_BATCH: usize = 500;
const NEW_BATCH: usize = 100;
/// One new entry in this many is a republication of a recent entry from another feed.
const REPUBLISHED_ONE_IN: u64 = 5;
/// Days of archive written as realistic stories: more than the title-token index keeps (two
/// dedup windows of 72 hours).
const RECENT_DAYS: usize = 7;
/// Names the archives this code writes; change it whenever [`Stream`] writes other entries.
const STREAM_VERSION: u32 = 1;

fn main() {
    let sizes = env_list("TRIBUTARY_BENCH_ARCHIVES", &[10_000, 1_000_000]);
    let new_entries = env_list("TRIBUTARY_BENCH_NEW", &[20_000])[0];
    let refill = std::env::var("TRIBUTARY_BENCH_REFILL").is_ok_and(|v| v == "1");
    let dir = std::env::var_os("TRIBUTARY_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dedup-bench"));
    std::fs::create_dir_all(&dir).expect("the bench folder can be created");
    println!(
        "dedup ingest: {FEEDS} feeds, {ENTRIES_PER_DAY} entries a day; new stream of {new_entries} entries in fetches of {NEW_BATCH}"
    );
    // Every archive first, so that the measured runs follow each other under the same load.
    let archives: Vec<(usize, Archive)> = sizes
        .iter()
        .map(|&size| (size, archive_file(&dir, size, refill)))
        .collect();
    let mut rates = Vec::new();
    for (size, archive) in archives {
        let work = tempfile::tempdir_in(&dir).expect("a work folder");
        let db = work.path().join("bench.db");
        std::fs::copy(&archive.path, &db).expect("the archive is copied");
        let mut store = Store::open(&db).expect("the archive opens");
        let stored = store.counts().expect("counts").entries;
        let mut stream = Stream::new(0xF2E5, now(), &feed_ids());
        let began = Instant::now();
        let folded = store_stream(
            &mut store,
            &mut stream,
            new_entries,
            NEW_BATCH,
            &DedupSettings::default(),
        );
        let rate = new_entries as f64 / began.elapsed().as_secs_f64();
        let filled = match archive.filled_in {
            Some(t) => format!(
                "filled in {:.0} s ({:.0} entries/s)",
                t.as_secs_f64(),
                size as f64 / t.as_secs_f64()
            ),
            None => "kept from an earlier run".to_string(),
        };
        println!(
            "archive of {stored:>9} entries ({filled}): new stream {rate:>6.0} entries/s, {folded} folded"
        );
        rates.push((size, rate));
    }
    if let (Some(small), Some(large)) = (rates.first(), rates.last())
        && rates.len() > 1
    {
        println!(
            "ratio: {:.0} entries/s at {} / {:.0} entries/s at {} = {:.2} (target >= 0.70)",
            large.1,
            large.0,
            small.1,
            small.0,
            large.1 / small.1
        );
    }
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .map(|n| {
                n.trim()
                    .replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: {n:?} is not a count"))
            })
            .collect(),
        Err(_) => default.to_vec(),
    }
}

/// When the archive ends and the new stream begins.
fn now() -> DateTime<Utc> {
    "2026-01-15T00:00:00Z".parse().unwrap()
}

fn feed_ids() -> Vec<String> {
    (0..FEEDS).map(|i| format!("feed-{i:03}")).collect()
}

struct Archive {
    path: PathBuf,
    /// How long filling took, when this run filled it.
    filled_in: Option<Duration>,
}

/// The database file of an archive of `size` entries: kept from an earlier run with the same
/// schema and the same stream, else filled now.
fn archive_file(dir: &Path, size: usize, refill: bool) -> Archive {
    let schema = Store::open_in_memory()
        .and_then(|s| s.schema_version())
        .expect("the schema version");
    let path = dir.join(format!(
        "archive-{size}-schema{schema}-stream{STREAM_VERSION}.db"
    ));
    if path.exists() && !refill {
        return Archive {
            path,
            filled_in: None,
        };
    }
    let partial = path.with_extension("filling");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    let began = Instant::now();
    fill_archive(&partial, size);
    let filled_in = began.elapsed();
    std::fs::rename(&partial, &path).expect("the archive is kept");
    Archive {
        path,
        filled_in: Some(filled_in),
    }
}

/// Fills an archive of `size` entries ending at [`now`], through [`Store::store_fetch`].
fn fill_archive(path: &Path, size: usize) {
    let mut store = Store::open(path).expect("the bench database opens");
    let feed_ids = feed_ids();
    let urls: Vec<String> = feed_ids
        .iter()
        .map(|id| format!("https://{id}.example/rss"))
        .collect();
    let start = now() - per_entry() * size as i32;
    store
        .sync_feeds(
            feed_ids.iter().zip(&urls).map(|(id, url)| FeedIdentity {
                id,
                url,
                fingerprint: id,
            }),
            start,
        )
        .unwrap();
    let settings = DedupSettings::default();
    // Its own story stream, so the new stream finds no old copies of itself. What the token
    // index still holds when the new stream starts is written like the new stream; what is
    // older, only as rows.
    let mut archive = Stream::new(0xA11CE, start, &feed_ids);
    let recent = size.min(RECENT_DAYS * ENTRIES_PER_DAY as usize);
    archive.filler = true;
    store_stream(
        &mut store,
        &mut archive,
        size - recent,
        FILL_BATCH,
        &settings,
    );
    archive.filler = false;
    store_stream(&mut store, &mut archive, recent, FILL_BATCH, &settings);
    // Dropping the store checkpoints the write-ahead log into the file.
}

fn per_entry() -> TimeDelta {
    TimeDelta::milliseconds(86_400_000 / ENTRIES_PER_DAY)
}

/// Stores `count` entries from `stream`, one feed's fetch of `batch` entries at a time; returns
/// how many joined another feed's story.
fn store_stream(
    store: &mut Store,
    stream: &mut Stream,
    count: usize,
    batch: usize,
    settings: &DedupSettings,
) -> usize {
    let mut folded = 0;
    let mut left = count;
    while left > 0 {
        let n = batch.min(left);
        let feed = stream.next_feed();
        let entries: Vec<NewEntry> = (0..n).map(|_| stream.entry(feed)).collect();
        let record = FetchRecord {
            at: stream.clock,
            next_fetch: None,
            permanent_redirect: None,
            outcome: FetchRecordOutcome::Fetched {
                etag: None,
                last_modified: None,
                title: stream.feeds[feed].clone(),
                site_link: None,
                format: "rss2".into(),
                warnings: Vec::new(),
            },
        };
        let counts = store
            .store_fetch(&stream.feeds[feed], &record, &entries, settings)
            .expect("the batch is stored");
        folded += counts.folded;
        left -= n;
    }
    folded
}

/// A deterministic stream of news entries, some republished by a second feed.
///
/// Headline and summary words follow a Zipf–Mandelbrot law over 20 000 words (the most common
/// of them as frequent as common content words in real headlines: in about 2% of titles),
/// with names drawn the same way. Filler entries, for the part of an archive older than the
/// title-token index keeps, get headlines of words no other headline has: they meet no
/// near-duplicate candidates, so they cost least to store, and once stored they are what an
/// old archive is, rows in the tables.
struct Stream {
    rng: SplitMix,
    clock: DateTime<Utc>,
    feeds: Vec<String>,
    seq: u64,
    words: Vocabulary,
    names: Vocabulary,
    filler: bool,
    /// Recent stories (feed, title, link, summary) that another feed may republish.
    recent: std::collections::VecDeque<(usize, String, String, String)>,
}

impl Stream {
    fn new(seed: u64, clock: DateTime<Utc>, feeds: &[String]) -> Stream {
        Stream {
            rng: SplitMix(seed),
            clock,
            feeds: feeds.to_vec(),
            seq: 0,
            words: Vocabulary::new(20_000, 100.0, 0x57A7),
            names: Vocabulary::new(3_000, 20.0, 0x4A3E),
            filler: false,
            recent: std::collections::VecDeque::new(),
        }
    }

    fn next_feed(&mut self) -> usize {
        self.rng.below(self.feeds.len() as u64) as usize
    }

    fn entry(&mut self, feed: usize) -> NewEntry {
        self.seq += 1;
        self.clock += per_entry();
        let feed_id = self.feeds[feed].clone();
        let own_link = format!("https://{feed_id}.example/news/{}", self.seq);
        let (title, link, summary) = match self.republishable(feed) {
            Some((title, link, summary)) => match self.rng.below(3) {
                0 => (
                    title,
                    format!("{link}?utm_source=rss&utm_medium=feed"),
                    summary,
                ),
                1 => {
                    let half = summary.len() / 2;
                    let cut = summary[..half].rfind(' ').unwrap_or(half);
                    (
                        format!("{title} - {}", capitalised(&feed_id)),
                        own_link,
                        format!("{}…", &summary[..cut]),
                    )
                }
                _ => (format!("Analysis: {title}"), own_link, summary),
            },
            None => {
                let title = if self.filler {
                    self.rare_title()
                } else {
                    self.sentence(7, 12, 2)
                };
                let summary = format!(
                    "{}. {}.",
                    self.sentence(14, 30, 2),
                    self.sentence(14, 30, 1)
                );
                self.recent
                    .push_back((feed, title.clone(), own_link.clone(), summary.clone()));
                if self.recent.len() > 300 {
                    self.recent.pop_front();
                }
                (title, own_link, summary)
            }
        };
        NewEntry {
            id: format!("{feed_id}-{}", self.seq),
            id_from_feed: true,
            title,
            link: Some(link),
            published: Some(self.clock),
            updated: None,
            summary: Some(summary),
            content: None,
            authors: Vec::new(),
        }
    }

    /// One time in [`REPUBLISHED_ONE_IN`], a recent story of another feed.
    fn republishable(&mut self, feed: usize) -> Option<(String, String, String)> {
        if self.recent.is_empty() || self.rng.below(REPUBLISHED_ONE_IN) != 0 {
            return None;
        }
        let i = self.rng.below(self.recent.len() as u64) as usize;
        let (from, title, link, summary) = &self.recent[i];
        (*from != feed).then(|| (title.clone(), link.clone(), summary.clone()))
    }

    /// `min..=max` words, up to `names` of them names, the first capitalised.
    fn sentence(&mut self, min: u64, max: u64, names: u64) -> String {
        let len = min + self.rng.below(max - min + 1);
        let mut words: Vec<String> = (0..len)
            .map(|_| self.words.pick(&mut self.rng).to_string())
            .collect();
        for _ in 0..self.rng.below(names + 1) {
            let at = self.rng.below(len) as usize;
            words[at] = capitalised(self.names.pick(&mut self.rng));
        }
        words[0] = capitalised(&words[0]);
        words.join(" ")
    }

    /// A headline of words no other headline uses: six letters each, counted up.
    fn rare_title(&mut self) -> String {
        let len = 7 + self.rng.below(6);
        let words: Vec<String> = (0..len)
            .map(|k| {
                let mut n = self.seq * 16 + k;
                (0..6)
                    .map(|_| {
                        let c = (b'a' + (n % 26) as u8) as char;
                        n /= 26;
                        c
                    })
                    .collect()
            })
            .collect();
        capitalised(&words.join(" "))
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Pseudo-words ranked by frequency, drawn with a Zipf–Mandelbrot law: rank r has weight
/// 1 / (r + offset), so the head is as flat as real content words once stopwords are gone.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(size: usize, offset: f64, seed: u64) -> Vocabulary {
        const SYLLABLES: [&str; 32] = [
            "ka", "ro", "min", "te", "sa", "lo", "ver", "na", "di", "gur", "po", "el", "tra",
            "sen", "mo", "ri", "bak", "u", "zan", "fe", "hol", "ma", "stri", "on", "ke", "lu",
            "var", "is", "dem", "to", "ny", "ash",
        ];
        let mut rng = SplitMix(seed);
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(size);
        while words.len() < size {
            let n = 2 + rng.below(3);
            let w: String = (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
                .collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..size)
            .map(|rank| {
                total += 1.0 / (rank as f64 + offset);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn pick(&self, rng: &mut SplitMix) -> &str {
        let total = *self.cumulative.last().unwrap();
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(self.words.len() - 1)]
    }
}

/// SplitMix64: small, fast and good enough to make the same stream on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
