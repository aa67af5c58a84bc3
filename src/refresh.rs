//! The pipeline for one feed: fetch → decode → parse → clean → store.
//!
//! [`Refresher::refresh_feed`] is the one pipeline; [`Refresher::run_cycle`] runs it over many
//! feeds with bounded concurrency, then applies retention and rewrites the file outputs. Both
//! `tributary fetch` (cron) and `tributary run` (daemon) call that. One feed's failure is
//! recorded on its row and never stops the others. Each feed's entries and fetch record are
//! written together, all or nothing; feeds ready at the same time share a transaction (see
//! [`crate::group_commit`]).
//!
//! HTTP outcomes are decided here: 410 marks a feed gone (not fetched again until its entry in
//! `feeds.toml` changes); 429 and 503 honour `Retry-After`, and a 429 holds back every feed on
//! the same host; other failures back off (see [`crate::schedule`]); permanent redirects move
//! the feed's effective URL after three fetches in a row.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use url::Url;

use crate::config::{Config, FeedConfig, FeedsFile, SourceKind};
use crate::decode;
use crate::fetch::{FetchError, FetchOutcome, FetchRequest, Fetcher, ResponseMeta, host_key};
use crate::group_commit::GroupWriter;
use crate::metrics::Metrics;
use crate::model::{FeedRecord, FeedState, ParsedFeed, RefreshReport};
use crate::parse::{self, ParseContext, ParseError};
use crate::schedule::{FeedSchedule, NextFetch, auto_interval};
use crate::store::{
    DedupSettings, FeedIdentity, FetchRecord, FetchRecordOutcome, PreparedBatch, Store, StoreError,
};

/// Why a document could not be turned into entries.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    // Transparent: the message is the inner error's, said once even where a caller prints the
    // whole chain of causes.
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Html(#[from] crate::parse::html_source::HtmlSourceError),
}

/// decode → parse (a feed document, or a web page read with the feed's selectors) → clean.
pub fn read_source(
    source: &SourceKind,
    bytes: &[u8],
    content_type: Option<&str>,
    ctx: &ParseContext,
    max_len: usize,
) -> Result<ParsedFeed, DocumentError> {
    match source {
        SourceKind::Feed => process_document(bytes, content_type, ctx, max_len),
        SourceKind::Html(html) => {
            let decoded = decode::decode(bytes, content_type, max_len)?;
            let base = ctx
                .base
                .clone()
                .ok_or_else(|| ParseError::Invalid("a web page needs its address".into()))?;
            let mut feed = crate::parse::html_source::parse_html_source(
                &decoded.text,
                html,
                &base,
                ctx.zone,
                ctx.now,
            )?;
            let mut warnings = decoded.warnings;
            warnings.append(&mut feed.warnings);
            feed.warnings = warnings;
            Ok(feed)
        }
    }
}

/// decode → parse → clean, for bytes from anywhere (HTTP, a file): what `preview` shows and
/// what refresh stores.
pub fn process_document(
    bytes: &[u8],
    content_type: Option<&str>,
    ctx: &ParseContext,
    max_len: usize,
) -> Result<ParsedFeed, DocumentError> {
    let decoded = decode::decode(bytes, content_type, max_len)?;
    let mut feed = parse::parse_feed(&decoded.text, ctx)?;
    // Every decoding recovery means bytes that were not what they claimed to be.
    feed.well_formed &= decoded.warnings.is_empty();
    let mut warnings = decoded.warnings;
    warnings.append(&mut feed.warnings);
    feed.warnings = warnings;
    Ok(feed)
}

/// Fetches one URL unconditionally and runs it through decode/parse/clean, storing nothing:
/// what `preview URL` and `check --online` do. The error names the URL and the reason.
pub async fn fetch_document(
    fetcher: &Fetcher,
    feed: &FeedConfig,
    zone: chrono_tz::Tz,
    max_len: usize,
) -> Result<ParsedFeed, String> {
    fetch_document_detailed(fetcher, feed, zone, max_len)
        .await
        .map_err(|e| match e {
            DocumentFailure::Other(reason) => reason,
            DocumentFailure::NotAFeed { advertised, .. } => {
                format!("{}: {}", feed.url, ParseError::NotAFeed { advertised })
            }
        })
}

