//! `tributary serve`: the HTTP server alone, reading what other runs stored.

use std::sync::Arc;

use anyhow::Context;

use super::{app_state, load_config, load_feeds, open_store, runtime, shutdown_signal};
use crate::Exit;
use crate::cli::Cli;
use tributary::fetch::Fetcher;
use tributary::metrics::Metrics;
use tributary::refresh::Refresher;
use tributary::server;

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let config = Arc::new(load_config(cli)?);
    let feeds = Arc::new(load_feeds(cli, &config)?);
    // The server alone does not fetch on a schedule, but an admin may refresh a feed on demand.
    let metrics = Arc::new(Metrics::new());
    let fetcher = Arc::new(Fetcher::new(&config.fetch).context("building the HTTP client")?);
    let refresher =
        Refresher::new(config.clone(), fetcher, open_store(&config)?).with_metrics(metrics.clone());
    let state = app_state(&config, feeds, Some(refresher), metrics)?;
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("listening on {}", config.server.listen))?;
        tracing::info!(listen = %config.server.listen, base_url = %config.server.base_url, "serving");
        server::serve(listener, state, shutdown_signal()).await.context("serving HTTP")
    })?;
    Ok(Exit::Ok)
}
