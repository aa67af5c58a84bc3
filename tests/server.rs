//! Tributary's HTTP server end to end: the demo outlets fetched through the real pipeline into
//! a SQLite file and served by the real router on 127.0.0.1, read back with an HTTP client the
//! way readers and scripts read it. One test per route, filter, paging, revalidation and admin
//! case.
//!
//! The admin tests need the bearer token in the process environment, which a test must not
//! change while others run: each of them runs itself again in a child process with its own
//! variable set from the start (see [`in_child_with_env`]).

mod common;

use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::process::Command;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use common::served::{Reply, ServedDemo};
use common::{AtomDoc, AtomEntry, SEED_LINK, SEED_TITLE, parse_atom};

/// Entries the demo outlets carry: 11 + 8 + 9 + 3 + 7 + 6 + 8.
const DEMO_ENTRIES: usize = 52;
/// Stories in the merged feed: the seed story reaches it through three outlets.
const DEMO_STORIES: usize = 50;
/// The wire's copy of the seed story, folded under the analysis site's entry.
const WIRE_SEED_TITLE: &str = "Why Russia needs Azerbaijan: an alliance without illusions - Wire";
/// The title with «Баку» in the windows-1251 feed.
const BAKU_TITLE: &str = "В Баку обсудили прокладку Транскаспийского оптоволоконного кабеля";
/// A wire item a test edits upstream.
const FERRY_TITLE: &str = "Dagestan ferry to Aktau planned for spring";
const FERRY_TITLE_EDITED: &str = "Dagestan ferry to Aktau planned for April";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A 200 Atom answer, read in full.
fn atom(reply: &Reply) -> AtomDoc {
    assert_eq!(
        reply.status,
        200,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/atom+xml"), "content type {ct}");
    parse_atom(&reply.text())
}

/// The items of a 200 JSON Feed answer.
fn items(reply: &Reply) -> Vec<Value> {
    assert_eq!(
        reply.status,
        200,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/feed+json"), "content type {ct}");
    reply.json()["items"]
        .as_array()
        .expect("an items array")
        .clone()
}

fn ids(entries: &[AtomEntry]) -> Vec<String> {
    entries.iter().map(|e| e.id.clone()).collect()
}

fn item_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("string id").to_string())
        .collect()
}

fn item_feed(item: &Value) -> &str {
    item["_tributary"]["feed"]
        .as_str()
        .expect("_tributary.feed")
}

fn item_title(item: &Value) -> &str {
    item["title"].as_str().expect("title")
}

/// The feed-level `<link>` elements as `(rel, href)`.
fn feed_links(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut links = Vec::new();
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth -= 1,
            Event::Empty(e) if depth == 1 && e.local_name().as_ref() == "link" => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("attribute value")
                                .into_owned()
                        })
                };
                links.push((
                    attr("rel").unwrap_or_else(|| "alternate".into()),
                    attr("href").expect("href"),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    links
}

fn link(xml: &str, rel: &str) -> Option<String> {
    feed_links(xml)
        .into_iter()
        .find(|(r, _)| r == rel)
        .map(|(_, h)| h)
}

/// The feed id an entry's `<source>` names.
fn source_feed(demo: &ServedDemo, e: &AtomEntry) -> String {
    demo.feeds
        .feeds
        .iter()
        .find(|f| tributary::dedup::uuid_urn(&["feed", &f.id]) == e.source_id)
        .map(|f| f.id.clone())
        .unwrap_or_else(|| panic!("entry {} names no configured feed", e.title))
}

/// Entries the first fetch stored for each of `feeds`.
fn stored(demo: &ServedDemo, feeds: &[&str]) -> usize {
    demo.first_cycle
        .reports
        .iter()
        .filter(|r| feeds.contains(&r.feed_id.as_str()))
        .map(|r| r.inserted)
        .sum()
}

/// Follows `rel="next"` from `start`; returns the pages' entry ids, page by page.
async fn atom_pages(demo: &ServedDemo, start: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(demo.url(start));
    while let Some(url) = next {
        assert!(pages.len() <= DEMO_STORIES, "paging does not end");
        let reply = demo.get(&url).await;
        let doc = atom(&reply);
        pages.push(ids(&doc.entries));
        next = link(&reply.text(), "next");
        if let Some(n) = &next {
            assert!(
                n.starts_with(&demo.base),
                "the next link {n} is absolute, on this server"
            );
        }
    }
    pages
}

/// What leaks internals in an error body: the server's files, SQL, Rust panics and debug output.
fn assert_no_internals(demo: &ServedDemo, body: &str) {
    let lower = body.to_lowercase();
    for marker in [
        "sqlite",
        "rusqlite",
        "sql",
        "no such table",
        "panicked",
        ".rs:",
        "src/",
        "backtrace",
        "{ ",
        "tributary.db",
    ] {
        assert!(!lower.contains(marker), "`{marker}` leaked in {body}");
    }
    let root = demo.root().display().to_string();
    assert!(!body.contains(&root), "a server path leaked in {body}");
}

/// A JSON error body `{"error": …, "status": N}` with the given status, naming `mentions`.
fn assert_json_error(demo: &ServedDemo, reply: &Reply, status: u16, mentions: &str) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body = reply.json();
    let message = body["error"].as_str().expect("an error message");
    assert_eq!(body["status"], status);
    assert!(
        message.contains(mentions),
        "the error `{message}` names `{mentions}`"
    );
    assert_no_internals(demo, &reply.text());
}

