// Temporary: replaced by the full date parser.
use chrono::{DateTime, FixedOffset};
pub fn parse_date(s: &str, _zone: chrono_tz::Tz) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc2822(s.trim())
        .or_else(|_| DateTime::parse_from_rfc3339(s.trim()))
        .ok()
}
