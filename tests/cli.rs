//! The `tributary` binary as cron jobs, scripts and admins run it: exit codes, stdout/stderr,
//! files written, against a loopback feed server and a real SQLite file.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use common::{
    AtomDoc, AtomEntry, FeedServer, SEED_LINK, SEED_TITLE, Workspace, fixture, parse_atom,
    run_tributary,
};
use tributary::lock::RunLock;

const ANALYSIS: &str = "/feeds/analysis.atom";

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn status_of<'a>(status: &'a Value, id: &str) -> &'a Value {
    status
        .as_array()
        .expect("status --json prints an array")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("feed {id} missing from status: {status}"))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn second_fetch_revalidates_and_status_json_shows_last_success() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);

    let (code, _, stderr) = ws.tributary(&["fetch"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = ws.tributary(&["fetch", "--all"]);
    assert_eq!(code, 0, "{stderr}");

    let seen = server.requests_to(ANALYSIS);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].if_none_match, None);
    assert!(seen[1].if_none_match.is_some(), "ETag sent back");
    assert!(
        seen[1].if_modified_since.is_some(),
        "Last-Modified sent back"
    );

    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status = json(&stdout);
    assert_eq!(status.as_array().unwrap().len(), 1);
    let feed = status_of(&status, "analysis");
    let documented = [
        "id",
        "url",
        "effective_url",
        "state",
        "last_success",
        "last_error",
        "consecutive_errors",
        "next_fetch",
        "entries",
    ];
    let present = keys(feed);
    for k in documented {
        assert!(present.contains(k), "status lacks `{k}`: {feed}");
    }
    assert_eq!(feed["url"], server.url(ANALYSIS));
    assert_eq!(feed["state"], "ok");
    assert_eq!(feed["entries"], 11, "the 304 stored nothing new");
    assert_eq!(feed["consecutive_errors"], 0);
    assert_eq!(feed["last_error"], Value::Null);
    let last_success = feed["last_success"].as_str().expect("last_success set");
    chrono::DateTime::parse_from_rfc3339(last_success).expect("RFC 3339");
    assert!(last_success.ends_with('Z'), "{last_success}");
}

#[test]
fn status_json_after_a_revalidated_fetch_shows_last_success_and_entries() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[("analysis", ANALYSIS), ("wire", "/feeds/wire.rss")],
    );
    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let before = json(&stdout);
    assert_eq!(status_of(&before, "analysis")["state"], "new");
    assert_eq!(status_of(&before, "analysis")["last_success"], Value::Null);
    assert_eq!(status_of(&before, "analysis")["entries"], 0);

    ws.fetch_in_process();
    ws.fetch_in_process();
    let seen = server.requests_to(ANALYSIS);
    assert_eq!(seen.len(), 2);
    assert!(seen[1].if_none_match.is_some(), "second fetch revalidates");

    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status = json(&stdout);
    let ids: Vec<&str> = status
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["analysis", "wire"],
        "one object per feed, in feeds.toml order"
    );
    let feed = status_of(&status, "analysis");
    for k in [
        "id",
        "url",
        "effective_url",
        "state",
        "last_success",
        "last_error",
        "consecutive_errors",
        "next_fetch",
        "entries",
    ] {
        assert!(keys(feed).contains(k), "status lacks `{k}`: {feed}");
    }
    assert_eq!(feed["url"], server.url(ANALYSIS));
    assert_eq!(feed["effective_url"], server.url(ANALYSIS));
    assert_eq!(feed["state"], "ok");
    assert_eq!(feed["entries"], 11, "the 304 stored nothing new");
    assert_eq!(feed["consecutive_errors"], 0);
    assert_eq!(feed["last_error"], Value::Null);
    let last_success = feed["last_success"].as_str().expect("last_success set");
    chrono::DateTime::parse_from_rfc3339(last_success).expect("RFC 3339");
    assert!(last_success.ends_with('Z'), "{last_success}");
    let next = feed["next_fetch"].as_str().expect("next_fetch set");
    chrono::DateTime::parse_from_rfc3339(next).expect("RFC 3339");
    assert_eq!(status_of(&status, "wire")["entries"], 8);
}