/// Runs the calling test again in a child process whose environment has `var` set to `token`
/// from the start, so no test changes the environment of a running process. Returns `true` in
/// the child (which then runs the test body); in the parent, checks that the child ran exactly
/// this one test and passed, and returns `false`.
fn in_child_with_env(test: &str, var: &str, token: &str) -> bool {
    if std::env::var_os(var).is_some() {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--include-ignored", "--test-threads=1"])
        .env(var, token)
        .output()
        .expect("run the test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{test} failed in its child process:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in its child process:\n{stdout}"
    );
    false
}

/// A demo whose admin token lives in `var`.
async fn demo_with_token_env(var: &str) -> ServedDemo {
    ServedDemo::start_with(&format!("[server]\nadmin_token_env = \"{var}\"\n"), "").await
}

/// Rewrites one title in the outlets' copy of `wire.rss`.
fn edit_wire_title(demo: &ServedDemo, from: &str, to: &str) {
    let path = demo.site_feed("wire.rss");
    let text = std::fs::read_to_string(&path).expect("read wire.rss");
    assert!(text.contains(from), "wire.rss carries `{from}`");
    std::fs::write(&path, text.replace(from, to)).expect("write wire.rss");
}

fn http_date(reply: &Reply, name: &str) -> DateTime<Utc> {
    let v = reply
        .header(name)
        .unwrap_or_else(|| panic!("{name} is sent"));
    DateTime::parse_from_rfc2822(&v)
        .unwrap_or_else(|e| panic!("{name}: {v}: {e}"))
        .with_timezone(&Utc)
}

fn httpdate(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// Does `text` hold a word starting with `word` (both case-folded)?
fn has_word_prefix(text: &str, word: &str) -> bool {
    let word = word.to_lowercase();
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.to_lowercase().starts_with(&word))
}

// ---------------------------------------------------------------------------------------------
// The merged feeds
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn feed_atom_and_feeds_all_atom_are_the_same_document() {
    let demo = ServedDemo::start().await;
    let a = demo.get("/feed.atom").await;
    let b = demo.get("/feeds/all.atom").await;
    let doc = atom(&a);
    atom(&b);
    assert_eq!(a.text(), b.text());
    assert_eq!(a.header("etag"), b.header("etag"));
    assert_eq!(doc.title, "Tributary: all sources");
    assert_eq!(doc.entries.len(), DEMO_STORIES);
}

#[tokio::test]
async fn merged_feed_has_one_entry_per_story_from_every_feed() {
    let demo = ServedDemo::start().await;
    assert_eq!(demo.first_cycle.failed().count(), 0);
    assert_eq!(
        stored(
            &demo,
            &[
                "analysis",
                "caucasus-ru",
                "hostile",
                "jsonfeed",
                "koi8-asia",
                "noguid-digest",
                "wire"
            ]
        ),
        DEMO_ENTRIES
    );
    let doc = atom(&demo.get("/feed.atom").await);
    let unique: HashSet<&str> = doc.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unique.len(), DEMO_STORIES, "ids are unique");
    let sources: BTreeSet<String> = doc.entries.iter().map(|e| source_feed(&demo, e)).collect();
    let configured: BTreeSet<String> = demo.feeds.feeds.iter().map(|f| f.id.clone()).collect();
    assert_eq!(sources, configured);
    let seed = doc.entry_titled(SEED_TITLE).expect("the seed story");
    assert_eq!(seed.link.as_deref(), Some(SEED_LINK));
    assert_eq!(
        seed.related.len(),
        2,
        "the two other outlets as related links"
    );
    assert!(doc.entry_titled(WIRE_SEED_TITLE).is_none(), "folded");
}

#[tokio::test]
async fn json_feed_lists_the_same_stories_as_atom_in_the_same_order() {
    let demo = ServedDemo::start().await;
    let doc = atom(&demo.get("/feeds/all.atom").await);
    let reply = demo.get("/feeds/all.json").await;
    let items = items(&reply);
    let json = reply.json();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["title"], "Tributary: all sources");
    assert_eq!(json["feed_url"], format!("{}/feeds/all.json", demo.base));
    assert_eq!(item_ids(&items), ids(&doc.entries));
    let titles: Vec<&str> = items.iter().map(item_title).collect();
    assert_eq!(titles, doc.titles());
}

#[tokio::test]
async fn unknown_output_is_404_with_a_json_error() {
    let demo = ServedDemo::start().await;
    for path in ["/feeds/nope.atom", "/feeds/nope.json"] {
        assert_json_error(&demo, &demo.get(path).await, 404, "nope");
    }
    assert_json_error(&demo, &demo.get("/feeds/all.rss").await, 404, "all.rss");
}

#[tokio::test]
async fn unknown_path_is_404_with_a_json_error() {
    let demo = ServedDemo::start().await;
    assert_json_error(&demo, &demo.get("/no/such/page").await, 404, "no such page");
}

