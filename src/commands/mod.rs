//! One file per subcommand, each with a `run`. Shared here: loading the configuration and
//! opening the store the way every command does.

mod check;
mod cluster;
mod demo;
mod digest;
mod export;
mod feeds;
mod fetch;
mod preview;
mod run;
mod serve;
mod status;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use crate::Exit;
use crate::cli::{Cli, Command};
use tributary::config::{Config, FeedsFile};
use tributary::store::Store;

pub fn dispatch(cli: &Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Run(_) => run::run(cli),
        Command::Fetch(a) => fetch::run(cli, a),
        Command::Export(a) => export::run(cli, a),
        Command::Digest(a) => digest::run(cli, a),
        Command::Check(a) => check::run(cli, a),
        Command::Preview(a) => preview::run(cli, a),
        Command::Status(a) => status::run(cli, a),
        Command::Serve => serve::run(cli),
        Command::Demo(a) => demo::run(cli, a),
        Command::Cluster(a) => cluster::run(cli, a),
        Command::Feeds(a) => feeds::run(cli, a),
    }
}

/// The config file to read: `--config`, else `config/tributary.toml` when it exists.
fn config_path(cli: &Cli) -> Option<PathBuf> {
    cli.config.clone().or_else(|| {
        let p = Path::new("config/tributary.toml");
        p.exists().then(|| p.to_path_buf())
    })
}

/// Loads the service settings, applying `--db`.
pub fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(config_path(cli).as_deref())?;
    if let Some(db) = &cli.db {
        config.storage.database = db.clone();
    }
    Ok(config)
}

/// Loads `feeds.toml` against `config`.
pub fn load_feeds(cli: &Cli, config: &Config) -> anyhow::Result<FeedsFile> {
    Ok(FeedsFile::load(&cli.feeds, config)?)
}

/// Opens the database named by the configuration.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<Mutex<Store>>> {
    let store = Store::open(&config.storage.database)
        .with_context(|| format!("opening {}", config.storage.database.display()))?;
    Ok(Arc::new(Mutex::new(store)))
}

/// The server's shared state, with a read connection of its own to the database.
pub fn app_state(
    config: &Arc<Config>,
    feeds: Arc<FeedsFile>,
    refresher: Option<tributary::refresh::Refresher>,
    metrics: Arc<tributary::metrics::Metrics>,
) -> anyhow::Result<Arc<tributary::server::AppState>> {
    Ok(Arc::new(tributary::server::AppState {
        config: config.clone(),
        feeds: std::sync::RwLock::new(feeds),
        store: open_store(config)?,
        metrics,
        refresher,
        poll: Default::default(),
    }))
}

/// A multi-threaded runtime for the async commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Resolves when the process gets SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
