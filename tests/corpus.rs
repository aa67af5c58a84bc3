//! Corpus conformance run: real-world feeds through Tributary's ingest and export paths.
//!
//! Every feed file listed in the shared corpus (`MANIFEST.tsv`: files collected from the test
//! suites of six public feed parsers) goes through the path a fetched feed takes:
//! [`process_document`] (decode → parse → clean), then, for every document that parses, the
//! merged Atom export ([`tributary::export::atom::render`]) over entries shaped as the store
//! would hand them back. The run **fails** when any file panics (anywhere: decoder, parser,
//! cleaner, exporter), hangs past [`TIMEOUT`], or yields an export that is not well-formed
//! XML 1.0. It **measures** how many of the expectations the corpus's sources state about their
//! files hold for Tributary, and writes that summary to stdout and
//! `target/conformance-summary.md` (see `docs/conformance.md` for the method).
//!
//! The corpus is found through `TRIBUTARY_CORPUS`, default `../shared/corpus` next to the
//! package; when it is absent the run is skipped.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use url::Url;

use tributary::clean::{collapse_whitespace, plain_text};
use tributary::config::OutputConfig;
use tributary::decode::{self, Decoded};
use tributary::dedup::{self, KeyMode};
use tributary::export::MergedFeed;
use tributary::model::{ParsedFeed, Related, StoredEntry};
use tributary::parse::{ParseContext, ParseError};
use tributary::refresh::{DocumentError, process_document};
use tributary::store::Cursor;

/// Longest one file may take through decode, parse, export and checks.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Body cap, as `fetch.max_body` defaults to (15 MiB).
const MAX_LEN: usize = 15 * 1024 * 1024;
/// Stack of each file's thread: the size of the daemon's blocking threads.
const STACK: usize = 2 * 1024 * 1024;
/// Base for relative links in files that carry no URL of their own.
const CORPUS_BASE: &str = "https://feeds.example/corpus/";
/// feedparser serves its test files from this address; its expectations resolve against it.
const FEEDPARSER_BASE: &str = "http://127.0.0.1:8097/";

/// The run's fixed "now", so dates are clamped the same way on every run.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

#[test]
fn corpus_conformance() {
    let Some(root) = corpus_root() else {
        return;
    };
    let rows = read_manifest(&root.join("MANIFEST.tsv"));
    assert!(!rows.is_empty(), "MANIFEST.tsv lists no files");
    let started = Instant::now();
    let reports = run_all(&root, rows);
    let elapsed = started.elapsed();

    let summary = render_summary(&root, &reports, elapsed);
    println!("{summary}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let out = target.join("conformance-summary.md");
    if let Err(e) = std::fs::create_dir_all(&target).and_then(|()| std::fs::write(&out, &summary)) {
        println!("could not write {}: {e}", out.display());
    } else {
        println!("summary written to {}", out.display());
    }

    let broken: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            let why = match (&r.outcome, &r.export) {
                (Outcome::Panic(m), _) => format!("panicked: {m}"),
                (Outcome::Hang, _) => format!("no result within {TIMEOUT:?}"),
                (_, Export::Broken(m)) => format!("export is not well-formed XML: {m}"),
                _ => return None,
            };
            Some(format!("  {}: {why}", r.row.path))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{} corpus file(s) broke the ingest or export path:\n{}",
        broken.len(),
        broken.join("\n")
    );

    // The gate: of the files whose source expectation can be checked, at least 95% meet it.
    let held = reports
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Held))
        .count();
    let evaluated = reports
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::NotEvaluated(_)))
        .count();
    assert!(evaluated > 0, "no corpus expectation was evaluated");
    assert!(
        held * 100 >= evaluated * MIN_HELD_PERCENT,
        "only {held} of {evaluated} evaluated corpus expectations hold (gate: \
         {MIN_HELD_PERCENT}%); see {}",
        out.display()
    );
}

/// The share of evaluated source expectations that must hold, in percent.
const MIN_HELD_PERCENT: usize = 95;

fn corpus_root() -> Option<PathBuf> {
    let root = std::env::var_os("TRIBUTARY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if root.join("MANIFEST.tsv").is_file() {
        Some(root)
    } else {
        println!(
            "corpus conformance skipped: no MANIFEST.tsv under {} (set TRIBUTARY_CORPUS)",
            root.display()
        );
        None
    }
}

/// One MANIFEST row (the columns the run uses).
#[derive(Debug, Clone)]
struct Row {
    /// Path under the corpus root.
    path: String,
    /// Path inside the source's repository.
    original_path: String,
    /// Sniffed format, e.g. `RSS 2.0`, `Atom 0.3`, `other XML <note>`.
    format: String,
    /// What the source's own tests assert (`-` when nothing).
    expected: String,
    /// Companion output file (`-` when none).
    expected_file: String,
}

impl Row {
    /// The corpus folder the file came from: `feedparser`, `feed-rs`, ….
    fn source(&self) -> &str {
        self.path.split('/').next().unwrap_or("")
    }
}

fn read_manifest(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("MANIFEST.tsv is readable UTF-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no {name} column"))
    };
    let (c_path, c_orig, c_format, c_expected, c_file) = (
        col("local_path"),
        col("original_path"),
        col("format"),
        col("expected_from_source"),
        col("expected_file"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or("-").trim().to_string();
            Row {
                path: cell(c_path),
                original_path: cell(c_orig),
                format: cell(c_format),
                expected: cell(c_expected),
                expected_file: cell(c_file),
            }
        })
        .collect()
}

