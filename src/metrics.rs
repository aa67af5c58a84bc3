//! Prometheus metrics: what `/metrics` reports so an admin can alert on a stalled aggregator.
//!
//! Counters and histograms are updated where things happen (refresh, export); gauges about the
//! store (entries, stories, failing feeds) are read from it when scraped.

use std::sync::atomic::AtomicI64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The outcome label of a fetch.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

/// The format label of an export.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FormatLabel {
    pub format: String,
}

/// Every metric Tributary exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    fetches: Family<OutcomeLabel, Counter>,
    fetch_seconds: Histogram,
    entries_new: Counter,
    export_seconds: Family<FormatLabel, Histogram>,
    entries_stored: Gauge<i64, AtomicI64>,
    stories_shared: Gauge<i64, AtomicI64>,
    feeds_failing: Gauge<i64, AtomicI64>,
    feeds_configured: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tributary");
        let fetches = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "fetches",
            "Feed fetches by outcome (ok, not_modified, failed, gone, deferred)",
            fetches.clone(),
        );
        let fetch_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "fetch_duration_seconds",
            "Time to fetch, parse and store one feed",
            fetch_seconds.clone(),
        );
        let entries_new = Counter::default();
        registry.register(
            "entries_new",
            "Entries stored for the first time",
            entries_new.clone(),
        );
        let export_seconds = Family::<FormatLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register(
            "export_duration_seconds",
            "Time to render a merged feed",
            export_seconds.clone(),
        );
        let entries_stored = Gauge::default();
        registry.register(
            "entries_stored",
            "Entries in the store",
            entries_stored.clone(),
        );
        let stories_shared = Gauge::default();
        registry.register(
            "stories_shared",
            "Stories carried by more than one feed (clusters)",
            stories_shared.clone(),
        );
        let feeds_failing = Gauge::default();
        registry.register(
            "feeds_failing",
            "Configured feeds whose last fetch failed",
            feeds_failing.clone(),
        );
        let feeds_configured = Gauge::default();
        registry.register(
            "feeds_configured",
            "Feeds in feeds.toml",
            feeds_configured.clone(),
        );
        Metrics {
            registry,
            fetches,
            fetch_seconds,
            entries_new,
            export_seconds,
            entries_stored,
            stories_shared,
            feeds_failing,
            feeds_configured,
        }
    }

    /// Records one refresh.
    pub fn fetched(&self, outcome: &str, seconds: f64, new_entries: usize) {
        self.fetches
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc();
        self.fetch_seconds.observe(seconds);
        self.entries_new.inc_by(new_entries as u64);
    }

    /// Records one rendered export.
    pub fn exported(&self, format: &str, seconds: f64) {
        self.export_seconds
            .get_or_create(&FormatLabel {
                format: format.to_string(),
            })
            .observe(seconds);
    }

    /// The Prometheus text exposition, with the store gauges as given.
    pub fn render(&self, gauges: StoreGauges) -> String {
        self.entries_stored.set(gauges.entries as i64);
        self.stories_shared.set(gauges.shared_stories as i64);
        self.feeds_failing.set(gauges.feeds_failing as i64);
        self.feeds_configured.set(gauges.feeds_configured as i64);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Store figures read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreGauges {
    pub entries: u64,
    pub shared_stories: u64,
    pub feeds_failing: u64,
    pub feeds_configured: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric() {
        let m = Metrics::new();
        m.fetched("ok", 0.2, 5);
        m.fetched("failed", 1.0, 0);
        m.exported("atom", 0.003);
        let text = m.render(StoreGauges {
            entries: 7,
            shared_stories: 2,
            feeds_failing: 1,
            feeds_configured: 3,
        });
        for needle in [
            "tributary_fetches_total{outcome=\"ok\"} 1",
            "tributary_fetches_total{outcome=\"failed\"} 1",
            "tributary_fetch_duration_seconds_count 2",
            "tributary_entries_new_total 5",
            "tributary_export_duration_seconds_count{format=\"atom\"} 1",
            "tributary_entries_stored 7",
            "tributary_stories_shared 2",
            "tributary_feeds_failing 1",
            "# EOF",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }
}
