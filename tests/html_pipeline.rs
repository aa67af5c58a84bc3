//! HTML sources and full text through the whole pipeline: a news site without a feed, read
//! with selectors from feeds.toml, each article's body fetched once and kept.

mod common;

use common::{FeedServer, Pipeline, Workspace};

fn site_feeds(server: &FeedServer) -> String {
    format!(
        r#"[[feed]]
id = "caucasus-latest"
url = "{}"
kind = "html"
full_text = "article .body"
full_text_strip = [".share", ".latest-news"]
[feed.html]
item = ".latest-news li"
title = "a"
link = "a@href"
date = ".date"
date_format = "%d.%b.%Y"
"#,
        server.url("/site/news.html")
    )
}

#[test]
fn list_page_becomes_ten_entries_with_their_article_bodies_fetched_once() {
    let server = FeedServer::start();
    let article = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/site/article.html"
    ))
    .unwrap();
    let news = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/site/news.html"
    ))
    .unwrap();
    let mut article_paths = Vec::new();
    for part in news.split("href=\"").skip(1) {
        let path = &part[..part.find('"').unwrap()];
        let is_article =
            path.starts_with("/en/news/") && path.len() > "/en/news/".len() && !path.contains('?');
        if is_article && !article_paths.contains(&path.to_string()) {
            server.serve_bytes(path, article.clone(), "text/html");
            article_paths.push(path.to_string());
        }
    }
    assert_eq!(article_paths.len(), 10, "{article_paths:?}");
    let ws = Workspace::new();
    ws.write_feeds(&site_feeds(&server));

    let report = ws.fetch_in_process();
    assert!(report.failed().next().is_none(), "{:?}", report.reports);
    let p = Pipeline::open(&ws);
    let entries = p.entries("caucasus-latest");
    assert_eq!(entries.len(), 10);
    let muslim_nato = entries
        .iter()
        .find(|e| e.title.contains("Muslim NATO"))
        .expect("the 10.Jan.2026 headline");
    assert_eq!(
        muslim_nato
            .published
            .map(tributary::model::rfc3339)
            .as_deref(),
        Some("2026-01-10T00:00:00Z")
    );
    assert!(
        muslim_nato
            .link
            .as_deref()
            .is_some_and(|l| l.starts_with(&server.base_url())),
        "links are absolute"
    );
    let body = muslim_nato.content.as_deref().unwrap_or("");
    assert!(
        body.contains("It is important not only to preserve the alliance but also to develop it"),
        "{body}"
    );
    assert!(
        !body.contains("Share:") && !body.contains("Latest news"),
        "share bar and sidebar dropped: {body}"
    );
    let first_round: usize = article_paths
        .iter()
        .map(|p| server.requests_to(p).len())
        .sum();
    assert_eq!(first_round, 10, "each article page fetched once");

    // A second run re-reads the list page but never fetches an extracted page again.
    server.without_validators("/site/news.html");
    let report = ws.fetch_in_process();
    assert!(report.failed().next().is_none(), "{:?}", report.reports);
    let second_round: usize = article_paths
        .iter()
        .map(|p| server.requests_to(p).len())
        .sum();
    assert_eq!(
        second_round, 10,
        "no new requests for pages already extracted"
    );
    assert_eq!(p.entries("caucasus-latest").len(), 10);
}

#[test]
fn item_selector_matching_nothing_is_a_clear_feed_error() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.write_feeds(&site_feeds(&server).replace("/site/news.html", "/site/empty.html"));
    let report = ws.fetch_in_process();
    let error = report
        .failed()
        .next()
        .and_then(|r| r.error.clone())
        .unwrap_or_default();
    assert!(
        error.contains("item selector `.latest-news li` matched nothing"),
        "{error}"
    );
}