/// Why [`fetch_document_detailed`] found no feed.
#[derive(Debug)]
pub enum DocumentFailure {
    /// An HTML page: the feeds it advertises, if any, its address after redirects and its
    /// decoded text (for guessing how to read it as an HTML source).
    NotAFeed {
        advertised: Vec<String>,
        url: Url,
        page: String,
    },
    /// Anything else, as a sentence naming the URL.
    Other(String),
}

/// [`fetch_document`], telling an HTML page apart from other failures.
pub async fn fetch_document_detailed(
    fetcher: &Fetcher,
    feed: &FeedConfig,
    zone: chrono_tz::Tz,
    max_len: usize,
) -> Result<ParsedFeed, DocumentFailure> {
    let url = &feed.url;
    match fetcher.fetch(request_for(feed, url, None)).await {
        Ok(FetchOutcome::Body(meta, body)) => {
            let ctx = ParseContext {
                base: Some(meta.final_url.clone()),
                zone,
                now: Utc::now(),
            };
            match read_source(
                &feed.source,
                &body,
                meta.content_type.as_deref(),
                &ctx,
                max_len,
            ) {
                Ok(feed) => Ok(feed),
                Err(DocumentError::Parse(ParseError::NotAFeed { advertised })) => {
                    let page = decode::decode(&body, meta.content_type.as_deref(), max_len)
                        .map(|d| d.text)
                        .unwrap_or_default();
                    Err(DocumentFailure::NotAFeed {
                        advertised,
                        url: meta.final_url.clone(),
                        page,
                    })
                }
                // These messages name the page already.
                Err(DocumentError::Html(e)) => Err(DocumentFailure::Other(e.to_string())),
                Err(e) => Err(DocumentFailure::Other(format!("{}: {e}", meta.final_url))),
            }
        }
        Ok(FetchOutcome::NotModified(_)) => Err(DocumentFailure::Other(format!(
            "{url}: unexpected 304 Not Modified"
        ))),
        Err(e) => Err(DocumentFailure::Other(format!("{url}: {e}"))),
    }
}

fn request_for<'a>(
    feed: &'a FeedConfig,
    url: &'a Url,
    record: Option<&'a FeedRecord>,
) -> FetchRequest<'a> {
    FetchRequest {
        url,
        etag: record.and_then(|r| r.etag.as_deref()),
        last_modified: record.and_then(|r| r.last_modified.as_deref()),
        headers: &feed.headers,
        basic_auth: feed
            .basic_auth
            .as_ref()
            .map(|a| (a.user.as_str(), a.password.as_str())),
        home: &feed.url,
    }
}

