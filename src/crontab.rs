//! Crontab schedules, with crontab's meaning.
//!
//! Admins write the schedules in `feeds.toml` and the service config as ordinary crontab lines
//! (`*/30 * * * *`, `0 7 * * 1-5`, `@hourly`), and they expect them to mean exactly what the same
//! line means in their system crontab (Vixie/ISC cron, as documented in crontab(5) and cron(8)
//! and as cronie implements it). Tributary computes fire times with the `cron` crate, which
//! speaks a different dialect; this module parses crontab syntax itself and drives the crate so
//! that every accepted line keeps crontab's meaning.
//!
//! Differences handled:
//!
//! 1. **Field count.** A crontab line has exactly five fields; the crate wants six or seven
//!    (seconds first, optional year). Tributary requires five, rejects six or seven with a message
//!    saying so, and pins the crate's seconds field to 0.
//! 2. **Day-of-week numbers.** Crontab numbers days 0–7 with both 0 and 7 meaning Sunday; the
//!    crate numbers them 1–7 with Sunday = 1 and rejects 0. Values are translated, and a range
//!    ending in 7 (`5-7`, Friday to Sunday) works as in crontab.
//! 3. **Names.** Crontab accepts only three-letter names (`sun`–`sat`, `jan`–`dec`, any case),
//!    as single values or range ends; the crate also accepts `Monday`, `Tues` and the like.
//!    Those are rejected, as crontab rejects them. Because Sunday is 0, `sat-sun` and `mon-sun`
//!    run backwards and are rejected exactly as crontab rejects them (write `6-7` or `1-7`).
//! 4. **Day of month OR day of week.** When both day fields are restricted, crontab fires on
//!    days matching *either*; the crate always requires *both*. Such a line becomes two crate
//!    schedules (one with day-of-week `*`, one with day-of-month `*`) and the earlier fire wins.
//!    A field counts as unrestricted when its text starts with `*` — the rule crontab's own code
//!    applies — so `*/2` in one day field with a restricted other field still means *both*.
//! 5. **Nicknames.** The crate lacks `@annually` and `@midnight`; all of `@yearly @annually
//!    @monthly @weekly @daily @midnight @hourly` are translated here to their crontab(5)
//!    five-field equivalents. `@reboot` has no meaning for a feed schedule and is rejected.
//! 6. **Syntax the crate accepts but crontab does not**: a step on a single number (`5/15`),
//!    `?`, long day names. All rejected, so a line Tributary accepts also works in a crontab.
//!    Steps must lie between 1 and the field's largest value (the crate's rule; ISC cron takes
//!    a larger step such as `*/60` to mean "the first value only", which is almost always a
//!    typo for something else).
//! 7. **Daylight-saving time.** The crate skips wall-clock times that do not exist, and for a
//!    repeated wall-clock time it yields both instants — and, asked from inside the second pass,
//!    even returns an instant *before* the one it was given. Tributary instead walks wall-clock
//!    times itself and applies cron(8)'s documented rules for clock changes of under three hours:
//!    * a job "at a specific time" (neither the minute nor the hour field starts with `*`; the
//!      nicknames other than `@hourly` count as specific) whose time falls in the skipped stretch
//!      of a spring-forward change runs right after the jump, at the first instant of the new
//!      time; on a fall-back change it runs once, in the first pass of the repeated stretch;
//!    * any other job ("wildcard" jobs such as `*/15 * * * *`, `30 * * * *`, `@hourly`) follows
//!      the wall clock: times in a skipped stretch do not happen, times in a repeated stretch
//!      happen in both passes;
//!    * a forward jump of more than three hours (Samoa skipping 30 December 2011) counts as a
//!      correction of the clock, as in cron(8): times in it are not caught up.
//!
//!    So a fixed daily job runs exactly once on every local date across ordinary DST changes.
//! 8. **Years.** The crate only knows the years 1970–2100; [`CronSchedule::next_after`]
//!    returns `None` for instants outside them.
//! 9. **Lines that can never fire** (`0 0 30 2 *`) are accepted by crontab and silently never
//!    run; Tributary rejects them, since a feed that is never fetched is always a mistake.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{
    DateTime, Datelike, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// One of the five fields of a crontab line, in line order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    /// Field 1, 0–59.
    Minute,
    /// Field 2, 0–23.
    Hour,
    /// Field 3, 1–31.
    DayOfMonth,
    /// Field 4, 1–12 or `jan`–`dec`.
    Month,
    /// Field 5, 0–7 (0 and 7 are Sunday) or `sun`–`sat`.
    DayOfWeek,
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl CronField {
    const ALL: [CronField; 5] = [
        CronField::Minute,
        CronField::Hour,
        CronField::DayOfMonth,
        CronField::Month,
        CronField::DayOfWeek,
    ];

    /// Position of the field in the line, counting from 1.
    pub fn position(self) -> usize {
        match self {
            CronField::Minute => 1,
            CronField::Hour => 2,
            CronField::DayOfMonth => 3,
            CronField::Month => 4,
            CronField::DayOfWeek => 5,
        }
    }

    /// The field's name as crontab(5) spells it.
    pub fn name(self) -> &'static str {
        match self {
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day of month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day of week",
        }
    }

    /// Smallest value the field accepts.
    pub fn min(self) -> u32 {
        match self {
            CronField::DayOfMonth | CronField::Month => 1,
            _ => 0,
        }
    }

    /// Largest value the field accepts (7 for day of week, which is Sunday again).
    pub fn max(self) -> u32 {
        match self {
            CronField::Minute => 59,
            CronField::Hour => 23,
            CronField::DayOfMonth => 31,
            CronField::Month => 12,
            CronField::DayOfWeek => 7,
        }
    }

    /// Three-letter names the field accepts, and the value of the first one.
    fn names(self) -> Option<(&'static [&'static str], u32)> {
        match self {
            CronField::Month => Some((&MONTH_NAMES, 1)),
            CronField::DayOfWeek => Some((&DAY_NAMES, 0)),
            _ => None,
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {} ({})", self.position(), self.name())
    }
}

