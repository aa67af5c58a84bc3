//! HTML-page sources and full-text extraction, at the library level, on the fixture site in
//! `fixtures/site/` (pages built from the seed article and its "Latest news" list).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tributary::decode::decode;
use tributary::fulltext::{self, FullTextError, FullTextRule, MAX_CONTENT};
use tributary::model::{FeedFormat, ParsedFeed};
use tributary::parse::html_source::{HtmlSource, HtmlSourceError, MAX_ITEMS, parse_html_source};
use url::Url;

const NEWS_URL: &str = "https://caucasus-analysis.example/en/news/";
const ARTICLE_URL: &str =
    "https://caucasus-analysis.example/en/analysis/alliance-without-illusions";
const RU_NEWS_URL: &str = "https://kavkaz-vestnik.example/ru/novosti/";

/// The seed's "Latest news": title, link path, date as the page prints it, the date it means.
const LATEST_NEWS: [(&str, &str, &str, &str); 10] = [
    (
        "“Muslim NATO”: Turkey’s New Strategic Vector",
        "/en/news/muslim-nato-turkey-strategic-vector",
        "10.Jan.2026",
        "2026-01-10",
    ),
    (
        "The Use of the “Oreshnik” Missile and a New Phase of Escalation Around Ukraine",
        "/en/news/oreshnik-missile-new-phase-escalation",
        "09.Jan.2026",
        "2026-01-09",
    ),
    (
        "Solidarity Deferred: Croatia and Romania’s Dangerous Retreat",
        "/en/news/solidarity-deferred-croatia-romania",
        "08.Jan.2026",
        "2026-01-08",
    ),
    (
        "Azerbaijan’s Eurasian Initiative: Ambitions, Challenges, and Doubts",
        "/en/news/azerbaijan-eurasian-initiative",
        "07.Jan.2026",
        "2026-01-07",
    ),
    (
        "The Great Rotation: Personnel Reshuffles in Ukraine’s Leadership",
        "/en/news/great-rotation-ukraine-leadership",
        "06.Jan.2026",
        "2026-01-06",
    ),
    (
        "The United States Did Not Confirm an Alleged Ukrainian Attack on Putin’s Residence",
        "/en/news/us-did-not-confirm-alleged-attack",
        "05.Jan.2026",
        "2026-01-05",
    ),
    (
        "The Trans-Caspian Fiber Optic Cable: A Digital Milestone Connecting Europe and Asia",
        "/en/news/trans-caspian-fiber-optic-cable",
        "04.Jan.2026",
        "2026-01-04",
    ),
    (
        "Georgia Hopes for a Review of Venezuela’s Recognition of Abkhazia and South Ossetia Amid Ongoing Crisis",
        "/en/news/georgia-venezuela-recognition-review",
        "04.Jan.2026",
        "2026-01-04",
    ),
    (
        "Ukraine’s Allies Discuss Security and the Future of a Peace Settlement",
        "/en/news/ukraine-allies-security-peace-settlement",
        "03.Jan.2026",
        "2026-01-03",
    ),
    (
        "Iran Amid a Growing Domestic Crisis: Causes, Dynamics, and External Factors",
        "/en/news/iran-growing-domestic-crisis",
        "03.Jan.2026",
        "2026-01-03",
    ),
];

