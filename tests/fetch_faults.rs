//! Fetching like a good citizen, against a site that misbehaves: `Retry-After`, redirects,
//! 410, backoff, hung and stalled servers, oversized and gzip-bombed bodies, resets, per-feed
//! credentials and HTML pages where a feed should be. Every test runs the real `tributary`
//! binary on its own workspace against its own loopback server, and reads back what an admin
//! sees: `status --json`, stderr, and the requests the site received.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use common::{BodySource, FeedServer, ResetServer, StreamedBody, Workspace, gzip, gzip_bomb};

const ANALYSIS: &str = "/feeds/analysis.atom";
const WIRE: &str = "/feeds/wire.rss";

/// Entries in `fixtures/feeds/analysis.atom`.
const ANALYSIS_ENTRIES: u64 = 11;

/// Slack for comparing times stored with second precision.
const SLACK: TimeDelta = TimeDelta::seconds(2);

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// `status --json`, as an array of feed objects.
fn status(ws: &Workspace) -> Vec<Value> {
    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "status --json failed: {stderr}");
    json(&stdout)
        .as_array()
        .expect("status --json prints an array")
        .clone()
}

fn status_of(ws: &Workspace, id: &str) -> Value {
    status(ws)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("feed {id} missing from status --json"))
}

fn time(feed: &Value, key: &str) -> Option<DateTime<Utc>> {
    feed[key].as_str().map(|s| {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{key} = {s:?} is not RFC 3339: {e}"))
            .with_timezone(&Utc)
    })
}

fn next_fetch(feed: &Value) -> DateTime<Utc> {
    time(feed, "next_fetch").unwrap_or_else(|| panic!("next_fetch is set: {feed}"))
}

fn last_error(feed: &Value) -> String {
    feed["last_error"]
        .as_str()
        .unwrap_or_else(|| panic!("last_error is set: {feed}"))
        .to_string()
}

/// Runs `tributary ARGS` and returns its exit code and stderr.
fn run(ws: &Workspace, args: &[&str]) -> (i32, String) {
    let (code, _, stderr) = ws.tributary(args);
    (code, stderr)
}

/// An HTTP date (`Retry-After`, `Expires`) for `t`.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A feeds.toml entry.
fn feed_entry(id: &str, url: &str, extra: &str) -> String {
    format!("\n[[feed]]\nid = \"{id}\"\nurl = \"{url}\"\n{extra}")
}

/// A small valid RSS document with one item.
fn rss(title: &str) -> String {
    rss_with(title, "")
}

/// [`rss`] with more elements in its `<channel>` (`<ttl>`, `<sy:updatePeriod>`, …).
fn rss_with(title: &str, channel: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\"><channel>\
         <title>{title}</title><link>https://harbour.example/</link>\
         <description>Port news</description>{channel}\
         <item><title>{title}: ferry schedule</title>\
         <link>https://harbour.example/{title}/ferry</link>\
         <guid isPermaLink=\"false\">{title}-ferry</guid>\
         <pubDate>Wed, 14 Jan 2026 06:00:00 GMT</pubDate>\
         <description>Ferries run again.</description></item></channel></rss>\n"
    )
}

// ---------------------------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------------------------

#[test]
fn retry_after_on_429_holds_back_the_feed_and_every_feed_on_its_host() {
    let server = FeedServer::start();
    // One feed at a time, in feeds.toml order: the throttled feed is asked first, its two
    // siblings on the same host come after the 429, the feed on another host last.
    let ws = Workspace::with_config("[fetch]\nconcurrency = 1\n");
    server.answer_status_with("/throttled.rss", 429, &[("Retry-After", "3600")]);
    server.serve_bytes("/sibling-a.rss", rss("sibling-a"), "application/rss+xml");
    server.serve_bytes("/sibling-b.rss", rss("sibling-b"), "application/rss+xml");
    server.serve_bytes("/elsewhere.rss", rss("elsewhere"), "application/rss+xml");
    ws.write_feeds(
        &[
            feed_entry("throttled", &server.url("/throttled.rss"), ""),
            feed_entry("sibling-a", &server.url("/sibling-a.rss"), ""),
            feed_entry("sibling-b", &server.url("/sibling-b.rss"), ""),
            feed_entry("elsewhere", &server.url_via_localhost("/elsewhere.rss"), ""),
        ]
        .concat(),
    );

    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "the 429 is a failed feed: {stderr}");
    assert_eq!(server.requests_to("/throttled.rss").len(), 1);
    assert_eq!(
        server.requests_to("/sibling-a.rss").len(),
        0,
        "no request to the host after its 429"
    );
    assert_eq!(server.requests_to("/sibling-b.rss").len(), 0);
    assert_eq!(
        server.requests_to("/elsewhere.rss").len(),
        1,
        "another host is not held back"
    );

    let hour = before + TimeDelta::hours(1) - SLACK;
    let throttled = status_of(&ws, "throttled");
    assert!(
        next_fetch(&throttled) >= hour,
        "next fetch honours Retry-After: {throttled}"
    );
    assert!(last_error(&throttled).contains("429"), "{throttled}");
    for id in ["sibling-a", "sibling-b"] {
        let sibling = status_of(&ws, id);
        assert!(
            next_fetch(&sibling) >= hour,
            "{id} on the same host is pushed past Retry-After: {sibling}"
        );
    }
    let elsewhere = status_of(&ws, "elsewhere");
    assert_eq!(elsewhere["state"], "ok", "{elsewhere}");
    assert!(next_fetch(&elsewhere) < hour, "{elsewhere}");

    // A cron run right after: nothing on the throttled host is due.
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests_to("/throttled.rss").len(), 1);
    assert_eq!(server.requests_to("/sibling-a.rss").len(), 0);
    assert_eq!(server.requests_to("/sibling-b.rss").len(), 0);

    // Neither does an admin's `fetch --all` or `fetch --feed`: the hold is the server's.
    for args in [
        &["fetch", "--all"][..],
        &["fetch", "--feed", "sibling-a"][..],
    ] {
        let (code, stderr) = run(&ws, args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert_eq!(server.requests_to("/throttled.rss").len(), 1, "{args:?}");
        assert_eq!(server.requests_to("/sibling-a.rss").len(), 0, "{args:?}");
        assert_eq!(server.requests_to("/sibling-b.rss").len(), 0, "{args:?}");
    }
    assert_eq!(
        server.requests_to("/elsewhere.rss").len(),
        2,
        "--all fetched the other host"
    );

    // `status` says why each feed on the host waits, and until when.
    for id in ["throttled", "sibling-a", "sibling-b"] {
        let feed = status_of(&ws, id);
        assert!(
            time(&feed, "held_until").is_some_and(|t| t >= hour),
            "{feed}"
        );
        let reason = feed["held_reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("429") && reason.contains("throttled.rss"),
            "{id}: {feed}"
        );
    }
    assert!(status_of(&ws, "elsewhere")["held_until"].is_null());
    let (_, table, _) = ws.tributary(&["status"]);
    let sibling_row = table
        .lines()
        .find(|l| l.starts_with("sibling-a"))
        .unwrap_or_default();
    assert!(
        sibling_row.contains("host held back") && sibling_row.contains("429"),
        "{table}"
    );
}