/// Why a schedule line was rejected. Every message names the offending field and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// Nothing but whitespace.
    #[error(
        "empty schedule: write five crontab fields such as \"*/30 * * * *\" or a nickname such as \"@hourly\""
    )]
    Empty,
    /// Not exactly five fields.
    #[error(
        "crontab lines have 5 fields (minute hour day-of-month month day-of-week), but {expr:?} has {found}{}",
        field_count_hint(*.found)
    )]
    FieldCount {
        /// The line as written.
        expr: String,
        /// How many fields it has.
        found: usize,
    },
    /// `@reboot`, which has no meaning for a fetch schedule.
    #[error(
        "@reboot is not supported: a Tributary schedule needs times to fire at, e.g. \"@hourly\" or \"*/30 * * * *\""
    )]
    Reboot,
    /// An `@` word crontab does not know.
    #[error(
        "unknown nickname {0:?}: use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly (lowercase, as in crontab)"
    )]
    UnknownNickname(String),
    /// A nickname followed by more text.
    #[error("{expr:?}: a nickname such as @daily replaces all five fields and stands alone")]
    NicknameWithFields {
        /// The line as written.
        expr: String,
    },
    /// A number outside the field's range.
    #[error("{field}: {value} is out of range {}-{}", .field.min(), .field.max())]
    OutOfRange {
        /// The field.
        field: CronField,
        /// The number as written.
        value: String,
    },
    /// A range whose start is after its end.
    #[error("{field}: range {value} runs backwards{}", reversed_hint(*.field))]
    ReversedRange {
        /// The field.
        field: CronField,
        /// The range as written.
        value: String,
    },
    /// A step of 0, or larger than the field's largest value.
    #[error("{field}: step {value} must be between 1 and {}", .field.max())]
    BadStep {
        /// The field.
        field: CronField,
        /// The step as written.
        value: String,
    },
    /// A word that is not one of the field's three-letter names.
    #[error("{field}: unknown name {value:?}; {}", name_hint(*.field))]
    UnknownName {
        /// The field.
        field: CronField,
        /// The word as written.
        value: String,
    },
    /// Anything else that is not crontab syntax.
    #[error("{field}: {item:?} {problem}")]
    Syntax {
        /// The field.
        field: CronField,
        /// The list item (or whole field) as written.
        item: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A line that parses but matches no date at all (e.g. 30 February).
    #[error("{expr:?} never fires: no calendar date matches its day and month fields")]
    NeverFires {
        /// The line as written.
        expr: String,
    },
    /// The line could not be handed to the scheduling engine (should not happen).
    #[error("{expr:?} could not be scheduled: {reason}")]
    Engine {
        /// The line as written.
        expr: String,
        /// The engine's complaint.
        reason: String,
    },
}

fn field_count_hint(found: usize) -> &'static str {
    match found {
        6 | 7 => "; seconds and year fields are not supported",
        _ => "",
    }
}

fn reversed_hint(field: CronField) -> &'static str {
    match field {
        CronField::DayOfWeek => {
            "; Sunday is 0, so a range cannot run past Saturday: write 6-7 (or sat,sun) for the weekend, 1-7 for Monday to Sunday"
        }
        _ => "; a range cannot wrap around: split it, e.g. 22-23,0-2",
    }
}

fn name_hint(field: CronField) -> &'static str {
    match field {
        CronField::Month => "use jan-dec (three letters, any case) or 1-12",
        _ => "use sun-sat (three letters, any case) or 0-7",
    }
}

/// A parsed crontab line, ready to compute fire times in any time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    /// The line as written, without surrounding whitespace.
    source: String,
    /// The crate schedules whose union is the line's meaning: one, or two when day of month and
    /// day of week are both restricted (crontab fires when either matches).
    schedules: Vec<cron::Schedule>,
    /// Whether the minute or hour field starts with `*`: such jobs follow the wall clock through
    /// daylight-saving changes instead of getting cron(8)'s catch-up / run-once treatment.
    wildcard: bool,
    /// Shortest gap between consecutive fires, measured once at parse time.
    interval: Duration,
}

/// Forward clock jumps longer than this are corrections, not DST: skipped times are not caught up.
const CATCH_UP_LIMIT_SECS: i32 = 3 * 3600;
/// Upper bound on wall-clock candidates examined by one `next_after` call.
const MAX_CANDIDATES: usize = 10_000;
/// Fires sampled to measure `typical_interval`.
const INTERVAL_SAMPLE: usize = 400;
/// Years the scheduling engine covers.
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2100;

impl CronSchedule {
    /// Parse a five-field crontab line or an `@` nickname.
    ///
    /// Fields are separated by runs of spaces or tabs. See the module docs for exactly what is
    /// accepted and how it differs from the `cron` crate's own syntax.
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let source = expr.trim_ascii();
        if source.is_empty() {
            return Err(CronError::Empty);
        }
        let fields_text = if source.starts_with('@') {
            let mut words = source.split_ascii_whitespace();
            let word = words.next().unwrap_or_default();
            let equivalent = nickname(word)?;
            if words.next().is_some() {
                return Err(CronError::NicknameWithFields {
                    expr: source.to_owned(),
                });
            }
            equivalent
        } else {
            source
        };

        let words: Vec<&str> = fields_text.split_ascii_whitespace().collect();
        if words.len() != 5 {
            return Err(CronError::FieldCount {
                expr: source.to_owned(),
                found: words.len(),
            });
        }
        let mut masks = [0u64; 5];
        for ((mask, field), text) in masks.iter_mut().zip(CronField::ALL).zip(&words) {
            *mask = parse_field(field, text)?;
        }
        let starred = |field: CronField| words[field.position() - 1].starts_with('*');
        let wildcard = starred(CronField::Minute) || starred(CronField::Hour);
        let either_day = !starred(CronField::DayOfMonth) && !starred(CronField::DayOfWeek);

