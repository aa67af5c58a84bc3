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
use crate::crontab::{CronError, CronSchedule};

/// When a feed is fetched: a crontab line, or `auto` (from its posting frequency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSchedule {
    Cron(CronSchedule),
    /// As often as the feed publishes, within `fetch.auto_min`..`fetch.auto_max`.
    Auto,
}

impl FeedSchedule {
    /// `auto`, or a crontab line.
    pub fn parse(s: &str) -> Result<FeedSchedule, CronError> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(FeedSchedule::Auto)
        } else {
            CronSchedule::parse(s).map(FeedSchedule::Cron)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            FeedSchedule::Cron(c) => c.as_str(),
            FeedSchedule::Auto => "auto",
        }
    }
}

impl std::str::FromStr for FeedSchedule {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeedSchedule::parse(s)
    }
}

/// The interval `auto` picks: the mean gap between the feed's recent entries, clamped to
/// `[min, max]`; `max / 4` (within bounds) while there is too little history.
pub fn auto_interval(recent: &[DateTime<Utc>], min: Duration, max: Duration) -> Duration {
    let guess = if recent.len() >= 2 {
        let newest = recent.iter().max().copied().unwrap_or_default();
        let oldest = recent.iter().min().copied().unwrap_or_default();
        let span = (newest - oldest).to_std().unwrap_or_default();
        span / (recent.len() as u32 - 1)
    } else {
        max / 4
    };
    guess.clamp(min, max.max(min))
}

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
    /// For `auto` schedules: the interval from the feed's posting frequency.
    pub auto_interval: Option<Duration>,
}

impl NextFetch<'_> {
    /// The time the feed is due next.
    pub fn at(&self, cfg: &FetchConfig) -> DateTime<Utc> {
        let (interval, by_cron) = match &self.feed.schedule {
            FeedSchedule::Cron(c) => {
                let interval = c.typical_interval().max(Duration::from_secs(60));
                let next = c
                    .next_after(self.now, self.zone)
                    .unwrap_or_else(|| self.now + chrono_dur(interval));
                (interval, next)
            }
            FeedSchedule::Auto => {
                let bounds = (cfg.auto_min, cfg.auto_max.max(cfg.auto_min));
                let interval = self
                    .auto_interval
                    .unwrap_or(cfg.auto_max / 4)
                    .clamp(bounds.0, bounds.1);
                (interval, self.now + chrono_dur(interval))
            }
        };
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
            basic_auth: None,
            source: crate::config::SourceKind::Feed,
            full_text: None,
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
            auto_interval: None,
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
    fn auto_schedule_follows_posting_frequency_within_bounds() {
        let t = |m: i64| {
            "2026-01-14T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::TimeDelta::minutes(m)
        };
        let min = Duration::from_secs(300);
        let max = Duration::from_secs(86400);
        let busy: Vec<_> = (0..10).map(|i| t(-i * 3)).collect();
        assert_eq!(
            auto_interval(&busy, min, max),
            min,
            "a wire posting every 3 minutes is polled at the minimum"
        );
        let hourly: Vec<_> = (0..10).map(|i| t(-i * 60)).collect();
        assert_eq!(auto_interval(&hourly, min, max), Duration::from_secs(3600));
        let weekly: Vec<_> = (0..5).map(|i| t(-i * 7 * 1440)).collect();
        assert_eq!(
            auto_interval(&weekly, min, max),
            max,
            "a weekly column is polled daily"
        );
        assert_eq!(auto_interval(&[], min, max), Duration::from_secs(6 * 3600));
        let cfg = Config::defaults(Path::new(".")).fetch;
        let mut f = feed("*/30 * * * *");
        f.schedule = FeedSchedule::Auto;
        let now = t(0);
        let n = NextFetch {
            feed: &f,
            zone: chrono_tz::UTC,
            now,
            consecutive_errors: 0,
            server_delay: None,
            auto_interval: Some(Duration::from_secs(3600)),
        };
        assert_eq!(n.at(&cfg), now + chrono::TimeDelta::hours(1));
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