#[test]
fn status_json_shows_a_failing_feed_with_its_reason() {
    let server = FeedServer::start();
    server.answer_status("/feeds/wire.rss", 500);
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[("analysis", ANALYSIS), ("failing-wire", "/feeds/wire.rss")],
    );
    let cycle = ws.fetch_in_process();
    assert_eq!(cycle.failed().count(), 1);

    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status = json(&stdout);
    assert_eq!(status_of(&status, "analysis")["state"], "ok");
    let failing = status_of(&status, "failing-wire");
    assert_eq!(failing["state"], "failing");
    assert_eq!(failing["consecutive_errors"], 1);
    assert_eq!(failing["entries"], 0);
    assert_eq!(failing["last_success"], Value::Null);
    let error = failing["last_error"].as_str().expect("last_error set");
    assert!(error.contains("500"), "{error}");

    let (code, table, stderr) = ws.tributary(&["status"]);
    assert_eq!(code, 0, "{stderr}");
    let row = table
        .lines()
        .find(|l| l.starts_with("failing-wire"))
        .unwrap_or_else(|| panic!("no row for the feed:\n{table}"));
    assert!(row.contains("failing") && row.contains("500"), "{row}");
}

#[test]
fn command_line_mistakes_exit_3_never_2_and_help_exits_0() {
    let ws = Workspace::new();
    for args in [
        &["fetch", "--no-such-flag"][..],
        &["no-such-command"][..],
        &["status", "--json", "extra"][..],
    ] {
        let (code, _, stderr) = ws.tributary(args);
        assert_eq!(
            code, 3,
            "{args:?} is a usage mistake, not failed feeds:\n{stderr}"
        );
        assert!(
            stderr.contains("Usage"),
            "{args:?}: clap says how to call it:\n{stderr}"
        );
    }
    for args in [
        &["--help"][..],
        &["fetch", "--help"][..],
        &["--version"][..],
    ] {
        let (code, stdout, stderr) = ws.tributary(args);
        assert_eq!(code, 0, "{args:?}:\n{stderr}");
        assert!(stdout.contains("tributary"), "{args:?}: {stdout}");
    }
}

#[test]
fn fetch_all_with_one_feed_failing_stores_the_others_and_exits_2() {
    let server = FeedServer::start();
    server.answer_status("/feeds/wire.rss", 500);
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[
            ("analysis", ANALYSIS),
            ("failing-wire", "/feeds/wire.rss"),
            ("digest", "/feeds/noguid.rss"),
        ],
    );

    let (code, _, stderr) = ws.tributary(&["fetch", "--all"]);
    assert_eq!(code, 2, "some feeds failed:\n{stderr}");
    let naming: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("failing-wire"))
        .collect();
    assert_eq!(
        naming.len(),
        1,
        "one line names the failing feed:\n{stderr}"
    );
    assert!(naming[0].contains("500"), "{}", naming[0]);

    let (code, stdout, stderr) = ws.tributary(&["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status = json(&stdout);
    assert_eq!(status_of(&status, "analysis")["entries"], 11);
    assert_eq!(status_of(&status, "digest")["entries"], 6);
    assert_eq!(status_of(&status, "analysis")["state"], "ok");
    let failing = status_of(&status, "failing-wire");
    assert_eq!(failing["state"], "failing");
    assert_eq!(failing["consecutive_errors"], 1);
    assert_eq!(failing["entries"], 0);
    assert_eq!(failing["last_success"], Value::Null);
    let error = failing["last_error"].as_str().expect("last_error set");
    assert!(error.contains("500"), "{error}");
}

#[test]
fn exported_atom_from_a_hostile_feed_carries_only_safe_text() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("hostile", "/feeds/hostile.rss")]);
    assert_eq!(ws.fetch_in_process().failed().count(), 0);

    let (code, atom, stderr) = ws.tributary(&["export"]);
    assert_eq!(code, 0, "{stderr}");
    for bad in [
        "<script",
        "onerror",
        "data:text/html",
        "<iframe",
        "<meta",
        "\u{8}",
        "&#8;",
        "&#x8;",
    ] {
        assert!(!atom.contains(bad), "export contains {bad:?}:\n{atom}");
    }
    let doc = parse_atom(&atom);
    assert_eq!(doc.entries.len(), 9);

    // What a reader renders: the HTML carried in content/summary, and every link.
    let mut rendered: Vec<(String, String)> = doc
        .texts
        .iter()
        .filter(|(path, _)| !path.ends_with("/title"))
        .cloned()
        .collect();
    rendered.extend(doc.attributes.iter().cloned());
    for (path, value) in &rendered {
        let lower = value.to_ascii_lowercase();
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "data:text/html",
            "<iframe",
            "<meta",
            "<svg",
        ] {
            assert!(!lower.contains(bad), "{path} carries {bad:?}: {value}");
        }
    }
    // Titles are plain text: one may say "javascript:", none may hold markup.
    for t in doc.titles() {
        assert!(!t.contains('<'), "markup in title {t:?}");
    }

    let all_text: String = doc.texts.iter().map(|(_, t)| t.as_str()).collect();
    for n in 1..=9 {
        let safe = format!("Safe text survives {n}");
        assert!(all_text.contains(&safe), "{safe:?} was lost");
    }
    assert!(
        doc.entry_titled("Control byte in this title survives 9")
            .is_some(),
        "the title loses only its control byte: {:?}",
        doc.titles()
    );
    let js_item = doc
        .entry_titled("Link with a javascript: address")
        .expect("item 3 kept");
    assert_eq!(js_item.link, None, "the javascript: link is dropped");
}

