//! The pipeline at library level: `Refresher` fetching from a loopback server into a real
//! SQLite file, read back through `Store` and the merged Atom export.

mod common;

use std::collections::BTreeSet;

use common::{
    FIXTURE_LAST_MODIFIED, FeedServer, Pipeline, SEED_TITLE, Workspace, etag_of, fixture,
    parse_atom,
};

const ANALYSIS: &str = "/feeds/analysis.atom";
const NOGUID: &str = "/feeds/noguid.rss";

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Harbour Bulletin</title><link>https://harbour.example/</link>\
         <description>Port news</description>{items}</channel></rss>\n"
    )
}

fn item(guid: &str, title: &str, description: &str) -> String {
    format!(
        "<item><title>{title}</title><link>https://harbour.example/{guid}</link>\
         <guid isPermaLink=\"false\">{guid}</guid>\
         <pubDate>Wed, 14 Jan 2026 06:00:00 GMT</pubDate>\
         <description>{description}</description></item>"
    )
}

#[tokio::test]
async fn refresh_sends_validators_and_skips_body_on_304() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let p = Pipeline::open(&ws);

    let first = p.refresh("analysis").await;
    assert_eq!(first.error, None);
    assert_eq!(first.inserted, 11);
    assert!(!first.not_modified);
    let after_first = p.record("analysis");
    assert_eq!(after_first.entries, 11);
    assert_eq!(after_first.state.as_deref(), Some("ok"));

    let second = p.refresh("analysis").await;
    assert_eq!(second.error, None);
    assert!(second.not_modified, "the server answered 304");
    assert_eq!((second.inserted, second.updated), (0, 0));

    let seen = server.requests_to(ANALYSIS);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].if_none_match, None, "nothing to revalidate yet");
    assert_eq!(seen[0].if_modified_since, None);
    let etag = etag_of(&std::fs::read(fixture("feeds/analysis.atom")).unwrap());
    assert_eq!(seen[1].if_none_match.as_deref(), Some(etag.as_str()));
    assert_eq!(
        seen[1].if_modified_since.as_deref(),
        Some(FIXTURE_LAST_MODIFIED)
    );
    for r in &seen {
        let ua = r.user_agent.as_deref().unwrap_or("");
        assert!(ua.starts_with("Tributary/"), "User-Agent {ua:?}");
    }

    let rec = p.record("analysis");
    assert_eq!(rec.entries, 11, "a 304 stores nothing new");
    assert_eq!(rec.state.as_deref(), Some("ok"));
    assert_eq!(rec.consecutive_errors, 0);
    assert!(rec.last_success.is_some());
    assert!(rec.last_success >= after_first.last_success);
    assert_eq!(rec.etag.as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn revalidation_that_finds_new_content_stores_only_the_new_items() {
    let server = FeedServer::start();
    let path = "/harbour.rss";
    server.serve_bytes(
        path,
        rss(&item("h-1", "Ferry timetable changes", "Winter timetable.")),
        "application/rss+xml",
    );
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("harbour", path)]);
    let p = Pipeline::open(&ws);
    assert_eq!(p.refresh("harbour").await.inserted, 1);

    let v1 = rss(&item("h-1", "Ferry timetable changes", "Winter timetable."));
    let v2 = rss(&format!(
        "{}{}",
        item("h-2", "Cranes arrive in Poti", "Two new cranes."),
        item("h-1", "Ferry timetable changes", "Winter timetable.")
    ));
    server.serve_bytes(path, v2, "application/rss+xml");
    let report = p.refresh("harbour").await;
    assert_eq!(report.error, None);
    assert!(!report.not_modified);
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (1, 0, 1)
    );

    let seen = server.requests_to(path);
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].if_none_match.as_deref(),
        Some(etag_of(v1.as_bytes()).as_str()),
        "the old validator is sent; the server has new content"
    );
    let titles: BTreeSet<String> = p.entries("harbour").into_iter().map(|e| e.title).collect();
    assert_eq!(
        titles,
        BTreeSet::from([
            "Cranes arrive in Poti".to_string(),
            "Ferry timetable changes".to_string()
        ])
    );
}