        let all_days = full_mask(CronField::DayOfMonth);
        let all_weekdays = full_mask(CronField::DayOfWeek);
        let [minute, hour, dom, month, dow] = masks;
        let day_pairs: Vec<(u64, u64)> = if either_day {
            vec![(dom, all_weekdays), (all_days, dow)]
        } else {
            vec![(dom, dow)]
        };
        let mut schedules = Vec::with_capacity(day_pairs.len());
        for (dom, dow) in day_pairs {
            let text = format!(
                "0 {} {} {} {} {}",
                engine_list(CronField::Minute, minute),
                engine_list(CronField::Hour, hour),
                engine_list(CronField::DayOfMonth, dom),
                engine_list(CronField::Month, month),
                engine_list(CronField::DayOfWeek, dow),
            );
            let schedule = cron::Schedule::from_str(&text).map_err(|e| CronError::Engine {
                expr: source.to_owned(),
                reason: e.to_string(),
            })?;
            schedules.push(schedule);
        }

        let mut schedule = CronSchedule {
            source: source.to_owned(),
            schedules,
            wildcard,
            interval: Duration::ZERO,
        };
        schedule.interval = schedule
            .measure_interval()
            .ok_or_else(|| CronError::NeverFires {
                expr: source.to_owned(),
            })?;
        Ok(schedule)
    }

    /// First fire time strictly after `after`, evaluated in `tz` wall-clock time.
    ///
    /// Daylight-saving changes follow cron(8)'s rules (see the module docs). Returns `None` when
    /// `after` lies outside 1970–2100 or the schedule has no fire left before the end of 2100.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&after.year()) {
            return None;
        }
        // A wildcard job fires in the second pass of a repeated stretch too, at wall times
        // earlier than the wall time of `after` when `after` is in the first pass; start the
        // walk early enough to see them. Fixed jobs only ever use the first pass, whose
        // instants never run backwards, so they need no lookback.
        let lookback = if self.wildcard {
            let soon = after + chrono::Duration::hours(26);
            (offset_secs(tz, after) - offset_secs(tz, soon)).max(0)
        } else {
            0
        };
        let mut cursor =
            after.with_timezone(&tz).naive_local() - chrono::Duration::seconds(i64::from(lookback));

        // Wall-clock candidates come in order; their earliest instants never decrease, so the
        // first candidate whose earliest instant is after `after` ends the walk. Only the second
        // pass of a repeated stretch (wildcard jobs) can yield an earlier answer before that.
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..MAX_CANDIDATES {
            let Some(wall) = self.next_wall_time(cursor) else {
                return best;
            };
            cursor = wall;
            match tz.from_local_datetime(&wall) {
                MappedLocalTime::Single(t) => {
                    let t = t.with_timezone(&Utc);
                    if t > after {
                        return Some(earliest(best, t));
                    }
                }
                MappedLocalTime::Ambiguous(first, second) => {
                    let (first, second) = (first.with_timezone(&Utc), second.with_timezone(&Utc));
                    if first > after {
                        return Some(earliest(best, first));
                    }
                    if self.wildcard && second > after {
                        best = Some(earliest(best, second));
                    }
                }
                MappedLocalTime::None => {
                    if self.wildcard {
                        continue;
                    }
                    let Some((jump_at, jump_secs)) = gap_end(tz, wall) else {
                        continue;
                    };
                    if jump_secs <= CATCH_UP_LIMIT_SECS && jump_at > after {
                        return Some(earliest(best, jump_at));
                    }
                }
            }
        }
        best
    }

    /// The line as written (without surrounding whitespace).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Rough period between fires, for display and politeness: the shortest gap between two
    /// consecutive fires over a sample of several hundred fires, in wall-clock time.
    ///
    /// For example 30 minutes for `*/30 * * * *`, one day for `0 7 * * 1-5`, four minutes for
    /// `*/7 * * * *` (56 past to the hour), four years for `0 0 29 2 *`.
    pub fn typical_interval(&self) -> Duration {
        self.interval
    }

    /// The next wall-clock time strictly after `cursor` that matches the line, ignoring zones.
    fn next_wall_time(&self, cursor: NaiveDateTime) -> Option<NaiveDateTime> {
        let start = cursor.and_utc();
        self.schedules
            .iter()
            .filter_map(|s| s.after(&start).next())
            .min()
            .map(|t| t.naive_utc())
    }

    /// Shortest gap between consecutive wall-clock fires from 2001 on; `None` if it never fires.
    fn measure_interval(&self) -> Option<Duration> {
        let mut cursor = NaiveDate::from_ymd_opt(2001, 1, 1)?.and_hms_opt(0, 0, 0)?;
        let mut previous = self.next_wall_time(cursor)?;
        let mut shortest: Option<chrono::Duration> = None;
        for _ in 0..INTERVAL_SAMPLE {
            cursor = previous;
            let Some(next) = self.next_wall_time(cursor) else {
                break;
            };
            let gap = next - previous;
            shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
            previous = next;
        }
        // A line that fires only once before 2100 is treated as yearly.
        let fallback = Duration::from_secs(365 * 86_400);
        Some(shortest.and_then(|s| s.to_std().ok()).unwrap_or(fallback))
    }
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(s)
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// The five-field line crontab(5) gives for a nickname.
fn nickname(word: &str) -> Result<&'static str, CronError> {
    match word {
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        "@monthly" => Ok("0 0 1 * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@hourly" => Ok("0 * * * *"),
        "@reboot" => Err(CronError::Reboot),
        other => Err(CronError::UnknownNickname(other.to_owned())),
    }
}

/// Parse one field (`list = item {"," item}`) into a bit mask of its values.
/// Day of week 7 is folded into 0, both being Sunday.
fn parse_field(field: CronField, text: &str) -> Result<u64, CronError> {
    let mut mask = 0u64;
    for item in text.split(',') {
        mask |= parse_item(field, item)?;
    }
    if field == CronField::DayOfWeek && mask & (1 << 7) != 0 {
        mask = (mask & !(1 << 7)) | 1;
    }
    Ok(mask)
}

