//! `tributary status`: per-feed health as a table, or JSON for scripts.

use std::io::{IsTerminal, Write};

use chrono::Utc;

use super::{load_config, load_feeds, open_store};
use crate::Exit;
use crate::cli::{Cli, StatusArgs};
use tributary::status::{FeedStatus, feed_statuses};

pub fn run(cli: &Cli, args: &StatusArgs) -> anyhow::Result<Exit> {
    let config = load_config(cli)?;
    let feeds = load_feeds(cli, &config)?;
    let store = open_store(&config)?;
    let (records, delivery) = {
        let s = store.lock().unwrap_or_else(|p| p.into_inner());
        (s.feeds()?, s.last_delivery()?)
    };
    let rows = feed_statuses(&feeds, &records);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let now = Utc::now();
    let ago = |t: Option<chrono::DateTime<Utc>>| match t {
        None => "never".to_string(),
        Some(t) => human_delta(now - t, "ago"),
    };
    let until = |t: Option<chrono::DateTime<Utc>>| match t {
        None => "-".to_string(),
        Some(t) if t <= now => "due".to_string(),
        Some(t) => human_delta(t - now, "from now"),
    };
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.state.as_str().to_string(),
                r.entries.to_string(),
                ago(r.last_success),
                until(r.next_fetch),
                note(r, &until),
            ]
        })
        .collect();
    let header = [
        "FEED",
        "STATE",
        "ENTRIES",
        "LAST SUCCESS",
        "NEXT FETCH",
        "LAST ERROR / NOTES",
    ];
    let mut widths = header.map(str::len);
    for row in &table {
        for (i, cell) in row.iter().enumerate().take(5) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let bold = std::io::stdout().is_terminal();
    let line = |cells: &[String; 6]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 5 {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            } else {
                s.push_str(c);
            }
        }
        s.trim_end().to_string()
    };
    let head = line(&header.map(str::to_string));
    if bold {
        writeln!(out, "\x1b[1m{head}\x1b[0m")?;
    } else {
        writeln!(out, "{head}")?;
    }
    for row in &table {
        writeln!(out, "{}", line(row))?;
    }
    if let Some(d) = delivery {
        let detail = match (d.state.as_str(), &d.last_error, d.next_attempt) {
            ("sent", _, _) => "sent".to_string(),
            (state, Some(e), Some(next)) => format!(
                "{state} after {} attempts ({e}); next attempt {}",
                d.attempts,
                until(Some(next))
            ),
            (state, Some(e), None) => format!(
                "{state} after {} attempts ({e}); the file is kept",
                d.attempts
            ),
            (state, None, _) => state.to_string(),
        };
        writeln!(out, "\ndigest mail for {}: {detail}", d.date)?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// The last column: the last error, then a host hold, then how many recoveries the last fetch
/// needed (their text is in `status --json` and in the log).
fn note(r: &FeedStatus, until: &dyn Fn(Option<chrono::DateTime<Utc>>) -> String) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &r.last_error {
        parts.push(format!("({}x) {e}", r.consecutive_errors));
    }
    if let (Some(t), Some(reason)) = (r.held_until, &r.held_reason) {
        parts.push(format!(
            "host held back, next request {}: {reason}",
            until(Some(t))
        ));
    }
    match r.warnings.as_slice() {
        [] => {}
        [one] => parts.push(format!("recovered: {one}")),
        [first, rest @ ..] => parts.push(format!(
            "recovered: {first} (+{} more, see status --json)",
            rest.len()
        )),
    }
    parts.join("; ")
}

fn human_delta(d: chrono::TimeDelta, suffix: &str) -> String {
    let s = d.num_seconds().max(0);
    let text = match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    };
    format!("{text} {suffix}")
}