#[test]
fn check_reports_every_problem_with_file_line_and_column_and_exits_3() {
    let ws = Workspace::new();
    ws.write_feeds(
        "[[feed]]\n\
         id = \"Bad Id\"\n\
         url = \"https://caucasus-analysis.example/en/feed.atom\"\n\
         \n\
         [[feed]]\n\
         id = \"ftp-source\"\n\
         url = \"ftp://files.example/feed.xml\"\n\
         \n\
         [[feed]]\n\
         id = \"fine\"\n\
         url = \"https://regional-digest.example/rss\"\n",
    );
    let (code, stdout, stderr) = ws.tributary(&["check"]);
    assert_eq!(code, 3, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let feeds = ws.feeds_path().display().to_string();
    let problems: Vec<&str> = stderr.lines().filter(|l| l.contains(&feeds)).collect();
    assert_eq!(problems.len(), 2, "one line per problem:\n{stderr}");
    assert!(
        problems[0].contains(&format!("{feeds}:2:6:")),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("Bad Id"), "{}", problems[0]);
    assert!(
        problems[1].contains(&format!("{feeds}:7:7:")),
        "{}",
        problems[1]
    );
    assert!(problems[1].contains("ftp-source"), "{}", problems[1]);
}

#[test]
fn check_accepts_a_valid_feeds_file_and_exits_0() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[("analysis", ANALYSIS), ("wire", "/feeds/wire.rss")],
    );
    let (code, stdout, stderr) = ws.tributary(&["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2 feeds (2 enabled)"), "{stdout}");
    assert!(
        server.requests().is_empty(),
        "check without --online fetches nothing"
    );
}

#[test]
fn fetch_exits_4_while_another_run_holds_the_lock() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let lock = RunLock::acquire(&RunLock::path_for(&ws.db_path())).expect("take the lock");

    let (code, _, stderr) = ws.tributary(&["fetch", "--all"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("lock"), "{stderr}");
    assert!(server.requests().is_empty(), "nothing fetched while locked");

    drop(lock);
    let (code, _, stderr) = ws.tributary(&["fetch", "--all"]);
    assert_eq!(code, 0, "runs once the lock is free:\n{stderr}");
    assert_eq!(server.requests_to(ANALYSIS).len(), 1);
}

