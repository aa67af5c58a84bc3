//! `tributary status`: per-feed health as a table, or JSON for scripts.

use std::io::{IsTerminal, Write};

use chrono::Utc;

use super::{load_config, load_feeds, open_store};
use crate::Exit;
use crate::cli::{Cli, StatusArgs};
use tributary::status::feed_statuses;

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
                r.last_error
                    .clone()
                    .map(|e| format!("({}x) {e}", r.consecutive_errors))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        "FEED",
        "STATE",
        "ENTRIES",
        "LAST SUCCESS",
        "NEXT FETCH",
        "LAST ERROR",
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
