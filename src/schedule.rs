//! When each feed is fetched next.
//!
//! A feed is due at the next time its crontab line allows, but never earlier than the server
//! asked (RSS `<ttl>`, `Cache-Control: max-age`, `Expires`, `Retry-After`, each capped by
//! `fetch.max_server_delay`). After failures it backs off exponentially from its own interval,
//! with a little jitter so feeds failing together do not retry together, up to
//! `fetch.backoff_max`; the first success resets it. A failing feed is never given up.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{FeedConfig, FetchConfig};

/// Everything that bears on one feed's next fetch time.
#[derive(Debug, Clone, Copy)]
pub struct NextFetch<'a> {
    pub feed: &'a FeedConfig,
    pub zone: chrono_tz::Tz,
    pub now: DateTime<Utc>,
    /// Consecutive failures including this one (0 after a success).
    pub consecutive_errors: u32,
    /// The longest delay the server asked for, if any.
    pub server_delay: Option<Duration>,
}

impl NextFetch<'_> {
    /// The time the feed is due next.
    pub fn at(&self, cfg: &FetchConfig) -> DateTime<Utc> {
        let interval = self
            .feed
            .schedule
            .typical_interval()
            .max(Duration::from_secs(60));
        let by_cron = self
            .feed
            .schedule
            .next_after(self.now, self.zone)
            .unwrap_or_else(|| self.now + chrono_dur(interval));
        let mut next = by_cron;
        if self.consecutive_errors > 0 {
            let backoff = backoff_delay(
                interval,
                self.consecutive_errors,
                cfg.backoff_max,
                &self.feed.id,
            );
            next = next.max(self.now + chrono_dur(backoff));
        }
        if let Some(delay) = self.server_delay {
            next = next.max(self.now + chrono_dur(delay.min(cfg.max_server_delay)));
        }
        next
    }
}

/// `interval × 2^(errors-1)`, ±10 % jitter derived from the feed id, capped at `max`.
pub fn backoff_delay(interval: Duration, errors: u32, max: Duration, feed_id: &str) -> Duration {
    let exp = errors.saturating_sub(1).min(20);
    let base = interval.saturating_mul(1u32 << exp).min(max);
    // Deterministic jitter in [-10 %, +10 %): spread without randomness in tests.
    let h = feed_id
        .bytes()
        .fold(errors.wrapping_mul(2_654_435_761), |a, b| {
            a.rotate_left(5) ^ u32::from(b)
        });
    let permille = (h % 200) as f64 - 100.0;
    let jittered = base.as_secs_f64() * (1.0 + permille / 1000.0);
    Duration::from_secs_f64(jittered.max(1.0)).min(max)
}

fn chrono_dur(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::days(365))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn feed(schedule: &str) -> FeedConfig {
        FeedConfig {
            id: "wire".into(),
            url: "https://wire.example/rss".parse().unwrap(),
            title: None,
            tags: vec![],
            schedule: schedule.parse().unwrap(),
            enabled: true,
            headers: Default::default(),
            timezone: None,
        }
    }

    #[test]
    fn next_fetch_follows_cron_then_server_then_backoff() {
        let cfg = Config::defaults(Path::new(".")).fetch;
        let f = feed("*/30 * * * *");
        let now: DateTime<Utc> = "2026-01-14T10:05:00Z".parse().unwrap();
        let n = NextFetch {
            feed: &f,
            zone: chrono_tz::UTC,
            now,
            consecutive_errors: 0,
            server_delay: None,
        };
        assert_eq!(n.at(&cfg).to_rfc3339(), "2026-01-14T10:30:00+00:00");
        let n = NextFetch {
            server_delay: Some(Duration::from_secs(3600)),
            ..n
        };
        assert_eq!(n.at(&cfg).to_rfc3339(), "2026-01-14T11:05:00+00:00");
        let n = NextFetch {
            server_delay: Some(Duration::from_secs(7 * 86400)),
            ..n
        };
        assert_eq!(
            n.at(&cfg),
            now + chrono::TimeDelta::hours(24),
            "capped by max_server_delay"
        );
        let n = NextFetch {
            server_delay: None,
            consecutive_errors: 4,
            ..n
        };
        let at = n.at(&cfg);
        assert!(
            at >= now + chrono::TimeDelta::minutes(216)
                && at <= now + chrono::TimeDelta::minutes(264),
            "{at}"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let max = Duration::from_secs(24 * 3600);
        let i = Duration::from_secs(1800);
        let d: Vec<Duration> = (1..=10).map(|e| backoff_delay(i, e, max, "f")).collect();
        assert!(d.windows(2).take(5).all(|w| w[1] > w[0]), "{d:?}");
        assert!(d.iter().all(|x| *x <= max));
        assert_eq!(d[9], max.min(d[9]));
    }
}