#[test]
fn retry_after_as_an_http_date_sets_the_next_fetch() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let until = Utc::now() + TimeDelta::hours(2);
    server.answer_status_with("/throttled.rss", 429, &[("Retry-After", &http_date(until))]);
    ws.feeds_on(&server, &[("throttled", "/throttled.rss")]);

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    let feed = status_of(&ws, "throttled");
    let next = next_fetch(&feed);
    assert!(
        next >= until - SLACK && next <= until + TimeDelta::seconds(10),
        "next fetch {next} is the Retry-After date {until}: {feed}"
    );

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.requests_to("/throttled.rss").len(),
        1,
        "no request before the Retry-After date"
    );
}

#[test]
fn retry_after_on_503_defers_only_that_feed() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 1\n");
    server.answer_status_with("/busy.rss", 503, &[("Retry-After", "3600")]);
    server.serve_bytes("/sibling.rss", rss("sibling"), "application/rss+xml");
    ws.feeds_on(
        &server,
        &[("busy", "/busy.rss"), ("sibling", "/sibling.rss")],
    );

    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        server.requests_to("/sibling.rss").len(),
        1,
        "a 503 does not hold back the host"
    );
    let hour = before + TimeDelta::hours(1) - SLACK;
    let busy = status_of(&ws, "busy");
    assert!(next_fetch(&busy) >= hour, "{busy}");
    assert!(last_error(&busy).contains("503"), "{busy}");
    let sibling = status_of(&ws, "sibling");
    assert_eq!(sibling["state"], "ok", "{sibling}");
    assert!(next_fetch(&sibling) < hour, "{sibling}");

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.requests_to("/busy.rss").len(),
        1,
        "no request before Retry-After"
    );
}

#[test]
fn retry_after_is_capped_by_max_server_delay() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nmax_server_delay = \"2h\"\n");
    server.answer_status_with("/throttled.rss", 429, &[("Retry-After", "604800")]);
    ws.feeds_on(&server, &[("throttled", "/throttled.rss")]);

    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    let after = Utc::now();
    assert_eq!(code, 2, "{stderr}");
    let feed = status_of(&ws, "throttled");
    let next = next_fetch(&feed);
    assert!(
        next >= before + TimeDelta::hours(2) - SLACK && next <= after + TimeDelta::hours(2) + SLACK,
        "a week's Retry-After is capped at 2h: {feed}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

/// Four fetches of a feed whose URL answers `status` pointing at the analysis fixture.
fn permanent_redirect_moves_after_three(status: u16) {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let old = server.url("/old.atom");
    let target = server.url(ANALYSIS);
    server.redirect("/old.atom", status, &target);
    ws.feeds_on(&server, &[("moved", "/old.atom")]);
    let feeds_before = std::fs::read_to_string(ws.feeds_path()).unwrap();

    for n in 1..=2 {
        let (code, stderr) = run(&ws, &["fetch", "--all"]);
        assert_eq!(code, 0, "fetch {n}: {stderr}");
        let feed = status_of(&ws, "moved");
        assert_eq!(
            feed["effective_url"], old,
            "after fetch {n} the configured URL is still used"
        );
        assert_eq!(feed["url"], old);
    }
    let (code, stderr) = run(&ws, &["fetch", "--all"]);
    assert_eq!(code, 0, "fetch 3: {stderr}");
    let feed = status_of(&ws, "moved");
    assert_eq!(
        feed["effective_url"], target,
        "three permanent redirects in a row move the feed"
    );
    assert_eq!(feed["url"], old, "status shows both URLs");
    assert_eq!(feed["entries"], ANALYSIS_ENTRIES);

    let (code, stderr) = run(&ws, &["fetch", "--all"]);
    assert_eq!(code, 0, "fetch 4: {stderr}");
    assert_eq!(
        server.requests_to("/old.atom").len(),
        3,
        "the fourth fetch goes straight to the target"
    );
    assert_eq!(server.requests_to(ANALYSIS).len(), 4);
    assert_eq!(
        std::fs::read_to_string(ws.feeds_path()).unwrap(),
        feeds_before,
        "feeds.toml is not rewritten"
    );
}

#[test]
fn permanent_redirect_301_moves_the_feed_after_three_fetches() {
    permanent_redirect_moves_after_three(301);
}

#[test]
fn permanent_redirect_308_moves_the_feed_after_three_fetches() {
    permanent_redirect_moves_after_three(308);
}

fn temporary_redirect_is_never_stored(status: u16) {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let old = server.url("/today.atom");
    server.redirect("/today.atom", status, &server.url(ANALYSIS));
    ws.feeds_on(&server, &[("temp", "/today.atom")]);

    for n in 1..=4 {
        let (code, stderr) = run(&ws, &["fetch", "--all"]);
        assert_eq!(code, 0, "fetch {n}: {stderr}");
        let feed = status_of(&ws, "temp");
        assert_eq!(
            feed["effective_url"], old,
            "a {status} is never stored (fetch {n})"
        );
        assert_eq!(feed["entries"], ANALYSIS_ENTRIES, "the target was read");
    }
    assert_eq!(
        server.requests_to("/today.atom").len(),
        4,
        "every fetch starts at the configured URL"
    );
    assert_eq!(server.requests_to(ANALYSIS).len(), 4);
}

#[test]
fn temporary_redirect_302_is_followed_but_never_stored() {
    temporary_redirect_is_never_stored(302);
}

#[test]
fn temporary_redirect_307_is_followed_but_never_stored() {
    temporary_redirect_is_never_stored(307);
}

#[test]
fn redirect_loop_is_an_error_naming_the_loop() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.redirect("/loop-a.rss", 302, &server.url("/loop-b.rss"));
    server.redirect("/loop-b.rss", 301, "/loop-a.rss");
    server.redirect("/self.rss", 307, "/self.rss");
    ws.feeds_on(&server, &[("loop", "/loop-a.rss"), ("self", "/self.rss")]);

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    for id in ["loop", "self"] {
        let feed = status_of(&ws, id);
        let reason = last_error(&feed);
        assert!(reason.contains("redirect loop"), "{id}: {reason}");
        assert_eq!(feed["state"], "failing", "{feed}");
    }
    assert!(
        last_error(&status_of(&ws, "loop")).contains(&server.url("/loop-b.rss")),
        "the reason names the URLs of the loop"
    );
    assert_eq!(server.requests_to("/loop-a.rss").len(), 1, "no going round");
    assert_eq!(server.requests_to("/loop-b.rss").len(), 1);
    assert_eq!(server.requests_to("/self.rss").len(), 1);
}