/// The seed article's paragraphs, as plain text.
const BODY_PARAGRAPHS: [&str; 7] = [
    "Amid growing international tensions and escalating geopolitical conflicts, Russia and Azerbaijan continue to maintain a strategically important dialogue. Kremlin spokesman Dmitry Peskov confirmed that diplomats from both countries are \"actively working to preserve allied relations\" and are in constant contact.",
    "This statement from the Kremlin comes against the backdrop of mounting pressure from the West and increasing disputes in the South Caucasus. With regional instability on the rise — particularly amid Armenian-Azerbaijani frictions and the growing interest of Turkey, Iran, and China in the region — Russia clearly does not want to lose Baku as one of its closest partners.",
    "Peskov emphasized that Moscow considers Azerbaijan not only a friendly state, but also a key element in the architecture of regional security.",
    "\"It is important not only to preserve the alliance but also to develop it\", the Kremlin representative noted.",
    "Azerbaijan plays a pivotal role in the Middle Corridor project and in supplying energy resources to Europe. Moreover, despite its neutral stance in the Russia-Ukraine conflict, Baku maintains open channels of communication with Russian security structures. In addition, active cooperation continues through the Federal Lezgin National and Cultural Autonomy (FLNKA), along with exchanges in education and healthcare.",
    "It appears that Moscow is striving to prevent any diplomatic cooling that could allow Turkish or Western influence over Azerbaijan to grow. In the coming weeks, new visits and consultations are expected between the two sides, possibly including a meeting between foreign ministers or heads of state at an upcoming international summit.",
    "\"Russia will make every effort to keep Baku within its sphere of influence. Any cracks in the relationship with Azerbaijan could become an opportunity for Ankara, Brussels, or Beijing\", notes political analyst Artyom Mikheev.",
];

const QUOTATIONS: [&str; 2] = [
    "\"It is important not only to preserve the alliance but also to develop it\"",
    "\"Russia will make every effort to keep Baku within its sphere of influence. Any cracks in the relationship with Azerbaijan could become an opportunity for Ankara, Brussels, or Beijing\"",
];

/// Bodies are capped by the fetcher; the tests decode with a cap above the largest page.
const MAX_BODY: usize = 32 * 1024 * 1024;

fn site_page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/site")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode(&bytes, Some("text/html"), MAX_BODY).unwrap().text
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-01-15T12:00:00Z".parse().unwrap()
}

/// The `[feed.html]` table suggested for the fixture site's list pages.
fn latest_news_source() -> HtmlSource {
    HtmlSource {
        date: Some(".date".into()),
        date_format: Some("%d.%b.%Y".into()),
        ..HtmlSource::new(".latest-news li", "a", "a@href")
    }
}

fn article_rule() -> FullTextRule {
    FullTextRule {
        selector: "article .body".into(),
        strip: vec![".share".into(), ".latest-news".into(), ".ad".into()],
    }
}

fn parse_in(page: &str, page_url: &str, src: &HtmlSource, zone: chrono_tz::Tz) -> ParsedFeed {
    parse_html_source(&site_page(page), src, &url(page_url), zone, now())
        .unwrap_or_else(|e| panic!("{page}: {e}"))
}

fn published(feed: &ParsedFeed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.published
                .map(tributary::model::rfc3339)
                .unwrap_or_default()
        })
        .collect()
}

/// Plain text of an HTML fragment, one string, whitespace collapsed.
fn text_of(html: &str) -> String {
    tributary::clean::plain_text(html)
}

#[test]
fn list_page_yields_the_ten_latest_news_with_titles_absolute_links_and_dates() {
    let feed = parse_in("news.html", NEWS_URL, &latest_news_source(), chrono_tz::UTC);
    assert_eq!(feed.format, FeedFormat::Html);
    assert_eq!(feed.title, "Latest news — Caucasus Analysis");
    assert_eq!(feed.link.as_deref(), Some(NEWS_URL));
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert_eq!(feed.entries.len(), 10);
    for (entry, (title, path, _, day)) in feed.entries.iter().zip(LATEST_NEWS) {
        let link = format!("https://caucasus-analysis.example{path}");
        assert_eq!(entry.title, title);
        assert_eq!(entry.link.as_deref(), Some(link.as_str()));
        assert_eq!(
            entry.published.map(tributary::model::rfc3339),
            Some(format!("{day}T00:00:00Z"))
        );
        assert_eq!(entry.summary, None);
        assert_eq!(entry.content, None);
    }
}