/// Fetches one entry's page (with the feed's headers and credentials) and extracts its body
/// with `rule`: the full-text step for one entry, shared by refresh and `preview --full-text`.
/// The error is the reason, without the page's address.
pub async fn fetch_full_text(
    fetcher: &Fetcher,
    feed: &FeedConfig,
    page: &Url,
    rule: &crate::fulltext::FullTextRule,
    max_len: usize,
) -> Result<String, String> {
    match fetcher.fetch(request_for(feed, page, None)).await {
        Ok(FetchOutcome::Body(meta, body)) => {
            let rule = rule.clone();
            tokio::task::spawn_blocking(move || {
                let text = decode::decode(&body, meta.content_type.as_deref(), max_len)
                    .map_err(|e| e.to_string())?;
                crate::fulltext::extract(&text.text, &rule, &meta.final_url)
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
        }
        Ok(FetchOutcome::NotModified(_)) => Err("unexpected 304 Not Modified".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A feed config for a bare URL (preview): defaults everywhere.
pub fn adhoc_feed(url: Url, config: &Config) -> FeedConfig {
    FeedConfig {
        id: "preview".into(),
        url,
        title: None,
        tags: Vec::new(),
        schedule: config.fetch.schedule.clone(),
        enabled: true,
        headers: BTreeMap::new(),
        timezone: None,
        basic_auth: None,
        source: crate::config::SourceKind::Feed,
        full_text: None,
    }
}

/// 304 answers recorded together in one transaction.
const NOT_MODIFIED_BATCH: usize = 256;

/// What the feeds of one run share.
struct Run<'a> {
    /// When the run started: the first-seen time of every entry it stores.
    started: DateTime<Utc>,
    /// The feed rows read at the start of the run, by id.
    rows: Option<&'a std::collections::HashMap<String, FeedRecord>>,
    /// 304 answers waiting to be recorded together (at most [`NOT_MODIFIED_BATCH`], and the
    /// rest when the run ends).
    not_modified: Option<&'a Mutex<Vec<(String, FetchRecord)>>>,
}

/// The shared machinery of a refresh run.
#[derive(Debug, Clone)]
pub struct Refresher {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    store: Arc<Mutex<Store>>,
    writer: GroupWriter,
    metrics: Arc<Metrics>,
    /// Parsing and preparing feeds is CPU work; at most one feed per core but one does it at
    /// once (see [`Refresher::on_cpu`]).
    cpu: Arc<tokio::sync::Semaphore>,
    /// `[fetch] concurrency`: feeds being downloaded or parsed at once, in every run and
    /// manual refresh together. A feed gives its slot back when its entries go to the store
    /// writer, so the next download starts while the writer works (see
    /// [`Refresher::refresh_many`]).
    fetching: Arc<tokio::sync::Semaphore>,
}

/// How many feeds may be parsed or prepared at once: one per core but one, which is the store
/// writer's (and one on a single core).
fn cpu_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// `[dedup]` of `config` as the store takes it.
fn dedup_settings(config: &Config) -> DedupSettings {
    DedupSettings {
        window: config.dedup.window,
        title_similarity: config.dedup.title_similarity,
    }
}

/// Which feeds a run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Only feeds whose next fetch time has come.
    Due,
    /// Every enabled feed, due or not, except feeds marked gone.
    All,
    /// Exactly the feeds given, even gone ones (an admin asked for them by id).
    Explicit,
}

impl Refresher {
    pub fn new(config: Arc<Config>, fetcher: Arc<Fetcher>, store: Arc<Mutex<Store>>) -> Refresher {
        Refresher {
            writer: GroupWriter::new(store.clone(), dedup_settings(&config)),
            fetcher,
            store,
            metrics: Arc::new(Metrics::new()),
            cpu: Arc::new(tokio::sync::Semaphore::new(cpu_slots())),
            fetching: Arc::new(tokio::sync::Semaphore::new(config.fetch.concurrency)),
            config,
        }
    }

    /// Runs the CPU work `f` (parsing a document, preparing its entries) off the async threads,
    /// once a CPU slot is free. Storing is the stage that cannot run in parallel: SQLite has
    /// one writer, the thread of [`GroupWriter`]. Parsing every fetched feed at once left that
    /// thread one runnable thread among many, with its fair share of a core and feeds waiting
    /// on it; with one core kept for it, parsing keeps ahead of it and it never waits for CPU.
    async fn on_cpu<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        // The semaphore is never closed, so acquiring only waits.
        let _slot = self.cpu.acquire().await.ok();
        tokio::task::spawn_blocking(f).await
    }

    /// Records fetch metrics into `metrics` (the server's) instead of a private set.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Refresher {
        self.metrics = metrics;
        self
    }

    /// The store this refresher writes to.
    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// Runs blocking store work off the async threads.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }

    /// Refreshes `feeds` per `selection` with at most `fetch.concurrency` downloading or
    /// parsing at once, calling `on_done` as each finishes. Disabled feeds are skipped.
    pub async fn refresh_many(
        &self,
        feeds: &[FeedConfig],
        selection: Selection,
        on_done: impl Fn(&RefreshReport),
    ) -> Result<Vec<RefreshReport>, StoreError> {
        let now = Utc::now();
        let ids: Vec<(String, String, String)> = feeds
            .iter()
            .map(|f| (f.id.clone(), f.url.to_string(), f.fingerprint()))
            .collect();
        let records = self
            .with_store(move |s| {
                s.sync_feeds(
                    ids.iter().map(|(id, url, fp)| FeedIdentity {
                        id,
                        url,
                        fingerprint: fp,
                    }),
                    now,
                )?;
                s.feeds()
            })
            .await?;
        // A host that asked an earlier run to slow down is left alone by this one too,
        // whatever the selection: `--all` and `--feed` do not override a server's 429.
        for hold in records.iter().filter_map(|r| r.host_hold.as_ref()) {
            self.fetcher.defer_host_named(hold.host.clone(), hold.until);
        }
        let records: std::collections::HashMap<String, FeedRecord> =
            records.into_iter().map(|r| (r.id.clone(), r)).collect();
        let due = |f: &FeedConfig| {
            let rec = records.get(&f.id);
            let gone = rec.and_then(|r| r.state.as_deref()) == Some("gone");
            match selection {
                Selection::Explicit => true,
                Selection::All => !gone,
                Selection::Due => !gone && rec.and_then(|r| r.next_fetch).is_none_or(|n| n <= now),
            }
        };
        let mut reports = Vec::new();
        let not_modified = Mutex::new(Vec::new());
        let run = Run {
            started: now,
            rows: Some(&records),
            not_modified: Some(&not_modified),
        };
        let run = &run;
        let mut stream = futures_util::stream::iter(feeds.iter().filter(|f| f.enabled))
            .map(|f| {
                let is_due = due(f);
                let all = feeds;
                async move {
                    if is_due {
                        self.refresh_feed_in_run(f, all, run).await
                    } else {
                        RefreshReport {
                            feed_id: f.id.clone(),
                            skipped: true,
                            ..Default::default()
                        }
                    }
                }
            })
            // Up to `concurrency` feeds downloading or parsing (the `fetching` slots), and as
            // many again whose entries wait for the store writer: the writer then finds whole
            // groups waiting, and downloads go on while it writes. Waiting for the writer
            // inside the download slots kept the parsing idle for a fifth of a cold fetch
            // (the ingest benchmark: 1.2x the feeds/s with this queue).
            .buffer_unordered(self.config.fetch.concurrency.saturating_mul(2));
        while let Some(report) = stream.next().await {
            on_done(&report);
            reports.push(report);
        }
        drop(stream);
        let rest = std::mem::take(&mut *not_modified.lock().unwrap_or_else(|p| p.into_inner()));
        self.record_not_modified(rest).await;
        Ok(reports)
    }

    /// Records a run's 304 answers in one transaction. A failure is logged with the feeds it
    /// concerns; those feeds are then simply due again.
    async fn record_not_modified(&self, records: Vec<(String, FetchRecord)>) {
        if records.is_empty() {
            return;
        }
        let ids: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
        if let Err(e) = self.with_store(move |s| s.record_fetches(&records)).await {
            tracing::error!(feeds = %ids.join(","), error = %e, "recording 304 answers failed");
        }
    }

    /// Fetches, parses and stores one feed, recording the outcome on its row. Never fails:
    /// problems land in the report and in the feed's health. `all` is the configured list,
    /// for holding back a whole host after a 429.
    pub async fn refresh_feed(&self, feed: &FeedConfig, all: &[FeedConfig]) -> RefreshReport {
        let run = Run {
            started: Utc::now(),
            rows: None,
            not_modified: None,
        };
        self.refresh_feed_in_run(feed, all, &run).await
    }

    /// [`Refresher::refresh_feed`] as part of `run`: every entry first seen in one run carries
    /// the time it started, so which outlet's copy of a story counts as first seen does not
    /// depend on which fetch happened to finish first.
    async fn refresh_feed_in_run(
        &self,
        feed: &FeedConfig,
        all: &[FeedConfig],
        run: &Run<'_>,
    ) -> RefreshReport {
        let started = std::time::Instant::now();
        let report = self.refresh_feed_once(feed, all, run).await;
        let outcome = match (&report.error, report.skipped, report.not_modified) {
            (_, true, _) => "deferred",
            (Some(e), _, _) if e.contains("HTTP 410") => "gone",
            (Some(_), _, _) => "failed",
            (None, _, true) => "not_modified",
            (None, _, false) => "ok",
        };
        self.metrics
            .fetched(outcome, started.elapsed().as_secs_f64(), report.inserted);
        report
    }

    async fn refresh_feed_once(
        &self,
        feed: &FeedConfig,
        all: &[FeedConfig],
        run: &Run<'_>,
    ) -> RefreshReport {
        let now = run.started;
        let mut report = RefreshReport {
            feed_id: feed.id.clone(),
            ..Default::default()
        };
        let id = feed.id.clone();
        let wants_history = matches!(feed.schedule, FeedSchedule::Auto);
        let known = run.rows.and_then(|rows| rows.get(&feed.id));
        let loaded = match known {
            // The row the run read at its start: no round trip to the store.
            Some(rec) if !wants_history => Ok((Some(rec.clone()), Vec::new())),
            _ => {
                self.with_store(move |s| {
                    let rec = s.feed(&id)?;
                    let recent = if wants_history {
                        s.recent_times(&id, 20)?
                    } else {
                        Vec::new()
                    };
                    Ok((rec, recent))
                })
                .await
            }
        };
        let (record, recent) = match loaded {
            Ok((r, recent)) => (r.unwrap_or_default(), recent),
            Err(e) => {
                report.error = Some(e.to_string());
                tracing::error!(feed = %feed.id, error = %e, "cannot read the feed's row");
                return report;
            }
        };
        let auto = wants_history.then(|| {
            auto_interval(
                &recent,
                self.config.fetch.auto_min,
                self.config.fetch.auto_max,
            )
        });
        let zone = feed.timezone.unwrap_or(self.config.schedule.timezone);
        let fetch_url = record
            .effective_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| feed.url.clone());
        let started = std::time::Instant::now();
        // Held until the entries go to the writer, or to the end on any other outcome.
        let mut fetching = self.fetching.acquire().await.ok();
        let result = self
            .fetcher
            .fetch(request_for(feed, &fetch_url, Some(&record)))
            .await;
        let next = |errors: u32, server_delay: Option<Duration>| {
            NextFetch {
                feed,
                zone,
                now: Utc::now(),
                consecutive_errors: errors,
                server_delay,
                auto_interval: auto,
            }
            .at(&self.config.fetch)
        };
        let failed = |error: String, delay: Option<Duration>, redirect: Option<Option<String>>| {
            let errors = record.consecutive_errors + 1;
            let state = if errors >= 3 {
                FeedState::Backoff
            } else {
                FeedState::Failing
            };
            FetchRecord {
                at: now,
                next_fetch: Some(next(errors, delay)),
                permanent_redirect: redirect,
                outcome: FetchRecordOutcome::Failed { error, state },
            }
        };
        let redirect_of =
            |meta: &ResponseMeta| Some(meta.permanent_target.as_ref().map(Url::to_string));

        let fetch_record = match result {
            Ok(FetchOutcome::NotModified(meta)) => {
                report.not_modified = true;
                FetchRecord {
                    at: now,
                    next_fetch: Some(next(0, meta.fresh_for)),
                    permanent_redirect: redirect_of(&meta),
                    outcome: FetchRecordOutcome::NotModified {
                        etag: meta.etag,
                        last_modified: meta.last_modified,
                    },
                }
            }
            Ok(FetchOutcome::Body(meta, body)) => {
                let ctx = ParseContext {
                    base: Some(meta.final_url.clone()),
                    zone,
                    now,
                };
                let max = usize::try_from(self.config.fetch.max_body).unwrap_or(usize::MAX);
                let content_type = meta.content_type.clone();
                let source = feed.source.clone();
                let parsed = self
                    .on_cpu(move || read_source(&source, &body, content_type.as_deref(), &ctx, max))
                    .await;
                match parsed {
                    Ok(Ok(mut parsed)) => {
                        if let Some(rule) = &feed.full_text {
                            self.apply_full_text(feed, &record, rule, &mut parsed).await;
                        }
                        let ttl = parsed
                            .ttl_minutes
                            .map(|m| Duration::from_secs(u64::from(m) * 60));
                        let delay = meta.fresh_for.max(ttl);
                        report.warnings = parsed.warnings.clone();
                        let rec = FetchRecord {
                            at: now,
                            next_fetch: Some(next(0, delay)),
                            permanent_redirect: redirect_of(&meta),
                            outcome: FetchRecordOutcome::Fetched {
                                etag: meta.etag,
                                last_modified: meta.last_modified,
                                title: parsed.title.clone(),
                                site_link: parsed.link.clone(),
                                format: parsed.format.as_str().to_string(),
                                warnings: parsed.warnings.clone(),
                            },
                        };
                        let id = feed.id.clone();
                        let entries = parsed.entries;
                        // Keys, hashes, excerpts and story forms are computed here, beside
                        // other feeds' writes, so the store's lock is held only for SQL.
                        let stored = match self.on_cpu(move || PreparedBatch::new(entries)).await {
                            Ok(batch) => {
                                drop(fetching.take());
                                self.writer.store(id, rec, batch).await
                            }
                            Err(e) => Err(StoreError::Corrupt(format!(
                                "preparing the entries failed: {e}"
                            ))),
                        };
                        return match stored {
                            Ok(c) => {
                                report.inserted = c.inserted;
                                report.updated = c.updated;
                                report.unchanged = c.unchanged;
                                report.folded = c.folded;
                                tracing::info!(
                                    feed = %feed.id, new = c.inserted, updated = c.updated,
                                    ms = started.elapsed().as_millis() as u64, "fetched"
                                );
                                for w in &report.warnings {
                                    tracing::warn!(feed = %feed.id, warning = %w, "recovered");
                                }
                                report
                            }
                            Err(e) => {
                                report.error = Some(e.to_string());
                                tracing::error!(feed = %feed.id, error = %e, "storing entries failed");
                                report
                            }
                        };
                    }
                    Ok(Err(e)) => {
                        failed(format!("{}: {e}", meta.final_url), None, redirect_of(&meta))
                    }
                    Err(e) => failed(
                        format!("{}: parser task failed: {e}", meta.final_url),
                        None,
                        None,
                    ),
                }
            }
            Err(FetchError::Status { code: 410, .. }) => FetchRecord {
                at: now,
                next_fetch: None,
                permanent_redirect: None,
                outcome: FetchRecordOutcome::Failed {
                    error: format!(
                        "{fetch_url}: HTTP 410 Gone: the publisher removed this feed; it is not fetched again until its entry in feeds.toml changes"
                    ),
                    state: FeedState::Gone,
                },
            },
            Err(e @ FetchError::Status { code: 429, .. }) => {
                let delay = retry_after(&e)
                    .unwrap_or_else(|| self.config.fetch.auto_min.max(Duration::from_secs(60)));
                let until = now
                    + chrono::TimeDelta::from_std(delay.min(self.config.fetch.max_server_delay))
                        .unwrap_or_default();
                let answered = match &e {
                    FetchError::Status { url, .. } => url.as_ref().clone(),
                    _ => fetch_url.clone(),
                };
                self.hold_back_host(&answered, until, feed, all).await;
                failed(
                    format!(
                        "{fetch_url}: {e}; host held back until {}",
                        crate::model::rfc3339(until)
                    ),
                    Some(delay),
                    None,
                )
            }
            Err(e @ FetchError::HostDeferred { .. }) => {
                let delay = match &e {
                    FetchError::HostDeferred { until, .. } => (*until - now).to_std().ok(),
                    _ => None,
                };
                // Not the feed's fault: keep its error count and health, just wait for the host.
                report.skipped = true;
                tracing::info!(feed = %feed.id, reason = %e, "skipped");
                let until = next(record.consecutive_errors, delay);
                let id = feed.id.clone();
                if let Err(err) = self.with_store(move |s| s.defer_feeds(&[id], until)).await {
                    report.error = Some(err.to_string());
                }
                return report;
            }
            Err(e) => {
                let delay = retry_after(&e);
                failed(format!("{fetch_url}: {e}"), delay, None)
            }
        };
        if let FetchRecordOutcome::Failed { error, .. } = &fetch_record.outcome {
            tracing::warn!(feed = %feed.id, error = %error, "fetch failed");
            report.error = Some(error.clone());
        } else {
            tracing::info!(feed = %feed.id, "not modified");
        }
        if let (FetchRecordOutcome::NotModified { .. }, Some(queue)) =
            (&fetch_record.outcome, run.not_modified)
        {
            let full = {
                let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
                q.push((feed.id.clone(), fetch_record));
                (q.len() >= NOT_MODIFIED_BATCH).then(|| std::mem::take(&mut *q))
            };
            if let Some(batch) = full {
                self.record_not_modified(batch).await;
            }
            return report;
        }
        let id = feed.id.clone();
        if let Err(e) = self
            .with_store(move |s| s.record_fetch(&id, &fetch_record))
            .await
        {
            tracing::error!(feed = %feed.id, error = %e, "recording the fetch failed");
            report.error.get_or_insert(e.to_string());
        }
        report
    }

    /// Replaces each entry's content with the body of its page (`full_text`). A page is fetched
    /// once: an entry already stored with the same title, link and summary keeps what was
    /// extracted before. A failure keeps the feed's own text and is recorded as a warning.
    async fn apply_full_text(
        &self,
        feed: &FeedConfig,
        record: &FeedRecord,
        rule: &crate::fulltext::FullTextRule,
        parsed: &mut ParsedFeed,
    ) {
        let mode = if record.keys_by_link || crate::dedup::guids_are_ambiguous(&parsed.entries) {
            crate::dedup::KeyMode::Link
        } else {
            crate::dedup::KeyMode::Guid
        };
        let keys: Vec<String> = parsed
            .entries
            .iter()
            .map(|e| crate::dedup::entry_key(e, mode))
            .collect();
        let id = feed.id.clone();
        let lookup = keys.clone();
        let stored = match self
            .with_store(move |s| s.stored_versions(&id, &lookup))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                parsed.warnings.push(format!("full text skipped: {e}"));
                return;
            }
        };
        let max = usize::try_from(self.config.fetch.max_body).unwrap_or(usize::MAX);
        for (entry, key) in parsed.entries.iter_mut().zip(&keys) {
            if let Some(v) = stored.get(key)
                && v.title == entry.title
                && v.link == entry.link
                && v.summary == entry.summary
            {
                entry.content = v.content.clone();
                continue;
            }
            let Some(page) = entry.link.as_deref().and_then(|l| Url::parse(l).ok()) else {
                continue;
            };
            match fetch_full_text(&self.fetcher, feed, &page, rule, max).await {
                Ok(html) => entry.content = Some(html),
                Err(reason) => parsed.warnings.push(format!(
                    "full text of {page}: {reason}; kept the feed's text"
                )),
            }
        }
    }

    /// After a 429: no request to the host before `until`, in this run (the fetcher) and in
    /// later runs (every feed on the host gets its next fetch pushed back).
    async fn hold_back_host(
        &self,
        url: &Url,
        until: DateTime<Utc>,
        feed: &FeedConfig,
        all: &[FeedConfig],
    ) {
        self.fetcher.defer_host(url, until);
        let host = host_key(url);
        let ids: Vec<String> = all
            .iter()
            .filter(|f| f.id != feed.id && host_key(&f.url) == host)
            .map(|f| f.id.clone())
            .collect();
        tracing::warn!(feed = %feed.id, host = %host, until = %until, held_back = ids.len(), "host asked to slow down");
        let hold = crate::model::HostHold {
            host,
            until,
            reason: format!("{url} answered 429 Too Many Requests (feed {})", feed.id),
        };
        let stored = self
            .with_store(move |s| {
                s.hold_host(&hold)?;
                s.defer_feeds(&ids, until)
            })
            .await;
        if let Err(e) = stored {
            tracing::error!(feed = %feed.id, error = %e, "holding back the host's feeds failed");
        }
    }
}