#[test]
fn more_than_five_redirects_is_an_error_while_five_are_followed() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    // /five/0 → … → /five/5 (the feed): five hops. /six/0 → … → /six/6: six hops.
    for (chain, hops) in [("five", 5), ("six", 6)] {
        for i in 0..hops {
            server.redirect(
                &format!("/{chain}/{i}"),
                302,
                &format!("/{chain}/{}", i + 1),
            );
        }
        server.serve_bytes(
            &format!("/{chain}/{hops}"),
            rss(chain),
            "application/rss+xml",
        );
    }
    ws.feeds_on(&server, &[("five", "/five/0"), ("six", "/six/0")]);

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    let five = status_of(&ws, "five");
    assert_eq!(five["state"], "ok", "five hops are followed: {five}");
    assert_eq!(five["entries"], 1);
    let six = status_of(&ws, "six");
    let reason = last_error(&six);
    assert!(
        reason.contains("more than 5 redirects"),
        "six hops are an error with a clear reason: {reason}"
    );
    assert_eq!(six["entries"], 0);
    assert_eq!(
        server.requests_to("/six/6").len(),
        0,
        "the sixth hop is not taken"
    );
}

// ---------------------------------------------------------------------------------------------
// 410 Gone
// ---------------------------------------------------------------------------------------------

#[test]
fn gone_feed_is_not_fetched_again_until_its_entry_changes() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.answer_status("/closed.rss", 410);
    let entries = |closed_extra: &str| {
        [
            feed_entry("closed", &server.url("/closed.rss"), closed_extra),
            feed_entry("alive", &server.url(ANALYSIS), ""),
        ]
        .concat()
    };
    ws.write_feeds(&entries(""));

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    let closed = status_of(&ws, "closed");
    assert_eq!(closed["state"], "gone", "{closed}");
    assert_eq!(closed["next_fetch"], Value::Null, "{closed}");
    assert!(last_error(&closed).contains("410"), "{closed}");

    for args in [&["fetch"][..], &["fetch", "--all"][..]] {
        let (code, stderr) = run(&ws, args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert_eq!(
            server.requests_to("/closed.rss").len(),
            1,
            "{args:?} makes no request to a gone feed"
        );
        assert_eq!(status_of(&ws, "closed")["state"], "gone");
    }
    assert_eq!(
        server.requests_to(ANALYSIS).len(),
        2,
        "the other feed is still fetched"
    );

    // The publisher is back and the admin edits the entry (adds a header): fetched again.
    server.reset("/closed.rss");
    server.serve_bytes("/closed.rss", rss("closed"), "application/rss+xml");
    ws.write_feeds(&entries("headers = { \"X-Reader\" = \"tributary\" }\n"));
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.requests_to("/closed.rss").len(),
        2,
        "an edited entry revives the feed"
    );
    let closed = status_of(&ws, "closed");
    assert_eq!(closed["state"], "ok", "{closed}");
    assert_eq!(closed["consecutive_errors"], 0);
    assert_eq!(closed["entries"], 1);
}

#[test]
fn gone_feed_is_revived_by_any_edit_of_its_entry() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.answer_status("/closed.rss", 410);
    ws.write_feeds(&feed_entry("closed", &server.url("/closed.rss"), ""));
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(status_of(&ws, "closed")["state"], "gone");

    server.reset("/closed.rss");
    server.serve_bytes("/closed.rss", rss("closed"), "application/rss+xml");
    ws.write_feeds(&feed_entry(
        "closed",
        &server.url("/closed.rss"),
        "title = \"Closed Harbour\"\nschedule = \"0 * * * *\"\n",
    ));
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.requests_to("/closed.rss").len(),
        2,
        "editing the gone feed's entry (title, schedule) revives it"
    );
    assert_eq!(status_of(&ws, "closed")["state"], "ok");
}

// ---------------------------------------------------------------------------------------------
// Backoff
// ---------------------------------------------------------------------------------------------

/// `next_fetch − last_fetch` of a feed, from `status --json`.
fn scheduled_gap(feed: &Value) -> TimeDelta {
    let last = time(feed, "last_fetch").unwrap_or_else(|| panic!("last_fetch is set: {feed}"));
    next_fetch(feed) - last
}