#[test]
fn list_dates_are_midnight_in_the_given_zone() {
    let feed = parse_in(
        "news.html",
        NEWS_URL,
        &latest_news_source(),
        chrono_tz::Asia::Baku,
    );
    let dates = published(&feed);
    // Baku is UTC+4: midnight of 10 January there is 20:00 on the 9th in UTC.
    assert_eq!(dates[0], "2026-01-09T20:00:00Z");
    assert_eq!(dates[9], "2026-01-02T20:00:00Z");
    assert_eq!(
        feed.entries[0]
            .published
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Baku)
            .to_rfc3339(),
        "2026-01-10T00:00:00+04:00"
    );
}

#[test]
fn entry_ids_are_resolved_links_so_an_article_is_never_stored_twice() {
    let list = parse_in("news.html", NEWS_URL, &latest_news_source(), chrono_tz::UTC);
    let again = parse_in("news.html", NEWS_URL, &latest_news_source(), chrono_tz::UTC);
    // The article page's "Latest news" sidebar lists the same stories under the same ids.
    let sidebar = parse_in(
        "article.html",
        ARTICLE_URL,
        &latest_news_source(),
        chrono_tz::UTC,
    );
    for e in &list.entries {
        assert_eq!(Some(&e.id), e.link.as_ref());
        assert!(!e.id_from_feed);
    }
    assert_eq!(list.entries, again.entries);
    assert_eq!(list.entries, sidebar.entries);
}

#[test]
fn full_text_keeps_the_body_and_both_quotations_and_drops_the_share_bar_and_sidebar() {
    let body = fulltext::extract(
        &site_page("article.html"),
        &article_rule(),
        &url(ARTICLE_URL),
    )
    .unwrap();
    let text = text_of(&body);
    for paragraph in BODY_PARAGRAPHS {
        assert!(
            text.contains(paragraph),
            "missing paragraph {paragraph:?} in {text}"
        );
    }
    for quotation in QUOTATIONS {
        assert!(text.contains(quotation), "missing quotation {quotation:?}");
    }
    assert_eq!(body.matches("<p>").count(), BODY_PARAGRAPHS.len(), "{body}");
    for gone in [
        "Share:",
        "Facebook",
        "Telegram",
        "Latest news",
        "Muslim NATO",
        "10.Jan.2026",
        "Advertisement",
        "loadAd",
        "<script",
    ] {
        assert!(!body.contains(gone), "{gone} survived in {body}");
    }
    // Header, date line and site chrome are outside the selected element.
    assert!(!text.contains("14 Jan 2026"));
    assert!(!text.contains("Interviews"));
}