/// One list item: `*`, `*/step`, `value`, `start-end` or `start-end/step`.
fn parse_item(field: CronField, item: &str) -> Result<u64, CronError> {
    let syntax = |problem| CronError::Syntax {
        field,
        item: item.to_owned(),
        problem,
    };
    if item.is_empty() {
        return Err(syntax("is an empty list item (stray comma?)"));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    let (start, end) = if base == "*" {
        (field.min(), field.max())
    } else if let Some((first, last)) = base.split_once('-') {
        let (start, end) = (
            parse_value(field, item, first)?,
            parse_value(field, item, last)?,
        );
        if start > end {
            return Err(CronError::ReversedRange {
                field,
                value: base.to_owned(),
            });
        }
        (start, end)
    } else {
        let value = parse_value(field, item, base)?;
        if step.is_some() {
            return Err(syntax(
                "has a step after a single value, which crontab rejects: write a range such as 5-59/15 or */15",
            ));
        }
        (value, value)
    };
    let step = match step {
        None => 1,
        Some(text) => {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax("has a step that is not a number"));
            }
            match text.parse::<u32>() {
                Ok(n) if (1..=field.max()).contains(&n) => n,
                _ => {
                    return Err(CronError::BadStep {
                        field,
                        value: text.to_owned(),
                    });
                }
            }
        }
    };
    let mut mask = 0u64;
    let mut value = start;
    while value <= end {
        mask |= 1 << value;
        value += step;
    }
    Ok(mask)
}

/// A number or (in month and day-of-week) a three-letter name, checked against the field range.
fn parse_value(field: CronField, item: &str, text: &str) -> Result<u32, CronError> {
    let syntax = |problem| CronError::Syntax {
        field,
        item: item.to_owned(),
        problem,
    };
    if text.is_empty() {
        return Err(syntax("has a range with a missing end"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let out_of_range = || CronError::OutOfRange {
            field,
            value: text.to_owned(),
        };
        let value = text.parse::<u32>().map_err(|_| out_of_range())?;
        if !(field.min()..=field.max()).contains(&value) {
            return Err(out_of_range());
        }
        return Ok(value);
    }
    if text.bytes().all(|b| b.is_ascii_alphabetic()) {
        let Some((names, first)) = field.names() else {
            return Err(syntax(
                "is not a number (names are only allowed in the month and day-of-week fields)",
            ));
        };
        return names
            .iter()
            .zip(first..)
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, value)| value)
            .ok_or_else(|| CronError::UnknownName {
                field,
                value: text.to_owned(),
            });
    }
    Err(syntax(
        "is not crontab syntax (use numbers, three-letter names, '*', ',', '-' and '/')",
    ))
}

/// Every value of a field as a mask (day of week without 7, which is folded into 0).
fn full_mask(field: CronField) -> u64 {
    let max = match field {
        CronField::DayOfWeek => 6,
        other => other.max(),
    };
    (field.min()..=max).fold(0, |mask, v| mask | (1 << v))
}