fn retry_after(e: &FetchError) -> Option<Duration> {
    match e {
        FetchError::Status { retry_after, .. } => *retry_after,
        _ => None,
    }
}

/// What one scheduled or one-shot cycle did.
#[derive(Debug, Default)]
pub struct CycleReport {
    pub reports: Vec<RefreshReport>,
    pub pruned: usize,
    /// File outputs rewritten because their content changed.
    pub written: Vec<std::path::PathBuf>,
}

impl CycleReport {
    /// Feeds that were attempted and failed.
    pub fn failed(&self) -> impl Iterator<Item = &RefreshReport> {
        self.reports.iter().filter(|r| r.error.is_some())
    }
}

impl Refresher {
    /// One cycle as cron and the daemon run it: refresh, apply retention, rewrite file outputs.
    pub async fn run_cycle(
        &self,
        feeds: Arc<FeedsFile>,
        selection: Selection,
        on_done: impl Fn(&RefreshReport),
    ) -> Result<CycleReport, CycleError> {
        let reports = self.refresh_many(&feeds.feeds, selection, on_done).await?;
        let config = self.config.clone();
        let store = self.store.clone();
        let (pruned, written) = tokio::task::spawn_blocking(move || {
            let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
            let now = Utc::now();
            let pruned = apply_retention(&mut s, &config, now)?;
            let written = crate::export::write_file_outputs(&s, &config, &feeds, now)?;
            Ok::<_, CycleError>((pruned, written))
        })
        .await
        .map_err(|e| CycleError::Task(e.to_string()))??;
        Ok(CycleReport {
            reports,
            pruned,
            written,
        })
    }
}

/// A cycle-wide failure (one feed's failure is not one of these).
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error("background task failed: {0}")]
    Task(String),
}

/// Deletes entries older than `storage.retention_days` (0 keeps everything).
pub fn apply_retention(
    store: &mut Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if config.storage.retention_days == 0 {
        return Ok(0);
    }
    let cutoff = now - chrono::TimeDelta::days(i64::from(config.storage.retention_days));
    store.prune(cutoff, now)
}
