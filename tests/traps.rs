//! The hard cases the corpus README lists as traps for feed-rs on its own, one test each,
//! through the path a fetched body takes (`refresh::process_document`: decode, repair, parse,
//! clean). Each document is built here, so these run without the corpus.
//!
//! The traps: UTF-16BE panics inside the XML reader; UTF-32 and undeclared Latin-1 give "no
//! root element"; `<rss>` without version or with 0.93/0.94/2.01 is rejected; Atom 0.3 and RSS
//! in the `backend.userland.com/rss2` namespace parse with zero entries; one bare `&` fails the
//! whole feed; control characters pass into titles; many valid dates come back as none; items
//! without guid get a random id on every parse.

use chrono::{DateTime, Utc};
use tributary::model::ParsedFeed;
use tributary::parse::ParseContext;
use tributary::refresh::process_document;

const MAX_BODY: usize = 15 * 1024 * 1024;

fn ctx() -> ParseContext {
    ParseContext {
        base: Some("https://news.example/feed".parse().unwrap()),
        zone: chrono_tz::Asia::Baku,
        now: "2030-01-01T00:00:00Z".parse().unwrap(),
    }
}

fn read(bytes: &[u8]) -> ParsedFeed {
    process_document(bytes, None, &ctx(), MAX_BODY)
        .unwrap_or_else(|e| panic!("the document was refused: {e}"))
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.entries.iter().map(|e| e.title.as_str()).collect()
}