/// Runs every file, a few at a time, each in its own thread under [`TIMEOUT`]. Reports come
/// back in MANIFEST order.
fn run_all(root: &Path, rows: Vec<Row>) -> Vec<FileReport> {
    let lanes = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let mut queues: Vec<Vec<(usize, Row)>> = vec![Vec::new(); lanes];
    for (i, row) in rows.into_iter().enumerate() {
        queues[i % lanes].push((i, row));
    }
    let mut reports: Vec<(usize, FileReport)> = std::thread::scope(|s| {
        let handles: Vec<_> = queues
            .into_iter()
            .map(|queue| {
                s.spawn(move || {
                    queue
                        .into_iter()
                        .map(|(i, row)| (i, run_guarded(root.to_path_buf(), row)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a corpus lane never panics itself"))
            .collect()
    });
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// One file in its own thread: a panic becomes [`Outcome::Panic`], no answer within
/// [`TIMEOUT`] becomes [`Outcome::Hang`] (the thread is left behind).
fn run_guarded(root: PathBuf, row: Row) -> FileReport {
    let (tx, rx) = mpsc::channel();
    let job_row = row.clone();
    let started = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("corpus {}", row.path))
        .stack_size(STACK)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| check_file(&root, &job_row)));
            let _ = tx.send(result.map_err(|p| panic_message(p.as_ref())));
        });
    let outcome = match spawned {
        Err(e) => Err(Outcome::Panic(format!("could not start a thread: {e}"))),
        Ok(_) => match rx.recv_timeout(TIMEOUT) {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(msg)) => Err(Outcome::Panic(msg)),
            Err(RecvTimeoutError::Timeout) => Err(Outcome::Hang),
            Err(RecvTimeoutError::Disconnected) => {
                Err(Outcome::Panic("thread ended without a result".into()))
            }
        },
    };
    match outcome {
        Ok(mut report) => {
            report.elapsed = started.elapsed();
            report
        }
        Err(outcome) => FileReport {
            row,
            outcome,
            export: Export::NotRun,
            verdict: Verdict::NotEvaluated("the file did not finish".into()),
            elapsed: started.elapsed(),
        },
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// What happened to one file.
#[derive(Debug)]
struct FileReport {
    row: Row,
    outcome: Outcome,
    export: Export,
    verdict: Verdict,
    elapsed: Duration,
}

#[derive(Debug)]
enum Outcome {
    Parsed {
        entries: usize,
        warnings: Vec<String>,
    },
    Error(String),
    Panic(String),
    Hang,
}

#[derive(Debug)]
enum Export {
    NotRun,
    WellFormed,
    Broken(String),
}

/// Whether the source's expectation for a file holds.
#[derive(Debug)]
enum Verdict {
    Held,
    Failed {
        /// What differs, for this file.
        reason: String,
        /// A short label shared by files failing the same way.
        category: String,
    },
    NotEvaluated(String),
}

fn failed(reason: impl Into<String>, category: impl Into<String>) -> Verdict {
    Verdict::Failed {
        reason: reason.into(),
        category: category.into(),
    }
}

/// Everything a check may look at for one file.
struct Facts<'a> {
    root: &'a Path,
    row: &'a Row,
    bytes: &'a [u8],
    result: &'a Result<ParsedFeed, DocumentError>,
    /// The decode stage on its own (for the detected encoding and the decoded text).
    decoded: Option<&'a Decoded>,
}

impl Facts<'_> {
    fn feed(&self) -> Option<&ParsedFeed> {
        self.result.as_ref().ok()
    }

    /// feedparser's "bozo": the document was refused, or was not well-formed and had to be
    /// mended (which Tributary always warns about). Reading an older or nonstandard but
    /// well-formed document (Atom 0.3, `<rss>` without a version) is warned about too, yet is
    /// not "bozo", as for feedparser.
    fn flagged(&self) -> bool {
        match self.result {
            Ok(f) => !f.well_formed,
            Err(_) => true,
        }
    }

    /// The standard failure when a feed that should parse did not.
    fn not_parsed(&self) -> Verdict {
        match self.result {
            Ok(_) => failed("parsed", "internal: expected a rejection"),
            Err(e) => failed(
                format!("rejected: {e}"),
                self.rejection_category(&e.to_string()),
            ),
        }
    }

    /// Groups a rejection by its visible cause: what the document's `<rss>` element lacks,
    /// else the error message with its particulars elided.
    fn rejection_category(&self, error: &str) -> String {
        let text = self.decoded.map_or("", |d| d.text.as_str());
        let cause = rss_shape(text).unwrap_or_else(|| message_class(error));
        format!("{}: rejected ({cause})", self.row.format)
    }

    /// Tributary dropped items for having nothing in them.
    fn dropped_items(&self) -> bool {
        self.feed()
            .is_some_and(|f| f.warnings.iter().any(|w| w.contains(DROPPED_ITEM)))
    }
}

/// The warning Tributary gives when it drops an item with nothing in it.
const DROPPED_ITEM: &str = tributary::parse::EMPTY_ITEM;
/// The category for files whose expectation fails because items were dropped.
const DROPPED_CATEGORY: &str = "empty items dropped";

/// What is unusual about a document's `<rss>` element, if it has one: no `version`, a version
/// other than 0.91/0.92/2.0, or no `<channel>`.
fn rss_shape(text: &str) -> Option<String> {
    let at = text.match_indices("<rss").map(|(i, _)| i).find(|&i| {
        text[i + 4..]
            .chars()
            .next()
            .is_some_and(|c| c.is_whitespace() || c == '>')
    })?;
    let tag = &text[at..text[at..].find('>').map_or(text.len(), |e| at + e)];
    let version = tag.split_once("version").and_then(|(_, rest)| {
        let rest = rest.trim_start().strip_prefix('=')?.trim_start();
        let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        rest[1..].split(q).next().map(str::to_string)
    });
    match version.as_deref() {
        None => Some("rss element without version".into()),
        Some(v) if !matches!(v, "0.91" | "0.92" | "2.0") => Some(format!("rss version {v}")),
        _ if !text[at..].contains("<channel") => Some("rss element without channel".into()),
        _ => None,
    }
}

/// The HTTP context a file is served with.
struct Served {
    content_type: Option<String>,
    base: Url,
    /// feedparser's `Expect:` expression, for feedparser files.
    expect: Option<String>,
}

fn check_file(root: &Path, row: &Row) -> FileReport {
    let bytes = match std::fs::read(root.join(&row.path)) {
        Ok(b) => b,
        Err(e) => {
            return FileReport {
                row: row.clone(),
                outcome: Outcome::Error(format!("cannot read the corpus file: {e}")),
                export: Export::NotRun,
                verdict: Verdict::NotEvaluated("file missing from the corpus".into()),
                elapsed: Duration::ZERO,
            };
        }
    };
    let served = served_context(row, &bytes);
    let ctx = ParseContext {
        base: Some(served.base.clone()),
        zone: chrono_tz::UTC,
        now: now(),
    };
    let result = process_document(&bytes, served.content_type.as_deref(), &ctx, MAX_LEN);
    let decoded = decode::decode(&bytes, served.content_type.as_deref(), MAX_LEN).ok();
    let outcome = match &result {
        Ok(feed) => Outcome::Parsed {
            entries: feed.entries.len(),
            warnings: feed.warnings.clone(),
        },
        Err(DocumentError::Parse(ParseError::Panicked(m))) => {
            Outcome::Panic(format!("inside the feed parser: {m}"))
        }
        Err(e) => Outcome::Error(e.to_string()),
    };
    let export = match &result {
        Ok(feed) => match well_formed(&export_atom(feed, row, &served.base)) {
            Ok(()) => Export::WellFormed,
            Err(e) => Export::Broken(e),
        },
        Err(_) => Export::NotRun,
    };
    let facts = Facts {
        root,
        row,
        bytes: &bytes,
        result: &result,
        decoded: decoded.as_ref(),
    };
    let verdict = verdict(&facts, &served);
    FileReport {
        row: row.clone(),
        outcome,
        export,
        verdict,
        elapsed: Duration::ZERO,
    }
}

/// The content type and base URL a file is served with. feedparser files name their HTTP
/// headers (`Header: Content-type: …`, `Header: Content-Location: …`) in a leading comment,
/// next to their `Expect:` line.
fn served_context(row: &Row, bytes: &[u8]) -> Served {
    let mut served = Served {
        content_type: None,
        base: Url::parse(CORPUS_BASE)
            .and_then(|b| b.join(&row.path))
            .expect("corpus base URL"),
        expect: None,
    };
    if row.source() != "feedparser" {
        return served;
    }
    if let Ok(u) = Url::parse(FEEDPARSER_BASE).and_then(|b| b.join(&row.original_path)) {
        served.base = u;
    }
    let fields = leading_comment_fields(bytes);
    for (key, value) in &fields {
        match key.as_str() {
            "Header" => {
                if let Some((name, v)) = value.split_once(':') {
                    let name = name.trim();
                    if name.eq_ignore_ascii_case("content-type") {
                        served.content_type = Some(v.trim().to_string());
                    } else if name.eq_ignore_ascii_case("content-location")
                        && let Ok(u) = Url::parse(v.trim())
                    {
                        served.base = u;
                    }
                }
            }
            "Expect" => served.expect = Some(value.clone()),
            _ => {}
        }
    }
    if served.expect.is_none()
        && let Some(e) = row.expected.strip_prefix("Expect:")
    {
        let e = e.split(" || (").next().unwrap_or(e);
        served.expect = Some(e.trim().to_string());
    }
    served
}

/// `Key: value` lines of the first comment in a feedparser test file. The comment is ASCII, so
/// UTF-16/UTF-32 files are read by dropping their NUL bytes.
fn leading_comment_fields(bytes: &[u8]) -> Vec<(String, String)> {
    let head = &bytes[..bytes.len().min(4096)];
    let narrowed: Vec<u8> = if head.iter().take(8).any(|b| *b == 0) {
        head.iter().copied().filter(|b| *b != 0).collect()
    } else {
        head.to_vec()
    };
    let text = String::from_utf8_lossy(&narrowed);
    let Some(start) = text.find("<!--") else {
        return Vec::new();
    };
    let body = &text[start + 4..];
    let body = &body[..body.find("-->").unwrap_or(body.len())];
    body.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            let k = k.trim();
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                .then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Export and well-formedness
// ---------------------------------------------------------------------------------------------

/// Renders the parsed entries as the merged Atom feed would carry them: keyed, identified and
/// dated as the store does it on first sight. Each entry also lists the next one as another
/// outlet's copy of the story, so the related links and the "also reported by" line are
/// exported with this feed's text in them.
fn export_atom(feed: &ParsedFeed, row: &Row, base: &Url) -> String {
    let feed_id: String = row
        .path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let feed_title = if feed.title.is_empty() {
        feed_id.clone()
    } else {
        feed.title.clone()
    };
    let mode = if dedup::guids_are_ambiguous(&feed.entries) {
        KeyMode::Link
    } else {
        KeyMode::Guid
    };
    let now = now();
    let mut seen = HashSet::new();
    let mut entries: Vec<StoredEntry> = Vec::with_capacity(feed.entries.len());
    for e in &feed.entries {
        let key = dedup::entry_key(e, mode);
        let uid = dedup::entry_uid(&feed_id, &key);
        if !seen.insert(key) {
            continue;
        }
        let text = e.content.as_deref().or(e.summary.as_deref()).unwrap_or("");
        entries.push(StoredEntry {
            rowid: i64::try_from(entries.len() + 1).unwrap_or(i64::MAX),
            feed_id: feed_id.clone(),
            uid,
            title: e.title.clone(),
            link: e.link.clone(),
            summary: e.summary.clone(),
            content: e.content.clone(),
            authors: e.authors.clone(),
            published: e.published,
            updated: e.updated.or(e.published).unwrap_or(now),
            first_seen: now,
            feed_title: feed_title.clone(),
            feed_url: base.to_string(),
            feed_link: feed.link.clone(),
            tags: vec![row.source().to_string()],
            cluster_id: i64::try_from(entries.len() + 1).unwrap_or(i64::MAX),
            related: Vec::new(),
            excerpt: tributary::parse::excerpt(&plain_text(text), 280),
        });
    }
    let n = entries.len();
    if n > 1 {
        for i in 0..n {
            let other = &entries[(i + 1) % n];
            let related = Related {
                entry_id: other.rowid,
                feed_id: format!("{feed_id}-mirror"),
                feed_title: format!("{feed_title} (mirror)"),
                title: other.title.clone(),
                link: other.link.clone(),
            };
            entries[i].related.push(related);
        }
    }
    let output = OutputConfig {
        name: "corpus".into(),
        title: format!("Tributary corpus run: {}", row.path),
        tags: Vec::new(),
        limit: entries.len().max(1),
        path: None,
    };
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(now);
    // A reader's filters and a next page, so the self and paging links are exported too.
    let next = entries.last().map(Cursor::after);
    let merged = MergedFeed {
        output: &output,
        entries,
        base_url: "http://127.0.0.1:8080",
        updated,
        query_string: format!("tag={}&q=%22caf%C3%A9%22", row.source()),
        next,
    };
    tributary::export::atom::render(&merged)
}

/// XML 1.0 `Char`, written out here so the check does not lean on the code it checks.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Well-formed XML 1.0: every character allowed, one root element, tags balanced, attributes
/// unique and their values and every reference resolvable without a DTD.
fn well_formed(doc: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    if let Some((at, c)) = doc.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(format!("character U+{:04X} at byte {at}", u32::from(c)));
    }
    let mut reader = quick_xml::Reader::from_str(doc);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
    }
    let mut depth = 0usize;
    let mut roots = 0usize;
    let attrs_ok = |e: &quick_xml::events::BytesStart<'_>| -> Result<(), String> {
        for a in e.attributes().with_checks(true) {
            let a = a.map_err(|e| format!("attribute: {e}"))?;
            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                .map_err(|e| format!("attribute value: {e}"))?;
        }
        Ok(())
    };
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("{e} near byte {at}"))?;
        match event {
            Event::Start(e) => {
                attrs_ok(&e)?;
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(e) => {
                attrs_ok(&e)?;
                if depth == 0 {
                    roots += 1;
                }
            }
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("end tag without start near byte {at}"))?;
            }
            Event::Text(t) => {
                let raw: &str = &t;
                if depth == 0 && !raw.trim().is_empty() {
                    return Err(format!("text outside the root element near byte {at}"));
                }
                if raw.contains("]]>") {
                    return Err(format!("']]>' in text near byte {at}"));
                }
            }
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => {}
                        _ => return Err(format!("bad character reference near byte {at}")),
                    }
                } else {
                    let name: &str = &r;
                    if !matches!(name, "lt" | "gt" | "amp" | "quot" | "apos") {
                        return Err(format!("undefined entity &{name}; near byte {at}"));
                    }
                }
                if depth == 0 {
                    return Err(format!("reference outside the root element near byte {at}"));
                }
            }
            Event::Decl(d) => {
                let version = d.version().map_err(|e| format!("XML declaration: {e}"))?;
                if version.as_ref() != "1.0" {
                    return Err("XML declaration is not version 1.0".into());
                }
            }
            Event::Eof => break,
            Event::CData(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if depth != 0 {
        return Err(format!("{depth} element(s) left open"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

/// Formats that are not feeds: Tributary must refuse them.
fn is_non_feed(format: &str) -> bool {
    format.starts_with("other XML")
        || format == "empty"
        || format.starts_with("HTML")
        || format.starts_with("JSON (not")
}

fn verdict(f: &Facts<'_>, served: &Served) -> Verdict {
    let row = f.row;
    match row.source() {
        "feedparser" => match &served.expect {
            Some(e) => feedparser_verdict(e, f),
            None => default_verdict(f),
        },
        "feed-rs" if row.expected_file != "-" => companion_verdict(f, Companion::FeedRs),
        "feed-rs" if row.expected.contains("is_err()") => flagged(f),
        "gofeed" if row.expected_file != "-" => companion_verdict(f, Companion::Gofeed),
        "gofeed" => gofeed_universal_verdict(f),
        "rss-parser" if row.expected_file != "-" => companion_verdict(f, Companion::RssParser),
        "miniflux" => miniflux_verdict(f),
        "feedvalidator" => feedvalidator_verdict(f),
        _ => default_verdict(f),
    }
}

/// No concrete assertion: a feed must parse, anything else must be refused.
fn default_verdict(f: &Facts<'_>) -> Verdict {
    if is_non_feed(&f.row.format) {
        rejected(f)
    } else {
        parses(f)
    }
}

fn parses(f: &Facts<'_>) -> Verdict {
    match f.result {
        Ok(_) => Verdict::Held,
        Err(_) => f.not_parsed(),
    }
}

/// A document that is not a feed (HTML page, other XML, empty, broken JSON) must be refused.
fn rejected(f: &Facts<'_>) -> Verdict {
    match f.result {
        Err(_) => Verdict::Held,
        Ok(feed) => failed(
            format!(
                "accepted as {} with {} entries",
                feed.format.as_str(),
                feed.entries.len()
            ),
            format!("non-feed accepted as a feed ({})", f.row.format),
        ),
    }
}

/// A broken feed must be refused, or accepted with a warning saying what was recovered.
fn flagged(f: &Facts<'_>) -> Verdict {
    if f.flagged() {
        Verdict::Held
    } else {
        failed(
            "broken document accepted without a warning",
            format!("broken document accepted silently ({})", f.row.format),
        )
    }
}

/// Normalizes an error or warning message into a class: digits and quoted parts elided.
fn message_class(msg: &str) -> String {
    let mut out = String::new();
    let mut in_quote = None;
    let mut last_digit = false;
    for c in msg.chars() {
        if let Some(q) = in_quote {
            if c == q {
                in_quote = None;
            }
            continue;
        }
        match c {
            '"' | '`' => {
                in_quote = Some(c);
                out.push('…');
            }
            d if d.is_ascii_digit() => {
                if !last_digit {
                    out.push('N');
                }
                last_digit = true;
                continue;
            }
            _ => out.push(c),
        }
        last_digit = false;
    }
    let out = collapse_whitespace(&out);
    if out.chars().count() > 90 {
        format!("{}…", out.chars().take(90).collect::<String>())
    } else {
        out
    }
}

/// Titles: ours are plain text, markup removed, whitespace collapsed. The source's title is
/// compared both as written and as plain text; U+FFFD in a source's output (bytes it could
/// not decode) matches any one character.
fn title_matches(ours: &str, expected: &str) -> bool {
    let ours = collapse_whitespace(ours);
    [plain_text(expected), collapse_whitespace(expected)]
        .iter()
        .any(|exp| wildcard_eq(&ours, exp))
}

fn wildcard_eq(ours: &str, expected: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (ours.chars().collect(), expected.chars().collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || *y == '\u{FFFD}')
}

// --- companion outputs (feed-rs, gofeed, rss-parser) ---

#[derive(Debug, Clone, Copy)]
enum Companion {
    /// feed-rs's serde dump: `title.content`, `entries[].title.content`.
    FeedRs,
    /// gofeed's JSON: `title`, `items[]`/`entries[]` `.title`.
    Gofeed,
    /// rss-parser's output: `feed.title`, `feed.items[].title`.
    RssParser,
}

/// Reads a companion JSON file; rss-parser wrote one in ISO-8859-1.
fn read_json(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn companion_titles(v: &Value, kind: Companion) -> (Option<String>, Vec<Option<String>>) {
    let text = |t: &Value| -> Option<String> {
        match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("content").and_then(Value::as_str).map(String::from),
            _ => None,
        }
    };
    let (feed, items) = match kind {
        Companion::FeedRs => (v, v.get("entries")),
        Companion::Gofeed => (v, v.get("items").or_else(|| v.get("entries"))),
        Companion::RssParser => {
            let feed = v.get("feed").unwrap_or(v);
            (feed, feed.get("items"))
        }
    };
    let title = feed.get("title").and_then(text);
    let items = items
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|i| i.get("title").and_then(text)).collect())
        .unwrap_or_default();
    (title, items)
}

/// Entry count, feed title and each entry's title as the source parser produced them.
fn companion_verdict(f: &Facts<'_>, kind: Companion) -> Verdict {
    let path = f.root.join(&f.row.expected_file);
    let v = match read_json(&path) {
        Ok(v) => v,
        Err(e) => return Verdict::NotEvaluated(format!("companion unreadable: {e}")),
    };
    let Some(feed) = f.feed() else {
        return f.not_parsed();
    };
    let (title, items) = companion_titles(&v, kind);
    let format = &f.row.format;
    if feed.entries.len() != items.len() {
        let category = if f.dropped_items() {
            DROPPED_CATEGORY.to_string()
        } else if feed.entries.is_empty() {
            format!("{format}: no entries where the source has some")
        } else {
            format!("{format}: entry count differs")
        };
        return failed(
            format!(
                "{} entries, the source has {}",
                feed.entries.len(),
                items.len()
            ),
            category,
        );
    }
    if let Some(t) = title.filter(|t| !t.trim().is_empty())
        && !title_matches(&feed.title, &t)
    {
        return failed(
            format!("feed title {:?}, the source has {:?}", feed.title, t.trim()),
            format!("{format}: feed title differs"),
        );
    }
    for (i, (ours, exp)) in feed.entries.iter().zip(&items).enumerate() {
        if let Some(exp) = exp.as_deref().filter(|t| !t.trim().is_empty())
            && !title_matches(&ours.title, exp)
        {
            return failed(
                format!(
                    "entry {} title {:?}, the source has {:?}",
                    i + 1,
                    ours.title,
                    collapse_whitespace(exp)
                ),
                format!("{format}: entry title differs"),
            );
        }
    }
    Verdict::Held
}

/// gofeed's universal parser test (`parser_test.go`, `TestParser_Parse`): feed title, or an
/// error for documents that are not feeds.
fn gofeed_universal_verdict(f: &Facts<'_>) -> Verdict {
    const TABLE: &[(&str, Option<&str>)] = &[
        ("atom03_feed.xml", Some("Feed Title")),
        ("atom10_feed.xml", Some("Feed Title")),
        ("rss_feed.xml", Some("Feed Title")),
        ("rss_feed_bom.xml", Some("Feed Title")),
        ("rss_feed_leading_spaces.xml", Some("Feed Title")),
        ("rdf_feed.xml", Some("Feed Title")),
        ("sample.json", Some("title")),
        ("json10_feed.json", Some("title")),
        ("json11_feed.json", Some("title")),
        ("unknown_feed.xml", None),
        ("empty_feed.xml", None),
        ("invalid.json", None),
    ];
    let name = f.row.path.rsplit('/').next().unwrap_or("");
    let in_universal = f.row.path.contains("/universal/");
    match TABLE.iter().find(|(n, _)| in_universal && *n == name) {
        Some((_, None)) => rejected(f),
        Some((_, Some(title))) => match f.feed() {
            None => f.not_parsed(),
            Some(feed) if title_matches(&feed.title, title) => Verdict::Held,
            Some(feed) => failed(
                format!("feed title {:?}, the source expects {title:?}", feed.title),
                format!("{}: feed title differs", f.row.format),
            ),
        },
        None => default_verdict(f),
    }
}

// --- miniflux ---

/// The quoted strings in a MANIFEST clause.
fn quoted(s: &str) -> Vec<String> {
    s.split('\'')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect::<Vec<_>>()
}

/// All the text a parsed feed carries (titles, summaries, content), as plain text.
fn feed_text(feed: &ParsedFeed) -> String {
    let mut s = feed.title.clone();
    for e in &feed.entries {
        for part in [Some(&e.title), e.summary.as_ref(), e.content.as_ref()]
            .into_iter()
            .flatten()
        {
            s.push('\n');
            s.push_str(&plain_text(part));
        }
    }
    s
}

/// miniflux asserts what its decoder produced (`decoded contains 'Café'`), the channel title,
/// and item counts. Text is looked for in what Tributary parsed; a field Tributary does not
/// keep (the channel description) is looked for in the decoded text.
fn miniflux_verdict(f: &Facts<'_>) -> Verdict {
    let exp = &f.row.expected;
    if exp.contains("not a feed") {
        return rejected(f);
    }
    if exp == "-" || exp.contains("no assertions") {
        return default_verdict(f);
    }
    let Some(feed) = f.feed() else {
        return f.not_parsed();
    };
    let haystack = feed_text(feed);
    let decoded = f.decoded.map(|d| d.text.as_str()).unwrap_or("");
    let format = &f.row.format;
    for clause in exp.split(';') {
        let strings = quoted(clause);
        if clause.contains("title ==") {
            if let Some(t) = strings.first()
                && !title_matches(&feed.title, t)
            {
                return failed(
                    format!("feed title {:?}, the source expects {t:?}", feed.title),
                    format!("{format}: feed title differs"),
                );
            }
        } else if clause.contains("description ==") {
            if let Some(t) = strings.first()
                && !decoded.contains(t.as_str())
            {
                return failed(
                    format!("decoded text lacks {t:?}"),
                    format!("{format}: text decoded wrongly"),
                );
            }
        } else if let Some(n) = clause
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1] == "items")
            .and_then(|w| w[0].parse::<usize>().ok())
        {
            if feed.entries.len() != n {
                return failed(
                    format!("{} entries, the source expects {n}", feed.entries.len()),
                    format!("{format}: entry count differs"),
                );
            }
        } else if clause.contains("contains")
            && let Some(missing) = strings.iter().find(|s| !haystack.contains(s.as_str()))
        {
            return failed(
                format!("parsed text lacks {missing:?}"),
                format!("{format}: text decoded wrongly"),
            );
        }
    }
    Verdict::Held
}