#[tokio::test]
async fn feed_without_guids_fetched_three_times_stores_each_item_once() {
    let server = FeedServer::start();
    server.without_validators(NOGUID);
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("digest", NOGUID)]);
    let p = Pipeline::open(&ws);

    let mut ids_per_run = Vec::new();
    for run in 0..3 {
        let report = p.refresh("digest").await;
        assert_eq!(report.error, None);
        assert!(!report.not_modified, "served in full every time");
        if run == 0 {
            assert_eq!(report.inserted, 6);
        } else {
            assert_eq!(
                (report.inserted, report.updated, report.unchanged),
                (0, 0, 6),
                "run {run}"
            );
        }
        assert_eq!(p.record("digest").entries, 6, "after run {run}");
        let doc = parse_atom(&p.export_atom());
        let ids: BTreeSet<String> = doc.entries.iter().map(|e| e.id.clone()).collect();
        ids_per_run.push(ids);
    }
    assert_eq!(server.requests_to(NOGUID).len(), 3);
    assert!(
        server
            .requests_to(NOGUID)
            .iter()
            .all(|r| r.if_none_match.is_none())
    );
    assert_eq!(ids_per_run[0].len(), 6);
    assert_eq!(ids_per_run[0], ids_per_run[1]);
    assert_eq!(ids_per_run[1], ids_per_run[2]);

    let doc = parse_atom(&p.export_atom());
    let no_link = doc
        .entries
        .iter()
        .filter(|e| e.title == "Editor's note: no digest on Sunday")
        .collect::<Vec<_>>();
    assert_eq!(no_link.len(), 1, "the item without link is stored once");
    assert_eq!(no_link[0].link, None);
}

#[tokio::test]
async fn changed_item_is_updated_in_place_keeping_its_atom_id() {
    let server = FeedServer::start();
    let path = "/harbour.rss";
    server.serve_bytes(
        path,
        rss(&item(
            "h-7",
            "Poti harbour reopens",
            "First version: the harbour reopened at dawn.",
        )),
        "application/rss+xml",
    );
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("harbour", path)]);
    let p = Pipeline::open(&ws);
    assert_eq!(p.refresh("harbour").await.inserted, 1);
    let before = parse_atom(&p.export_atom());
    assert_eq!(before.entries.len(), 1);
    let old = before.entries[0].clone();
    assert!(old.content.as_deref().unwrap().contains("First version"));
    assert_eq!(old.updated, "2026-01-14T06:00:00Z");

    server.serve_bytes(
        path,
        rss(&item(
            "h-7",
            "Poti harbour reopens",
            "Second version: the harbour reopened at dawn; two ferries left by noon.",
        )),
        "application/rss+xml",
    );
    let report = p.refresh("harbour").await;
    assert_eq!(report.error, None);
    assert_eq!((report.inserted, report.updated), (0, 1));
    assert_eq!(p.record("harbour").entries, 1, "one row, not two");

    let after = parse_atom(&p.export_atom());
    assert_eq!(after.entries.len(), 1);
    let new = &after.entries[0];
    assert_eq!(new.id, old.id, "the Atom id survives the update");
    assert_eq!(new.title, "Poti harbour reopens");
    let content = new.content.as_deref().unwrap();
    assert!(content.contains("two ferries left by noon"), "{content}");
    assert!(!content.contains("First version"), "{content}");
    assert!(
        new.updated > old.updated,
        "updated moves forward: {} then {}",
        old.updated,
        new.updated
    );
    assert_eq!(new.published.as_deref(), Some("2026-01-14T06:00:00Z"));
}

#[tokio::test]
async fn one_failing_feed_never_stops_the_others_and_its_errors_are_counted() {
    let server = FeedServer::start();
    server.answer_status("/feeds/wire.rss", 500);
    let ws = Workspace::new();
    ws.feeds_on(
        &server,
        &[
            ("analysis", ANALYSIS),
            ("wire", "/feeds/wire.rss"),
            ("digest", NOGUID),
        ],
    );
    let p = Pipeline::open(&ws);

    let cycle = p.fetch_all().await;
    let failed: Vec<&str> = cycle.failed().map(|r| r.feed_id.as_str()).collect();
    assert_eq!(failed, ["wire"]);
    assert_eq!(p.record("analysis").entries, 11);
    assert_eq!(p.record("digest").entries, 6);
    let wire = p.record("wire");
    assert_eq!(wire.state.as_deref(), Some("failing"));
    assert_eq!(wire.consecutive_errors, 1);
    assert_eq!(wire.entries, 0);
    assert_eq!(wire.last_success, None);
    let error = wire.last_error.unwrap_or_default();
    assert!(error.contains("500"), "{error}");

    p.fetch_all().await;
    assert_eq!(p.record("wire").consecutive_errors, 2);

    server.reset("/feeds/wire.rss");
    let cycle = p.fetch_all().await;
    assert_eq!(cycle.failed().count(), 0);
    let wire = p.record("wire");
    assert_eq!(wire.state.as_deref(), Some("ok"));
    assert_eq!(wire.consecutive_errors, 0);
    assert_eq!(wire.last_error, None);
    assert_eq!(wire.entries, 8);
}