/// An RSS 2.0 document with Cyrillic and Latin text, as `<rss {root_attrs}>`.
fn rss_with(declaration: &str, root_attrs: &str) -> String {
    format!(
        "{declaration}<rss {root_attrs}><channel><title>Кавказ сегодня</title>\
         <link>https://news.example/</link>\
         <item><title>Переговоры в Баку</title><link>https://news.example/1</link>\
         <pubDate>Wed, 14 Jan 2026 10:00:00 +0400</pubDate></item>\
         <item><title>Tbilisi talks</title><link>https://news.example/2</link></item>\
         </channel></rss>"
    )
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some('\u{feff}').into_iter().chain(text.chars());
    let mut out = Vec::new();
    for c in units {
        let mut buf = [0u16; 2];
        for unit in c.encode_utf16(&mut buf) {
            out.extend(if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
    }
    out
}

fn utf32(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some('\u{feff}').into_iter().chain(text.chars());
    units
        .flat_map(|c| {
            let v = u32::from(c);
            if little_endian {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        })
        .collect()
}

fn assert_two_cyrillic_entries(feed: &ParsedFeed) {
    assert_eq!(feed.title, "Кавказ сегодня");
    assert_eq!(titles(feed), ["Переговоры в Баку", "Tbilisi talks"]);
}

#[test]
fn trap_1_utf16_be_with_bom_does_not_panic() {
    let doc = rss_with(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        "version=\"2.0\"",
    );
    let bytes = utf16(&doc, false, true);
    // feed-rs alone panics (or fails) on these bytes; Tributary reads them.
    let alone = std::panic::catch_unwind(|| feed_rs::parser::parse(&bytes[..]).is_ok());
    assert!(
        !matches!(alone, Ok(true)),
        "feed-rs alone should not read it"
    );
    assert_two_cyrillic_entries(&read(&bytes));
}

#[test]
fn trap_2_utf16_be_without_bom() {
    let doc = rss_with(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        "version=\"2.0\"",
    );
    assert_two_cyrillic_entries(&read(&utf16(&doc, false, false)));
}

#[test]
fn trap_3_utf16_le_with_and_without_bom() {
    let doc = rss_with(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        "version=\"2.0\"",
    );
    for bom in [true, false] {
        let feed = read(&utf16(&doc, true, bom));
        assert_two_cyrillic_entries(&feed);
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    }
}

#[test]
fn trap_4_utf32_be_with_bom() {
    let doc = rss_with(
        "<?xml version=\"1.0\" encoding=\"UTF-32\"?>",
        "version=\"2.0\"",
    );
    assert_two_cyrillic_entries(&read(&utf32(&doc, false, true)));
}

#[test]
fn trap_5_utf32_le_without_bom() {
    let doc = rss_with(
        "<?xml version=\"1.0\" encoding=\"UTF-32\"?>",
        "version=\"2.0\"",
    );
    assert_two_cyrillic_entries(&read(&utf32(&doc, true, false)));
}

#[test]
fn trap_6_undeclared_latin1() {
    let doc = "<rss version=\"2.0\"><channel><title>Genève</title>\
               <item><title>Réunion à Genève</title><link>https://news.example/g</link></item>\
               </channel></rss>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(doc);
    assert!(feed_rs::parser::parse(&bytes[..]).is_err());
    let feed = read(&bytes);
    assert_eq!(titles(&feed), ["Réunion à Genève"]);
    assert!(!feed.warnings.is_empty(), "the guess is reported");
}

#[test]
fn trap_7_rss_without_version() {
    let feed = read(rss_with("", "").as_bytes());
    assert_two_cyrillic_entries(&feed);
    assert!(feed.well_formed, "a missing version is not broken XML");
}

#[test]
fn trap_8_rss_0_93() {
    assert_two_cyrillic_entries(&read(rss_with("", "version=\"0.93\"").as_bytes()));
}

#[test]
fn trap_9_rss_0_94() {
    assert_two_cyrillic_entries(&read(rss_with("", "version=\"0.94\"").as_bytes()));
}

#[test]
fn trap_10_rss_2_01() {
    let doc = rss_with("", "version=\"2.01\"");
    assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
    assert_two_cyrillic_entries(&read(doc.as_bytes()));
}

#[test]
fn trap_11_atom_0_3_keeps_its_entries_and_dates() {
    let doc = r#"<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Regional Digest</title>
  <link rel="alternate" type="text/html" href="https://digest.example/"/>
  <tagline>Weekly</tagline>
  <entry>
    <title>Pipeline talks resume</title>
    <link rel="alternate" type="text/html" href="https://digest.example/1"/>
    <id>tag:digest.example,2026:1</id>
    <issued>2026-01-14T10:00:00+04:00</issued>
    <modified>2026-01-14T12:00:00+04:00</modified>
    <content type="text/html" mode="escaped">&lt;p&gt;Talks &lt;b&gt;resume&lt;/b&gt;&lt;/p&gt;</content>
  </entry>
</feed>"#;
    let alone = feed_rs::parser::parse(doc.as_bytes()).unwrap();
    assert!(alone.entries.is_empty(), "feed-rs alone loses the entries");
    let feed = read(doc.as_bytes());
    assert_eq!(titles(&feed), ["Pipeline talks resume"]);
    let e = &feed.entries[0];
    assert_eq!(e.link.as_deref(), Some("https://digest.example/1"));
    assert_eq!(e.published, Some(at("2026-01-14T06:00:00Z")));
    assert_eq!(e.updated, Some(at("2026-01-14T08:00:00Z")));
    assert_eq!(e.content.as_deref(), Some("<p>Talks <b>resume</b></p>"));
    assert!(feed.well_formed);
}

#[test]
fn trap_12_atom_0_3_base64_content() {
    let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>
  <entry><title>b64</title><link rel="alternate" href="https://digest.example/2"/>
    <content type="text/html" mode="base64">PHA+SGVsbG88L3A+</content></entry></feed>"#;
    let feed = read(doc.as_bytes());
    assert_eq!(feed.entries[0].content.as_deref(), Some("<p>Hello</p>"));
}

#[test]
fn trap_13_rss_in_the_userland_namespace() {
    let doc = rss_with(
        "",
        "version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"",
    );
    let alone = feed_rs::parser::parse(doc.as_bytes());
    assert!(alone.map_or(true, |f| f.entries.is_empty()));
    assert_two_cyrillic_entries(&read(doc.as_bytes()));
}

#[test]
fn trap_14_one_bare_ampersand() {
    let doc = "<rss version=\"2.0\"><channel><title>Fish & Chips</title>\
               <item><title>AT&T buys R&D lab</title><link>https://news.example/a?x=1&y=2</link></item>\
               <item><title>Second</title><link>https://news.example/b</link></item>\
               </channel></rss>";
    assert!(feed_rs::parser::parse(doc.as_bytes()).is_err());
    let feed = read(doc.as_bytes());
    assert_eq!(feed.title, "Fish & Chips");
    assert_eq!(titles(&feed), ["AT&T buys R&D lab", "Second"]);
    assert_eq!(
        feed.entries[0].link.as_deref(),
        Some("https://news.example/a?x=1&y=2")
    );
    assert!(!feed.well_formed, "a bare & is broken XML, and said so");
}

#[test]
fn trap_15_control_characters_never_reach_titles() {
    let doc = "<rss version=\"2.0\"><channel><title>T\u{1}</title>\
               <item><title>Bad\u{8}\u{1b}title</title><link>https://news.example/c</link>\
               <description>x\u{0}y</description></item></channel></rss>";
    let feed = read(doc.as_bytes());
    let e = &feed.entries[0];
    assert_eq!(feed.title, "T");
    assert_eq!(e.title, "Badtitle");
    assert_eq!(e.summary.as_deref(), Some("xy"));
    assert!(
        !feed.well_formed,
        "control characters are not XML, and said so"
    );
}

#[test]
fn trap_16_dates_feed_rs_misses() {
    // Forms from the date vectors and from regional sites; each must give a date.
    let cases = [
        ("Wed, 14 Jan 2026 10:00:00 MSK", "2026-01-14T07:00:00Z"),
        ("Wed, 14 Jan 2026 10:00:00 AZT", "2026-01-14T06:00:00Z"),
        ("2026-01-14 10:00", "2026-01-14T06:00:00Z"),
        ("14.01.2026 10:00", "2026-01-14T06:00:00Z"),
        ("Ср, 14 янв 2026 10:00:00 +0300", "2026-01-14T07:00:00Z"),
        ("14 января 2026, 10:00", "2026-01-14T06:00:00Z"),
        ("2004-02-28T18:14:55.123-08:00", "2004-02-29T02:14:55Z"),
        ("Sun Jan  4 16:29:06 2004", "2004-01-04T12:29:06Z"),
        ("2020/1/10 14:33:00", "2020-01-10T10:33:00Z"),
    ];
    for (written, instant) in cases {
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>T</title><item><title>x</title>\
             <link>https://news.example/d</link><pubDate>{written}</pubDate></item>\
             </channel></rss>"
        );
        let feed = read(doc.as_bytes());
        // Whole seconds: the store keeps second precision.
        let got = feed.entries[0].published.map(|d| d.timestamp());
        assert_eq!(got, Some(at(instant).timestamp()), "{written}");
    }
}

#[test]
fn trap_17_items_without_guid_keep_their_id() {
    let doc = "<rss version=\"2.0\"><channel><title>T</title>\
               <item><title>Linked</title><link>https://news.example/e</link></item>\
               <item><title>Unlinked</title><description>Only text</description></item>\
               </channel></rss>";
    let a = read(doc.as_bytes());
    let b = read(doc.as_bytes());
    let ids = |f: &ParsedFeed| f.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.entries[0].id, "https://news.example/e");
    assert!(a.entries[1].id.starts_with("urn:sha256:"));
}

#[test]
fn trap_18_rss_1_items_known_only_by_rdf_about() {
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://news.example/"><title>T</title><link>https://news.example/</link></channel>
  <item rdf:about="https://news.example/r1"><title>One</title></item>
</rdf:RDF>"#;
    let alone = feed_rs::parser::parse(doc.as_bytes()).unwrap();
    assert!(alone.entries.is_empty(), "feed-rs alone drops the item");
    let feed = read(doc.as_bytes());
    assert_eq!(titles(&feed), ["One"]);
    assert_eq!(
        feed.entries[0].link.as_deref(),
        Some("https://news.example/r1")
    );
    assert_eq!(feed.entries[0].id, "https://news.example/r1");
}

#[test]
fn trap_19_undeclared_windows_1251_and_koi8_r() {
    let doc = "<rss version=\"2.0\"><channel><title>Новости Кавказа</title>\
               <item><title>Президент провёл переговоры в Баку о поставках газа</title>\
               <link>https://news.example/f</link></item></channel></rss>";
    for encoding in [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R] {
        let (bytes, _, _) = encoding.encode(doc);
        let feed = read(&bytes);
        assert_eq!(
            titles(&feed),
            ["Президент провёл переговоры в Баку о поставках газа"],
            "{}",
            encoding.name()
        );
    }
}

#[test]
fn trap_20_truncated_document_keeps_the_items_before_the_cut() {
    let full = rss_with("<?xml version=\"1.0\"?>", "version=\"2.0\"");
    let cut = &full[..full.find("<item><title>Tbilisi").unwrap() + 20];
    assert!(feed_rs::parser::parse(cut.as_bytes()).is_err());
    let feed = read(cut.as_bytes());
    assert_eq!(titles(&feed), ["Переговоры в Баку"]);
    assert!(!feed.well_formed);
    assert!(
        feed.warnings.iter().any(|w| w.contains("kept the 1 items")),
        "{:?}",
        feed.warnings
    );
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}
