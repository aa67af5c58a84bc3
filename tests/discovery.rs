//! `tributary feeds add` discovery and `tributary preview --html-*`, with the real binary
//! against the fixture site on 127.0.0.1: a page advertising two feeds, one, and none (where
//! an html-source entry is printed and `feeds.toml` is left as it was), and selectors tried on
//! the seed's "Latest news" list page without editing any file.

mod common;

use common::{FeedServer, SEED_TITLE, Workspace};
use serde_json::Value;
use tributary::config::{FeedsFile, SourceKind};

/// What admins had in `feeds.toml` before: comments and layout that must survive.
const FEEDS: &str = "# Sources for the Caucasus desk.\n[defaults]\nschedule = \"*/30 * * * *\"\n\n# Georgian, English edition\n[[feed]]\nid = \"civil-ge\"   # keep\nurl = \"https://civil.ge/feed\"\n";

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write_feeds(FEEDS);
    ws
}

fn feeds_text(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.feeds_path()).expect("read feeds.toml")
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The words of a POSIX shell command line (plain words and single-quoted parts), as a shell
/// would split the command `feeds add` prints.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn a_page_with_two_feeds_lists_them_and_adds_the_one_picked() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/discovery/two-feeds.html");
    let atom = server.url("/feeds/analysis.atom");
    let rss = server.url("/feeds/wire.rss");

    // Not a terminal and no --pick: nothing is chosen for the admin.
    let (code, stdout, stderr) = ws.tributary(&["feeds", "add", &page]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains(&format!("  1. {atom}")) && stdout.contains(&format!("  2. {rss}")),
        "{stdout}"
    );
    assert!(stderr.contains("--pick N (1 to 2)"), "{stderr}");
    assert_eq!(feeds_text(&ws), FEEDS, "nothing written without a choice");

    let (code, _, stderr) = ws.tributary(&["feeds", "add", &page, "--pick", "3"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--pick 3: choose 1 to 2"), "{stderr}");
    assert_eq!(feeds_text(&ws), FEEDS);

    let (code, stdout, stderr) =
        ws.tributary(&["feeds", "add", &page, "--pick", "2", "--tag", "wire"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let text = feeds_text(&ws);
    assert!(text.starts_with(FEEDS), "what was there is kept:\n{text}");
    let feeds = ws.feeds(&ws.config());
    let added = feeds.feeds.last().expect("a feed was added");
    assert_eq!(feeds.feeds.len(), 2);
    assert_eq!(added.url.as_str(), rss);
    assert_eq!(added.tags, ["wire"]);
    assert_eq!(added.source, SourceKind::Feed);
}

#[test]
fn a_page_with_one_feed_adds_it_without_asking() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/discovery/one-feed.html");
    let (code, stdout, stderr) = ws.tributary(&["feeds", "add", &page, "--id", "analysis"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("advertising 1 feed:"), "{stdout}");
    assert!(stdout.contains("added `analysis`"), "{stdout}");
    let feeds = ws.feeds(&ws.config());
    let added = feeds.feeds.last().expect("a feed was added");
    assert_eq!(added.id, "analysis");
    assert_eq!(added.url.as_str(), server.url("/feeds/analysis.atom"));
}

#[test]
fn a_page_without_a_feed_gets_a_working_html_source_entry_and_nothing_is_written() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/site/news.html");
    let (code, stdout, stderr) = ws.tributary(&["feeds", "add", &page, "--tag", "en"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("nothing added") && stderr.contains("advertises no feed"),
        "{stderr}"
    );
    assert_eq!(feeds_text(&ws), FEEDS, "feeds.toml unchanged byte for byte");
    // The common paths were tried before giving up.
    for path in ["/feed", "/rss"] {
        assert_eq!(server.requests_to(path).len(), 1, "{path} tried once");
    }

    // Everything printed is TOML: the explanations are comments, so it pastes as is.
    let pasted = format!("{FEEDS}\n{stdout}");
    let config = ws.config();
    let feeds = FeedsFile::parse_str(&pasted, &ws.feeds_path(), &config)
        .unwrap_or_else(|e| panic!("the printed entry is valid as pasted: {e}\n{stdout}"));
    let added = feeds.feeds.last().expect("the printed entry");
    assert_eq!(added.url.as_str(), page);
    assert_eq!(added.tags, ["en"]);
    let SourceKind::Html(src) = &added.source else {
        panic!("kind = \"html\": {stdout}");
    };
    assert_eq!(src.item, ".latest-news li", "{stdout}");
    assert_eq!(src.title, "a");
    assert_eq!(src.link, "a@href");
    assert_eq!(src.date.as_deref(), Some(".date"));
    assert_eq!(src.date_format.as_deref(), Some("%d.%b.%Y"));
    assert!(stdout.contains("read 10 entries (10 dated)"), "{stdout}");

    // The printed preview command reads the page with those selectors.
    let command = stdout
        .lines()
        .find_map(|l| l.trim_start_matches('#').trim().strip_prefix("tributary "))
        .unwrap_or_else(|| panic!("a preview command line: {stdout}"));
    let mut args = shell_words(command);
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(args[..2], ["preview", page.as_str()]);
    let (code, out, stderr) = ws.tributary(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&out)["entries"].as_array().map(Vec::len), Some(10));
}

#[test]
fn a_page_without_a_feed_or_a_list_gets_placeholders_that_check_refuses() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/site/empty.html");
    let (code, stdout, stderr) = ws.tributary(&["feeds", "add", &page]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(feeds_text(&ws), FEEDS);
    assert!(
        stdout.contains("No list of stories was recognised"),
        "{stdout}"
    );
    assert!(stdout.contains("kind = \"html\""), "{stdout}");
    assert!(
        stdout.contains("item = \"<one element per entry, e.g. .latest-news li>\""),
        "{stdout}"
    );
    // Pasted unfilled, the entry is a configuration error naming the placeholder.
    ws.write_feeds(&format!("{FEEDS}\n{stdout}"));
    let (code, _, stderr) = ws.tributary(&["check"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("item selector `<one element per entry"),
        "{stderr}"
    );
}

/// The seed's "Latest news" on `site/news.html`: title, link path, date meant.
const LATEST_NEWS: [(&str, &str, &str); 10] = [
    (
        "“Muslim NATO”: Turkey’s New Strategic Vector",
        "/en/news/muslim-nato-turkey-strategic-vector",
        "2026-01-10T00:00:00Z",
    ),
    (
        "The Use of the “Oreshnik” Missile and a New Phase of Escalation Around Ukraine",
        "/en/news/oreshnik-missile-new-phase-escalation",
        "2026-01-09T00:00:00Z",
    ),
    (
        "Solidarity Deferred: Croatia and Romania’s Dangerous Retreat",
        "/en/news/solidarity-deferred-croatia-romania",
        "2026-01-08T00:00:00Z",
    ),
    (
        "Azerbaijan’s Eurasian Initiative: Ambitions, Challenges, and Doubts",
        "/en/news/azerbaijan-eurasian-initiative",
        "2026-01-07T00:00:00Z",
    ),
    (
        "The Great Rotation: Personnel Reshuffles in Ukraine’s Leadership",
        "/en/news/great-rotation-ukraine-leadership",
        "2026-01-06T00:00:00Z",
    ),
    (
        "The United States Did Not Confirm an Alleged Ukrainian Attack on Putin’s Residence",
        "/en/news/us-did-not-confirm-alleged-attack",
        "2026-01-05T00:00:00Z",
    ),
    (
        "The Trans-Caspian Fiber Optic Cable: A Digital Milestone Connecting Europe and Asia",
        "/en/news/trans-caspian-fiber-optic-cable",
        "2026-01-04T00:00:00Z",
    ),
    (
        "Georgia Hopes for a Review of Venezuela’s Recognition of Abkhazia and South Ossetia Amid Ongoing Crisis",
        "/en/news/georgia-venezuela-recognition-review",
        "2026-01-04T00:00:00Z",
    ),
    (
        "Ukraine’s Allies Discuss Security and the Future of a Peace Settlement",
        "/en/news/ukraine-allies-security-peace-settlement",
        "2026-01-03T00:00:00Z",
    ),
    (
        "Iran Amid a Growing Domestic Crisis: Causes, Dynamics, and External Factors",
        "/en/news/iran-growing-domestic-crisis",
        "2026-01-03T00:00:00Z",
    ),
];

const NEWS_SELECTORS: [&str; 8] = [
    "--html-item",
    ".latest-news li",
    "--html-title",
    "a",
    "--html-link",
    "a@href",
    "--html-date",
    ".date",
];

#[test]
fn preview_with_selectors_reads_the_latest_news_list() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/site/news.html");
    let mut args = vec!["preview", page.as_str()];
    args.extend(NEWS_SELECTORS);
    args.extend(["--html-date-format", "%d.%b.%Y", "--json"]);
    let (code, stdout, stderr) = ws.tributary(&args);
    assert_eq!(code, 0, "{stderr}");
    let preview = json(&stdout);
    assert_eq!(preview["format"], "html");
    assert_eq!(preview["title"], "Latest news — Caucasus Analysis");
    assert_eq!(preview["link"], page.as_str());
    assert_eq!(preview["warnings"], serde_json::json!([]));
    let entries = preview["entries"].as_array().expect("entries");
    let got: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["title"].as_str().unwrap_or_default(),
                e["link"].as_str().unwrap_or_default(),
                e["published"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let links: Vec<String> = LATEST_NEWS.iter().map(|(_, p, _)| server.url(p)).collect();
    let want: Vec<(&str, &str, &str)> = LATEST_NEWS
        .iter()
        .zip(&links)
        .map(|((t, _, d), l)| (*t, l.as_str(), *d))
        .collect();
    assert_eq!(got, want);
    for e in entries {
        assert_eq!(e["id"], e["link"], "ids are the resolved links");
    }
    assert!(
        entries.iter().all(|e| e["title"] != SEED_TITLE),
        "the featured link outside the list is not an entry"
    );
    assert_eq!(server.requests_to("/site/news.html").len(), 1);
    assert_eq!(feeds_text(&ws), FEEDS, "preview edits no file");
    assert!(!ws.db_path().exists(), "preview stores nothing");

    // The text form prints the same entries, dated.
    args.pop();
    let (code, stdout, stderr) = ws.tributary(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("Latest news — Caucasus Analysis (html), 10 entries\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n2026-01-10T00:00:00Z  “Muslim NATO”: Turkey’s New Strategic Vector\n"),
        "{stdout}"
    );
}

#[test]
fn preview_warns_per_item_when_a_date_does_not_match_the_format() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/site/news.html");
    let mut args = vec!["preview", page.as_str()];
    args.extend(NEWS_SELECTORS);
    args.extend(["--html-date-format", "%d.%m.%Y", "--json"]);
    let (code, stdout, stderr) = ws.tributary(&args);
    assert_eq!(code, 0, "{stderr}");
    let preview = json(&stdout);
    let entries = preview["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 10, "entries are kept without their dates");
    assert!(entries.iter().all(|e| e["published"].is_null()));
    let warnings = preview["warnings"].as_array().expect("warnings");
    assert_eq!(
        warnings.first().and_then(Value::as_str),
        Some("item 1: date `10.Jan.2026` does not match `%d.%m.%Y`"),
        "{warnings:?}"
    );
}

#[test]
fn an_item_selector_matching_nothing_is_a_clear_error() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/site/news.html");
    let (code, stdout, stderr) = ws.tributary(&[
        "preview",
        &page,
        "--html-item",
        ".news-list .item",
        "--json",
    ]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "item selector `.news-list .item` matched nothing on {page}"
        )),
        "{stderr}"
    );

    // A selector that is not CSS is refused before anything is fetched.
    let before = server.requests().len();
    let (code, _, stderr) = ws.tributary(&["preview", &page, "--html-item", "li[", "--json"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("item selector `li[` is not valid CSS"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), before);
}

#[test]
fn preview_full_text_reads_each_entry_page_and_warns_for_the_missing_one() {
    let server = FeedServer::start();
    let ws = workspace();
    let page = server.url("/discovery/analysis-list.html");
    let (code, stdout, stderr) = ws.tributary(&[
        "preview",
        &page,
        "--html-item",
        ".teaser",
        "--html-title",
        "h2 a",
        "--html-link",
        "h2 a@href",
        "--html-date",
        "time@datetime",
        "--html-summary",
        "p",
        "--full-text",
        "article .body",
        "--full-text-strip",
        ".share",
        "--full-text-strip",
        ".latest-news",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let preview = json(&stdout);
    let entries = preview["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["title"], SEED_TITLE);
    assert_eq!(entries[0]["published"], "2026-01-14T05:00:00Z");
    let content = entries[0]["content"].as_str().expect("full text");
    assert!(
        content.contains("actively working to preserve allied relations"),
        "{content}"
    );
    assert!(!content.contains("Share:"), "share bar stripped: {content}");
    assert!(!content.contains("Oreshnik"), "sidebar stripped: {content}");
    assert!(entries[1]["content"].is_null());
    assert!(
        entries[1]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Caspian"))
    );
    let missing = server.url("/site/missing-analysis.html");
    let warnings = preview["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w.as_str().is_some_and(|w| w
            .starts_with(&format!("full text of {missing}: "))
            && w.contains("404"))),
        "{warnings:?}"
    );
    assert_eq!(server.requests_to("/site/article.html").len(), 1);
}

#[test]
fn preview_help_explains_the_html_flags() {
    let ws = Workspace::new();
    let (code, stdout, _) = ws.tributary(&["preview", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--html-item",
        "--html-title",
        "--html-link",
        "--html-date",
        "--html-date-format",
        "--html-summary",
        "--html-author",
        "--html-image",
        "--full-text",
        "--full-text-strip",
    ] {
        assert!(stdout.contains(flag), "{flag} in:\n{stdout}");
    }
}