#[test]
fn fetch_of_an_unknown_feed_id_exits_3_and_fetches_nothing() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let (code, _, stderr) = ws.tributary(&["fetch", "--feed", "nosuch"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("nosuch"), "{stderr}");
    assert!(server.requests().is_empty());
}

#[test]
fn fetch_of_one_feed_id_fetches_only_that_feed() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[("analysis", ANALYSIS), ("wire", "/feeds/wire.rss")],
    );
    let (code, _, stderr) = ws.tributary(&["fetch", "--feed", "wire"]);
    assert_eq!(code, 0, "{stderr}");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/feeds/wire.rss"]);
}

fn assert_preview_shape(preview: &Value) {
    assert_eq!(
        keys(preview),
        BTreeSet::from(["format", "title", "link", "entries", "warnings"]),
        "top-level keys"
    );
    assert!(preview["warnings"].is_array());
    let entries = preview["entries"].as_array().expect("entries array");
    assert!(!entries.is_empty());
    for e in entries {
        assert_eq!(
            keys(e),
            BTreeSet::from([
                "id",
                "title",
                "link",
                "published",
                "updated",
                "summary",
                "content",
                "authors"
            ]),
            "entry keys: {e}"
        );
        assert!(e["id"].is_string() && e["title"].is_string());
        assert!(e["authors"].is_array());
        for k in ["link", "published", "updated", "summary", "content"] {
            assert!(e[k].is_string() || e[k].is_null(), "{k}: {}", e[k]);
        }
    }
}

