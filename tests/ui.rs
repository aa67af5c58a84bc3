//! The reader web UI end to end: the demo fixtures fetched through the real pipeline into a
//! SQLite file, then the pages read from a real server on 127.0.0.1 the way a browser reads
//! them (HTML parsed with `scraper`, headers checked on every answer).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use scraper::{ElementRef, Html, Selector};
use tokio::sync::oneshot;

use tributary::config::{Config, FeedsFile};
use tributary::demo::FixtureServer;
use tributary::fetch::Fetcher;
use tributary::metrics::Metrics;
use tributary::refresh::{Refresher, Selection};
use tributary::server::{self, AppState};
use tributary::store::Store;

/// The seed article's title (`fixtures/feeds/analysis.atom`); `wire` and `noguid-digest` carry
/// the same story under other titles.
const SEED_TITLE: &str = "An Alliance Without Illusions: Why Russia Needs Azerbaijan";
const WIRE_TITLE: &str = "Why Russia needs Azerbaijan: an alliance without illusions - Wire";
const DIGEST_TITLE: &str = "Analysis: An Alliance Without Illusions: Why Russia Needs Azerbaijan";
/// The windows-1251 feed's entry with «Баку» in its title (`fixtures/README.md`).
const BAKU_TITLE: &str = "В Баку обсудили прокладку Транскаспийского оптоволоконного кабеля";

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A Tributary server over a database filled from the demo fixtures.
struct Reader {
    base: String,
    client: reqwest::Client,
    /// Every entry the pipeline stored (52 in the demo fixtures).
    entries: usize,
    stop: Option<oneshot::Sender<()>>,
    _site: FixtureServer,
    _dir: tempfile::TempDir,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Serves the fixtures, fetches `demo-feeds.toml` into a fresh database, and starts the server
/// on an ephemeral loopback port with its own read connection, as `tributary demo` does.
async fn reader() -> Reader {
    let fixtures = fixtures_dir();
    let site = FixtureServer::start(&fixtures)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut config = Config::defaults(dir.path());
    config.storage.database = dir.path().join("tributary.db");
    config.storage.retention_days = 0;
    let feeds_path = fixtures.join("demo-feeds.toml");
    let text = std::fs::read_to_string(&feeds_path)
        .expect("demo-feeds.toml")
        .replace("{base}", &site.base_url());
    let feeds = Arc::new(FeedsFile::parse_str(&text, &feeds_path, &config).expect("valid feeds"));
    let config = Arc::new(config);

    let writer = Arc::new(Mutex::new(
        Store::open(&config.storage.database).expect("database"),
    ));
    let fetcher = Arc::new(Fetcher::new(&config.fetch).expect("fetcher"));
    let refresher = Refresher::new(config.clone(), fetcher, writer.clone());
    let cycle = refresher
        .run_cycle(feeds.clone(), Selection::All, |_| {})
        .await
        .expect("fetch cycle");
    let entries: usize = cycle.reports.iter().map(|r| r.inserted).sum();
    assert!(
        cycle.reports.iter().all(|r| r.error.is_none()),
        "every demo feed fetches"
    );

    let state = Arc::new(AppState {
        config: config.clone(),
        feeds: RwLock::new(feeds),
        store: Arc::new(Mutex::new(
            Store::open(&config.storage.database).expect("read connection"),
        )),
        metrics: Arc::new(Metrics::new()),
        refresher: None,
        poll: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Reader {
        base,
        client: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        entries,
        stop: Some(stop),
        _site: site,
        _dir: dir,
    }
}

/// One answer: status, headers and body.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Reader {
    async fn get(&self, path_and_query: &str) -> Page {
        let resp = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"));
        Page {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        }
    }

    async fn ok(&self, path_and_query: &str) -> Page {
        let page = self.get(path_and_query).await;
        assert_eq!(page.status, 200, "GET {path_and_query}");
        page
    }
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let sel = Selector::parse(css).expect("selector");
    doc.select(&sel).collect()
}

fn text(e: &ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_string()
}

/// The story rows of a stream page: (title, link to the entry page, outlet name).
fn stories(doc: &Html) -> Vec<(String, String, String)> {
    select(doc, "article.story")
        .iter()
        .map(|a| {
            let frag = Html::parse_fragment(&a.html());
            let link = select(&frag, "h3 a")[0];
            (
                text(&link),
                link.value().attr("href").unwrap_or("").to_string(),
                text(&select(&frag, ".meta .outlet")[0]),
            )
        })
        .collect()
}

/// The "Older" link of a stream page, if any.
fn older(doc: &Html) -> Option<String> {
    select(doc, "nav.pager a[rel=next]")
        .first()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
}

/// Every story of a selection, following "Older" links from `first`.
async fn every_story(r: &Reader, first: &str) -> (Vec<(String, String, String)>, usize) {
    let mut all = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(href) = next {
        let doc = r.ok(&href).await.html();
        all.extend(stories(&doc));
        next = older(&doc);
        pages += 1;
        assert!(pages < 20, "paging ends");
    }
    (all, pages)
}

#[tokio::test]
async fn stream_lists_every_demo_story_with_the_three_outlet_story_folded_once() {
    let r = reader().await;
    let (all, _) = every_story(&r, "/").await;
    let titles: Vec<&str> = all.iter().map(|(t, _, _)| t.as_str()).collect();

    assert_eq!(
        titles.iter().filter(|t| **t == SEED_TITLE).count(),
        1,
        "the story carried by three outlets is one row"
    );
    assert!(!titles.contains(&WIRE_TITLE), "the wire copy is folded");
    assert!(!titles.contains(&DIGEST_TITLE), "the digest copy is folded");
    assert_eq!(
        all.len(),
        r.entries - 2,
        "every stored entry is a row except the two folded copies"
    );
    for expected in [
        BAKU_TITLE,
        "Союз без иллюзий: зачем России нужен Азербайджан",
        "Script tag in the description",
        "Rooftop solar spreads in Dushanbe suburbs",
    ] {
        assert!(titles.contains(&expected), "{expected} is listed");
    }

    let doc = r.ok("/").await.html();
    let seed = select(&doc, "article.story")
        .into_iter()
        .find(|a| text(&select_in(a, "h3 a")[0]) == SEED_TITLE)
        .expect("the seed story is on the first page");
    let also: Vec<String> = select_in(&seed, ".also a").iter().map(text).collect();
    assert_eq!(also.len(), 2, "{also:?}");
    assert!(also.contains(&"Caspian Wire".to_string()), "{also:?}");
    assert!(also.contains(&"Regional Digest".to_string()), "{also:?}");
    assert_eq!(
        text(&select_in(&seed, ".meta .outlet")[0]),
        "Caucasus Analysis"
    );
}

fn select_in<'a>(e: &ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    let sel = Selector::parse(css).expect("selector");
    e.select(&sel).collect()
}

#[tokio::test]
async fn paging_with_older_links_walks_every_story_exactly_once() {
    let r = reader().await;
    let first = r.ok("/").await.html();
    assert_eq!(stories(&first).len(), 30, "a full first page");
    let (all, pages) = every_story(&r, "/").await;
    assert!(pages >= 2, "the demo needs more than one page");
    let links: HashSet<&str> = all.iter().map(|(_, l, _)| l.as_str()).collect();
    assert_eq!(links.len(), all.len(), "no story appears on two pages");

    // Paging keeps the filters: the sources filtered by tag, page by page.
    let (tagged, _) = every_story(&r, "/?tag=central-asia").await;
    assert!(!tagged.is_empty());
    for (title, _, outlet) in &tagged {
        assert!(
            ["Азия-Экспресс", "Caspian Wire", "Steppe Notes"].contains(&outlet.as_str()),
            "{title} from {outlet} is not tagged central-asia"
        );
    }

    let last = r.get("/?before=1~1").await;
    assert_eq!(last.status, 200);
    assert!(stories(&last.html()).is_empty(), "nothing before the epoch");
    assert_eq!(r.get("/?before=not-a-cursor").await.status, 400);
}

#[tokio::test]
async fn cyrillic_search_finds_the_windows_1251_entry_and_marks_the_word() {
    let r = reader().await;
    let doc = r.ok("/?q=%D0%B1%D0%B0%D0%BA%D1%83").await.html(); // "баку", lower case
    let rows = stories(&doc);
    let baku = rows
        .iter()
        .find(|(t, _, _)| t == BAKU_TITLE)
        .unwrap_or_else(|| panic!("search for баку lists {BAKU_TITLE}: {rows:?}"));
    assert_eq!(baku.2, "Кавказский вестник");
    let article = select(&doc, "article.story")
        .into_iter()
        .find(|a| text(&select_in(a, "h3 a")[0]) == BAKU_TITLE)
        .expect("the row");
    assert_eq!(article.value().attr("lang"), Some("ru"));
    let marks: Vec<String> = select_in(&article, "h3 mark").iter().map(text).collect();
    assert_eq!(marks, vec!["Баку".to_string()]);
    for (title, _, _) in &rows {
        assert!(
            !title.contains("Alliance"),
            "an English story without the word is not a hit: {title}"
        );
    }

    let latin = r.ok("/?q=TBILISI+funicular").await.html();
    let hits: Vec<String> = stories(&latin).into_iter().map(|(t, _, _)| t).collect();
    assert_eq!(
        hits,
        vec!["Style attribute with a javascript: URL".to_string()]
    );
    assert!(
        !select(&latin, "p.snippet mark").is_empty(),
        "the text match is marked"
    );
}

#[tokio::test]
async fn hostile_entries_show_their_text_and_carry_no_active_markup() {
    let r = reader().await;
    let (rows, _) = every_story(&r, "/?feed=hostile").await;
    assert_eq!(rows.len(), 9);
    let mut survivors = HashSet::new();
    for (title, href, _) in &rows {
        let page = r.ok(href).await;
        let lower = page.body.to_lowercase();
        for banned in [
            "<script",
            "onerror",
            "<iframe",
            "<meta http-equiv",
            "<svg",
            "<object",
            "<embed",
        ] {
            assert!(
                !lower.contains(banned),
                "{href} ({title}) contains {banned}"
            );
        }
        // "javascript:" may only appear as the visible words of a title about it.
        let without_title = lower.replace(&title.to_lowercase(), "");
        assert!(
            !without_title.contains("javascript:"),
            "{href} carries a javascript: URL"
        );
        let doc = page.html();
        for el in select(&doc, "*") {
            for (name, value) in el.value().attrs() {
                assert!(!name.starts_with("on"), "{href}: event handler {name}");
                let v = value.trim().to_lowercase();
                assert!(
                    !v.starts_with("javascript:") && !v.starts_with("data:text"),
                    "{href}: {name}={value}"
                );
                assert!(name != "style", "{href}: inline style survived");
            }
        }
        let content = text(&select(&doc, ".content")[0]);
        let n = (1..=9)
            .find(|n| content.contains(&format!("Safe text survives {n}")))
            .unwrap_or_else(|| panic!("{href} lost its safe text: {content}"));
        survivors.insert(n);
    }
    assert_eq!(survivors.len(), 9, "every item's safe text is shown");
}

#[tokio::test]
async fn every_ui_answer_carries_the_security_headers() {
    let r = reader().await;
    let doc = r.ok("/").await.html();
    let entry = stories(&doc)[0].1.clone();
    for path in [
        "/",
        "/?q=%D0%91%D0%B0%D0%BA%D1%83",
        "/?day=2026-01-14",
        entry.as_str(),
        "/sources",
        "/static/tributary.css",
        "/static/tributary.svg",
        "/entries/999999999",
        "/?day=yesterday",
    ] {
        let page = r.get(path).await;
        assert_eq!(page.header("content-security-policy"), Some(CSP), "{path}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            page.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        let ct = page.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with("text/html; charset=utf-8")
                || ct.starts_with("text/css")
                || ct.starts_with("image/svg+xml"),
            "{path}: {ct}"
        );
    }
    let css = r.ok("/static/tributary.css").await.body;
    assert!(css.contains("prefers-color-scheme: dark"));
    assert!(!css.contains("http://") && !css.contains("https://") && !css.contains("@import"));
}

#[tokio::test]
async fn pages_load_nothing_from_elsewhere_and_need_no_script() {
    let r = reader().await;
    for path in ["/", "/sources", "/entries/999999999"] {
        let doc = r.get(path).await.html();
        assert!(select(&doc, "script").is_empty(), "{path}");
        assert!(select(&doc, "[style]").is_empty(), "{path}: inline style");
        assert!(select(&doc, "style").is_empty(), "{path}: style element");
        for link in select(&doc, "link[href]") {
            let href = link.value().attr("href").unwrap_or("");
            assert!(href.starts_with('/'), "{path}: {href} is not same-origin");
        }
        assert_eq!(
            select(&doc, "html")[0].value().attr("lang"),
            Some("en"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_entry_is_a_404_page() {
    let r = reader().await;
    for path in ["/entries/999999999", "/entries/not-a-number", "/entries/-1"] {
        let page = r.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(
            page.header("content-type")
                .unwrap_or("")
                .starts_with("text/html")
        );
        assert_eq!(text(&select(&page.html(), "h1")[0]), "Not found");
    }
}

#[tokio::test]
async fn entry_page_shows_content_dates_original_link_and_the_other_outlets() {
    let r = reader().await;
    let doc = r.ok("/").await.html();
    let (_, href, _) = stories(&doc)
        .into_iter()
        .find(|(t, _, _)| t == SEED_TITLE)
        .expect("seed row");
    let page = r.ok(&href).await.html();
    assert_eq!(text(&select(&page, "article.entry h1")[0]), SEED_TITLE);
    assert_eq!(
        select(&page, "article.entry")[0].value().attr("lang"),
        Some("en")
    );
    let original = select(&page, "p.original a")[0];
    assert_eq!(
        original.value().attr("href"),
        Some("https://caucasus-analysis.example/en/analysis/alliance-without-illusions")
    );
    assert!(
        select(&page, ".dates time")
            .iter()
            .any(|t| t.value().attr("datetime") == Some("2026-01-14T05:00:00Z")),
        "the published time is shown"
    );
    assert!(!text(&select(&page, ".content")[0]).is_empty());
    // Its day in the stream and the day's digest, which lists it.
    let crumbs: Vec<String> = select(&page, "p.crumbs a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert!(
        crumbs.contains(&"/?day=2026-01-14".to_string()),
        "{crumbs:?}"
    );
    assert!(
        crumbs.contains(&"/digest/2026-01-14.html".to_string()),
        "{crumbs:?}"
    );
    assert!(
        r.ok("/digest/2026-01-14.html")
            .await
            .body
            .contains(SEED_TITLE)
    );

    let outlets: Vec<(String, String)> = select(&page, "aside.outlets li")
        .iter()
        .map(|li| {
            let a = select_in(li, "a.outlet")[0];
            (text(&a), a.value().attr("href").unwrap_or("").to_string())
        })
        .collect();
    let names: HashSet<&str> = outlets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, HashSet::from(["Caspian Wire", "Regional Digest"]));
    // Each other outlet's page leads back to this one.
    for (_, other) in &outlets {
        let theirs = r.ok(other).await.html();
        let back: Vec<String> = select(&theirs, "aside.outlets a.outlet")
            .iter()
            .filter_map(|a| a.value().attr("href").map(str::to_string))
            .collect();
        assert!(back.contains(&href), "{other} links back to {href}");
    }
}

#[tokio::test]
async fn russian_entries_are_marked_as_russian() {
    let r = reader().await;
    let doc = r.ok("/?feed=caucasus-ru").await.html();
    let rows = select(&doc, "article.story");
    assert_eq!(rows.len(), 8);
    for row in rows {
        assert_eq!(row.value().attr("lang"), Some("ru"), "{}", row.html());
    }
}

#[tokio::test]
async fn day_filter_keeps_only_that_days_stories() {
    let r = reader().await;
    let doc = r.ok("/?day=2026-01-13").await.html();
    let times: Vec<String> = select(&doc, "article.story .meta time")
        .iter()
        .filter_map(|t| t.value().attr("datetime").map(str::to_string))
        .collect();
    assert!(!times.is_empty());
    for t in &times {
        assert!(
            t.starts_with("2026-01-13T"),
            "{t} is not on 13 January (UTC)"
        );
    }
    let titles: Vec<String> = stories(&doc).into_iter().map(|(t, _, _)| t).collect();
    assert!(titles.contains(&BAKU_TITLE.to_string()));
    assert_eq!(r.get("/?day=13.01.2026").await.status, 400);
}

#[tokio::test]
async fn sources_page_shows_each_feeds_health_and_cluster_share() {
    let r = reader().await;
    let doc = r.ok("/sources").await.html();
    let rows = select(&doc, "table.sources tbody tr");
    assert_eq!(rows.len(), 7, "one row per configured feed");
    let row = |id: &str| {
        rows.iter()
            .find(|tr| text(&select_in(tr, ".id")[0]) == id)
            .unwrap_or_else(|| panic!("a row for {id}"))
            .to_owned()
    };
    let analysis = row("analysis");
    assert_eq!(text(&select_in(&analysis, ".state")[0]), "OK");
    assert_eq!(
        text(&select_in(&analysis, "td[data-label=Entries]")[0]),
        "11"
    );
    let share = text(&select_in(&analysis, "td[data-label='Cluster share']")[0]);
    assert_eq!(share, "9%", "1 of 11 entries is in a shared story");
    let meter = select_in(&analysis, "meter")[0];
    assert_eq!(meter.value().attr("title"), Some("1 of 11"));
    let hostile = row("hostile");
    assert_eq!(
        text(&select_in(&hostile, "td[data-label='Cluster share']")[0]),
        "0%"
    );
    for tr in &rows {
        assert!(
            !select_in(tr, "td[data-label='Last success'] time").is_empty(),
            "every demo feed has succeeded"
        );
        assert!(!select_in(tr, "td[data-label='Next fetch'] time").is_empty());
    }
    assert!(
        select(&doc, "a[href='/digest/latest.html']").len() >= 2,
        "the digest is linked"
    );
}