#[test]
fn full_text_makes_relative_urls_absolute() {
    let body = fulltext::extract(
        &site_page("article.html"),
        &article_rule(),
        &url(ARTICLE_URL),
    )
    .unwrap();
    assert!(
        body.contains(
            r#"src="https://caucasus-analysis.example/img/alliance-without-illusions.jpg""#
        ),
        "{body}"
    );
    assert!(
        body.contains(r#"<a href="https://caucasus-analysis.example/en/topics/middle-corridor" rel="noopener noreferrer">Middle Corridor</a>"#),
        "{body}"
    );
}

#[test]
fn full_text_without_strip_keeps_the_sidebar() {
    let rule = FullTextRule::new("article .body");
    let body = fulltext::extract(&site_page("article.html"), &rule, &url(ARTICLE_URL)).unwrap();
    assert!(body.contains("Latest news"));
    assert!(body.contains("Share:"));
}

#[test]
fn full_text_selector_matching_nothing_is_an_error_naming_selector_and_url() {
    let rule = FullTextRule::new("div.article-text");
    let err = fulltext::extract(&site_page("article.html"), &rule, &url(ARTICLE_URL)).unwrap_err();
    assert!(matches!(err, FullTextError::NoMatch { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("full_text selector `div.article-text` matched nothing on {ARTICLE_URL}")
    );
}

#[test]
fn item_selector_matching_nothing_is_an_error_naming_selector_and_url() {
    let err = parse_html_source(
        &site_page("empty.html"),
        &latest_news_source(),
        &url(NEWS_URL),
        chrono_tz::UTC,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, HtmlSourceError::NoItems { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("item selector `.latest-news li` matched nothing on {NEWS_URL}")
    );
}

#[test]
fn invalid_selector_is_an_error_naming_it() {
    let src = HtmlSource {
        date: Some("span..date".into()),
        ..latest_news_source()
    };
    let err = parse_html_source(
        &site_page("news.html"),
        &src,
        &url(NEWS_URL),
        chrono_tz::UTC,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, HtmlSourceError::InvalidSelector(_)),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("date selector `span..date` is not valid CSS"),
        "{err}"
    );
    assert_eq!(src.validate().unwrap_err(), err.to_string());
}

#[test]
fn malformed_html_still_yields_its_items() {
    let feed = parse_in(
        "broken.html",
        NEWS_URL,
        &latest_news_source(),
        chrono_tz::UTC,
    );
    assert_eq!(feed.title, "Latest news & analysis — Caucasus Analysis");
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            LATEST_NEWS[0].0,
            LATEST_NEWS[1].0,
            LATEST_NEWS[3].0,
            LATEST_NEWS[4].0
        ],
        "{:?}",
        feed.warnings
    );
    assert_eq!(
        published(&feed),
        [
            "2026-01-10T00:00:00Z",
            "2026-01-09T00:00:00Z",
            "",
            "2026-01-06T00:00:00Z"
        ]
    );
    // The script's document.write never runs: no invented item.
    assert!(feed.entries.iter().all(|e| !e.title.contains("script")));
}

#[test]
fn item_without_a_link_is_skipped_with_a_warning_naming_its_position() {
    let feed = parse_in(
        "broken.html",
        NEWS_URL,
        &latest_news_source(),
        chrono_tz::UTC,
    );
    assert!(
        feed.warnings
            .contains(&"item 3: no link (selector `a@href` matched nothing); skipped".to_string()),
        "{:?}",
        feed.warnings
    );
}

#[test]
fn date_not_matching_the_format_keeps_the_entry_undated_with_a_warning() {
    let broken = parse_in(
        "broken.html",
        NEWS_URL,
        &latest_news_source(),
        chrono_tz::UTC,
    );
    let undated = &broken.entries[2];
    assert_eq!(undated.title, LATEST_NEWS[3].0);
    assert_eq!(undated.published, None);
    assert!(
        broken
            .warnings
            .contains(&"item 4: date `yesterday` does not match `%d.%b.%Y`".to_string()),
        "{:?}",
        broken.warnings
    );

    // A format that fits none of the page's dates: every entry kept, none dated.
    let src = HtmlSource {
        date_format: Some("%d %B %Y".into()),
        ..latest_news_source()
    };
    let feed = parse_in("news.html", NEWS_URL, &src, chrono_tz::UTC);
    assert_eq!(feed.entries.len(), 10);
    assert!(feed.entries.iter().all(|e| e.published.is_none()));
    assert_eq!(feed.warnings.len(), 10);
    assert_eq!(
        feed.warnings[1],
        "item 2: date `09.Jan.2026` does not match `%d %B %Y`"
    );
}

#[test]
fn dates_are_read_automatically_without_a_format() {
    let src = HtmlSource {
        date_format: None,
        ..latest_news_source()
    };
    let feed = parse_in("news.html", NEWS_URL, &src, chrono_tz::UTC);
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert_eq!(published(&feed)[0], "2026-01-10T00:00:00Z");
}

#[test]
fn windows_1251_page_reads_russian_genitive_month_names() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site/news-1251.html");
    let bytes = std::fs::read(path).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture must not be UTF-8"
    );
    let decoded = decode(&bytes, Some("text/html"), MAX_BODY).unwrap();
    assert_eq!(decoded.encoding, "windows-1251");
    let src = HtmlSource {
        date: Some(".date".into()),
        date_format: Some("%d %B %Y".into()),
        summary: Some("p.lead".into()),
        ..HtmlSource::new(".news-list .item", "h3 a", "h3 a@href")
    };
    let feed = parse_html_source(
        &decoded.text,
        &src,
        &url(RU_NEWS_URL),
        chrono_tz::Europe::Moscow,
        now(),
    )
    .unwrap();
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert_eq!(feed.title, "Новости — Кавказский вестник");
    assert_eq!(feed.entries.len(), 10);
    let first = &feed.entries[0];
    assert_eq!(
        first.title,
        "Союз без иллюзий: зачем России нужен Азербайджан"
    );
    // Links are relative to the page's <base href="/ru/">, not to the page itself.
    assert_eq!(
        first.id,
        "https://kavkaz-vestnik.example/ru/politika/2026/01/14/soyuz-bez-illyuziy"
    );
    assert_eq!(
        first.summary.as_deref(),
        Some("Дипломаты двух стран «активно работают над сохранением союзнических отношений».")
    );
    assert_eq!(
        feed.entries[8].title,
        "Итоги уходящего года: «Средний коридор» и всё, что с ним связано"
    );
    // Midnight in Moscow (UTC+3), for "14 января 2026", "9 января 2026", "31 декабря 2025".
    let dates = published(&feed);
    assert_eq!(dates[0], "2026-01-13T21:00:00Z");
    assert_eq!(dates[4], "2026-01-08T21:00:00Z");
    assert_eq!(dates[8], "2025-12-30T21:00:00Z");
    assert_eq!(dates[9], "2025-12-28T21:00:00Z");
}