#[test]
fn preview_file_json_prints_the_documented_object() {
    let ws = Workspace::new();
    let file = fixture("feeds/analysis.atom").display().to_string();
    let (code, stdout, stderr) = ws.tributary(&["preview", &file, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let preview = json(&stdout);
    assert_preview_shape(&preview);
    assert_eq!(preview["format"], "atom");
    assert_eq!(preview["title"], "Caucasus Analysis");
    let entries = preview["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 11);
    let seed = entries
        .iter()
        .find(|e| e["title"] == SEED_TITLE)
        .expect("the seed article is previewed");
    assert_eq!(seed["published"], "2026-01-14T05:00:00Z");
    assert_eq!(
        seed["link"],
        "https://caucasus-analysis.example/en/analysis/alliance-without-illusions"
    );
    assert!(!ws.db_path().exists(), "preview stores nothing");
}

#[test]
fn preview_url_json_fetches_the_feed_from_the_server() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let url = server.url("/feeds/wire.rss");
    let (code, stdout, stderr) = ws.tributary(&["preview", &url, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let preview = json(&stdout);
    assert_preview_shape(&preview);
    assert_eq!(preview["format"], "rss2");
    let titles: Vec<&str> = preview["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 8);
    assert!(
        titles.contains(&"Why Russia needs Azerbaijan: an alliance without illusions - Wire"),
        "{titles:?}"
    );
    assert_eq!(server.requests_to("/feeds/wire.rss").len(), 1);
    assert!(!ws.db_path().exists(), "preview stores nothing");
}

#[test]
fn preview_of_an_html_page_fails_as_not_a_feed() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    let url = server.url("/feeds/broken.xml");
    let (code, stdout, stderr) = ws.tributary(&["preview", &url, "--json"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("not a feed"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// Feeds that share no story, so the merged feed lists every entry.
const DISTINCT_STORIES: [(&str, &str); 4] = [
    ("analysis", ANALYSIS),
    ("caucasus-ru", "/feeds/caucasus-1251.xml"),
    ("koi8-asia", "/feeds/koi8-undeclared.xml"),
    ("hostile", "/feeds/hostile.rss"),
];

fn fetch_and_export(server: &FeedServer) -> (Workspace, String) {
    let ws = Workspace::new();
    ws.feeds_on(server, &DISTINCT_STORIES);
    assert_eq!(ws.fetch_in_process().failed().count(), 0);
    let out = ws.root().join("public/all.atom");
    let out_arg = out.display().to_string();
    let (code, stdout, stderr) = ws.tributary(&["export", "--out", &out_arg]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.is_empty(),
        "--out writes nothing to stdout: {stdout}"
    );
    let names: Vec<String> = std::fs::read_dir(ws.root().join("public"))
        .expect("output folder created")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["all.atom"], "no temporary file left beside it");
    let atom = std::fs::read_to_string(&out).expect("export written");
    (ws, atom)
}

#[test]
fn export_out_writes_the_file_and_atom_ids_are_the_same_across_databases() {
    let first_server = FeedServer::start();
    let second_server = FeedServer::start();
    let (_a, first) = fetch_and_export(&first_server);
    let (_b, second) = fetch_and_export(&second_server);

    let ids = |atom: &str| -> BTreeMap<String, String> {
        parse_atom(atom)
            .entries
            .into_iter()
            .map(|e| (format!("{} | {}", e.source_id, e.title), e.id))
            .collect()
    };
    let (first, second) = (ids(&first), ids(&second));
    assert_eq!(first.len(), 11 + 8 + 7 + 9);
    assert_eq!(first, second, "same feeds and entries, same ids");
    let distinct: BTreeSet<&String> = first.values().collect();
    assert_eq!(distinct.len(), first.len(), "every entry has its own id");
}

#[test]
fn export_to_stdout_is_the_merged_atom_with_the_seed_article() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    assert_eq!(ws.fetch_in_process().failed().count(), 0);
    let (code, atom, stderr) = ws.tributary(&["export", "--out", "-"]);
    assert_eq!(code, 0, "{stderr}");
    let doc = parse_atom(&atom);
    assert_eq!(doc.entries.len(), 11);
    let seed = doc.entry_titled(SEED_TITLE).expect("seed article");
    assert_eq!(seed.published.as_deref(), Some("2026-01-14T05:00:00Z"));
    assert_eq!(seed.link.as_deref(), Some(SEED_LINK));
}

fn run_demo(ws: &Workspace, out_dir: &std::path::Path) -> (String, AtomDoc) {
    let args: Vec<String> = [
        "--config",
        &ws.config_path().display().to_string(),
        "demo",
        "--once",
        "--out-dir",
        &out_dir.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, stdout, stderr) = run_tributary(ws.root(), &args);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let atom = std::fs::read_to_string(out_dir.join("all.atom")).expect("all.atom written");
    (stdout, parse_atom(&atom))
}

#[test]
fn demo_once_writes_the_merged_atom_carrying_the_seed_story_once() {
    let ws = Workspace::new();
    let out_dir = ws.root().join("demo-out");
    let (stdout, doc) = run_demo(&ws, &out_dir);
    let carrying: Vec<&AtomEntry> = doc
        .entries
        .iter()
        .filter(|e| {
            e.link.as_deref() == Some(SEED_LINK) || e.related.iter().any(|r| r == SEED_LINK)
        })
        .collect();
    assert_eq!(
        carrying.len(),
        1,
        "the seed story appears once, folded with its copies: {:?}",
        doc.titles()
    );
    assert!(
        carrying[0]
            .title
            .to_lowercase()
            .contains("alliance without illusions"),
        "{}",
        carrying[0].title
    );
    assert!(
        doc.titles()
            .contains(&"В Баку обсудили прокладку Транскаспийского оптоволоконного кабеля")
    );
    assert!(out_dir.join("all.json").is_file());
    assert!(out_dir.join("demo.db").is_file());
    assert!(stdout.contains("all.atom"), "{stdout}");
}

#[test]
fn demo_once_lists_the_seed_article_under_its_own_title_every_run() {
    let ws = Workspace::new();
    for run in 0..4 {
        let out_dir = ws.root().join(format!("demo-{run}"));
        let (_, doc) = run_demo(&ws, &out_dir);
        let seed = doc
            .entry_titled(SEED_TITLE)
            .unwrap_or_else(|| panic!("run {run}: seed article missing from {:?}", doc.titles()));
        assert_eq!(seed.link.as_deref(), Some(SEED_LINK));
        assert_eq!(seed.published.as_deref(), Some("2026-01-14T05:00:00Z"));
    }
}