// --- feedvalidator ---

/// feedvalidator names the message it must (or, with `!`, must not) emit. Date messages about
/// entries become checks on the entry's date. Errors meaning the bytes are not well-formed XML
/// in their declared encoding (SAXError, UnicodeError, UnknownEncoding) mean the document must
/// be refused or recovered with a warning. Everything else (warnings, negated messages, and
/// conformance errors a reader can read past: XML 1.1, stray text, a non-UTF-8 podcast) means
/// the feed must parse.
fn feedvalidator_verdict(f: &Facts<'_>) -> Verdict {
    let exp = f.row.expected.trim_start_matches("Expect:").trim();
    let negated = exp.starts_with('!');
    let code = exp
        .trim_start_matches('!')
        .split(['{', ' '])
        .next()
        .unwrap_or("");
    let entry_level = exp.contains("parent:entry") || exp.contains("parent:item");
    let is_date = code.contains("Date");
    if is_date && entry_level {
        let valid =
            (code.starts_with("Valid") && !negated) || (code.starts_with("Invalid") && negated);
        if f.row.path.ends_with("everything.xml") {
            return described_dates_verdict(f);
        }
        return if valid {
            entry_date_as_written(f)
        } else {
            entry_kept(f)
        };
    }
    let document_error = matches!(code, "SAXError" | "UnicodeError" | "UnknownEncoding");
    if document_error && !negated {
        flagged(f)
    } else {
        parses(f)
    }
}