/// A page of about 20 MB: a short article followed by an archive list of some 150 000 items.
/// Such a page gets through the fetcher only with a raised `max_body`; parsing it must
/// neither take minutes nor fail.
fn huge_page() -> String {
    let mut page = String::with_capacity(21 * 1024 * 1024);
    page.push_str("<!DOCTYPE html><html><head><title>Archive</title></head><body>");
    page.push_str(
        "<article><div class=\"body\"><p>The archive opens.</p><div class=\"share\">Share</div></div></article>",
    );
    page.push_str("<ul class=\"latest-news\">");
    let mut i = 0;
    while page.len() < 20 * 1024 * 1024 {
        i += 1;
        page.push_str(&format!(
            "<li><a href=\"/en/news/archive-{i}\">Archived story number {i} from the Caucasus desk</a> <span class=\"date\">{:02}.Jan.2026</span><p>Teaser text for story {i}, kept short.</p></li>\n",
            i % 28 + 1
        ));
    }
    page.push_str("</ul></body></html>");
    page
}

#[test]
fn twenty_megabyte_page_is_read_in_reasonable_time() {
    let page = huge_page();
    assert!(page.len() >= 20 * 1024 * 1024);

    let start = Instant::now();
    let feed = parse_html_source(
        &page,
        &latest_news_source(),
        &url(NEWS_URL),
        chrono_tz::UTC,
        now(),
    )
    .unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(120), "took {took:?}");
    assert_eq!(feed.entries.len(), MAX_ITEMS);
    assert_eq!(
        feed.entries[0].id,
        "https://caucasus-analysis.example/en/news/archive-1"
    );
    let last = feed.warnings.last().unwrap();
    assert!(last.contains("only the first 1000 were read"), "{last}");

    let rule = FullTextRule {
        selector: "article .body".into(),
        strip: vec![".share".into()],
    };
    let start = Instant::now();
    let body = fulltext::extract(&page, &rule, &url(NEWS_URL)).unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(120), "took {took:?}");
    assert_eq!(body.trim(), "<p>The archive opens.</p>");
}

#[test]
fn full_text_selecting_more_than_the_content_limit_is_an_error() {
    let item =
        "<li><a href=\"/en/news/x\">A story</a> <span class=\"date\">10.Jan.2026</span></li>\n";
    let page = format!(
        "<ul class=\"latest-news\">{}</ul>",
        item.repeat(MAX_CONTENT / item.len() + 10)
    );
    let err =
        fulltext::extract(&page, &FullTextRule::new(".latest-news"), &url(NEWS_URL)).unwrap_err();
    assert!(matches!(err, FullTextError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "full_text selector `.latest-news` on {NEWS_URL} selects more than {MAX_CONTENT} bytes of HTML; narrow the selector"
        )
    );
}
