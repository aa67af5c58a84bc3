//! `tributary run`: the daemon. Fetches feeds as they fall due, serves HTTP, and reloads
//! `feeds.toml` when it changes (an invalid edit is logged and the running list stays).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use chrono::Utc;

use super::{app_state, load_config, load_feeds, open_store, runtime, shutdown_signal};
use crate::Exit;
use crate::cli::Cli;
use tributary::config::{Config, FeedsFile};
use tributary::fetch::Fetcher;
use tributary::lock::RunLock;
use tributary::metrics::Metrics;
use tributary::refresh::{Refresher, Selection};
use tributary::server::{self, AppState};

/// How often the daemon looks for due feeds and for an edited `feeds.toml`.
const TICK: Duration = Duration::from_secs(5);
/// How long in-flight fetches may run on after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let config = Arc::new(load_config(cli)?);
    let feeds = Arc::new(load_feeds(cli, &config)?);
    let _lock = RunLock::acquire(&RunLock::path_for(&config.storage.database))?;
    let store = open_store(&config)?;
    let fetcher = Arc::new(Fetcher::new(&config.fetch).context("building the HTTP client")?);
    let metrics = Arc::new(Metrics::new());
    let refresher = Refresher::new(config.clone(), fetcher, store).with_metrics(metrics.clone());
    let state = app_state(&config, feeds, Some(refresher.clone()), metrics)?;

    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("listening on {}", config.server.listen))?;
        let listen = listener
            .local_addr()
            .map_or_else(|_| config.server.listen.to_string(), |a| a.to_string());
        tracing::info!(listen = %listen, feeds_file = %cli.feeds.display(), "daemon started");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server_stop = {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let server = tokio::spawn(server::serve(listener, state.clone(), server_stop));
        let signal = shutdown_signal();
        tokio::pin!(signal);
        let mut mtime = modified(&cli.feeds);
        let digest_zone = config.digest.timezone;
        let mut next_digest = config.digest.schedule.next_after(Utc::now(), digest_zone);
        loop {
            reload_if_changed(&cli.feeds, &mut mtime, &config, &state);
            if next_digest.is_some_and(|at| at <= Utc::now()) {
                publish_digest(&refresher, &config, &state).await;
                next_digest = config.digest.schedule.next_after(Utc::now(), digest_zone);
            }
            if let Err(e) =
                tributary::mail::deliver_due(refresher.store(), &config, &state.feeds()).await
            {
                tracing::error!(error = %e, "digest mailing failed");
            }
            let feeds = state
                .feeds
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let cycle = refresher.run_cycle(feeds, Selection::Due, |_| {});
            tokio::pin!(cycle);
            let finished = tokio::select! {
                r = &mut cycle => Some(r),
                _ = &mut signal => None,
            };
            match finished {
                Some(Ok(c)) => {
                    let attempted = c.reports.iter().filter(|r| !r.skipped).count();
                    if attempted > 0 {
                        tracing::info!(
                            feeds = attempted,
                            failed = c.failed().count(),
                            outputs_written = c.written.len(),
                            "cycle finished"
                        );
                    }
                }
                Some(Err(e)) => tracing::error!(error = %e, "cycle failed"),
                None => {
                    // Let in-flight feed transactions finish, within bounds.
                    if tokio::time::timeout(GRACE, cycle).await.is_err() {
                        tracing::warn!("in-flight fetches abandoned after the grace period");
                    }
                    break;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = &mut signal => break,
            }
        }
        let _ = stop_tx.send(true);
        match tokio::time::timeout(GRACE, server).await {
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server stopped with an error"),
            Err(_) => tracing::warn!("server did not stop within the grace period"),
            _ => {}
        }
        tracing::info!("daemon stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Exit::Ok)
}

/// Builds and writes the digest of the day that just ended (and queues it for mail).
async fn publish_digest(refresher: &Refresher, config: &Arc<Config>, state: &AppState) {
    let store = refresher.store().clone();
    let config = config.clone();
    let feeds = state.feeds();
    let now = Utc::now();
    let date = tributary::digest::previous_day(now, config.digest.timezone);
    let result = tokio::task::spawn_blocking(move || {
        let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
        tributary::digest::publish(&mut s, &config, &feeds, date, now)
    })
    .await;
    match result {
        Ok(Ok((d, files))) => {
            tracing::info!(date = %date, stories = d.story_count, files = files.len(), "digest published")
        }
        Ok(Err(e)) => tracing::error!(date = %date, error = %e, "digest failed"),
        Err(e) => tracing::error!(date = %date, error = %e, "digest task failed"),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Applies an edited `feeds.toml` if it is valid; logs every problem and keeps the running
/// list if not. New feeds are due at once; removed ones simply stop; history stays by id.
fn reload_if_changed(
    path: &Path,
    mtime: &mut Option<SystemTime>,
    config: &Config,
    state: &AppState,
) {
    let now = modified(path);
    if now == *mtime {
        return;
    }
    *mtime = now;
    match FeedsFile::load(path, config) {
        Ok(feeds) => {
            tracing::info!(path = %path.display(), feeds = feeds.feeds.len(), at = %Utc::now(), "feeds reloaded");
            *state.feeds.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(feeds);
        }
        Err(errors) => {
            for e in &errors.0 {
                tracing::error!(error = %e, "feeds.toml rejected; keeping the running list");
            }
        }
    }
}
