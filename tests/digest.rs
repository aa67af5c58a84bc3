//! The daily digest of the demo fixtures: snapshots of the HTML, Markdown and Atom forms (the
//! fixtures' dates are fixed, so the output is too), topics, folded stories, local days and
//! failing feeds.

mod common;

use chrono::NaiveDate;
use common::{FeedServer, Pipeline, Workspace};
use tributary::digest::{self, DigestFormat};

const TOPICS: &str = r#"[schedule]
timezone = "Asia/Baku"

[server]
base_url = "https://tributary.example"

[[digest.topic]]
name = "Russia and Azerbaijan"
keywords = ["Azerbaijan", "Азербайджан", "Baku", "Баку"]

[[digest.topic]]
name = "Ukraine"
keywords = ["Ukraine", "Украин"]
"#;

const DEMO_FEEDS: &[(&str, &str)] = &[
    ("analysis", "/feeds/analysis.atom"),
    ("wire", "/feeds/wire.rss"),
    ("noguid-digest", "/feeds/noguid.rss"),
    ("caucasus-ru", "/feeds/caucasus-1251.xml"),
];

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn build(ws: &Workspace, date: &str) -> digest::Digest {
    let p = Pipeline::open(ws);
    let store = p.refresher.store().lock().unwrap();
    digest::build(&store, &p.config, &p.feeds, day(date)).unwrap()
}

fn fixtures_workspace() -> (FeedServer, Workspace) {
    let server = FeedServer::start();
    let ws = Workspace::with_config(TOPICS);
    ws.feeds_on(&server, DEMO_FEEDS);
    let report = ws.fetch_in_process();
    assert!(report.failed().next().is_none(), "{:?}", report.reports);
    (server, ws)
}

#[test]
fn digest_of_the_seed_day_matches_its_snapshots() {
    let (_server, ws) = fixtures_workspace();
    let d = build(&ws, "2026-01-14");
    let base = "https://tributary.example";
    insta::assert_snapshot!("seed_day_html", DigestFormat::Html.render(&d, base));
    insta::assert_snapshot!("seed_day_markdown", DigestFormat::Md.render(&d, base));
    insta::assert_snapshot!("seed_day_atom", DigestFormat::Atom.render(&d, base));
}

#[test]
fn seed_story_appears_once_under_its_topic_with_the_two_other_outlets() {
    let (_server, ws) = fixtures_workspace();
    let d = build(&ws, "2026-01-14");
    let topic = d
        .sections
        .iter()
        .find(|s| s.name == "Russia and Azerbaijan")
        .expect("topic section");
    let seed: Vec<_> = d
        .sections
        .iter()
        .flat_map(|s| &s.stories)
        .filter(|s| s.title == "An Alliance Without Illusions: Why Russia Needs Azerbaijan")
        .collect();
    assert_eq!(seed.len(), 1, "the story is listed once");
    assert!(topic.stories.contains(seed[0]), "it sits under its topic");
    assert_eq!(topic.stories[0].title, seed[0].title, "most outlets first");
    let others: Vec<&str> = seed[0].also.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(others.len(), 2, "{others:?}");
    assert_eq!(seed[0].outlet, "Caucasus Analysis");
    assert_eq!(seed[0].time, "09:00", "local time in Baku");
    assert!(d.failing.is_empty());
}

#[test]
fn an_entry_at_half_past_eleven_local_lands_on_its_local_day() {
    let server = FeedServer::start();
    // 23:30 in New York on 14 January is 04:30 UTC on the 15th.
    let rss = r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Late desk</title><link>https://late.example/</link>
<item><guid>late-1</guid><title>Late-night vote in the Milli Majlis</title><link>https://late.example/1</link><pubDate>Wed, 14 Jan 2026 23:30:00 -0500</pubDate><description>Deputies voted late.</description></item>
</channel></rss>"#;
    server.serve_bytes("/late.rss", rss, "application/rss+xml");
    let ws = Workspace::with_config("[digest]\ntimezone = \"America/New_York\"\n");
    ws.feeds_on(&server, &[("late", "/late.rss")]);
    ws.fetch_in_process();
    let on_14 = build(&ws, "2026-01-14");
    let on_15 = build(&ws, "2026-01-15");
    assert_eq!(on_14.story_count, 1, "{on_14:?}");
    assert_eq!(on_14.sections[0].stories[0].time, "23:30");
    assert_eq!(on_15.story_count, 0);
    assert!(digest::render_markdown(&on_15).contains("No stories were published this day."));
}

#[test]
fn a_day_with_a_failing_feed_says_so_in_the_header() {
    let server = FeedServer::start();
    server.answer_status("/feeds/wire.rss", 500);
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[
            ("analysis", "/feeds/analysis.atom"),
            ("wire", "/feeds/wire.rss"),
        ],
    );
    ws.fetch_in_process();
    let today = chrono::Utc::now().date_naive();
    let d = build(&ws, &today.format("%Y-%m-%d").to_string());
    assert_eq!(d.failing.len(), 1, "{:?}", d.failing);
    assert_eq!(d.failing[0].0, "wire");
    assert!(d.failing[0].1.contains("500"), "{:?}", d.failing);
    let html = digest::render_html(&d);
    assert!(html.contains("1 feed failing that day: wire."), "{html}");
    assert!(!html.contains("<script"), "mail-safe: no script");
}