#[test]
fn backoff_grows_with_each_failure_and_resets_on_success() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.answer_status("/flaky.rss", 500);
    ws.feeds_on(&server, &[("flaky", "/flaky.rss")]);

    let mut gaps = Vec::new();
    for n in 1..=5u32 {
        let (code, stderr) = run(&ws, &["fetch", "--all"]);
        assert_eq!(code, 2, "failure {n}: {stderr}");
        let feed = status_of(&ws, "flaky");
        assert_eq!(feed["consecutive_errors"], n, "{feed}");
        let expected = if n >= 3 { "backoff" } else { "failing" };
        assert_eq!(feed["state"], expected, "after {n} failures: {feed}");
        assert!(
            last_error(&feed).contains("HTTP 500"),
            "the reason is recorded: {feed}"
        );
        gaps.push(scheduled_gap(&feed));
    }
    assert!(
        gaps.windows(2).all(|w| w[1] > w[0]),
        "each failure pushes the next fetch further: {gaps:?}"
    );
    assert!(
        gaps[4] >= gaps[0] * 8,
        "the growth is exponential: {gaps:?}"
    );

    server.reset("/flaky.rss");
    server.serve_bytes("/flaky.rss", rss("flaky"), "application/rss+xml");
    let (code, stderr) = run(&ws, &["fetch", "--all"]);
    assert_eq!(code, 0, "{stderr}");
    let feed = status_of(&ws, "flaky");
    assert_eq!(feed["state"], "ok", "{feed}");
    assert_eq!(feed["consecutive_errors"], 0, "{feed}");
    assert_eq!(feed["last_error"], Value::Null, "{feed}");
    assert!(
        scheduled_gap(&feed) <= TimeDelta::minutes(30) + SLACK,
        "back on its */30 schedule: {feed}"
    );
}

#[test]
fn backoff_is_capped_by_backoff_max_and_the_feed_is_never_given_up() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nbackoff_max = \"1h\"\n");
    server.answer_status("/dead.rss", 502);
    ws.feeds_on(&server, &[("dead", "/dead.rss")]);

    for n in 1..=7u32 {
        let (code, stderr) = run(&ws, &["fetch", "--all"]);
        assert_eq!(code, 2, "failure {n}: {stderr}");
        let feed = status_of(&ws, "dead");
        let gap = scheduled_gap(&feed);
        assert!(
            gap <= TimeDelta::hours(1) + SLACK,
            "failure {n}: {gap} is within backoff_max: {feed}"
        );
        assert!(gap > TimeDelta::zero(), "a next fetch is always planned");
    }
    let feed = status_of(&ws, "dead");
    assert_eq!(feed["state"], "backoff");
    assert_eq!(feed["consecutive_errors"], 7);
    // Still due again: a cron run once next_fetch has passed would fetch it.
    assert!(next_fetch(&feed) <= Utc::now() + TimeDelta::hours(1) + SLACK);
}

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

/// How long a run may take before the test calls it hung (servers below sleep 30 s).
const RUN_DEADLINE: Duration = Duration::from_secs(25);

#[test]
fn hung_server_is_cut_at_the_timeout() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\ntimeout = \"1s\"\n");
    server.delay_answers("/hung.rss", Duration::from_secs(30));
    ws.feeds_on(&server, &[("hung", "/hung.rss"), ("healthy", ANALYSIS)]);

    let run = ws.tributary_watched(&["fetch"], RUN_DEADLINE);
    assert!(
        !run.killed_at_deadline,
        "the run finishes long before the server would answer: {}",
        run.stderr
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let hung = status_of(&ws, "hung");
    let reason = last_error(&hung);
    assert!(reason.contains("timed out"), "{reason}");
    assert_eq!(hung["state"], "failing");
    assert_eq!(status_of(&ws, "healthy")["entries"], ANALYSIS_ENTRIES);
}

#[test]
fn body_that_stalls_midway_is_cut_at_the_timeout() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\ntimeout = \"1s\"\n");
    let doc = rss("stalled");
    server.stall_body(
        "/stalled.rss",
        &doc.as_bytes()[..doc.len() / 2],
        Duration::from_secs(30),
    );
    ws.feeds_on(&server, &[("stalled", "/stalled.rss")]);

    let run = ws.tributary_watched(&["fetch"], RUN_DEADLINE);
    assert!(!run.killed_at_deadline, "{}", run.stderr);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let reason = last_error(&status_of(&ws, "stalled"));
    assert!(
        reason.contains("timed out"),
        "the timeout covers the body: {reason}"
    );
}

// ---------------------------------------------------------------------------------------------
// Body cap
// ---------------------------------------------------------------------------------------------

/// Far above what reading capped bodies needs (about 32 MiB here), below what holding any of
/// the big bodies (60 to 128 MiB) would take.
const PEAK_RSS_LIMIT_KIB: u64 = 64 * 1024;

#[test]
fn body_past_the_cap_is_cut_in_every_form_without_holding_it_in_memory() {
    const CAP: usize = 64 * 1024;
    let server = FeedServer::start();
    // The sentinel hangs until the timeout, so the process is still alive (and its peak memory
    // readable) after every big body was dealt with.
    let ws = Workspace::with_config("[fetch]\nmax_body = \"64KiB\"\ntimeout = \"4s\"\n");
    let item = b"<item><title>Filler</title><description>Port news, again.</description></item>\n";
    let head = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Huge</title>\n";
    let bomb = gzip_bomb(128);
    let small_bomb = gzip_bomb(60);
    let nested = gzip(&bomb);
    assert!(
        small_bomb.len() < CAP,
        "the 60 MiB bomb passes the cap compressed"
    );
    assert!(nested.len() < 4096, "a few hundred bytes: {}", nested.len());

    let plain: Vec<u8> = head
        .iter()
        .chain(item.iter().cycle().take(1 << 20))
        .copied()
        .collect();
    server.serve_bytes("/plain.rss", plain, "application/rss+xml");
    let streamed = |source, encoding: Option<&str>, content_length| StreamedBody {
        source,
        content_type: "application/rss+xml".into(),
        content_encoding: encoding.map(str::to_string),
        content_length,
        headers: Vec::new(),
    };
    let bytes = |b: &Vec<u8>| BodySource::Bytes(std::sync::Arc::new(b.clone()));
    server.serve_streamed(
        "/chunked.rss",
        streamed(
            BodySource::Repeat {
                head: head.to_vec(),
                unit: item.to_vec(),
                total: 100 << 20,
            },
            None,
            false,
        ),
    );
    server.serve_streamed(
        "/bomb-encoded.rss",
        streamed(bytes(&bomb), Some("gzip"), false),
    );
    server.serve_streamed(
        "/bomb-encoded-length.rss",
        streamed(bytes(&small_bomb), Some("gzip"), true),
    );
    server.serve_streamed("/bomb-raw.rss", streamed(bytes(&small_bomb), None, true));
    server.serve_streamed(
        "/nested-encoded.rss",
        streamed(bytes(&nested), Some("gzip"), true),
    );
    server.serve_streamed("/nested-raw.rss", streamed(bytes(&nested), None, true));
    server.delay_answers("/sentinel.rss", Duration::from_secs(30));
    let cut = [
        ("plain", "/plain.rss"),
        ("chunked", "/chunked.rss"),
        ("bomb-encoded", "/bomb-encoded.rss"),
        ("bomb-encoded-length", "/bomb-encoded-length.rss"),
        ("bomb-raw", "/bomb-raw.rss"),
        ("nested-encoded", "/nested-encoded.rss"),
        ("nested-raw", "/nested-raw.rss"),
    ];
    let mut feeds = cut.to_vec();
    feeds.push(("sentinel", "/sentinel.rss"));
    feeds.push(("healthy", ANALYSIS));
    ws.feeds_on(&server, &feeds);

    let run = ws.tributary_watched(&["fetch"], RUN_DEADLINE);
    assert!(!run.killed_at_deadline, "{}", run.stderr);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for (id, path) in cut {
        let feed = status_of(&ws, id);
        let reason = last_error(&feed);
        assert!(reason.contains("larger than"), "{id}: {reason}");
        assert_eq!(feed["entries"], 0, "{id}");
        assert_eq!(server.requests_to(path).len(), 1, "{id}");
    }
    assert_eq!(status_of(&ws, "healthy")["entries"], ANALYSIS_ENTRIES);
    assert!(last_error(&status_of(&ws, "sentinel")).contains("timed out"));
    assert!(run.peak_rss_kib > 0, "peak memory was read from /proc");
    assert!(
        run.peak_rss_kib < PEAK_RSS_LIMIT_KIB,
        "peak RSS {} KiB: a body past the cap was held in memory",
        run.peak_rss_kib
    );
}