#[tokio::test]
async fn html_page_is_recorded_as_not_a_feed_naming_the_feed_it_advertises() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("homepage", "/feeds/broken.xml")]);
    let p = Pipeline::open(&ws);
    let report = p.refresh("homepage").await;
    let error = report.error.unwrap_or_default();
    assert!(error.contains("not a feed"), "{error}");
    assert!(error.contains("/feeds/wire.rss"), "{error}");
    let rec = p.record("homepage");
    assert_eq!(rec.state.as_deref(), Some("failing"));
    assert_eq!(rec.entries, 0);
}

#[tokio::test]
async fn windows_1251_feed_is_stored_as_exact_cyrillic() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("caucasus-ru", "/feeds/caucasus-1251.xml")]);
    let p = Pipeline::open(&ws);
    let report = p.refresh("caucasus-ru").await;
    assert_eq!(report.error, None);
    assert_eq!(report.inserted, 8);

    let doc = parse_atom(&p.export_atom());
    let titles = doc.titles();
    for expected in [
        "В Баку обсудили прокладку Транскаспийского оптоволоконного кабеля",
        "Союз без иллюзий: зачем России нужен Азербайджан",
        "Курсы маната, лари и драма: итоги первой недели января",
    ] {
        assert!(titles.contains(&expected), "{expected:?} not in {titles:?}");
    }
    assert!(
        doc.texts.iter().all(|(_, t)| !t.contains('\u{FFFD}')),
        "no replacement characters"
    );
}

#[tokio::test]
async fn undeclared_koi8_feed_is_sniffed_and_stored_as_exact_cyrillic() {
    let server = FeedServer::start();
    let ws = Workspace::new();
    ws.feeds_on(&server, &[("koi8-asia", "/feeds/koi8-undeclared.xml")]);
    let p = Pipeline::open(&ws);
    let report = p.refresh("koi8-asia").await;
    assert_eq!(report.error, None);
    assert_eq!(report.inserted, 7);

    let doc = parse_atom(&p.export_atom());
    let titles = doc.titles();
    for expected in [
        "Ташкент и Самарканд свяжет дополнительный скоростной поезд",
        "Астана: морозы до минус 35, школьники учатся дистанционно",
        "Ош: рынок Жайма ждёт реконструкция",
    ] {
        assert!(titles.contains(&expected), "{expected:?} not in {titles:?}");
    }
    assert!(
        doc.texts.iter().all(|(_, t)| !t.contains('\u{FFFD}')),
        "no replacement characters"
    );
}

#[tokio::test]
async fn atom_ids_depend_on_feed_id_and_entry_key_not_on_the_server() {
    let first_server = FeedServer::start();
    let second_server = FeedServer::start();
    assert_ne!(first_server.base_url(), second_server.base_url());

    let a = Workspace::new();
    a.feeds_on(&first_server, &[("analysis", ANALYSIS)]);
    let b = Workspace::new();
    b.feeds_on(
        &second_server,
        &[("analysis", ANALYSIS), ("analysis-copy", ANALYSIS)],
    );
    let pa = Pipeline::open(&a);
    let pb = Pipeline::open(&b);
    pa.fetch_all().await;
    pb.fetch_all().await;

    let ids = |p: &Pipeline, feed: &str| -> BTreeSet<String> {
        p.entries(feed).into_iter().map(|e| e.uid).collect()
    };
    let in_a = ids(&pa, "analysis");
    assert_eq!(in_a.len(), 11);
    assert_eq!(in_a, ids(&pb, "analysis"), "same feed id, same entries");
    assert!(
        in_a.is_disjoint(&ids(&pb, "analysis-copy")),
        "another feed id gives other ids"
    );
    let doc = parse_atom(&pa.export_atom());
    let seed = doc.entry_titled(SEED_TITLE).expect("seed article exported");
    assert!(seed.id.starts_with("urn:uuid:"), "{}", seed.id);
    assert!(in_a.contains(&seed.id));
}