/// An entry whose date the validator calls invalid is still ingested (a reader is lenient).
fn entry_kept(f: &Facts<'_>) -> Verdict {
    match f.feed() {
        None => f.not_parsed(),
        Some(feed) if !feed.entries.is_empty() => Verdict::Held,
        Some(_) => failed(
            "entry with a malformed date dropped",
            format!("{}: entry with a malformed date dropped", f.row.format),
        ),
    }
}

/// A valid `<published>` date must come through as written.
fn entry_date_as_written(f: &Facts<'_>) -> Verdict {
    let Some(feed) = f.feed() else {
        return f.not_parsed();
    };
    let text = String::from_utf8_lossy(f.bytes);
    let raw = text
        .split("<published>")
        .nth(1)
        .and_then(|s| s.split("</published>").next())
        .map(str::trim);
    let Some(expected) = raw.and_then(|r| DateTime::parse_from_rfc3339(r).ok()) else {
        return Verdict::NotEvaluated("no RFC 3339 <published> found".into());
    };
    let expected = expected.with_timezone(&Utc).min(now());
    match feed.entries.first().and_then(|e| e.published) {
        Some(d) if d == expected => Verdict::Held,
        got => failed(
            format!("published {got:?}, the document says {}", raw.unwrap_or("")),
            format!("{}: valid date not read", f.row.format),
        ),
    }
}

/// feedvalidator's date torture feed: each item's description states the instant its
/// `pubDate` must give ("February, 9th 2006, 23:59:45 GMT", or a list of acceptable ones).
fn described_dates_verdict(f: &Facts<'_>) -> Verdict {
    let Some(feed) = f.feed() else {
        return f.not_parsed();
    };
    let text = String::from_utf8_lossy(f.bytes);
    let expected: Vec<Vec<DateTime<Utc>>> = text
        .split("<item>")
        .skip(1)
        .map(|item| {
            let desc = item
                .split("<description>")
                .nth(1)
                .and_then(|s| s.split("</description>").next())
                .unwrap_or("");
            stated_instants(desc)
        })
        .collect();
    if expected.iter().any(Vec::is_empty) {
        return Verdict::NotEvaluated("an item's description states no date".into());
    }
    if expected.len() != feed.entries.len() {
        return failed(
            format!(
                "{} entries, the document has {} items",
                feed.entries.len(),
                expected.len()
            ),
            format!("{}: entry count differs", f.row.format),
        );
    }
    let wrong: Vec<String> = feed
        .entries
        .iter()
        .zip(&expected)
        .enumerate()
        .filter(|(_, (e, allowed))| {
            !e.published
                .is_some_and(|d| allowed.iter().any(|a| (*a).min(now()) == d))
        })
        .map(|(i, (e, _))| {
            format!(
                "{} ({})",
                i + 1,
                e.published
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_else(|| "no date".into())
            )
        })
        .collect();
    if wrong.is_empty() {
        Verdict::Held
    } else {
        failed(
            format!(
                "{} of {} item dates missing or wrong: items {}",
                wrong.len(),
                expected.len(),
                wrong.join(", ")
            ),
            "RSS 2.0: RFC 822 date variants not read".to_string(),
        )
    }
}

/// Instants written as "February, 9th 2006, 23:59:45 GMT" in a text.
fn stated_instants(text: &str) -> Vec<DateTime<Utc>> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut out = Vec::new();
    for (m, name) in MONTHS.iter().enumerate() {
        for (at, _) in text.match_indices(name) {
            let toks: Vec<&str> = text[at..].split_whitespace().take(5).collect();
            let [_, day, year, time, zone] = toks.as_slice() else {
                continue;
            };
            let day: String = day.chars().take_while(char::is_ascii_digit).collect();
            let hms: Vec<u32> = time.split(':').filter_map(|p| p.parse().ok()).collect();
            let (Ok(day), Ok(year), [h, mi, s], true) = (
                day.parse::<u32>(),
                year.trim_end_matches(',').parse::<i32>(),
                hms.as_slice(),
                zone.starts_with("GMT"),
            ) else {
                continue;
            };
            if let Some(d) = Utc
                .with_ymd_and_hms(year, m as u32 + 1, day, *h, *mi, *s)
                .single()
            {
                out.push(d);
            }
        }
    }
    out
}