#[tokio::test]
async fn named_output_applies_its_tags_title_and_limit() {
    let demo = ServedDemo::start_with(
        "[[output]]\nname = \"all\"\ntitle = \"Everything\"\n\n\
         [[output]]\nname = \"ru\"\ntitle = \"Russian-language sources\"\ntags = [\"ru\"]\nlimit = 4\n",
        "",
    )
    .await;
    let reply = demo.get("/feeds/ru.atom").await;
    let doc = atom(&reply);
    assert_eq!(doc.title, "Russian-language sources");
    assert_eq!(doc.entries.len(), 4, "the output's limit");
    for e in &doc.entries {
        assert!(
            ["caucasus-ru", "koi8-asia"].contains(&source_feed(&demo, e).as_str()),
            "{} is from a feed tagged ru",
            e.title
        );
    }
    let more = atom(&demo.get("/feeds/ru.atom?limit=10").await);
    assert_eq!(
        more.entries.len(),
        4,
        "a reader's limit never exceeds the output's"
    );
    let pages = atom_pages(&demo, "/feeds/ru.atom").await;
    let all: Vec<String> = pages.concat();
    assert_eq!(all.len(), stored(&demo, &["caucasus-ru", "koi8-asia"]));
    let first = atom(&demo.get("/feed.atom").await);
    assert_eq!(first.title, "Everything", "/feed.atom is the first output");
    assert_eq!(first.entries.len(), DEMO_STORIES);
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tag_filter_keeps_only_stories_from_feeds_with_that_tag() {
    let demo = ServedDemo::start().await;
    for (tag, feeds) in [
        ("ru", vec!["caucasus-ru", "koi8-asia"]),
        ("central-asia", vec!["koi8-asia", "wire", "jsonfeed"]),
    ] {
        let items = items(&demo.get(&format!("/feeds/all.json?tag={tag}")).await);
        assert_eq!(items.len(), stored(&demo, &feeds), "tag {tag}");
        for i in &items {
            assert!(
                feeds.contains(&item_feed(i)),
                "{} under tag {tag}",
                item_title(i)
            );
        }
        let doc = atom(&demo.get(&format!("/feed.atom?tag={tag}")).await);
        assert_eq!(ids(&doc.entries), item_ids(&items), "Atom and JSON agree");
    }
    let doc = atom(&demo.get("/feed.atom?tag=central-asia").await);
    assert!(
        doc.entry_titled(WIRE_SEED_TITLE).is_some(),
        "the wire's copy stands for the seed story when the analysis site is not selected"
    );
    let none = atom(&demo.get("/feed.atom?tag=no-such-tag").await);
    assert!(none.entries.is_empty());
}

#[tokio::test]
async fn feed_filter_lists_every_entry_of_that_feed() {
    let demo = ServedDemo::start().await;
    let items = items(&demo.get("/feeds/all.json?feed=wire").await);
    assert_eq!(items.len(), stored(&demo, &["wire"]));
    assert!(items.iter().all(|i| item_feed(i) == "wire"));
    assert!(
        items.iter().any(|i| item_title(i) == WIRE_SEED_TITLE),
        "a story folded under another outlet is still the wire's entry here"
    );
    let doc = atom(&demo.get("/feed.atom?feed=wire").await);
    assert_eq!(ids(&doc.entries), item_ids(&items));
    assert!(doc.entries.iter().all(|e| source_feed(&demo, e) == "wire"));
}

/// Searches `/api/entries` for `word` written three ways and checks the hits against the
/// unfiltered stream.
async fn check_search(demo: &ServedDemo, word: &str, must_find: &str) {
    let all = demo.get("/api/entries").await.json()["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), DEMO_STORIES);
    let mut results = Vec::new();
    for form in [word.to_string(), word.to_lowercase(), word.to_uppercase()] {
        let reply = demo.get(&format!("/api/entries?q={}", enc(&form))).await;
        assert_eq!(reply.status, 200);
        let hits: Vec<Value> = reply.json()["entries"].as_array().unwrap().clone();
        let atom_hits = atom(&demo.get(&format!("/feed.atom?q={}", enc(&form))).await);
        let hit_ids: Vec<String> = hits
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            ids(&atom_hits.entries),
            hit_ids,
            "Atom and API agree for {form}"
        );
        results.push(hit_ids);
        for h in &hits {
            let (title, excerpt) = (h["title"].as_str().unwrap(), h["excerpt"].as_str().unwrap());
            assert!(
                has_word_prefix(title, word) || has_word_prefix(excerpt, word),
                "{title} matches {form}"
            );
        }
        let hit_titles: Vec<&str> = hits.iter().map(|h| h["title"].as_str().unwrap()).collect();
        assert!(
            hit_titles.contains(&must_find),
            "{form} finds {must_find}: {hit_titles:?}"
        );
        for story in &all {
            let title = story["title"].as_str().unwrap();
            if has_word_prefix(title, word) {
                assert!(hit_titles.contains(&title), "{form} finds {title}");
            }
        }
    }
    assert_eq!(results[0], results[1], "lower case finds the same");
    assert_eq!(results[0], results[2], "upper case finds the same");
    assert!(results[0].len() < DEMO_STORIES);
}

#[tokio::test]
async fn search_finds_a_cyrillic_word_whatever_its_case() {
    let demo = ServedDemo::start().await;
    check_search(&demo, "Баку", BAKU_TITLE).await;
}

#[tokio::test]
async fn search_finds_a_latin_word_whatever_its_case() {
    let demo = ServedDemo::start().await;
    check_search(
        &demo,
        "Caspian",
        "Turkmenistan opens bidding for new Caspian port terminal",
    )
    .await;
}

/// The ids of the unfiltered merged feed whose time (published, else first seen) is at or
/// after `since`.
fn ids_since(all: &[Value], since: DateTime<Utc>) -> Vec<String> {
    all.iter()
        .filter(|i| match i["date_published"].as_str() {
            Some(d) => DateTime::parse_from_rfc3339(d).unwrap() >= since,
            None => true,
        })
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn since_a_date_keeps_stories_from_that_day_on() {
    let demo = ServedDemo::start().await;
    let all = items(&demo.get("/feeds/all.json").await);
    let expected = ids_since(&all, "2026-01-13T00:00:00Z".parse().unwrap());
    assert!(!expected.is_empty() && expected.len() < all.len());
    let got = items(&demo.get("/feeds/all.json?since=2026-01-13").await);
    assert_eq!(item_ids(&got), expected);
    let doc = atom(&demo.get("/feed.atom?since=2026-01-13").await);
    assert_eq!(ids(&doc.entries), expected);
}

#[tokio::test]
async fn since_an_rfc3339_time_is_inclusive_and_honours_offsets() {
    let demo = ServedDemo::start().await;
    let all = items(&demo.get("/feeds/all.json").await);
    let expected = ids_since(&all, "2026-01-13T12:45:00Z".parse().unwrap());
    for since in ["2026-01-13T12:45:00Z", "2026-01-13T16:45:00+04:00"] {
        let got = items(
            &demo
                .get(&format!("/feeds/all.json?since={}", enc(since)))
                .await,
        );
        assert_eq!(item_ids(&got), expected, "since={since}");
        assert!(
            got.iter().any(|i| item_title(i) == BAKU_TITLE),
            "the story at exactly {since} is kept"
        );
    }
    let later = items(&demo.get("/feeds/all.json?since=2026-01-13T12:45:01Z").await);
    assert!(later.iter().all(|i| item_title(i) != BAKU_TITLE));
}

#[tokio::test]
async fn since_that_is_not_a_date_is_400_naming_since() {
    let demo = ServedDemo::start().await;
    for bad in [
        "yesterday",
        "2026-13-01",
        "14.01.2026",
        "2026-01-14T25:00:00Z",
    ] {
        let path = format!("/feed.atom?since={}", enc(bad));
        assert_json_error(&demo, &demo.get(&path).await, 400, "since");
        let path = format!("/feeds/all.json?since={}", enc(bad));
        assert_json_error(&demo, &demo.get(&path).await, 400, "since");
    }
}

#[tokio::test]
async fn limit_keeps_the_newest_stories() {
    let demo = ServedDemo::start().await;
    let all = atom(&demo.get("/feed.atom").await);
    let seven = atom(&demo.get("/feed.atom?limit=7").await);
    assert_eq!(ids(&seven.entries), ids(&all.entries[..7]));
}

#[tokio::test]
async fn limit_that_is_not_a_positive_number_is_400_naming_limit() {
    let demo = ServedDemo::start().await;
    for bad in ["0", "-1", "abc", "1.5", "99999999999999999999999"] {
        for route in ["/feed.atom", "/feeds/all.json", "/api/entries"] {
            let path = format!("{route}?limit={}", enc(bad));
            assert_json_error(&demo, &demo.get(&path).await, 400, "limit");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 5005 paging
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn limit_5_gives_rfc5005_first_and_next_links() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/feed.atom?limit=5").await;
    assert_eq!(atom(&reply).entries.len(), 5);
    let xml = reply.text();
    let next = link(&xml, "next").expect("rel=next");
    assert!(
        next.starts_with(&format!("{}/feeds/all.atom?", demo.base)),
        "{next}"
    );
    assert!(
        next.contains("limit=5") && next.contains("before="),
        "{next}"
    );
    let first = link(&xml, "first").expect("rel=first");
    assert!(!first.contains("before="), "{first}");
    assert!(link(&xml, "self").is_some());
    let whole = demo.get("/feed.atom").await.text();
    assert_eq!(link(&whole, "next"), None, "everything fits: no next page");
}

#[tokio::test]
async fn following_next_links_visits_every_story_exactly_once() {
    let demo = ServedDemo::start().await;
    let all = ids(&atom(&demo.get("/feed.atom").await).entries);
    let pages = atom_pages(&demo, "/feed.atom?limit=5").await;
    assert!(pages.iter().all(|p| p.len() <= 5));
    assert!(pages.len() >= DEMO_STORIES / 5);
    assert!(pages.len() <= DEMO_STORIES / 5 + 1);
    let visited: Vec<String> = pages.concat();
    let unique: HashSet<&String> = visited.iter().collect();
    assert_eq!(unique.len(), visited.len(), "no story on two pages");
    assert_eq!(visited, all, "every story once, newest first");
}

#[tokio::test]
async fn paging_keeps_the_filters_in_the_next_link() {
    let demo = ServedDemo::start().await;
    let all = ids(&atom(&demo.get("/feed.atom?tag=en").await).entries);
    let pages = atom_pages(&demo, "/feed.atom?tag=en&limit=4").await;
    assert!(pages.len() > 2);
    assert_eq!(pages.concat(), all);
}

#[tokio::test]
async fn json_feed_next_url_pages_through_every_story() {
    let demo = ServedDemo::start().await;
    let all = item_ids(&items(&demo.get("/feeds/all.json").await));
    let mut visited = Vec::new();
    let mut next = Some(demo.url("/feeds/all.json?limit=6"));
    let mut pages = 0;
    while let Some(url) = next {
        pages += 1;
        assert!(pages <= DEMO_STORIES, "paging does not end");
        let reply = demo.get(&url).await;
        visited.extend(item_ids(&items(&reply)));
        next = reply.json()["next_url"].as_str().map(str::to_string);
    }
    assert_eq!(visited, all);
}

// ---------------------------------------------------------------------------------------------
// Cheap to poll: validators, 304, gzip
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn feed_has_a_strong_etag_last_modified_and_cache_control() {
    let started = Utc::now();
    let demo = ServedDemo::start().await;
    for path in ["/feed.atom", "/feeds/all.json"] {
        let reply = demo.get(path).await;
        assert_eq!(reply.status, 200);
        let etag = reply.header("etag").expect("ETag");
        assert!(
            etag.len() > 2
                && etag.starts_with('"')
                && etag.ends_with('"')
                && !etag.starts_with("W/"),
            "a strong ETag: {etag}"
        );
        let last_modified = http_date(&reply, "last-modified");
        assert!(last_modified <= Utc::now());
        let cc = reply.header("cache-control").expect("Cache-Control");
        let max_age: i64 = cc
            .strip_prefix("public, max-age=")
            .unwrap_or_else(|| panic!("Cache-Control {cc}"))
            .parse()
            .unwrap();
        assert!((60..=3600).contains(&max_age), "{cc}");
    }
    // The demo's last store change happened while it started; the entries carry the
    // outlets' own (older) dates.
    let reply = demo.get("/feed.atom").await;
    let last_modified = http_date(&reply, "last-modified");
    assert!(
        last_modified >= started - TimeDelta::seconds(2) && last_modified <= Utc::now(),
        "Last-Modified {last_modified} is when the store last changed (started {started})"
    );
    let doc = atom(&reply);
    let updated: DateTime<Utc> = doc
        .texts
        .iter()
        .find(|(p, _)| p == "feed/updated")
        .map(|(_, t)| t.parse().unwrap())
        .unwrap();
    assert!(
        updated < started,
        "the feed's updated is its newest entry's"
    );
}

/// Waits until the second of the demo's last store change is over: until then Last-Modified
/// is the second before (dates count whole seconds, and another change could follow within
/// that second), so a revalidation by date is answered with the document.
async fn after_the_second_of_the_last_change() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn last_modified_within_the_second_of_a_change_is_the_second_before() {
    let demo = ServedDemo::start().await;
    let fresh = demo.get("/feed.atom").await;
    after_the_second_of_the_last_change().await;
    let settled = demo.get("/feed.atom").await;
    let (a, b) = (
        http_date(&fresh, "last-modified"),
        http_date(&settled, "last-modified"),
    );
    assert!(
        b == a || b == a + TimeDelta::seconds(1),
        "{a} then {b}: the same change, its own second once that is over"
    );
    assert!(b < http_date(&settled, "date"));
    let again = demo
        .get_with("/feed.atom", &[("if-modified-since", &httpdate(b))])
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_is_304_without_a_body() {
    let demo = ServedDemo::start().await;
    for path in ["/feed.atom", "/feeds/all.json", "/feed.atom?tag=ru&limit=3"] {
        let first = demo.get(path).await;
        let etag = first.header("etag").unwrap();
        let again = demo.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty(), "a 304 has no body");
        assert_eq!(again.header("etag"), Some(etag.clone()));
        let listed = format!("\"other\", {etag}");
        let again = demo.get_with(path, &[("if-none-match", &listed)]).await;
        assert_eq!(again.status, 304, "one of several ETags matches");
        let gz = demo
            .get_with(
                path,
                &[("if-none-match", &etag), ("accept-encoding", "gzip")],
            )
            .await;
        assert_eq!(gz.status, 304);
        assert!(gz.body.is_empty());
    }
}

#[tokio::test]
async fn if_none_match_with_the_weak_form_of_the_current_etag_is_304() {
    let demo = ServedDemo::start().await;
    let etag = demo.get("/feed.atom").await.header("etag").unwrap();
    let weak = format!("W/{etag}");
    let again = demo
        .get_with("/feed.atom", &[("if-none-match", &weak)])
        .await;
    assert_eq!(
        again.status, 304,
        "RFC 9110 13.1.2: If-None-Match compares weakly"
    );
}

#[tokio::test]
async fn if_none_match_with_another_etag_is_200_with_the_document() {
    let demo = ServedDemo::start().await;
    let first = demo.get("/feed.atom").await;
    let again = demo
        .get_with(
            "/feed.atom",
            &[("if-none-match", "\"0123456789abcdef01234567\"")],
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
}

#[tokio::test]
async fn if_modified_since_last_modified_is_304() {
    let demo = ServedDemo::start().await;
    after_the_second_of_the_last_change().await;
    let first = demo.get("/feed.atom").await;
    let lm = first.header("last-modified").unwrap();
    let again = demo
        .get_with("/feed.atom", &[("if-modified-since", &lm)])
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let later = httpdate(http_date(&first, "last-modified") + TimeDelta::hours(1));
    let again = demo
        .get_with("/feed.atom", &[("if-modified-since", &later)])
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn if_modified_since_before_last_modified_is_200() {
    let demo = ServedDemo::start().await;
    let first = demo.get("/feed.atom").await;
    let earlier = httpdate(http_date(&first, "last-modified") - TimeDelta::seconds(1));
    let again = demo
        .get_with("/feed.atom", &[("if-modified-since", &earlier)])
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
}

#[tokio::test]
async fn etag_differs_between_outputs_formats_filters_and_pages() {
    let demo = ServedDemo::start().await;
    let page2 = link(&demo.get("/feed.atom?limit=5").await.text(), "next").unwrap();
    let paths = [
        "/feed.atom".to_string(),
        "/feeds/all.json".to_string(),
        "/feed.atom?tag=ru".to_string(),
        "/feed.atom?q=Caspian".to_string(),
        "/feed.atom?limit=5".to_string(),
        page2,
    ];
    let mut etags = Vec::new();
    for p in &paths {
        etags.push(demo.get(p).await.header("etag").unwrap());
    }
    let unique: HashSet<&String> = etags.iter().collect();
    assert_eq!(unique.len(), paths.len(), "{etags:?}");
    let cross = demo
        .get_with("/feeds/all.json", &[("if-none-match", &etags[0])])
        .await;
    assert_eq!(
        cross.status, 200,
        "the Atom ETag does not validate the JSON Feed"
    );
}

#[tokio::test]
async fn upstream_change_to_an_entry_changes_the_etag_and_the_document() {
    let demo = ServedDemo::start().await;
    let before = demo.get("/feed.atom").await;
    let etag = before.header("etag").unwrap();
    edit_wire_title(&demo, FERRY_TITLE, FERRY_TITLE_EDITED);
    let cycle = demo.refetch().await;
    let wire = cycle.reports.iter().find(|r| r.feed_id == "wire").unwrap();
    assert_eq!((wire.inserted, wire.updated), (0, 1));
    let after = demo
        .get_with("/feed.atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(after.status, 200, "the old ETag no longer validates");
    let new_etag = after.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    let doc = atom(&after);
    assert!(doc.entry_titled(FERRY_TITLE_EDITED).is_some());
    assert!(doc.entry_titled(FERRY_TITLE).is_none());
    // Later, or the same second when the change followed within the second `before` was
    // served in (then `before` was a second early): either way the old date no longer
    // validates.
    assert!(http_date(&after, "last-modified") >= http_date(&before, "last-modified"));
    let lm = after.header("last-modified").unwrap();
    let stale = before.header("last-modified").unwrap();
    let by_date = demo
        .get_with("/feed.atom", &[("if-modified-since", &stale)])
        .await;
    assert_eq!(
        by_date.status, 200,
        "the old Last-Modified no longer validates"
    );
    let again = demo
        .get_with(
            "/feed.atom",
            &[("if-none-match", &new_etag), ("if-modified-since", &lm)],
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn refetch_without_upstream_changes_keeps_the_etag() {
    let demo = ServedDemo::start().await;
    let etag = demo.get("/feed.atom").await.header("etag").unwrap();
    let cycle = demo.refetch().await;
    assert!(
        cycle.reports.iter().all(|r| r.not_modified),
        "{:?}",
        cycle.reports
    );
    let again = demo
        .get_with("/feed.atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn new_entry_dated_before_the_newest_change_updates_last_modified() {
    let demo = ServedDemo::start().await;
    let before = demo.get("/feed.atom").await;
    let lm = before.header("last-modified").unwrap();
    let path = demo.site_feed("wire.rss");
    let text = std::fs::read_to_string(&path).unwrap();
    let late = "<item><title>Late report: Caspian summit date set</title>\
        <link>https://caspianwire.example/2025/12/01/caspian-summit-date</link>\
        <guid isPermaLink=\"false\">caspianwire-2025-12-01-0001</guid>\
        <pubDate>Mon, 01 Dec 2025 09:00:00 GMT</pubDate>\
        <description>The date was agreed in December.</description></item>\n  </channel>";
    std::fs::write(&path, text.replace("</channel>", late)).unwrap();
    let cycle = demo.refetch().await;
    let wire = cycle.reports.iter().find(|r| r.feed_id == "wire").unwrap();
    assert_eq!(wire.inserted, 1);
    let after = demo
        .get_with("/feed.atom", &[("if-modified-since", &lm)])
        .await;
    assert_eq!(
        after.status, 200,
        "a reader revalidating by date must get the new entry"
    );
    assert!(
        atom(&after)
            .entry_titled("Late report: Caspian summit date set")
            .is_some()
    );
}

#[tokio::test]
async fn gzip_is_sent_when_asked_and_decompresses_to_the_same_document() {
    let demo = ServedDemo::start().await;
    for path in ["/feed.atom", "/feeds/all.json", "/api/entries", "/opml"] {
        let plain = demo.get(path).await;
        assert_eq!(plain.status, 200);
        assert_eq!(
            plain.header("content-encoding"),
            None,
            "{path}: identity unless asked"
        );
        let gz = demo.get_with(path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gz.status, 200);
        assert_eq!(
            gz.header("content-encoding").as_deref(),
            Some("gzip"),
            "{path}"
        );
        let vary = gz.header("vary").unwrap_or_default().to_lowercase();
        assert!(vary.contains("accept-encoding"), "{path}: Vary {vary}");
        assert!(gz.body.len() < plain.body.len(), "{path}: compressed");
        assert_eq!(gunzip(&gz.body), plain.body, "{path}");
        if path == "/feed.atom" {
            assert_eq!(gz.header("etag"), plain.header("etag"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OPML, JSON API, health and metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn opml_lists_every_configured_feed() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/opml").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/x-opml")
    );
    let text = reply.text();
    assert!(text.contains("<opml version=\"2.0\">"), "OPML 2.0");
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("OPML is not well-formed: {e}"),
        }
    }
    let subs = tributary::export::opml::parse(&text).expect("OPML reads back");
    let got: Vec<(String, Option<String>)> = subs
        .iter()
        .map(|s| (s.url.clone(), s.title.clone()))
        .collect();
    let want: Vec<(String, Option<String>)> = demo
        .feeds
        .feeds
        .iter()
        .map(|f| (f.url.to_string(), f.title.clone()))
        .collect();
    assert_eq!(got, want);
    let ru = subs
        .iter()
        .find(|s| s.url.ends_with("caucasus-1251.xml"))
        .unwrap();
    assert_eq!(ru.tags, vec!["ru", "caucasus", "russia"]);
}

#[tokio::test]
async fn api_entries_carry_cluster_membership() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/api/entries").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body = reply.json();
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), DEMO_STORIES);
    assert_eq!(body["next"], Value::Null, "everything fits on one page");
    for e in entries {
        for key in [
            "id",
            "entry_id",
            "feed",
            "feed_title",
            "title",
            "link",
            "published",
            "updated",
            "first_seen",
            "summary",
            "content",
            "excerpt",
            "authors",
            "tags",
            "cluster",
        ] {
            assert!(e.get(key).is_some(), "{key} in {e}");
        }
    }
    let seed = entries
        .iter()
        .find(|e| e["title"] == SEED_TITLE)
        .expect("seed");
    assert_eq!(seed["feed"], "analysis");
    assert_eq!(seed["link"], SEED_LINK);
    assert_eq!(seed["cluster"]["size"], 3);
    let also = seed["cluster"]["also_reported_by"].as_array().unwrap();
    assert_eq!(also.len(), 2);
    let others: BTreeSet<&str> = also
        .iter()
        .map(|r| r["feed_id"].as_str().unwrap())
        .collect();
    assert_eq!(others, BTreeSet::from(["noguid-digest", "wire"]));
    assert!(also.iter().any(|r| r["title"] == WIRE_SEED_TITLE));
    for e in entries.iter().filter(|e| e["title"] != SEED_TITLE) {
        assert_eq!(e["cluster"]["size"], 1, "{}", e["title"]);
        assert!(
            e["cluster"]["also_reported_by"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn api_entries_next_cursor_pages_through_every_story() {
    let demo = ServedDemo::start().await;
    let all: Vec<Value> = demo.get("/api/entries").await.json()["entries"]
        .as_array()
        .unwrap()
        .clone();
    let mut visited: Vec<Value> = Vec::new();
    let mut path = "/api/entries?limit=5".to_string();
    loop {
        assert!(visited.len() <= DEMO_STORIES, "paging does not end");
        let body = demo.get(&path).await.json();
        let page = body["entries"].as_array().unwrap();
        assert!(page.len() <= 5);
        visited.extend(page.iter().cloned());
        match body["next"].as_str() {
            Some(next) => path = format!("/api/entries?limit=5&before={}", enc(next)),
            None => break,
        }
    }
    let ids = |v: &[Value]| -> Vec<String> { v.iter().map(|e| e["id"].to_string()).collect() };
    assert_eq!(ids(&visited), ids(&all));
}

#[tokio::test]
async fn api_entries_reject_bad_parameters_with_400() {
    let demo = ServedDemo::start().await;
    for (query, name) in [
        ("limit=0", "limit"),
        ("since=soon", "since"),
        ("before=not-a-cursor", "before"),
    ] {
        let path = format!("/api/entries?{query}");
        assert_json_error(&demo, &demo.get(&path).await, 400, name);
    }
}

#[tokio::test]
async fn api_feeds_has_one_row_per_configured_feed_with_status_keys() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/api/feeds").await;
    assert_eq!(reply.status, 200);
    let rows = reply.json().as_array().expect("an array").clone();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let configured: Vec<&str> = demo.feeds.feeds.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, configured, "one row per feed, in feeds.toml order");
    let keys = [
        "id",
        "url",
        "effective_url",
        "state",
        "last_success",
        "last_error",
        "consecutive_errors",
        "next_fetch",
        "entries",
        "title",
        "last_fetch",
        "warnings",
    ];
    for r in &rows {
        let got: HashSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        for key in keys {
            assert!(got.contains(key), "`{key}` in the status of {}", r["id"]);
        }
        assert_eq!(r["state"], "ok");
        assert_eq!(r["last_error"], Value::Null);
        assert_eq!(r["consecutive_errors"], 0);
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["entries"], stored(&demo, &[id]) as u64, "{id}");
        assert_eq!(r["url"], demo.feeds.get(id).unwrap().url.as_str());
    }
}

#[tokio::test]
async fn api_feeds_lists_the_recoveries_each_feed_needed() {
    let demo = ServedDemo::start().await;
    let rows = demo.get("/api/feeds").await.json();
    let mut with_warnings = 0;
    for r in rows.as_array().expect("an array") {
        let id = r["id"].as_str().unwrap();
        let report = demo
            .first_cycle
            .reports
            .iter()
            .find(|rep| rep.feed_id == id)
            .unwrap();
        let got: Vec<&str> = r["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: warnings is an array"))
            .iter()
            .map(|w| w.as_str().expect("each warning a string"))
            .collect();
        assert_eq!(
            got, report.warnings,
            "{id}: the last fetch's warnings, as stored"
        );
        with_warnings += usize::from(!got.is_empty());
    }
    let koi8 = &rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "koi8-asia")
        .unwrap();
    assert!(
        koi8["warnings"].to_string().to_lowercase().contains("koi8"),
        "the undeclared KOI8-R feed says how it was decoded: {}",
        koi8["warnings"]
    );
    assert!(with_warnings >= 1);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "ok\n");
}

#[tokio::test]
async fn metrics_report_fetches_durations_entries_stories_failing_feeds_and_export_latency() {
    let demo = ServedDemo::start_with(
        "",
        "[[feed]]\nid = \"broken\"\nurl = \"{base}/feeds/broken.xml\"\ntitle = \"Broken Outlet\"\n",
    )
    .await;
    assert_eq!(demo.first_cycle.failed().count(), 1);
    let etag = demo.get("/feed.atom").await.header("etag").unwrap();
    let again = demo
        .get_with("/feed.atom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(demo.get("/feeds/all.json").await.status, 200);
    let reply = demo.get("/metrics").await;
    assert_eq!(reply.status, 200);
    let ct = reply.header("content-type").unwrap();
    assert!(
        ct.starts_with("application/openmetrics-text") || ct.starts_with("text/plain"),
        "{ct}"
    );
    let text = reply.text();
    for line in [
        "tributary_fetches_total{outcome=\"ok\"} 7",
        "tributary_fetches_total{outcome=\"failed\"} 1",
        "tributary_fetch_duration_seconds_count 8",
        &format!("tributary_entries_stored {DEMO_ENTRIES}"),
        "tributary_stories_shared 1",
        "tributary_feeds_failing 1",
        "tributary_export_duration_seconds_count{format=\"atom\"} 1",
        "tributary_export_duration_seconds_count{format=\"json\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "`{line}` in the exposition:\n{text}"
        );
    }
    for family in [
        "tributary_fetches",
        "tributary_fetch_duration_seconds",
        "tributary_entries_stored",
        "tributary_stories_shared",
        "tributary_feeds_failing",
        "tributary_export_duration_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "TYPE of {family}"
        );
    }
    assert!(text.trim_end().ends_with("# EOF"));
}

// ---------------------------------------------------------------------------------------------
// Admin refresh and safety
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn admin_refresh_without_a_token_is_401() {
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_MISSING";
    if !in_child_with_env(
        "admin_refresh_without_a_token_is_401",
        VAR,
        "s3cret-missing",
    ) {
        return;
    }
    let demo = demo_with_token_env(VAR).await;
    let reply = demo.post("/api/feeds/wire/refresh", &[], Vec::new()).await;
    assert_json_error(&demo, &reply, 401, "Authorization");
    assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
    assert!(!reply.text().contains("s3cret"));
}

#[tokio::test]
async fn admin_refresh_with_a_wrong_token_is_401() {
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_WRONG";
    if !in_child_with_env(
        "admin_refresh_with_a_wrong_token_is_401",
        VAR,
        "s3cret-wrong",
    ) {
        return;
    }
    let demo = demo_with_token_env(VAR).await;
    edit_wire_title(&demo, FERRY_TITLE, FERRY_TITLE_EDITED);
    for auth in [
        "Bearer nope",
        "Bearer s3cret-wrong-and-more",
        "Bearer s3cret-wron",
        "Basic czNjcmV0LXdyb25nOg==",
        "s3cret-wrong",
    ] {
        let reply = demo
            .post(
                "/api/feeds/wire/refresh",
                &[("authorization", auth)],
                Vec::new(),
            )
            .await;
        assert_eq!(reply.status, 401, "{auth}");
        assert_json_error(&demo, &reply, 401, "");
        assert!(
            !reply.text().contains("s3cret"),
            "the token is never echoed"
        );
    }
    let feed = demo.get("/feed.atom").await.text();
    assert!(
        feed.contains(FERRY_TITLE) && !feed.contains(FERRY_TITLE_EDITED),
        "nothing was fetched"
    );
}

#[tokio::test]
async fn admin_refresh_with_the_right_token_fetches_the_feed_now() {
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_RIGHT";
    if !in_child_with_env(
        "admin_refresh_with_the_right_token_fetches_the_feed_now",
        VAR,
        "s3cret-right",
    ) {
        return;
    }
    let demo = demo_with_token_env(VAR).await;
    edit_wire_title(&demo, FERRY_TITLE, FERRY_TITLE_EDITED);
    let reply = demo
        .post(
            "/api/feeds/wire/refresh",
            &[("authorization", "Bearer s3cret-right")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["feed"], "wire");
    assert_eq!(body["updated"], 1);
    assert_eq!(body["new"], 0);
    assert_eq!(body["error"], Value::Null);
    let doc = atom(&demo.get("/feed.atom").await);
    assert!(doc.entry_titled(FERRY_TITLE_EDITED).is_some());
}

#[tokio::test]
async fn admin_refresh_of_an_unknown_feed_is_404() {
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_UNKNOWN";
    if !in_child_with_env(
        "admin_refresh_of_an_unknown_feed_is_404",
        VAR,
        "s3cret-unknown",
    ) {
        return;
    }
    let demo = demo_with_token_env(VAR).await;
    let reply = demo
        .post(
            "/api/feeds/nope/refresh",
            &[("authorization", "Bearer s3cret-unknown")],
            Vec::new(),
        )
        .await;
    assert_json_error(&demo, &reply, 404, "nope");
}

#[tokio::test]
async fn admin_refresh_is_401_while_the_token_variable_is_unset() {
    // This variable is set nowhere: admin routes stay closed.
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_NEVER_SET";
    assert!(std::env::var_os(VAR).is_none());
    let demo = demo_with_token_env(VAR).await;
    let reply = demo
        .post(
            "/api/feeds/wire/refresh",
            &[("authorization", "Bearer ")],
            Vec::new(),
        )
        .await;
    assert_json_error(&demo, &reply, 401, VAR);
    let reply = demo
        .post(
            "/api/feeds/wire/refresh",
            &[("authorization", "Bearer anything")],
            Vec::new(),
        )
        .await;
    assert_json_error(&demo, &reply, 401, VAR);
}

#[tokio::test]
async fn admin_refresh_answers_only_post() {
    let demo = ServedDemo::start().await;
    let reply = demo.get("/api/feeds/wire/refresh").await;
    assert_eq!(reply.status, 405);
}

#[tokio::test]
async fn request_body_over_64_kib_is_413() {
    const VAR: &str = "TRIBUTARY_TEST_ADMIN_TOKEN_BODY";
    if !in_child_with_env("request_body_over_64_kib_is_413", VAR, "s3cret-body") {
        return;
    }
    let demo = demo_with_token_env(VAR).await;
    let reply = demo
        .post(
            "/api/feeds/wire/refresh",
            &[("authorization", "Bearer s3cret-body")],
            vec![b'x'; 64 * 1024 + 1],
        )
        .await;
    assert_eq!(
        reply.status,
        413,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_no_internals(&demo, &String::from_utf8_lossy(&reply.body));
}

#[tokio::test]
async fn internal_errors_are_500_without_details() {
    let demo = ServedDemo::start().await;
    assert_eq!(demo.get("/feed.atom").await.status, 200);
    // Break the store under the running server.
    let conn = rusqlite::Connection::open(demo.db_path()).unwrap();
    conn.execute_batch("DROP TABLE store_version;").unwrap();
    drop(conn);
    for path in ["/feed.atom", "/feeds/all.json"] {
        let reply = demo.get(path).await;
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.json(),
            serde_json::json!({ "error": "internal error; see the server log", "status": 500 })
        );
        assert_no_internals(&demo, &reply.text());
    }
    assert_eq!(
        demo.get("/healthz").await.status,
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn client_errors_are_json_and_never_leak_internals() {
    let demo = ServedDemo::start().await;
    let cases: [(&str, u16); 6] = [
        ("/feeds/nope.atom", 404),
        ("/feeds/..%2F..%2Fetc%2Fpasswd.atom", 404),
        ("/nowhere", 404),
        ("/feed.atom?since=%00", 400),
        ("/feed.atom?limit=%27%3B%20DROP%20TABLE%20entries", 400),
        ("/api/entries?before=1~x", 400),
    ];
    for (path, status) in cases {
        let reply = demo.get(path).await;
        assert_json_error(&demo, &reply, status, "");
    }
    assert_eq!(
        atom(&demo.get("/feed.atom").await).entries.len(),
        DEMO_STORIES
    );
}