#[test]
fn body_at_exactly_the_cap_is_accepted_and_one_byte_more_is_cut() {
    const CAP: usize = 64 * 1024;
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nmax_body = \"64KiB\"\n");
    let doc = rss("exact");
    let padded = |len: usize| {
        let pad = len - doc.len() - "<!--".len() - "-->".len();
        format!("{doc}<!--{}-->", "p".repeat(pad)).into_bytes()
    };
    let exact = padded(CAP);
    let over = padded(CAP + 1);
    assert_eq!((exact.len(), over.len()), (CAP, CAP + 1));
    server.serve_bytes("/exact.rss", exact.clone(), "application/rss+xml");
    server.serve_bytes("/over.rss", over.clone(), "application/rss+xml");
    let chunked = |b: Vec<u8>| StreamedBody {
        source: BodySource::Bytes(std::sync::Arc::new(b)),
        content_type: "application/rss+xml".into(),
        content_encoding: None,
        content_length: false,
        headers: Vec::new(),
    };
    server.serve_streamed("/exact-chunked.rss", chunked(exact));
    server.serve_streamed("/over-chunked.rss", chunked(over));
    ws.feeds_on(
        &server,
        &[
            ("exact", "/exact.rss"),
            ("over", "/over.rss"),
            ("exact-chunked", "/exact-chunked.rss"),
            ("over-chunked", "/over-chunked.rss"),
        ],
    );

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    for id in ["exact", "exact-chunked"] {
        let feed = status_of(&ws, id);
        assert_eq!(feed["state"], "ok", "{feed}");
        assert_eq!(feed["entries"], 1, "{feed}");
    }
    for id in ["over", "over-chunked"] {
        let reason = last_error(&status_of(&ws, id));
        assert!(reason.contains("larger than"), "{id}: {reason}");
    }
}

// ---------------------------------------------------------------------------------------------
// Isolation and transport failures
// ---------------------------------------------------------------------------------------------

#[test]
fn a_hanging_feed_never_delays_or_breaks_the_others() {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 4\ntimeout = \"5s\"\n");
    server.delay_answers("/hung.rss", Duration::from_secs(30));
    let healthy: Vec<String> = (1..=6).map(|i| format!("/healthy-{i}.rss")).collect();
    let mut feeds = vec![("hung".to_string(), "/hung.rss".to_string())];
    for (i, path) in healthy.iter().enumerate() {
        server.serve_bytes(path, rss(&format!("healthy-{i}")), "application/rss+xml");
        feeds.push((format!("healthy-{i}"), path.clone()));
    }
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    ws.feeds_on(&server, &refs);

    let run = ws.tributary_watched(&["fetch"], RUN_DEADLINE);
    assert!(!run.killed_at_deadline, "{}", run.stderr);
    assert_eq!(
        run.code,
        Some(2),
        "only the hung feed failed: {}",
        run.stderr
    );
    let hung_at = server.details_to("/hung.rss")[0].at;
    for path in &healthy {
        let seen = server.details_to(path);
        assert_eq!(seen.len(), 1, "{path}");
        assert!(
            seen[0].at < hung_at + TIMEOUT,
            "{path} was fetched while the hung feed was still waiting"
        );
    }
    for (id, _) in feeds.iter().skip(1) {
        let feed = status_of(&ws, id);
        assert_eq!(feed["state"], "ok", "{feed}");
        assert_eq!(feed["entries"], 1, "stored in the same run: {feed}");
    }
    assert!(last_error(&status_of(&ws, "hung")).contains("timed out"));
}

