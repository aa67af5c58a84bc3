//! `tributary serve`: the HTTP server alone, reading what other runs stored.

use std::sync::{Arc, RwLock};

use anyhow::Context;

use super::{load_config, load_feeds, open_store, runtime, shutdown_signal};
use crate::Exit;
use crate::cli::Cli;
use tributary::server::{self, AppState};

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let config = Arc::new(load_config(cli)?);
    let feeds = Arc::new(load_feeds(cli, &config)?);
    let store = open_store(&config)?;
    let state = Arc::new(AppState {
        config: config.clone(),
        feeds: RwLock::new(feeds),
        store,
    });
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("listening on {}", config.server.listen))?;
        tracing::info!(listen = %config.server.listen, base_url = %config.server.base_url, "serving");
        server::serve(listener, state, shutdown_signal()).await.context("serving HTTP")
    })?;
    Ok(Exit::Ok)
}