/// A field's mask in the `cron` crate's syntax (day of week shifted to Sunday = 1).
fn engine_list(field: CronField, mask: u64) -> String {
    if mask == full_mask(field) {
        return "*".to_owned();
    }
    let shift = u32::from(field == CronField::DayOfWeek);
    (0..64u32)
        .filter(|v| mask & (1 << v) != 0)
        .map(|v| (v + shift).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn earliest(best: Option<DateTime<Utc>>, candidate: DateTime<Utc>) -> DateTime<Utc> {
    best.map_or(candidate, |b| b.min(candidate))
}

/// UTC offset of `tz` at `instant`, in seconds.
fn offset_secs(tz: Tz, instant: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&instant.naive_utc())
        .fix()
        .local_minus_utc()
}

/// For a wall time skipped by a forward clock change in `tz`: the instant of the change (the
/// first instant of the new time) and how many seconds the clocks jumped.
fn gap_end(tz: Tz, wall: NaiveDateTime) -> Option<(DateTime<Utc>, i32)> {
    // Every UTC offset lies within ±16 h, so the wall time at `low` is before `wall` and the
    // wall time at `high` after it; bisect for the first instant whose wall time is past `wall`.
    let wall_ts = wall.and_utc().timestamp();
    let (mut low, mut high) = (wall_ts - 17 * 3600, wall_ts + 17 * 3600);
    let wall_at =
        |ts: i64| DateTime::from_timestamp(ts, 0).map(|t| t.with_timezone(&tz).naive_local());
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if wall_at(mid)? > wall {
            high = mid;
        } else {
            low = mid;
        }
    }
    let jump_at = DateTime::from_timestamp(high, 0)?;
    let before = DateTime::from_timestamp(high - 1, 0)?;
    Some((jump_at, offset_secs(tz, jump_at) - offset_secs(tz, before)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Berlin;

    fn schedule(expr: &str) -> CronSchedule {
        CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{expr:?} should parse: {e}"))
    }

    fn error(expr: &str) -> CronError {
        match CronSchedule::parse(expr) {
            Ok(_) => panic!("{expr:?} should be rejected"),
            Err(e) => e,
        }
    }

    /// A wall-clock time in `tz` ("2025-03-09 01:59"); the first instant if it is repeated.
    fn local(tz: Tz, text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The next `n` fires after `after`, as RFC 3339 in the zone's own offsets.
    fn fires(expr: &str, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<String> {
        let schedule = schedule(expr);
        let mut out = Vec::new();
        let mut cursor = after;
        for _ in 0..n {
            let Some(next) = schedule.next_after(cursor, tz) else {
                break;
            };
            assert!(next > cursor, "{expr}: {next} is not after {cursor}");
            out.push(next.with_timezone(&tz).to_rfc3339());
            cursor = next;
        }
        out
    }

    /// Local dates (YYYY-MM-DD Ddd) of the next `n` fires in UTC.
    fn fire_days(expr: &str, after: &str, n: usize) -> Vec<String> {
        let after = local(chrono_tz::UTC, after);
        let schedule = schedule(expr);
        let mut cursor = after;
        let mut out = Vec::new();
        for _ in 0..n {
            cursor = schedule.next_after(cursor, chrono_tz::UTC).unwrap();
            out.push(cursor.format("%Y-%m-%d %a").to_string());
        }
        out
    }

    // ---- fields and whitespace -------------------------------------------------------------

    #[test]
    fn every_thirty_minutes_fires_on_the_hour_and_half_hour() {
        let after = utc("2025-06-01T10:05:00Z");
        assert_eq!(
            fires("*/30 * * * *", chrono_tz::UTC, after, 3),
            [
                "2025-06-01T10:30:00+00:00",
                "2025-06-01T11:00:00+00:00",
                "2025-06-01T11:30:00+00:00"
            ]
        );
    }

    #[test]
    fn six_or_seven_fields_are_rejected_as_not_crontab() {
        for expr in ["0 */30 * * * *", "0 0 12 * * ? 2030"] {
            let message = error(expr).to_string();
            assert!(message.contains("crontab lines have 5 fields"), "{message}");
            assert!(message.contains("seconds and year"), "{message}");
        }
    }

    #[test]
    fn fewer_than_five_fields_are_rejected() {
        assert_eq!(
            error("* * * *"),
            CronError::FieldCount {
                expr: "* * * *".into(),
                found: 4
            }
        );
    }

    #[test]
    fn runs_of_spaces_and_tabs_separate_fields() {
        let plain = schedule("0 7 * * 1-5");
        let spaced = schedule("  0\t\t7  *\t*   1-5 \t");
        assert_eq!(spaced.as_str(), "0\t\t7  *\t*   1-5");
        let after = utc("2025-06-01T00:00:00Z");
        assert_eq!(
            plain.next_after(after, Berlin),
            spaced.next_after(after, Berlin)
        );
    }

    #[test]
    fn empty_and_blank_lines_are_rejected() {
        assert_eq!(error(""), CronError::Empty);
        assert_eq!(error(" \t "), CronError::Empty);
    }

    // ---- nicknames -------------------------------------------------------------------------

    #[test]
    fn nicknames_mean_their_crontab_equivalents() {
        let after = utc("2025-02-10T13:17:00Z");
        for (nick, equivalent) in [
            ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 1 *"),
            ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"),
            ("@daily", "0 0 * * *"),
            ("@midnight", "0 0 * * *"),
            ("@hourly", "0 * * * *"),
        ] {
            assert_eq!(
                fires(nick, Berlin, after, 5),
                fires(equivalent, Berlin, after, 5),
                "{nick}"
            );
            assert_eq!(schedule(nick).to_string(), nick);
        }
        assert_eq!(
            fires("@weekly", chrono_tz::UTC, after, 1),
            ["2025-02-16T00:00:00+00:00"] // a Sunday
        );
    }

    #[test]
    fn reboot_is_rejected_with_a_clear_message() {
        assert_eq!(error("@reboot"), CronError::Reboot);
        assert!(
            error("@reboot")
                .to_string()
                .contains("@reboot is not supported")
        );
    }

    #[test]
    fn unknown_nicknames_are_rejected() {
        for word in ["@x", "@", "@@daily", "@Daily", "@every5m"] {
            assert_eq!(error(word), CronError::UnknownNickname(word.into()));
        }
        assert!(error("@x").to_string().contains("@hourly"));
    }

    #[test]
    fn nickname_followed_by_fields_is_rejected() {
        assert_eq!(
            error("@daily 0 * * *"),
            CronError::NicknameWithFields {
                expr: "@daily 0 * * *".into()
            }
        );
    }

    // ---- day of week and month -------------------------------------------------------------

    #[test]
    fn day_of_week_seven_is_sunday() {
        let after = "2025-06-02 00:00"; // a Monday
        assert_eq!(
            fire_days("0 9 * * 7", after, 2),
            ["2025-06-08 Sun", "2025-06-15 Sun"]
        );
        assert_eq!(
            fire_days("0 9 * * 0", after, 2),
            ["2025-06-08 Sun", "2025-06-15 Sun"]
        );
    }

    #[test]
    fn day_of_week_names_work_in_any_case() {
        let after = "2025-06-02 12:00";
        for expr in ["0 9 * * sun", "0 9 * * SUN", "0 9 * * Sun"] {
            assert_eq!(fire_days(expr, after, 1), ["2025-06-08 Sun"], "{expr}");
        }
        assert_eq!(
            fire_days("0 9 * * Mon,wED,FRI", after, 3),
            ["2025-06-04 Wed", "2025-06-06 Fri", "2025-06-09 Mon"]
        );
    }

    #[test]
    fn weekday_range_skips_the_weekend() {
        let days = fire_days("0 7 * * 1-5", "2025-06-05 12:00", 4);
        assert_eq!(
            days,
            [
                "2025-06-06 Fri",
                "2025-06-09 Mon",
                "2025-06-10 Tue",
                "2025-06-11 Wed"
            ]
        );
        assert_eq!(fire_days("0 7 * * mon-fri", "2025-06-05 12:00", 4), days);
    }

    #[test]
    fn range_ending_in_seven_runs_friday_to_sunday() {
        assert_eq!(
            fire_days("0 7 * * 5-7", "2025-06-02 12:00", 4),
            [
                "2025-06-06 Fri",
                "2025-06-07 Sat",
                "2025-06-08 Sun",
                "2025-06-13 Fri"
            ]
        );
        assert_eq!(
            fire_days("0 7 * * fri-sat,sun", "2025-06-02 12:00", 3),
            ["2025-06-06 Fri", "2025-06-07 Sat", "2025-06-08 Sun"]
        );
    }

    #[test]
    fn sat_sun_and_mon_sun_ranges_run_backwards_as_in_crontab() {
        for (expr, range) in [
            ("0 7 * * sat-sun", "sat-sun"),
            ("0 7 * * mon-sun", "mon-sun"),
        ] {
            let err = error(expr);
            assert_eq!(
                err,
                CronError::ReversedRange {
                    field: CronField::DayOfWeek,
                    value: range.into()
                }
            );
            assert!(err.to_string().contains("6-7"), "{err}");
        }
        assert_eq!(
            fire_days("0 7 * * 6-7", "2025-06-02 12:00", 2),
            ["2025-06-07 Sat", "2025-06-08 Sun"]
        );
    }

    #[test]
    fn day_of_week_steps_count_from_the_range_start() {
        assert_eq!(
            fire_days("0 7 * * */2", "2025-06-02 12:00", 4), // 0,2,4,6
            [
                "2025-06-03 Tue",
                "2025-06-05 Thu",
                "2025-06-07 Sat",
                "2025-06-08 Sun"
            ]
        );
        assert_eq!(
            fire_days("0 7 * * 1-5/2", "2025-06-02 12:00", 3), // 1,3,5
            ["2025-06-04 Wed", "2025-06-06 Fri", "2025-06-09 Mon"]
        );
    }

    #[test]
    fn day_of_week_eight_is_out_of_range() {
        let err = error("0 7 * * 8");
        assert_eq!(
            err.to_string(),
            "field 5 (day of week): 8 is out of range 0-7"
        );
    }

    #[test]
    fn long_day_and_month_names_are_rejected() {
        for (expr, word, field) in [
            ("0 7 * * monday", "monday", CronField::DayOfWeek),
            ("0 7 * * thurs", "thurs", CronField::DayOfWeek),
            ("0 7 1 january *", "january", CronField::Month),
        ] {
            assert_eq!(
                error(expr),
                CronError::UnknownName {
                    field,
                    value: word.into()
                }
            );
        }
        assert!(error("0 7 * * monday").to_string().contains("sun-sat"));
    }

    #[test]
    fn month_names_work_in_any_case_and_in_ranges() {
        let after = "2025-01-15 00:00";
        assert_eq!(
            fire_days("0 0 1 jun-AUG *", after, 3),
            ["2025-06-01 Sun", "2025-07-01 Tue", "2025-08-01 Fri"]
        );
        assert_eq!(
            fire_days("0 0 1 Feb,dec *", after, 2),
            ["2025-02-01 Sat", "2025-12-01 Mon"]
        );
    }

    #[test]
    fn names_are_rejected_outside_month_and_day_of_week() {
        let err = error("mon * * * *");
        assert!(
            matches!(
                err,
                CronError::Syntax {
                    field: CronField::Minute,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("field 1 (minute)"));
    }

    // ---- day of month OR day of week -------------------------------------------------------

    #[test]
    fn restricted_day_of_month_and_week_fire_on_either() {
        // crontab(5): "30 4 1,15 * 5" runs on the 1st and 15th of each month, plus every Friday.
        assert_eq!(
            fire_days("30 4 1,15 * 5", "2025-05-01 12:00", 6),
            [
                "2025-05-02 Fri",
                "2025-05-09 Fri",
                "2025-05-15 Thu",
                "2025-05-16 Fri",
                "2025-05-23 Fri",
                "2025-05-30 Fri"
            ]
        );
    }

    #[test]
    fn starred_day_of_month_leaves_only_the_weekdays() {
        assert_eq!(
            fire_days("0 0 * * 1", "2025-05-01 12:00", 2),
            ["2025-05-05 Mon", "2025-05-12 Mon"]
        );
        assert_eq!(
            fire_days("0 0 13 * *", "2025-05-01 12:00", 2),
            ["2025-05-13 Tue", "2025-06-13 Fri"]
        );
    }

    #[test]
    fn stepped_star_day_of_month_ands_with_day_of_week() {
        // Vixie cron treats any field starting with '*' as unrestricted, so "*/2" (odd days)
        // with Monday means odd-numbered Mondays, not "odd days or Mondays".
        assert_eq!(
            fire_days("0 0 */2 * 1", "2025-05-01 12:00", 4),
            [
                "2025-05-05 Mon",
                "2025-05-19 Mon",
                "2025-06-09 Mon",
                "2025-06-23 Mon"
            ]
        );
        // And the other way round: the 13th, but only when it is a Sunday ("*/7" is 0,7).
        assert_eq!(
            fire_days("0 0 13 * */7", "2025-01-01 12:00", 1),
            ["2025-04-13 Sun"]
        );
    }

    // ---- lists, ranges, steps, errors ------------------------------------------------------

    #[test]
    fn lists_ranges_and_steps_combine() {
        // 9:00, 9:30, 11:00, ... 17:30 on weekdays.
        let after = local(chrono_tz::UTC, "2025-06-06 16:45"); // Friday
        assert_eq!(
            fires("0,30 9-17/2 * * mon-fri", chrono_tz::UTC, after, 4),
            [
                "2025-06-06T17:00:00+00:00",
                "2025-06-06T17:30:00+00:00",
                "2025-06-09T09:00:00+00:00",
                "2025-06-09T09:30:00+00:00"
            ]
        );
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        for (expr, message) in [
            ("60 * * * *", "field 1 (minute): 60 is out of range 0-59"),
            ("0 24 * * *", "field 2 (hour): 24 is out of range 0-23"),
            (
                "0 0 0 * *",
                "field 3 (day of month): 0 is out of range 1-31",
            ),
            (
                "0 0 32 * *",
                "field 3 (day of month): 32 is out of range 1-31",
            ),
            ("0 0 1 13 *", "field 4 (month): 13 is out of range 1-12"),
            ("0 0 1 0 *", "field 4 (month): 0 is out of range 1-12"),
            (
                "0 0 * * 1-9",
                "field 5 (day of week): 9 is out of range 0-7",
            ),
            (
                "99999999999999999999 * * * *",
                "field 1 (minute): 99999999999999999999 is out of range 0-59",
            ),
        ] {
            assert_eq!(error(expr).to_string(), message, "{expr}");
        }
    }

    #[test]
    fn backwards_ranges_name_their_field() {
        assert_eq!(
            error("30-10 * * * *"),
            CronError::ReversedRange {
                field: CronField::Minute,
                value: "30-10".into()
            }
        );
        assert!(
            error("0 22-2 * * *")
                .to_string()
                .starts_with("field 2 (hour): range 22-2 runs backwards")
        );
    }

    #[test]
    fn zero_and_oversized_steps_are_rejected() {
        assert_eq!(
            error("*/0 * * * *").to_string(),
            "field 1 (minute): step 0 must be between 1 and 59"
        );
        assert_eq!(
            error("0 */24 * * *").to_string(),
            "field 2 (hour): step 24 must be between 1 and 23"
        );
        assert!(matches!(error("*/x * * * *"), CronError::Syntax { .. }));
    }

    #[test]
    fn step_after_a_single_value_is_rejected_as_in_crontab() {
        let err = error("5/15 * * * *");
        assert!(matches!(
            err,
            CronError::Syntax {
                field: CronField::Minute,
                ..
            }
        ));
        assert!(err.to_string().contains("5-59/15"), "{err}");
    }

    #[test]
    fn star_may_appear_inside_a_list() {
        let a = schedule("*,5 * * * *");
        let b = schedule("* * * * *");
        let after = utc("2025-06-01T10:05:30Z");
        assert_eq!(a.next_after(after, Berlin), b.next_after(after, Berlin));
    }

    #[test]
    fn impossible_dates_are_rejected_and_leap_days_accepted() {
        assert_eq!(
            error("0 0 30 2 *"),
            CronError::NeverFires {
                expr: "0 0 30 2 *".into()
            }
        );
        assert!(matches!(
            error("0 0 31 4,6,9,11 *"),
            CronError::NeverFires { .. }
        ));
        assert_eq!(
            fire_days("0 0 29 2 *", "2025-01-01 00:00", 2),
            ["2028-02-29 Tue", "2032-02-29 Sun"]
        );
        // With a restricted day of week the 30th of February is harmless: Mondays in February.
        assert_eq!(
            fire_days("0 0 30 2 1", "2025-01-01 00:00", 1),
            ["2025-02-03 Mon"]
        );
    }

    // ---- time zones and daylight saving ----------------------------------------------------

    #[test]
    fn schedules_run_in_the_given_time_zone() {
        let s = schedule("0 7 * * *");
        // Berlin is UTC+1 in winter, UTC+2 in summer.
        assert_eq!(
            s.next_after(utc("2025-01-10T12:00:00Z"), Berlin),
            Some(utc("2025-01-11T06:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2025-07-10T12:00:00Z"), Berlin),
            Some(utc("2025-07-11T05:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2025-07-10T12:00:00Z"), New_York),
            Some(utc("2025-07-11T11:00:00Z"))
        );
    }

    #[test]
    fn next_fire_is_strictly_after_the_given_instant() {
        let s = schedule("*/30 * * * *");
        let at = utc("2025-06-01T10:30:00Z");
        assert_eq!(
            s.next_after(at, chrono_tz::UTC),
            Some(utc("2025-06-01T11:00:00Z"))
        );
        let just_before = at - chrono::Duration::nanoseconds(1);
        assert_eq!(s.next_after(just_before, chrono_tz::UTC), Some(at));
    }

    #[test]
    fn spring_forward_runs_a_skipped_fixed_job_at_the_jump_in_new_york() {
        // 2025-03-09: 02:00 EST jumps to 03:00 EDT (07:00 UTC); 02:30 does not exist that day.
        let after = local(New_York, "2025-03-08 12:00");
        assert_eq!(
            fires("30 2 * * *", New_York, after, 3),
            [
                "2025-03-09T03:00:00-04:00",
                "2025-03-10T02:30:00-04:00",
                "2025-03-11T02:30:00-04:00"
            ]
        );
    }

    #[test]
    fn spring_forward_runs_a_skipped_fixed_job_at_the_jump_in_berlin() {
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let after = local(Berlin, "2025-03-29 12:00");
        assert_eq!(
            fires("30 2 * * *", Berlin, after, 2),
            ["2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"]
        );
        // Several skipped times still run only once, at the jump.
        assert_eq!(
            fires("0,15,45 2 * * *", Berlin, after, 2),
            ["2025-03-30T03:00:00+02:00", "2025-03-31T02:00:00+02:00"]
        );
    }

    #[test]
    fn spring_forward_skips_wildcard_times_in_the_missing_hour() {
        let after = local(New_York, "2025-03-09 01:40");
        assert_eq!(
            fires("*/15 * * * *", New_York, after, 3),
            [
                "2025-03-09T01:45:00-05:00",
                "2025-03-09T03:00:00-04:00",
                "2025-03-09T03:15:00-04:00"
            ]
        );
        // "30 *" has a '*' hour, so 02:30 simply does not happen that day.
        assert_eq!(
            fires("30 * * * *", New_York, after, 2),
            ["2025-03-09T03:30:00-04:00", "2025-03-09T04:30:00-04:00"]
        );
    }

    #[test]
    fn fall_back_runs_a_fixed_job_once() {
        // 2025-11-02 in New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let after = local(New_York, "2025-11-01 12:00");
        assert_eq!(
            fires("30 1 * * *", New_York, after, 2),
            ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"]
        );
        // 2025-10-26 in Berlin: 03:00 CEST falls back to 02:00 CET; 02:00 happens twice.
        let after = local(Berlin, "2025-10-25 12:00");
        assert_eq!(
            fires("0 2 * * *", Berlin, after, 2),
            ["2025-10-26T02:00:00+02:00", "2025-10-27T02:00:00+01:00"]
        );
    }

    #[test]
    fn fall_back_fixed_job_is_not_repeated_when_asked_from_the_second_pass() {
        // 01:10 EST (06:10 UTC) is in the second pass; 01:30 EDT already fired at 05:30 UTC.
        let s = schedule("30 1 * * *");
        assert_eq!(
            s.next_after(utc("2025-11-02T06:10:00Z"), New_York),
            Some(utc("2025-11-03T06:30:00Z"))
        );
        // Asked from the first pass after the fire: also the next day.
        assert_eq!(
            s.next_after(utc("2025-11-02T05:40:00Z"), New_York),
            Some(utc("2025-11-03T06:30:00Z"))
        );
    }

    #[test]
    fn fall_back_runs_wildcard_jobs_in_both_passes() {
        let after = local(New_York, "2025-11-02 00:50");
        assert_eq!(
            fires("*/30 * * * *", New_York, after, 5),
            [
                "2025-11-02T01:00:00-04:00",
                "2025-11-02T01:30:00-04:00",
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:30:00-05:00",
                "2025-11-02T02:00:00-05:00"
            ]
        );
        // Asked late in the first pass, the next fire is early in the second pass.
        assert_eq!(
            fires("*/5 * * * *", New_York, utc("2025-11-02T05:52:00Z"), 3),
            [
                "2025-11-02T01:55:00-04:00",
                "2025-11-02T01:00:00-05:00",
                "2025-11-02T01:05:00-05:00"
            ]
        );
    }

    #[test]
    fn hourly_nickname_follows_the_wall_clock_through_fall_back() {
        let after = local(Berlin, "2025-10-26 01:30");
        assert_eq!(
            fires("@hourly", Berlin, after, 3),
            [
                "2025-10-26T02:00:00+02:00",
                "2025-10-26T02:00:00+01:00",
                "2025-10-26T03:00:00+01:00"
            ]
        );
        // @daily is a fixed-time job.
        assert!(!schedule("@daily").wildcard);
        assert!(schedule("@hourly").wildcard);
    }

    #[test]
    fn fixed_daily_job_fires_once_on_every_local_date_across_a_year() {
        for tz in [New_York, Berlin] {
            for expr in ["30 2 * * *", "0 2 * * *", "30 1 * * *", "59 1 * * *"] {
                let s = schedule(expr);
                let mut cursor = local(tz, "2025-01-01 00:00");
                let mut days = Vec::new();
                while let Some(next) = s.next_after(cursor, tz) {
                    if next.year() > 2025 {
                        break;
                    }
                    days.push(next.with_timezone(&tz).date_naive());
                    cursor = next;
                }
                assert_eq!(days.len(), 365, "{expr} in {tz}");
                assert!(
                    days.windows(2).all(|w| (w[1] - w[0]).num_days() == 1),
                    "{expr} in {tz}"
                );
            }
        }
    }

    #[test]
    fn clock_jump_over_three_hours_is_not_caught_up() {
        // Samoa skipped 30 December 2011 entirely (UTC-10 to UTC+14).
        let apia = chrono_tz::Pacific::Apia;
        let after = local(apia, "2011-12-29 13:00");
        assert_eq!(
            fires("0 12 * * *", apia, after, 1),
            ["2011-12-31T12:00:00+14:00"]
        );
    }

    #[test]
    fn instants_outside_the_supported_years_have_no_next_fire() {
        let s = schedule("* * * * *");
        assert_eq!(s.next_after(DateTime::<Utc>::MIN_UTC, Berlin), None);
        assert_eq!(s.next_after(DateTime::<Utc>::MAX_UTC, Berlin), None);
        assert_eq!(s.next_after(utc("1969-12-31T23:59:00Z"), Berlin), None);
        assert_eq!(s.next_after(utc("2101-01-01T00:00:00Z"), Berlin), None);
        assert_eq!(
            schedule("@yearly").next_after(utc("2100-06-01T00:00:00Z"), chrono_tz::UTC),
            None
        );
    }

    // ---- typical interval ------------------------------------------------------------------

    #[test]
    fn typical_interval_is_the_shortest_gap_between_fires() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let days = |d: u64| Duration::from_secs(d * 86_400);
        for (expr, expected) in [
            ("*/30 * * * *", minutes(30)),
            ("* * * * *", minutes(1)),
            ("*/7 * * * *", minutes(4)),
            ("0,30 9-17/2 * * mon-fri", minutes(30)),
            ("@hourly", minutes(60)),
            ("0 7 * * 1-5", days(1)),
            ("@daily", days(1)),
            ("@weekly", days(7)),
            ("0 9 1,15 * *", days(14)),
            ("@yearly", days(365)),
            ("0 0 29 2 *", days(4 * 365 + 1)),
        ] {
            assert_eq!(schedule(expr).typical_interval(), expected, "{expr}");
        }
    }

    // ---- text round trips and robustness ---------------------------------------------------

    #[test]
    fn display_from_str_and_as_str_keep_the_text_as_written() {
        let s: CronSchedule = " 0,30 9-17/2 * * MON-fri ".parse().unwrap();
        assert_eq!(s.as_str(), "0,30 9-17/2 * * MON-fri");
        assert_eq!(s.to_string(), "0,30 9-17/2 * * MON-fri");
        assert_eq!(s, CronSchedule::parse("0,30 9-17/2 * * MON-fri").unwrap());
        assert_eq!("@daily".parse::<CronSchedule>().unwrap().as_str(), "@daily");
    }

    #[test]
    fn odd_strings_are_rejected_without_panicking() {
        for expr in [
            "",
            "*",
            "* * * * * * * *",
            "60 * * * *",
            "-1 * * * *",
            "*/0 * * * *",
            "*/ * * * *",
            "/5 * * * *",
            "1-2-3 * * * *",
            "1- * * * *",
            "-5 * * * *",
            ",1 * * * *",
            "1,,2 * * * *",
            "*/5/5 * * * *",
            "*-5 * * * *",
            "** * * * *",
            "? * * * *",
            "0 0 L * *",
            "0 0 * * 1#2",
            "0 0 * * 5L",
            "0~30 * * * *",
            "*/99999999999 * * * *",
            "0 0 * * mon–fri",
            "٣ * * * *",
            "＊ * * * *",
            "* * * * *\u{a0}",
            "\u{0} * * * *",
            "🦀 🦀 🦀 🦀 🦀",
            "@",
            "@🦀",
            "@daily\u{a0}",
            "0 0 * * sunday",
            "0 0 1 1 * 2030",
        ] {
            assert!(
                CronSchedule::parse(expr).is_err(),
                "{expr:?} should be rejected"
            );
        }
    }

    #[test]
    fn accepted_schedules_answer_without_panicking_at_awkward_instants() {
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            utc("1970-01-01T00:00:00Z"),
            utc("2025-03-30T01:00:00Z"),
            utc("2025-10-26T00:59:59Z"),
            utc("2100-12-31T23:59:59Z"),
            DateTime::<Utc>::MAX_UTC,
        ];
        let zones = [
            chrono_tz::UTC,
            Berlin,
            New_York,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Etc::GMTPlus12,
        ];
        for expr in [
            "* * * * *",
            "30 2 * * *",
            "0 0 29 2 1",
            "@yearly",
            "*/7 1-3 * * sat",
        ] {
            let s = schedule(expr);
            for at in instants {
                for tz in zones {
                    if let Some(next) = s.next_after(at, tz) {
                        assert!(next > at, "{expr} in {tz} after {at}");
                    }
                }
            }
        }
    }
}