#[test]
fn resets_refusals_and_error_statuses_are_recorded_with_a_clear_reason() {
    let server = FeedServer::start();
    let reset = ResetServer::start();
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/feed.rss", l.local_addr().unwrap())
    };
    let ws = Workspace::new();
    server.answer_status("/missing.rss", 404);
    server.answer_status("/broken.rss", 500);
    let doc = rss("cut");
    server.abort_body("/cut.rss", &doc.as_bytes()[..doc.len() / 2]);
    ws.write_feeds(
        &[
            feed_entry("reset", &reset.url("/feed.rss"), ""),
            feed_entry("refused", &refused, ""),
            feed_entry("missing", &server.url("/missing.rss"), ""),
            feed_entry("broken", &server.url("/broken.rss"), ""),
            feed_entry("cut", &server.url("/cut.rss"), ""),
            feed_entry("healthy", &server.url(ANALYSIS), ""),
        ]
        .concat(),
    );

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(reset.connections() >= 1, "the reset site was reached");
    let reason = |id: &str| last_error(&status_of(&ws, id)).to_lowercase();
    let r = reason("reset");
    assert!(r.contains("reset"), "reset: {r}");
    let r = reason("refused");
    assert!(
        r.contains("cannot connect") && r.contains("refused"),
        "refused: {r}"
    );
    assert!(reason("missing").contains("http 404 not found"));
    assert!(reason("broken").contains("http 500 internal server error"));
    let r = reason("cut");
    assert!(r.contains("body"), "a body cut short: {r}");
    assert_eq!(status_of(&ws, "healthy")["entries"], ANALYSIS_ENTRIES);
}

// ---------------------------------------------------------------------------------------------
// Per-feed headers and credentials
// ---------------------------------------------------------------------------------------------

const COOKIE: &str = "session=c00kie-8f2a61";
const TOKEN: &str = "t0ken-5d9e07";
const PASSWORD: &str = "pa55-3b7c42";

/// A feeds.toml entry carrying a cookie, a token header and basic credentials.
fn secret_entry(id: &str, url: &str) -> String {
    feed_entry(
        id,
        url,
        &format!(
            "headers = {{ Cookie = \"{COOKIE}\", \"X-Api-Token\" = \"{TOKEN}\" }}\n\
             basic_auth = {{ user = \"analyst\", password = \"{PASSWORD}\" }}\n"
        ),
    )
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [COOKIE, TOKEN, PASSWORD, "c00kie", "YW5hbHlzdDpwYTU1"] {
        assert!(
            !text.contains(secret),
            "{what} shows a secret ({secret}):\n{text}"
        );
    }
}

/// `Basic base64("analyst:PASSWORD")`.
fn basic_header() -> String {
    let raw = format!("analyst:{PASSWORD}");
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(table[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

#[test]
fn feed_headers_and_basic_auth_reach_the_feed_host_and_never_the_logs() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.answer_status("/private-broken.rss", 500);
    ws.write_feeds(
        &[
            secret_entry("private", &server.url(ANALYSIS)),
            secret_entry("private-broken", &server.url("/private-broken.rss")),
            feed_entry("public", &server.url(WIRE), ""),
        ]
        .concat(),
    );

    let (code, stdout, stderr) = ws.tributary(&["-v", "fetch"]);
    assert_eq!(code, 2, "{stderr}");
    assert_no_secret("fetch -v stdout", &stdout);
    assert_no_secret("fetch -v stderr", &stderr);
    let (_, stdout, stderr) = ws.tributary(&["-vv", "fetch", "--all"]);
    assert_no_secret("fetch -vv stdout", &stdout);
    assert_no_secret("fetch -vv stderr", &stderr);

    for path in [ANALYSIS, "/private-broken.rss"] {
        let seen = server.details_to(path);
        assert_eq!(seen.len(), 2, "{path}");
        for r in &seen {
            assert_eq!(r.header("cookie"), Some(COOKIE), "{path}");
            assert_eq!(r.header("x-api-token"), Some(TOKEN), "{path}");
            assert_eq!(
                r.header("authorization"),
                Some(basic_header().as_str()),
                "{path}"
            );
        }
    }
    for r in server.details_to(WIRE) {
        assert_eq!(r.header("cookie"), None, "another feed's cookie leaked");
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.header("x-api-token"), None);
    }

    for args in [
        &["status", "--json"][..],
        &["status"][..],
        &["-v", "check", "--online"][..],
        &["feeds", "list"][..],
    ] {
        let (_, stdout, stderr) = ws.tributary(args);
        assert_no_secret(&format!("{args:?} stdout"), &stdout);
        assert_no_secret(&format!("{args:?} stderr"), &stderr);
    }
}

#[test]
fn feed_headers_and_basic_auth_do_not_follow_a_redirect_to_another_host() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    // 127.0.0.1 → localhost: the same server, another host.
    server.redirect("/private.atom", 302, &server.url_via_localhost(ANALYSIS));
    ws.write_feeds(&secret_entry("private", &server.url("/private.atom")));

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(status_of(&ws, "private")["entries"], ANALYSIS_ENTRIES);
    let first = &server.details_to("/private.atom")[0];
    assert_eq!(first.host(), Some(server.host().as_str()));
    assert_eq!(first.header("cookie"), Some(COOKIE));
    assert!(first.header("authorization").is_some());
    let followed = &server.details_to(ANALYSIS)[0];
    assert!(
        followed.host().is_some_and(|h| h.starts_with("localhost:")),
        "{followed:?}"
    );
    assert_eq!(
        followed.header("cookie"),
        None,
        "cookie sent to another host"
    );
    assert_eq!(followed.header("x-api-token"), None);
    assert_eq!(
        followed.header("authorization"),
        None,
        "credentials sent to another host"
    );
}

