//! Tributary: a self-hosted RSS/Atom aggregator for regional news.
//!
//! The library holds the whole pipeline so that the `tributary` binary, the daemon and the
//! tests drive the same code:
//!
//! ```text
//! feeds.toml ─► schedule ─► fetch ─► decode ─► parse ─► clean ─► dedup ─► store (SQLite)
//!                                                                           │
//!                                           export (merged Atom/JSON) ◄─────┘
//! ```
//!
//! [`refresh::refresh_feed`] is the one pipeline for one feed; `tributary fetch` (cron) and
//! `tributary run` (daemon) both call it through [`refresh::refresh_all`].

pub mod atomic;
pub mod clean;
pub mod config;
pub mod crontab;
pub mod decode;
pub mod dedup;
pub mod demo;
pub mod digest;
pub mod discover;
pub mod export;
pub mod feedlist;
pub mod fetch;
pub mod fulltext;
pub mod group_commit;
pub mod lock;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod parse;
pub mod refresh;
pub mod schedule;
pub mod server;
pub mod status;
pub mod store;

/// Product name and version, as sent in the User-Agent and written into generated feeds.
pub const PRODUCT: &str = concat!("Tributary/", env!("CARGO_PKG_VERSION"));