// --- feedparser ---

fn feedparser_verdict(expr: &str, f: &Facts<'_>) -> Verdict {
    let parsed = match py::parse(expr) {
        Ok(e) => e,
        Err(why) => return Verdict::NotEvaluated(why),
    };
    let facts = py::Env {
        feed: f.feed(),
        bozo: f.flagged(),
        encoding: f.decoded.map(|d| d.encoding),
    };
    if py::truthy(&py::eval(&parsed, &facts)) {
        return Verdict::Held;
    }
    let (reason, category) = py::explain(&parsed, &facts);
    let error = match f.result {
        Err(e) => Some(e.to_string()),
        Ok(_) => None,
    };
    let warning = f.feed().and_then(|feed| feed.warnings.first().cloned());
    let (reason, category) = match category {
        _ if f.dropped_items() => {
            let dropped = f
                .feed()
                .and_then(|feed| feed.warnings.iter().find(|w| w.contains(DROPPED_ITEM)))
                .cloned()
                .unwrap_or_default();
            (format!("{reason}: {dropped}"), DROPPED_CATEGORY.to_string())
        }
        py::Why::CleanFlagged => match (&error, warning) {
            (Some(e), _) => (format!("rejected: {e}"), f.rejection_category(e)),
            (None, Some(w)) => (
                format!("warning on a clean document: {w}"),
                format!("warning on a clean document: {}", message_class(&w)),
            ),
            (None, None) => (reason, "internal".into()),
        },
        py::Why::BrokenSilent => (
            reason,
            format!("broken document accepted silently ({})", f.row.format),
        ),
        py::Why::Field(what) if what.starts_with("encoding") => (reason, what),
        py::Why::Field(what) => match &error {
            Some(e) => (format!("rejected: {e}"), f.rejection_category(e)),
            None => (reason, format!("{}: {what}", f.row.format)),
        },
    };
    failed(reason, category)
}

/// A small evaluator for feedparser's `Expect:` expressions: the subset of Python they use
/// (`and`/`or`/`not`, chained `==`, subscripts, `ord`, `len`, string/number/tuple literals)
/// over the keys that map onto what Tributary keeps. An expression naming anything else
/// (`feed['updated']`, `tags`, `where`, `bozo_exception`, …) is reported as not evaluated.
mod py {
    use chrono::{DateTime, Datelike, Timelike, Utc};
    use tributary::clean::{collapse_whitespace, plain_text};
    use tributary::model::ParsedFeed;

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Name(String),
        Str(String),
        Int(i64),
        Float(f64),
        Sym(&'static str),
    }

    fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
        let cs: Vec<char> = s.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < cs.len() {
            let c = cs[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let prefixed = matches!(c, 'u' | 'U' | 'r' | 'R' | 'b')
                && matches!(cs.get(i + 1), Some('\'' | '"'));
            if prefixed || c == '\'' || c == '"' {
                let raw = prefixed && matches!(c, 'r' | 'R');
                if prefixed {
                    i += 1;
                }
                let (s, next) = string(&cs, i, raw)?;
                out.push(Tok::Str(s));
                i = next;
                continue;
            }
            if c.is_ascii_digit() || (c == '-' && cs.get(i + 1).is_some_and(char::is_ascii_digit)) {
                let start = i;
                i += 1;
                while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                    i += 1;
                }
                let lit: String = cs[start..i].iter().collect();
                out.push(if lit.contains('.') {
                    Tok::Float(lit.parse().map_err(|_| format!("bad number {lit}"))?)
                } else {
                    Tok::Int(lit.parse().map_err(|_| format!("bad number {lit}"))?)
                });
                continue;
            }
            if c.is_alphabetic() || c == '_' {
                let start = i;
                while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Name(cs[start..i].iter().collect()));
                continue;
            }
            let two: String = cs[i..cs.len().min(i + 2)].iter().collect();
            let sym = match two.as_str() {
                "==" => Some("=="),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(sym) = sym {
                out.push(Tok::Sym(sym));
                i += 2;
                continue;
            }
            let sym = match c {
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                '{' => "{",
                '}' => "}",
                ',' => ",",
                '.' => ".",
                '<' => "<",
                '>' => ">",
                _ => return Err(format!("unsupported character {c:?}")),
            };
            out.push(Tok::Sym(sym));
            i += 1;
        }
        Ok(out)
    }

    /// A Python string literal starting at `cs[at]` (the quote). Returns it and the index
    /// after its closing quote.
    fn string(cs: &[char], at: usize, raw: bool) -> Result<(String, usize), String> {
        let q = cs[at];
        let mut i = at + 1;
        let mut out = String::new();
        let hex = |from: usize, n: usize| -> Result<char, String> {
            let digits: String = cs
                .get(from..from + n)
                .ok_or("short escape")?
                .iter()
                .collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("bad escape {digits}"))
        };
        while i < cs.len() {
            let c = cs[i];
            if c == q {
                return Ok((out, i + 1));
            }
            if c == '\\' && !raw {
                let e = *cs.get(i + 1).ok_or("dangling backslash")?;
                i += 2;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '\'' | '"' => out.push(e),
                    'x' => {
                        out.push(hex(i, 2)?);
                        i += 2;
                    }
                    'u' => {
                        out.push(hex(i, 4)?);
                        i += 4;
                    }
                    'U' => {
                        out.push(hex(i, 8)?);
                        i += 8;
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            out.push(c);
            i += 1;
        }
        Err("unterminated string".into())
    }

    /// What a path into feedparser's result maps to in Tributary's parsed feed.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Field {
        Bozo,
        Encoding,
        Version,
        Entries,
        FeedTitle,
        FeedLink,
        Entry(usize, EntryField),
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum EntryField {
        Title,
        Link,
        Summary,
        Content,
        Id,
        Published,
        Updated,
    }

    #[derive(Debug, Clone)]
    pub enum Expr {
        Or(Vec<Expr>),
        And(Vec<Expr>),
        Not(Box<Expr>),
        Cmp(Vec<Expr>, Vec<bool>),
        Field(Field),
        Ord(Box<Expr>),
        Len(Box<Expr>),
        Int(i64),
        Float(f64),
        Str(String),
        Tuple(Vec<Expr>),
        Dict,
    }

    #[derive(Debug, Clone)]
    enum Step {
        Index(i64),
        Key(String),
    }

    struct Parser {
        toks: Vec<Tok>,
        at: usize,
    }

    /// Parses an expression; `Err` names the syntax or the key Tributary has no counterpart
    /// for.
    pub fn parse(src: &str) -> Result<Expr, String> {
        let mut p = Parser {
            toks: tokenize(src)?,
            at: 0,
        };
        let e = p.or()?;
        if p.at != p.toks.len() {
            return Err(format!("unsupported syntax near token {}", p.at));
        }
        Ok(e)
    }

    impl Parser {
        fn peek(&self) -> Option<&Tok> {
            self.toks.get(self.at)
        }

        fn eat_sym(&mut self, s: &str) -> bool {
            if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn eat_name(&mut self, n: &str) -> bool {
            if matches!(self.peek(), Some(Tok::Name(x)) if x == n) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn expect_sym(&mut self, s: &str) -> Result<(), String> {
            if self.eat_sym(s) {
                Ok(())
            } else {
                Err(format!("expected {s:?}"))
            }
        }

        fn or(&mut self) -> Result<Expr, String> {
            let mut parts = vec![self.and()?];
            while self.eat_name("or") {
                parts.push(self.and()?);
            }
            Ok(if parts.len() == 1 {
                parts.remove(0)
            } else {
                Expr::Or(parts)
            })
        }

        fn and(&mut self) -> Result<Expr, String> {
            let mut parts = vec![self.not()?];
            while self.eat_name("and") {
                parts.push(self.not()?);
            }
            Ok(if parts.len() == 1 {
                parts.remove(0)
            } else {
                Expr::And(parts)
            })
        }

        fn not(&mut self) -> Result<Expr, String> {
            if self.eat_name("not") {
                return Ok(Expr::Not(Box::new(self.not()?)));
            }
            self.cmp()
        }

        fn cmp(&mut self) -> Result<Expr, String> {
            let mut operands = vec![self.postfix()?];
            let mut equal = Vec::new();
            loop {
                if self.eat_sym("==") {
                    equal.push(true);
                } else if self.eat_sym("!=") {
                    equal.push(false);
                } else if matches!(self.peek(), Some(Tok::Sym("<" | ">"))) {
                    return Err("ordering comparisons are not supported".into());
                } else {
                    break;
                }
                operands.push(self.postfix()?);
            }
            Ok(if equal.is_empty() {
                operands.remove(0)
            } else {
                Expr::Cmp(operands, equal)
            })
        }

        fn postfix(&mut self) -> Result<Expr, String> {
            match self.peek().cloned() {
                Some(Tok::Name(name)) if !matches!(name.as_str(), "and" | "or" | "not") => {
                    self.at += 1;
                    if self.eat_sym("(") {
                        let arg = self.or()?;
                        while !self.eat_sym(")") {
                            self.expect_sym(",")?;
                            self.or()?;
                        }
                        return match name.as_str() {
                            "ord" => Ok(Expr::Ord(Box::new(arg))),
                            "len" => Ok(Expr::Len(Box::new(arg))),
                            other => Err(format!("{other}() has no counterpart")),
                        };
                    }
                    let mut steps = Vec::new();
                    loop {
                        if self.eat_sym("[") {
                            match self.peek().cloned() {
                                Some(Tok::Int(i)) => steps.push(Step::Index(i)),
                                Some(Tok::Str(k)) => steps.push(Step::Key(k)),
                                _ => return Err("unsupported subscript".into()),
                            }
                            self.at += 1;
                            self.expect_sym("]")?;
                        } else if self.eat_sym(".") {
                            let Some(Tok::Name(attr)) = self.peek().cloned() else {
                                return Err("expected an attribute name".into());
                            };
                            self.at += 1;
                            if self.eat_sym("(") {
                                let Some(Tok::Str(k)) = self.peek().cloned() else {
                                    return Err(format!(".{attr}() has no counterpart"));
                                };
                                self.at += 1;
                                self.expect_sym(")")?;
                                if attr != "get" {
                                    return Err(format!(".{attr}() has no counterpart"));
                                }
                                steps.push(Step::Key(k));
                            } else {
                                steps.push(Step::Key(attr));
                            }
                        } else {
                            break;
                        }
                    }
                    resolve(&name, &steps).map(Expr::Field)
                }
                Some(Tok::Str(s)) => {
                    self.at += 1;
                    Ok(Expr::Str(s))
                }
                Some(Tok::Int(i)) => {
                    self.at += 1;
                    Ok(Expr::Int(i))
                }
                Some(Tok::Float(x)) => {
                    self.at += 1;
                    Ok(Expr::Float(x))
                }
                Some(Tok::Sym("(")) => {
                    self.at += 1;
                    let mut items = vec![self.or()?];
                    let mut tuple = false;
                    while self.eat_sym(",") {
                        tuple = true;
                        if self.peek() == Some(&Tok::Sym(")")) {
                            break;
                        }
                        items.push(self.or()?);
                    }
                    self.expect_sym(")")?;
                    Ok(if tuple {
                        Expr::Tuple(items)
                    } else {
                        items.remove(0)
                    })
                }
                Some(Tok::Sym("{")) => {
                    self.at += 1;
                    self.expect_sym("}")?;
                    Ok(Expr::Dict)
                }
                other => Err(format!("unsupported syntax {other:?}")),
            }
        }
    }

    fn describe(name: &str, steps: &[Step]) -> String {
        let mut s = name.to_string();
        for st in steps {
            match st {
                Step::Index(i) => s.push_str(&format!("[{i}]")),
                Step::Key(k) => s.push_str(&format!("['{k}']")),
            }
        }
        s
    }

    fn resolve(name: &str, steps: &[Step]) -> Result<Field, String> {
        use Step::{Index, Key};
        let unsupported = || Err(format!("{} has no counterpart", describe(name, steps)));
        let field = match (name, steps) {
            ("bozo", []) => Field::Bozo,
            ("encoding", []) => Field::Encoding,
            ("version", []) => Field::Version,
            ("entries", []) => Field::Entries,
            ("feed", [Key(k), rest @ ..]) => match (k.as_str(), rest) {
                ("title", []) => Field::FeedTitle,
                ("link", []) => Field::FeedLink,
                ("links", [Index(0), Key(h)]) if h == "href" => Field::FeedLink,
                _ => return unsupported(),
            },
            ("entries", [Index(i), Key(k), rest @ ..]) => {
                let Ok(i) = usize::try_from(*i) else {
                    return unsupported();
                };
                let f = match (k.as_str(), rest) {
                    ("title", []) => EntryField::Title,
                    ("link", []) => EntryField::Link,
                    ("links", [Index(0), Key(h)]) if h == "href" => EntryField::Link,
                    ("summary" | "description", []) => EntryField::Summary,
                    ("content", [Index(0), Key(v)]) if v == "value" => EntryField::Content,
                    ("id", []) => EntryField::Id,
                    ("published" | "published_parsed", []) => EntryField::Published,
                    ("updated" | "updated_parsed", []) => EntryField::Updated,
                    _ => return unsupported(),
                };
                Field::Entry(i, f)
            }
            _ => return unsupported(),
        };
        Ok(field)
    }

    /// What the expression is evaluated against.
    pub struct Env<'a> {
        pub feed: Option<&'a ParsedFeed>,
        /// Refused, or accepted with a warning.
        pub bozo: bool,
        /// What the decode stage read the bytes as.
        pub encoding: Option<&'static str>,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Kind {
        Title,
        Html,
        Link,
        Exact,
    }

    #[derive(Debug, Clone)]
    pub enum Val {
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        Tuple(Vec<Val>),
        Dict,
        /// A key or index absent from the result (Python would raise: the test fails).
        Missing,
        Text(Kind, String),
        Date(DateTime<Utc>),
        Encoding(String),
        Version(&'static str),
    }

    pub fn truthy(v: &Val) -> bool {
        match v {
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(x) => *x != 0.0,
            Val::Str(s) | Val::Text(_, s) | Val::Encoding(s) => !s.is_empty(),
            Val::Tuple(t) => !t.is_empty(),
            Val::Dict | Val::Missing => false,
            Val::Date(_) | Val::Version(_) => true,
        }
    }

    fn field(f: Field, env: &Env<'_>) -> Val {
        let feed = env.feed;
        match f {
            Field::Bozo => Val::Bool(env.bozo),
            Field::Encoding => env
                .encoding
                .map(|e| Val::Encoding(e.to_string()))
                .unwrap_or(Val::Missing),
            Field::Version => feed
                .map(|f| Val::Version(f.format.as_str()))
                .unwrap_or(Val::Missing),
            Field::Entries => Val::Int(feed.map_or(0, |f| f.entries.len() as i64)),
            Field::FeedTitle => feed
                .map(|f| Val::Text(Kind::Title, f.title.clone()))
                .unwrap_or(Val::Missing),
            Field::FeedLink => feed
                .and_then(|f| f.link.clone())
                .map(|l| Val::Text(Kind::Link, l))
                .unwrap_or(Val::Missing),
            Field::Entry(i, ef) => {
                let Some(e) = feed.and_then(|f| f.entries.get(i)) else {
                    return Val::Missing;
                };
                let text = |k: Kind, s: Option<&String>| {
                    s.map(|s| Val::Text(k, s.clone())).unwrap_or(Val::Missing)
                };
                match ef {
                    EntryField::Title => Val::Text(Kind::Title, e.title.clone()),
                    EntryField::Link => text(Kind::Link, e.link.as_ref()),
                    EntryField::Summary => {
                        text(Kind::Html, e.summary.as_ref().or(e.content.as_ref()))
                    }
                    EntryField::Content => {
                        text(Kind::Html, e.content.as_ref().or(e.summary.as_ref()))
                    }
                    EntryField::Id => Val::Text(Kind::Exact, e.id.clone()),
                    EntryField::Published => e.published.map(Val::Date).unwrap_or(Val::Missing),
                    EntryField::Updated => e
                        .updated
                        .or(e.published)
                        .map(Val::Date)
                        .unwrap_or(Val::Missing),
                }
            }
        }
    }

    pub fn eval(e: &Expr, env: &Env<'_>) -> Val {
        match e {
            Expr::Or(parts) => {
                let mut last = Val::Bool(false);
                for p in parts {
                    last = eval(p, env);
                    if truthy(&last) {
                        break;
                    }
                }
                last
            }
            Expr::And(parts) => {
                let mut last = Val::Bool(true);
                for p in parts {
                    last = eval(p, env);
                    if !truthy(&last) {
                        break;
                    }
                }
                last
            }
            Expr::Not(x) => Val::Bool(!truthy(&eval(x, env))),
            Expr::Cmp(operands, equal) => {
                let vals: Vec<Val> = operands.iter().map(|o| eval(o, env)).collect();
                Val::Bool(
                    vals.windows(2)
                        .zip(equal)
                        .all(|(w, want)| eq(&w[0], &w[1]) == *want),
                )
            }
            Expr::Field(f) => field(*f, env),
            Expr::Ord(x) => match eval(x, env) {
                Val::Text(_, s) | Val::Str(s) => {
                    let text = plain_text(&s);
                    let mut cs = text.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => Val::Int(i64::from(u32::from(c))),
                        _ => Val::Missing,
                    }
                }
                _ => Val::Missing,
            },
            Expr::Len(x) => match (x.as_ref(), eval(x, env)) {
                (Expr::Field(Field::Entries), v) => v,
                (_, Val::Str(s) | Val::Text(_, s)) => Val::Int(s.chars().count() as i64),
                (_, Val::Tuple(t)) => Val::Int(t.len() as i64),
                _ => Val::Missing,
            },
            Expr::Int(i) => Val::Int(*i),
            Expr::Float(x) => Val::Float(*x),
            Expr::Str(s) => Val::Str(s.clone()),
            Expr::Tuple(items) => Val::Tuple(items.iter().map(|i| eval(i, env)).collect()),
            Expr::Dict => Val::Dict,
        }
    }

    fn eq(a: &Val, b: &Val) -> bool {
        match (a, b) {
            (Val::Missing, _) | (_, Val::Missing) => false,
            (Val::Text(k, ours), Val::Str(exp)) | (Val::Str(exp), Val::Text(k, ours)) => {
                text_eq(*k, ours, exp)
            }
            (Val::Text(_, x), Val::Text(_, y)) => x == y,
            (Val::Date(d), Val::Str(s)) | (Val::Str(s), Val::Date(d)) => {
                parse_date(s).is_some_and(|x| x == *d)
            }
            (Val::Date(d), Val::Tuple(t)) | (Val::Tuple(t), Val::Date(d)) => tuple_eq(d, t),
            (Val::Encoding(ours), Val::Str(exp)) | (Val::Str(exp), Val::Encoding(ours)) => {
                encoding_eq(ours, exp)
            }
            (Val::Version(ours), Val::Str(exp)) | (Val::Str(exp), Val::Version(ours)) => {
                version_eq(ours, exp)
            }
            (Val::Int(x), Val::Int(y)) => x == y,
            (Val::Float(x), Val::Float(y)) => x == y,
            (Val::Int(x), Val::Float(y)) | (Val::Float(y), Val::Int(x)) => *x as f64 == *y,
            (Val::Str(x), Val::Str(y)) => x == y,
            (Val::Bool(x), Val::Bool(y)) => x == y,
            (Val::Tuple(x), Val::Tuple(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
            }
            (Val::Dict, Val::Dict) => true,
            _ => false,
        }
    }

    /// HTML compared after a canonical serialization (entities, quoting, void elements).
    fn canonical_html(s: &str) -> String {
        let frag = scraper::Html::parse_fragment(s);
        collapse_whitespace(&frag.root_element().inner_html())
    }

    fn text_eq(kind: Kind, ours: &str, exp: &str) -> bool {
        match kind {
            Kind::Title => super::title_matches(ours, exp),
            Kind::Html => canonical_html(ours) == canonical_html(exp),
            Kind::Link => match (url::Url::parse(ours), url::Url::parse(exp)) {
                (Ok(a), Ok(b)) => a == b,
                _ => ours == exp,
            },
            Kind::Exact => ours.trim() == exp,
        }
    }

    fn parse_date(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc2822(s)
            .or_else(|_| DateTime::parse_from_rfc3339(s))
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// `time.struct_time` as a tuple: year, month, day, hour, minute, second, … (UTC).
    fn tuple_eq(d: &DateTime<Utc>, t: &[Val]) -> bool {
        let want = [
            i64::from(d.year()),
            i64::from(d.month()),
            i64::from(d.day()),
            i64::from(d.hour()),
            i64::from(d.minute()),
            i64::from(d.second()),
        ];
        t.len() >= 6
            && want
                .iter()
                .zip(t)
                .all(|(w, v)| matches!(v, Val::Int(x) if x == w))
    }

    /// Encodings compared by what the label means (WHATWG label resolution, plus UTF-32).
    fn encoding_eq(ours: &str, exp: &str) -> bool {
        let e = exp.trim().to_ascii_lowercase();
        if e.starts_with("utf-32") || e.starts_with("utf32") {
            return ours.eq_ignore_ascii_case(&e.replace("utf32", "utf-32"));
        }
        // encoding_rs reads GBK with its gb18030 decoder: the two names decode alike.
        let alike = |name: &str| match name.to_ascii_lowercase().as_str() {
            "gbk" => "gb18030".to_string(),
            other => other.to_string(),
        };
        match encoding_rs::Encoding::for_label(e.as_bytes()) {
            Some(enc) => alike(enc.name()) == alike(ours),
            None => alike(ours) == alike(&e),
        }
    }

    /// feedparser's version names against Tributary's formats.
    fn version_eq(ours: &str, exp: &str) -> bool {
        let accepted: &[&str] = match exp {
            "rss10" => &["rss1"],
            "rss090" => &["rss0", "rss1"],
            "rss091u" | "rss091n" | "rss091" | "rss092" | "rss093" | "rss094" => &["rss0"],
            "rss20" => &["rss2"],
            "rss" => &["rss0", "rss1", "rss2"],
            "atom10" => &["atom"],
            "atom03" => &["atom03"],
            "atom" => &["atom", "atom03"],
            "json1" | "json11" => &["json"],
            _ => &[],
        };
        accepted.contains(&ours)
    }

    /// Why an expectation failed, for grouping.
    pub enum Why {
        /// `not bozo` failed: the document was refused or given a warning.
        CleanFlagged,
        /// `bozo` failed: a broken document went through without a warning.
        BrokenSilent,
        /// A value differs or is missing.
        Field(String),
    }

    fn field_name(f: Field) -> &'static str {
        match f {
            Field::Bozo => "bozo",
            Field::Encoding => "encoding differs",
            Field::Version => "format differs",
            Field::Entries => "entry count differs",
            Field::FeedTitle => "feed title differs",
            Field::FeedLink => "feed link differs",
            Field::Entry(_, ef) => match ef {
                EntryField::Title => "entry title differs",
                EntryField::Link => "entry link differs",
                EntryField::Summary => "entry summary differs",
                EntryField::Content => "entry content differs",
                EntryField::Id => "entry id differs",
                EntryField::Published => "entry published date differs",
                EntryField::Updated => "entry updated date differs",
            },
        }
    }

    fn first_field(e: &Expr) -> Option<Field> {
        match e {
            Expr::Field(f) => Some(*f),
            Expr::Cmp(ops, _) => ops.iter().find_map(first_field),
            Expr::Ord(x) | Expr::Len(x) | Expr::Not(x) => first_field(x),
            _ => None,
        }
    }

    fn show(v: &Val) -> String {
        match v {
            Val::Text(_, s) | Val::Str(s) | Val::Encoding(s) => format!("{s:?}"),
            Val::Date(d) => d.to_rfc3339(),
            Val::Version(s) => (*s).to_string(),
            Val::Missing => "missing".into(),
            other => format!("{other:?}"),
        }
    }

    /// The first failing clause of a false expression, described.
    pub fn explain(e: &Expr, env: &Env<'_>) -> (String, Why) {
        match e {
            Expr::And(parts) => parts
                .iter()
                .find(|p| !truthy(&eval(p, env)))
                .map(|p| explain(p, env))
                .unwrap_or_else(|| ("false".into(), Why::Field("expression false".into()))),
            Expr::Not(x) if matches!(x.as_ref(), Expr::Field(Field::Bozo)) => {
                ("not bozo: refused or warned".into(), Why::CleanFlagged)
            }
            Expr::Field(Field::Bozo) => ("bozo: no error and no warning".into(), Why::BrokenSilent),
            Expr::Cmp(ops, _) => {
                let vals: Vec<String> = ops
                    .iter()
                    .map(|o| match (o, eval(o, env)) {
                        (Expr::Ord(x), Val::Missing) => format!("ord({})", show(&eval(x, env))),
                        (_, v) => show(&v),
                    })
                    .collect();
                let what = first_field(e).map_or("value differs", field_name);
                let what = if what == "encoding differs" {
                    let exp = ops.iter().find_map(|o| match o {
                        Expr::Str(s) => Some(s.clone()),
                        _ => None,
                    });
                    let ours = ops
                        .iter()
                        .find(|o| matches!(o, Expr::Field(Field::Encoding)))
                        .map(|o| show(&eval(o, env)))
                        .unwrap_or_default();
                    format!(
                        "encoding differs (source {}, ours {})",
                        exp.unwrap_or_default(),
                        ours.trim_matches('"')
                    )
                } else {
                    what.to_string()
                };
                (
                    format!("{} ({})", what, vals.join(" vs ")),
                    Why::Field(what),
                )
            }
            Expr::Or(parts) => parts
                .last()
                .map(|p| explain(p, env))
                .unwrap_or_else(|| ("false".into(), Why::Field("expression false".into()))),
            other => (
                format!("{other:?} is false"),
                Why::Field(
                    first_field(other)
                        .map_or("value differs", field_name)
                        .into(),
                ),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct Tally {
    files: usize,
    parsed: usize,
    errors: usize,
    held: usize,
    evaluated: usize,
    not_evaluated: usize,
    panics: usize,
    hangs: usize,
    broken_exports: usize,
}

impl Tally {
    fn add(&mut self, r: &FileReport) {
        self.files += 1;
        match &r.outcome {
            Outcome::Parsed { .. } => self.parsed += 1,
            Outcome::Error(_) => self.errors += 1,
            Outcome::Panic(_) => self.panics += 1,
            Outcome::Hang => self.hangs += 1,
        }
        if matches!(r.export, Export::Broken(_)) {
            self.broken_exports += 1;
        }
        match &r.verdict {
            Verdict::Held => {
                self.held += 1;
                self.evaluated += 1;
            }
            Verdict::Failed { .. } => self.evaluated += 1,
            Verdict::NotEvaluated(_) => self.not_evaluated += 1,
        }
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {} | {} / {} | {} | {} | {} | {} |",
            self.files,
            self.parsed,
            self.errors,
            self.held,
            self.evaluated,
            self.not_evaluated,
            self.panics,
            self.hangs,
            self.broken_exports
        )
    }
}

fn render_summary(root: &Path, reports: &[FileReport], elapsed: Duration) -> String {
    let mut by_source: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for r in reports {
        by_source.entry(r.row.source()).or_default().add(r);
        total.add(r);
    }
    let mut s = String::new();
    let _ = writeln!(s, "# Tributary corpus conformance summary\n");
    let _ = writeln!(
        s,
        "Corpus: `{}`, {} files, {:.1} s.\n",
        root.display(),
        reports.len(),
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "| source | files | parsed OK | errors | expectations held / evaluated | not evaluated | panics | hangs | export not well-formed |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, t) in &by_source {
        let _ = writeln!(s, "{}", t.row(name));
    }
    let _ = writeln!(s, "{}", total.row("**total**"));

    let mut categories: BTreeMap<&str, Vec<&FileReport>> = BTreeMap::new();
    for r in reports {
        if let Verdict::Failed { category, .. } = &r.verdict {
            categories.entry(category.as_str()).or_default().push(r);
        }
    }
    let mut ranked: Vec<(&str, Vec<&FileReport>)> = categories.into_iter().collect();
    ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let _ = writeln!(s, "\n## Failure categories (expectation not held)\n");
    let _ = writeln!(s, "| files | category | example |");
    let _ = writeln!(s, "|---:|---|---|");
    for (cat, files) in &ranked {
        let _ = writeln!(
            s,
            "| {} | {} | `{}` |",
            files.len(),
            cat.replace('|', "\\|"),
            files[0].row.path
        );
    }

    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for r in reports {
        if let Outcome::Error(e) = &r.outcome {
            *errors.entry(message_class(e)).or_default() += 1;
        }
    }
    let mut errors: Vec<_> = errors.into_iter().collect();
    errors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = writeln!(s, "\n## Errors by message (all files, expected or not)\n");
    for (e, n) in errors {
        let _ = writeln!(s, "- {n} × {e}");
    }

    let problems: Vec<String> = reports
        .iter()
        .filter_map(|r| match (&r.outcome, &r.export) {
            (Outcome::Panic(m), _) => Some(format!("- `{}`: panic: {m}", r.row.path)),
            (Outcome::Hang, _) => Some(format!("- `{}`: hang", r.row.path)),
            (_, Export::Broken(m)) => {
                Some(format!("- `{}`: export not well-formed: {m}", r.row.path))
            }
            _ => None,
        })
        .collect();
    let _ = writeln!(
        s,
        "\n## Panics, hangs, broken exports: {}\n",
        problems.len()
    );
    for p in &problems {
        let _ = writeln!(s, "{p}");
    }

    let _ = writeln!(s, "\n## Files whose expectation does not hold\n");
    for r in reports {
        if let Verdict::Failed { reason, .. } = &r.verdict {
            let _ = writeln!(s, "- `{}`: {}", r.row.path, one_line(reason));
        }
    }
    let _ = writeln!(s, "\n## All files\n");
    let _ = writeln!(s, "| file | outcome | expectation |");
    let _ = writeln!(s, "|---|---|---|");
    for r in reports {
        let outcome = match &r.outcome {
            Outcome::Parsed { entries, warnings } if warnings.is_empty() => {
                format!("{entries} entries")
            }
            Outcome::Parsed { entries, warnings } => {
                format!("{entries} entries, {} warning(s)", warnings.len())
            }
            Outcome::Error(_) => "error".into(),
            Outcome::Panic(_) => "PANIC".into(),
            Outcome::Hang => "HANG".into(),
        };
        let verdict = match &r.verdict {
            Verdict::Held => "held",
            Verdict::Failed { .. } => "not held",
            Verdict::NotEvaluated(_) => "not evaluated",
        };
        let _ = writeln!(s, "| `{}` | {outcome} | {verdict} |", r.row.path);
    }
    let _ = writeln!(s, "\n## Not evaluated\n");
    for r in reports {
        if let Verdict::NotEvaluated(why) = &r.verdict {
            let _ = writeln!(s, "- `{}`: {}", r.row.path, one_line(why));
        }
    }
    let _ = writeln!(
        s,
        "\n## Warnings Tributary reported (documents that parsed)\n"
    );
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    for r in reports {
        if let Outcome::Parsed { warnings: w, .. } = &r.outcome {
            for w in w {
                *warnings.entry(message_class(w)).or_default() += 1;
            }
        }
    }
    let mut warnings: Vec<_> = warnings.into_iter().collect();
    warnings.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (w, n) in warnings {
        let _ = writeln!(s, "- {n} × {w}");
    }
    let mut slow: Vec<&FileReport> = reports.iter().collect();
    slow.sort_by_key(|r| std::cmp::Reverse(r.elapsed));
    let _ = writeln!(s, "\n## Slowest files\n");
    for r in slow.iter().take(5) {
        let entries = match &r.outcome {
            Outcome::Parsed { entries, .. } => format!("{entries} entries"),
            _ => "not parsed".into(),
        };
        let _ = writeln!(
            s,
            "- `{}`: {} ms ({entries})",
            r.row.path,
            r.elapsed.as_millis()
        );
    }
    s
}

fn one_line(s: &str) -> String {
    let s = collapse_whitespace(s);
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The harness's own helpers
// ---------------------------------------------------------------------------------------------

#[test]
fn feedparser_expressions_parse_and_evaluate() {
    use tributary::model::{FeedFormat, NewEntry};
    let feed = ParsedFeed {
        format: FeedFormat::Rss2,
        title: "it's correct".into(),
        link: Some("https://example.com/".into()),
        entries: vec![NewEntry {
            id: "http://www.example.org/Thing".into(),
            id_from_feed: true,
            title: "Example Atom".into(),
            link: Some("http://example.com/1".into()),
            published: Some(Utc.with_ymd_and_hms(2004, 1, 1, 19, 48, 21).unwrap()),
            updated: None,
            summary: Some("<img alt=\"\u{b144}\">".into()),
            content: Some("\u{2026}".into()),
            authors: Vec::new(),
        }],
        warnings: Vec::new(),
        well_formed: true,
        ttl_minutes: None,
    };
    let env = py::Env {
        feed: Some(&feed),
        bozo: false,
        encoding: Some("windows-1252"),
    };
    let holds = |src: &str| py::truthy(&py::eval(&py::parse(src).unwrap(), &env));
    assert!(holds(
        "not bozo and feed['title'] == 'it&apos;s correct' or feed['title'] == \"it's correct\""
    ));
    assert!(holds(
        "not bozo and entries[0]['title'] == u'Example <b>Atom</b>'"
    ));
    assert!(holds(
        "entries[0]['description'] == '<img alt=\"\\ub144\" />'"
    ));
    assert!(holds("ord(entries[0]['content'][0]['value']) == 8230"));
    assert!(holds(
        "entries[0]['published'] == 'Thu, 01 Jan 2004 19:48:21 GMT'"
    ));
    assert!(holds(
        "entries[0]['published_parsed'] == (2004, 1, 1, 19, 48, 21, 3, 1, 0)"
    ));
    assert!(holds(
        "encoding == 'iso-8859-1' and encoding == 'us-ascii' and version == 'rss20'"
    ));
    assert!(holds(
        "entries[0].link == entries[0]['links'][0]['href'] == 'http://example.com/1'"
    ));
    assert!(holds("len(entries) == 1 and 1"));
    assert!(!holds("bozo"));
    assert!(!holds("entries[1]['title'] == 'Example Atom'"));
    assert!(!holds("entries[0]['id'] == 'http://www.example.org/thing'"));
    assert!(py::parse("entries[0]['where']['type'] == 'Point'").is_err());
    assert!(py::parse("bozo and isinstance(bozo_exception, feedparser.X)").is_err());
}

#[test]
fn stated_dates_are_read() {
    let one = stated_instants("The date on this item should be February, 9th 2006, 23:59:45 GMT.");
    assert_eq!(
        one,
        vec![Utc.with_ymd_and_hms(2006, 2, 9, 23, 59, 45).unwrap()]
    );
    let list = stated_instants(
        "one of: &lt;li>February, 9th 2006, 23:59:45 GMT&lt;/li> &lt;li>February, 10th 2006, 07:59:45 GMT&lt;/li>",
    );
    assert_eq!(list.len(), 2);
}

#[test]
fn well_formedness_check_catches_what_xml_forbids() {
    assert!(well_formed("<?xml version=\"1.0\"?><feed a=\"1\">x &amp; &#233;</feed>").is_ok());
    for bad in [
        "<feed>\u{1}</feed>",
        "<feed><a></feed>",
        "<feed>&nbsp;</feed>",
        "<feed>&#0;</feed>",
        "<feed a=\"1\" a=\"2\"/>",
        "<feed/><feed/>",
        "<feed>x",
        "<feed a=\"&bogus;\"/>",
    ] {
        assert!(well_formed(bad).is_err(), "{bad:?} passed");
    }
}

#[test]
fn rss_shape_names_what_the_element_lacks() {
    assert_eq!(
        rss_shape("<rss>\n<channel>").as_deref(),
        Some("rss element without version")
    );
    assert_eq!(
        rss_shape("<rss version='0.94'><channel>").as_deref(),
        Some("rss version 0.94")
    );
    assert_eq!(
        rss_shape("<rss version=\"2.0\">\n</rss>").as_deref(),
        Some("rss element without channel")
    );
    assert_eq!(rss_shape("<rss version=\"2.0\"><channel>"), None);
    assert_eq!(rss_shape("<rdf:RDF><rss:channel>"), None);
}