#[test]
fn feed_credentials_do_not_follow_a_permanent_move_to_another_host() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    server.redirect("/private.atom", 301, &server.url_via_localhost(ANALYSIS));
    ws.write_feeds(&secret_entry("private", &server.url("/private.atom")));

    for n in 1..=4 {
        let (code, stderr) = run(&ws, &["fetch", "--all"]);
        assert_eq!(code, 0, "fetch {n}: {stderr}");
    }
    assert_eq!(
        server.requests_to("/private.atom").len(),
        3,
        "the feed moved after three"
    );
    let to_other_host = server.details_to(ANALYSIS);
    assert_eq!(to_other_host.len(), 4);
    for (n, r) in to_other_host.iter().enumerate() {
        assert_eq!(
            r.header("cookie"),
            None,
            "request {} to the new host carries the cookie",
            n + 1
        );
        assert_eq!(r.header("authorization"), None, "request {}", n + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Not a feed
// ---------------------------------------------------------------------------------------------

#[test]
fn html_page_is_reported_with_the_feeds_it_advertises() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let page = "<!doctype html><html><head><title>Harbour News</title>\
        <link rel=\"alternate\" type=\"application/rss+xml\" title=\"News\" href=\"/feeds/wire.rss\">\
        </head><body><h1>Harbour News</h1><p>Latest news</p></body></html>";
    server.serve_bytes("/news/", page, "text/html; charset=utf-8");
    server.serve_bytes(
        "/about/",
        "<!doctype html><html><head><title>About</title></head><body>About us</body></html>",
        "text/html",
    );
    ws.feeds_on(&server, &[("page", "/news/"), ("about", "/about/")]);
    let advertised = server.url(WIRE);

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    let reason = last_error(&status_of(&ws, "page"));
    assert!(reason.contains("not a feed"), "{reason}");
    assert!(
        reason.contains(&format!("this page advertises: {advertised}")),
        "{reason}"
    );
    let about = last_error(&status_of(&ws, "about"));
    assert!(
        about.contains("not a feed") && !about.contains("advertises:"),
        "{about}"
    );

    let (code, stdout, stderr) = ws.tributary(&["check", "--online"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("page"))
        .unwrap_or_else(|| panic!("check --online names the feed:\n{stdout}"));
    assert!(
        line.contains(&format!("this page advertises: {advertised}")),
        "{line}"
    );
    assert!(line.starts_with("FAILED"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// When to fetch next: the server's freshness hints
// ---------------------------------------------------------------------------------------------

/// Serves `body` as RSS with these response headers and no validators.
fn serve_with_headers(server: &FeedServer, path: &str, body: String, headers: &[(&str, &str)]) {
    server.serve_streamed(
        path,
        StreamedBody {
            source: BodySource::Bytes(std::sync::Arc::new(body.into_bytes())),
            content_type: "application/rss+xml".into(),
            content_encoding: None,
            content_length: true,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
    );
}

#[test]
fn freshness_hints_push_the_next_fetch_within_max_server_delay() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let expires = Utc::now() + TimeDelta::hours(3);
    serve_with_headers(
        &server,
        "/max-age.rss",
        rss("max-age"),
        &[("Cache-Control", "public, max-age=7200")],
    );
    serve_with_headers(
        &server,
        "/expires.rss",
        rss("expires"),
        &[("Expires", &http_date(expires))],
    );
    serve_with_headers(&server, "/ttl.rss", rss_with("ttl", "<ttl>240</ttl>"), &[]);
    serve_with_headers(
        &server,
        "/month.rss",
        rss("month"),
        &[("Cache-Control", "max-age=2592000")],
    );
    serve_with_headers(&server, "/plain.rss", rss("plain"), &[]);
    ws.feeds_on(
        &server,
        &[
            ("max-age", "/max-age.rss"),
            ("expires", "/expires.rss"),
            ("ttl", "/ttl.rss"),
            ("month", "/month.rss"),
            ("plain", "/plain.rss"),
        ],
    );

    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    let after = Utc::now();
    assert_eq!(code, 0, "{stderr}");
    let within = |id: &str, lo: DateTime<Utc>, hi: DateTime<Utc>| {
        let feed = status_of(&ws, id);
        let next = next_fetch(&feed);
        assert!(
            next >= lo - SLACK && next <= hi + SLACK,
            "{id}: next fetch {next} not in [{lo}, {hi}]: {feed}"
        );
    };
    let h = TimeDelta::hours;
    within("max-age", before + h(2), after + h(2));
    within("expires", expires, expires + TimeDelta::seconds(8));
    within("ttl", before + h(4), after + h(4));
    within("month", before + h(24), after + h(24));
    within("plain", before, after + TimeDelta::minutes(30));

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    for path in [
        "/max-age.rss",
        "/expires.rss",
        "/ttl.rss",
        "/month.rss",
        "/plain.rss",
    ] {
        assert_eq!(server.requests_to(path).len(), 1, "{path} fetched early");
    }
}

#[test]
fn cache_control_directives_are_matched_case_insensitively() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    serve_with_headers(
        &server,
        "/shouty.rss",
        rss("shouty"),
        &[("Cache-Control", "Public, Max-Age=7200")],
    );
    ws.feeds_on(&server, &[("shouty", "/shouty.rss")]);
    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    let feed = status_of(&ws, "shouty");
    assert!(
        next_fetch(&feed) >= before + TimeDelta::hours(2) - SLACK,
        "`Max-Age=7200` is honoured: {feed}"
    );
}

#[test]
fn syndication_update_period_pushes_the_next_fetch() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    serve_with_headers(
        &server,
        "/twice-daily.rss",
        rss_with(
            "twice-daily",
            "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>",
        ),
        &[],
    );
    ws.feeds_on(&server, &[("twice-daily", "/twice-daily.rss")]);
    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    let feed = status_of(&ws, "twice-daily");
    assert_eq!(feed["entries"], 1, "{feed}");
    assert!(
        next_fetch(&feed) >= before + TimeDelta::hours(12) - SLACK,
        "daily / 2 is every 12 hours: {feed}"
    );
}

// ---------------------------------------------------------------------------------------------
// Politeness
// ---------------------------------------------------------------------------------------------

/// Which of the server's two host names a feed's URL uses.
#[derive(Clone, Copy)]
enum Host {
    /// The server's own address.
    Own,
    /// `localhost`: the same server seen as another host.
    Localhost,
}

/// Serves the feed `id` at `/{id}.rss`, answering after `delay`; its `feeds.toml` entry.
fn slow_feed(server: &FeedServer, id: &str, host: Host, delay: Duration) -> String {
    let path = format!("/{id}.rss");
    server.serve_bytes(&path, rss(id), "application/rss+xml");
    server.delay_answers(&path, delay);
    let url = match host {
        Host::Own => server.url(&path),
        Host::Localhost => server.url_via_localhost(&path),
    };
    feed_entry(id, &url, "")
}

#[test]
fn per_host_limits_requests_at_once_to_one_host_but_not_to_others() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 16\nper_host = 2\n");
    let slow = Duration::from_millis(800);
    let mut feeds: Vec<String> = (0..6)
        .map(|i| slow_feed(&server, &format!("near-{i}"), Host::Own, slow))
        .collect();
    feeds.extend((0..3).map(|i| slow_feed(&server, &format!("far-{i}"), Host::Localhost, slow)));
    ws.write_feeds(&feeds.concat());

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.max_concurrent(&server.host()),
        2,
        "at most per_host requests at once to one host"
    );
    let far = format!("localhost:{}", server.host().rsplit(':').next().unwrap());
    assert!(server.max_concurrent(&far) <= 2);
    assert!(
        server.max_concurrent_overall() >= 3,
        "another host is not held up by the first host's limit"
    );
    for f in status(&ws) {
        assert_eq!(f["state"], "ok", "{f}");
    }
}

#[test]
fn concurrency_limits_requests_at_once_over_all_hosts() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 3\nper_host = 8\n");
    let feeds: Vec<String> = (0..8)
        .map(|i| {
            let host = if i % 2 == 0 {
                Host::Own
            } else {
                Host::Localhost
            };
            slow_feed(
                &server,
                &format!("slow-{i}"),
                host,
                Duration::from_millis(500),
            )
        })
        .collect();
    ws.write_feeds(&feeds.concat());

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        server.max_concurrent_overall(),
        3,
        "at most `concurrency` requests at once, whatever the host"
    );
    for f in status(&ws) {
        assert_eq!(f["state"], "ok", "{f}");
    }
}

#[test]
fn host_delay_spaces_requests_to_one_host() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nhost_delay = \"1s\"\n");
    let paths = ["/a.rss", "/b.rss", "/c.rss"];
    for p in paths {
        server.serve_bytes(p, rss(p.trim_matches('/')), "application/rss+xml");
    }
    ws.feeds_on(
        &server,
        &[("a", paths[0]), ("b", paths[1]), ("c", paths[2])],
    );

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    let mut at: Vec<_> = server.request_details().iter().map(|r| r.at).collect();
    at.sort();
    assert_eq!(at.len(), 3);
    for w in at.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::from_millis(700),
            "requests to one host {gap:?} apart with host_delay = 1s"
        );
    }
}

#[test]
fn per_host_limit_covers_the_body_download() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 16\nper_host = 2\n");
    let mut feeds = Vec::new();
    for i in 0..5 {
        let path = format!("/slow-body-{i}.rss");
        // The whole document, then the body stays open for a while before it ends.
        server.stall_body(
            &path,
            rss(&format!("slow-body-{i}")).as_bytes(),
            Duration::from_millis(500),
        );
        feeds.push((format!("slow-body-{i}"), path));
    }
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    ws.feeds_on(&server, &refs);

    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        server.max_concurrent(&server.host()) <= 2,
        "{} answers to one host were being downloaded at once with per_host = 2",
        server.max_concurrent(&server.host())
    );
}

#[test]
fn retry_after_on_429_after_a_redirect_holds_back_the_host_that_answered() {
    let server = FeedServer::start();
    let ws = Workspace::with_config("[fetch]\nconcurrency = 1\n");
    // 127.0.0.1 redirects to localhost, and localhost answers 429.
    server.redirect("/hop.rss", 302, &server.url_via_localhost("/throttled.rss"));
    server.answer_status_with("/throttled.rss", 429, &[("Retry-After", "3600")]);
    server.serve_bytes(
        "/on-throttled-host.rss",
        rss("on-throttled-host"),
        "application/rss+xml",
    );
    server.serve_bytes("/bystander.rss", rss("bystander"), "application/rss+xml");
    ws.write_feeds(
        &[
            feed_entry("hop", &server.url("/hop.rss"), ""),
            feed_entry(
                "on-throttled-host",
                &server.url_via_localhost("/on-throttled-host.rss"),
                "",
            ),
            feed_entry("bystander", &server.url("/bystander.rss"), ""),
        ]
        .concat(),
    );

    let before = Utc::now();
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(server.requests_to("/throttled.rss").len(), 1);
    assert_eq!(
        server.requests_to("/on-throttled-host.rss").len(),
        0,
        "the host that answered 429 gets no more requests"
    );
    let held = status_of(&ws, "on-throttled-host");
    assert!(
        next_fetch(&held) >= before + TimeDelta::hours(1) - SLACK,
        "{held}"
    );
    assert_eq!(
        server.requests_to("/bystander.rss").len(),
        1,
        "the host that only redirected is not held back"
    );
    assert_eq!(status_of(&ws, "bystander")["state"], "ok");
}

// ---------------------------------------------------------------------------------------------
// Recoveries in the feed's health
// ---------------------------------------------------------------------------------------------

#[test]
fn recoveries_of_the_last_fetch_show_in_status() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    // Declared UTF-8 but written in windows-1251, with a bare `&` in a headline.
    let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <rss version=\"2.0\"><channel><title>Новости Кавказа</title>\
         <link>https://kavkaz.example/</link><description>Новости</description>\
         <item><title>Баку & Тбилиси: новый график поездов</title>\
         <link>https://kavkaz.example/trains</link><guid>trains</guid>\
         <description>Поезда между столицами пойдут ежедневно.</description></item>\
         </channel></rss>\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    server.serve_bytes("/kavkaz.rss", bytes.into_owned(), "application/rss+xml");
    server.serve_bytes("/clean.rss", rss("clean"), "application/rss+xml");
    ws.write_feeds(
        &[
            feed_entry("kavkaz", &server.url("/kavkaz.rss"), ""),
            feed_entry("clean", &server.url("/clean.rss"), ""),
        ]
        .concat(),
    );
    let (code, stderr) = run(&ws, &["fetch"]);
    assert_eq!(code, 0, "recovered feeds are not failures: {stderr}");

    let kavkaz = status_of(&ws, "kavkaz");
    assert_eq!(kavkaz["state"], "ok", "{kavkaz}");
    let warnings: Vec<&str> = kavkaz["warnings"]
        .as_array()
        .expect("warnings is an array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("windows-1251")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains('&')), "{warnings:?}");
    assert_eq!(status_of(&ws, "clean")["warnings"], serde_json::json!([]));

    let (_, table, _) = ws.tributary(&["status"]);
    let row = table
        .lines()
        .find(|l| l.starts_with("kavkaz"))
        .unwrap_or_default();
    assert!(row.contains("recovered: "), "{table}");
    let clean = table
        .lines()
        .find(|l| l.starts_with("clean"))
        .unwrap_or_default();
    assert!(!clean.contains("recovered"), "{table}");
}
