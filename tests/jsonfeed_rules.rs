//! The JSON Feed 1.1 rules (https://jsonfeed.org/version/1.1) as a validator, tested on good
//! and bad documents, then applied to what Tributary publishes: `/feeds/all.json` from the
//! server (whole, filtered, searched and paged) and the `all.json` file `tributary demo` writes.

mod common;

use std::collections::HashSet;

use serde_json::{Value, json};

use common::served::ServedDemo;

/// The only `version` a JSON Feed 1.1 document may carry.
pub const VERSION_1_1: &str = "https://jsonfeed.org/version/1.1";

/// Top-level keys the 1.1 specification defines (`author` is its deprecated 1.0 form).
const FEED_KEYS: &[&str] = &[
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "author",
    "authors",
    "language",
    "expired",
    "hubs",
    "items",
];

/// Item keys the 1.1 specification defines (`author` is its deprecated 1.0 form).
const ITEM_KEYS: &[&str] = &[
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "author",
    "authors",
    "tags",
    "language",
    "attachments",
];

/// Author object keys.
const AUTHOR_KEYS: &[&str] = &["name", "url", "avatar"];

/// Everything wrong with `doc` as a JSON Feed 1.1 document, each problem prefixed with where it
/// is (`items[3].url`); empty when the document follows the rules:
///
/// - `version` is exactly `https://jsonfeed.org/version/1.1`; `title` is a string; `items` is an
///   array;
/// - every item is an object with a non-empty string `id`, unique in the feed, and a string
///   `content_html` or `content_text`;
/// - URLs (`home_page_url`, `feed_url`, `next_url`, `icon`, `favicon`, `url`, `external_url`,
///   `image`, `banner_image`, author `url`/`avatar`, hub and attachment `url`) are absolute
///   http(s) URLs when present;
/// - `date_published`/`date_modified` are RFC 3339;
/// - `authors` is an array of objects with at least one of `name`, `url`, `avatar`;
/// - `tags` is an array of strings; other optional fields have their specified types;
/// - keys outside the specification are allowed only as extensions: `_` then a letter.
pub fn jsonfeed_problems(doc: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(feed) = doc.as_object() else {
        return vec!["the document is not a JSON object".into()];
    };
    match feed.get("version") {
        Some(Value::String(v)) if v == VERSION_1_1 => {}
        Some(v) => p.push(format!("version: {v} is not \"{VERSION_1_1}\"")),
        None => p.push("version: missing".into()),
    }
    match feed.get("title") {
        Some(Value::String(_)) => {}
        Some(v) => p.push(format!("title: {v} is not a string")),
        None => p.push("title: missing".into()),
    }
    for key in ["home_page_url", "feed_url", "next_url", "icon", "favicon"] {
        check_url(feed.get(key), key, &mut p);
    }
    for key in ["description", "user_comment", "language"] {
        check_string(feed.get(key), key, &mut p);
    }
    if let Some(v) = feed.get("expired")
        && !v.is_boolean()
    {
        p.push(format!("expired: {v} is not a boolean"));
    }
    check_authors(feed, "", &mut p);
    if let Some(hubs) = feed.get("hubs") {
        match hubs.as_array() {
            None => p.push("hubs: not an array".into()),
            Some(hubs) => {
                for (i, hub) in hubs.iter().enumerate() {
                    let at = format!("hubs[{i}]");
                    match hub.as_object() {
                        None => p.push(format!("{at}: not an object")),
                        Some(h) => {
                            if !h.get("type").is_some_and(Value::is_string) {
                                p.push(format!("{at}.type: missing or not a string"));
                            }
                            match h.get("url") {
                                None => p.push(format!("{at}.url: missing")),
                                url => check_url(url, &format!("{at}.url"), &mut p),
                            }
                        }
                    }
                }
            }
        }
    }
    check_keys(feed, FEED_KEYS, "", &mut p);
    match feed.get("items") {
        None => p.push("items: missing".into()),
        Some(Value::Array(items)) => {
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                check_item(item, i, &mut seen, &mut p);
            }
        }
        Some(v) => p.push(format!("items: {v} is not an array")),
    }
    p
}

fn check_item(item: &Value, i: usize, seen: &mut HashSet<String>, p: &mut Vec<String>) {
    let at = format!("items[{i}]");
    let Some(obj) = item.as_object() else {
        p.push(format!("{at}: not an object"));
        return;
    };
    match obj.get("id") {
        Some(Value::String(id)) if !id.is_empty() => {
            if !seen.insert(id.clone()) {
                p.push(format!("{at}.id: `{id}` is not unique in the feed"));
            }
        }
        Some(v) => p.push(format!("{at}.id: {v} is not a non-empty string")),
        None => p.push(format!("{at}.id: missing")),
    }
    for key in [
        "content_html",
        "content_text",
        "title",
        "summary",
        "language",
    ] {
        check_string(obj.get(key), &format!("{at}.{key}"), p);
    }
    if !obj.contains_key("content_html") && !obj.contains_key("content_text") {
        p.push(format!("{at}: neither content_html nor content_text"));
    }
    for key in ["url", "external_url", "image", "banner_image"] {
        check_url(obj.get(key), &format!("{at}.{key}"), p);
    }
    for key in ["date_published", "date_modified"] {
        if let Some(v) = obj.get(key) {
            let ok = v
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
            if !ok {
                p.push(format!("{at}.{key}: {v} is not an RFC 3339 date"));
            }
        }
    }
    check_authors(obj, &format!("{at}."), p);
    if let Some(tags) = obj.get("tags") {
        match tags.as_array() {
            Some(tags) if tags.iter().all(Value::is_string) => {}
            _ => p.push(format!("{at}.tags: {tags} is not an array of strings")),
        }
    }
    if let Some(atts) = obj.get("attachments") {
        match atts.as_array() {
            None => p.push(format!("{at}.attachments: not an array")),
            Some(atts) => {
                for (j, a) in atts.iter().enumerate() {
                    let at = format!("{at}.attachments[{j}]");
                    let Some(a) = a.as_object() else {
                        p.push(format!("{at}: not an object"));
                        continue;
                    };
                    match a.get("url") {
                        None => p.push(format!("{at}.url: missing")),
                        url => check_url(url, &format!("{at}.url"), p),
                    }
                    if !a.get("mime_type").is_some_and(Value::is_string) {
                        p.push(format!("{at}.mime_type: missing or not a string"));
                    }
                    check_string(a.get("title"), &format!("{at}.title"), p);
                    for key in ["size_in_bytes", "duration_in_seconds"] {
                        if a.get(key).is_some_and(|v| !v.is_number()) {
                            p.push(format!("{at}.{key}: not a number"));
                        }
                    }
                }
            }
        }
    }
    check_keys(obj, ITEM_KEYS, &format!("{at}."), p);
}

/// `authors` (an array of author objects) and the deprecated single `author`.
fn check_authors(obj: &serde_json::Map<String, Value>, at: &str, p: &mut Vec<String>) {
    if let Some(authors) = obj.get("authors") {
        match authors.as_array() {
            None => p.push(format!("{at}authors: {authors} is not an array")),
            Some(list) => {
                for (i, a) in list.iter().enumerate() {
                    check_author(a, &format!("{at}authors[{i}]"), p);
                }
            }
        }
    }
    if let Some(a) = obj.get("author") {
        check_author(a, &format!("{at}author"), p);
    }
}

fn check_author(a: &Value, at: &str, p: &mut Vec<String>) {
    let Some(obj) = a.as_object() else {
        p.push(format!("{at}: {a} is not an object"));
        return;
    };
    if !AUTHOR_KEYS.iter().any(|k| obj.contains_key(*k)) {
        p.push(format!("{at}: has none of name, url, avatar"));
    }
    check_string(obj.get("name"), &format!("{at}.name"), p);
    check_url(obj.get("url"), &format!("{at}.url"), p);
    check_url(obj.get("avatar"), &format!("{at}.avatar"), p);
    check_keys(obj, AUTHOR_KEYS, &format!("{at}."), p);
}

fn check_string(v: Option<&Value>, at: &str, p: &mut Vec<String>) {
    if let Some(v) = v
        && !v.is_string()
    {
        p.push(format!("{at}: {v} is not a string"));
    }
}

fn check_url(v: Option<&Value>, at: &str, p: &mut Vec<String>) {
    let Some(v) = v else { return };
    let ok = v
        .as_str()
        .and_then(|s| url::Url::parse(s).ok())
        .is_some_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
    if !ok {
        p.push(format!("{at}: {v} is not an absolute http(s) URL"));
    }
}

/// Keys outside `known` must be extensions: `_` followed by a letter.
fn check_keys(obj: &serde_json::Map<String, Value>, known: &[&str], at: &str, p: &mut Vec<String>) {
    for key in obj.keys() {
        let extension = key
            .strip_prefix('_')
            .and_then(|rest| rest.chars().next())
            .is_some_and(char::is_alphabetic);
        if !known.contains(&key.as_str()) && !extension {
            p.push(format!(
                "{at}{key}: not a JSON Feed 1.1 key (extensions start with `_`)"
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The validator on good and bad documents
// ---------------------------------------------------------------------------------------------

fn minimal() -> Value {
    json!({
        "version": VERSION_1_1,
        "title": "Caspian Wire",
        "items": [{ "id": "1", "content_text": "Ferry to Aktau planned." }],
    })
}

fn full() -> Value {
    json!({
        "version": VERSION_1_1,
        "title": "Caspian Wire",
        "home_page_url": "https://caspianwire.example/",
        "feed_url": "https://caspianwire.example/feed.json",
        "description": "Breaking news from the Caspian region.",
        "user_comment": "Subscribe in any reader.",
        "next_url": "https://caspianwire.example/feed.json?page=2",
        "icon": "https://caspianwire.example/icon.png",
        "favicon": "https://caspianwire.example/favicon.ico",
        "authors": [{ "name": "Wire desk", "url": "https://caspianwire.example/desk", "avatar": "https://caspianwire.example/a.png" }],
        "language": "en",
        "expired": false,
        "hubs": [{ "type": "WebSub", "url": "https://hub.example/" }],
        "_reader": { "about": "extension" },
        "items": [
            {
                "id": "caspianwire-2026-01-09-0255",
                "url": "https://caspianwire.example/2026/01/09/makhachkala-aktau-ferry",
                "external_url": "https://port.example/aktau",
                "title": "Dagestan ferry to Aktau planned for spring",
                "content_html": "<p>Port officials agreed a trial crossing.</p>",
                "content_text": "Port officials agreed a trial crossing.",
                "summary": "A trial ferry crossing.",
                "image": "https://caspianwire.example/img/ferry.jpg",
                "banner_image": "https://caspianwire.example/img/ferry-wide.jpg",
                "date_published": "2026-01-09T15:40:00Z",
                "date_modified": "2026-01-09T18:40:00+03:00",
                "authors": [{ "name": "Wire desk" }, { "url": "https://caspianwire.example/desk" }],
                "tags": ["caspian", "transport"],
                "language": "en",
                "attachments": [{ "url": "https://caspianwire.example/a.mp3", "mime_type": "audio/mpeg", "title": "Audio", "size_in_bytes": 1024, "duration_in_seconds": 60 }],
                "_tributary": { "feed": "wire" },
            },
            { "id": "2", "content_html": "<p>Second.</p>" },
        ],
    })
}

fn assert_valid(doc: &Value) {
    let problems = jsonfeed_problems(doc);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `doc` breaks a rule, reported with `needle` in the message.
fn assert_invalid(doc: &Value, needle: &str) {
    let problems = jsonfeed_problems(doc);
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "a problem mentioning `{needle}` in {problems:#?} for {doc}"
    );
}

/// `minimal()` changed by `f`.
fn with(f: impl FnOnce(&mut Value)) -> Value {
    let mut doc = minimal();
    f(&mut doc);
    doc
}

fn full_with(f: impl FnOnce(&mut Value)) -> Value {
    let mut doc = full();
    f(&mut doc);
    doc
}

#[test]
fn minimal_and_full_documents_are_valid() {
    assert_valid(&minimal());
    assert_valid(&full());
    assert_valid(&with(|d| d["items"] = json!([])));
}

#[test]
fn version_must_be_exactly_the_1_1_url() {
    assert_invalid(
        &with(|d| d["version"] = json!("https://jsonfeed.org/version/1")),
        "version",
    );
    assert_invalid(
        &with(|d| d["version"] = json!("https://jsonfeed.org/version/1.1/")),
        "version",
    );
    assert_invalid(
        &with(|d| d["version"] = json!("http://jsonfeed.org/version/1.1")),
        "version",
    );
    assert_invalid(&with(|d| d["version"] = json!(1.1)), "version");
    assert_invalid(
        &with(|d| _ = d.as_object_mut().unwrap().remove("version")),
        "version: missing",
    );
}

#[test]
fn title_is_a_required_string() {
    assert_invalid(
        &with(|d| _ = d.as_object_mut().unwrap().remove("title")),
        "title: missing",
    );
    assert_invalid(&with(|d| d["title"] = json!(["Caspian Wire"])), "title");
    assert_invalid(&with(|d| d["title"] = Value::Null), "title");
}

#[test]
fn items_is_a_required_array_of_objects() {
    assert_invalid(
        &with(|d| _ = d.as_object_mut().unwrap().remove("items")),
        "items: missing",
    );
    assert_invalid(&with(|d| d["items"] = json!({ "id": "1" })), "items");
    assert_invalid(
        &with(|d| d["items"] = json!(["1"])),
        "items[0]: not an object",
    );
    assert_invalid(&json!([minimal()]), "not a JSON object");
}

#[test]
fn item_id_is_a_required_non_empty_string() {
    assert_invalid(
        &with(|d| _ = d["items"][0].as_object_mut().unwrap().remove("id")),
        "items[0].id: missing",
    );
    assert_invalid(&with(|d| d["items"][0]["id"] = json!(1)), "items[0].id");
    assert_invalid(&with(|d| d["items"][0]["id"] = json!("")), "items[0].id");
    assert_invalid(&with(|d| d["items"][0]["id"] = Value::Null), "items[0].id");
}

#[test]
fn item_ids_are_unique_in_the_feed() {
    let doc = with(|d| {
        d["items"] = json!([
            { "id": "a", "content_text": "one" },
            { "id": "b", "content_text": "two" },
            { "id": "a", "content_text": "three" },
        ])
    });
    assert_invalid(&doc, "items[2].id: `a` is not unique");
}

#[test]
fn item_needs_content_html_or_content_text() {
    let doc = with(|d| d["items"][0] = json!({ "id": "1", "title": "t", "summary": "s" }));
    assert_invalid(&doc, "neither content_html nor content_text");
    assert_valid(&with(|d| {
        d["items"][0] = json!({ "id": "1", "content_html": "<p>x</p>" })
    }));
    assert_invalid(
        &with(|d| d["items"][0]["content_text"] = json!(3)),
        "items[0].content_text",
    );
}

#[test]
fn urls_must_be_absolute() {
    for key in ["home_page_url", "feed_url", "next_url", "icon", "favicon"] {
        assert_invalid(&full_with(|d| d[key] = json!("/feeds/all.json")), key);
        assert_invalid(&full_with(|d| d[key] = json!(7)), key);
    }
    for key in ["url", "external_url", "image", "banner_image"] {
        assert_invalid(
            &full_with(|d| d["items"][0][key] = json!("2026/01/09/ferry")),
            &format!("items[0].{key}"),
        );
        assert_invalid(
            &full_with(|d| d["items"][0][key] = json!("//caspianwire.example/x")),
            &format!("items[0].{key}"),
        );
        assert_invalid(
            &full_with(|d| d["items"][0][key] = json!("javascript:alert(1)")),
            &format!("items[0].{key}"),
        );
    }
    assert_invalid(
        &full_with(|d| d["authors"][0]["avatar"] = json!("a.png")),
        "authors[0].avatar",
    );
    assert_invalid(
        &full_with(|d| d["hubs"][0]["url"] = json!("hub")),
        "hubs[0].url",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["attachments"][0]["url"] = json!("a.mp3")),
        "attachments[0].url",
    );
}

#[test]
fn dates_must_be_rfc3339() {
    for bad in [
        json!("2026-01-14"),
        json!("Wed, 14 Jan 2026 09:00:00 GMT"),
        json!("2026-01-14T09:00:00"),
        json!("14.01.2026 09:00"),
        json!(1768381200),
    ] {
        assert_invalid(
            &full_with(|d| d["items"][0]["date_published"] = bad.clone()),
            "items[0].date_published",
        );
        assert_invalid(
            &full_with(|d| d["items"][0]["date_modified"] = bad.clone()),
            "items[0].date_modified",
        );
    }
    assert_valid(&full_with(|d| {
        d["items"][0]["date_published"] = json!("2026-01-14T09:00:00.250+04:00")
    }));
}

#[test]
fn authors_are_objects_with_a_name_url_or_avatar() {
    assert_invalid(
        &full_with(|d| d["authors"] = json!("Wire desk")),
        "authors: \"Wire desk\" is not an array",
    );
    assert_invalid(
        &full_with(|d| d["authors"] = json!(["Wire desk"])),
        "authors[0]",
    );
    assert_invalid(
        &full_with(|d| d["authors"] = json!([{}])),
        "authors[0]: has none of name, url, avatar",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["authors"] = json!([{ "_x": 1 }])),
        "items[0].authors[0]: has none",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["authors"] = json!([{ "name": 5 }])),
        "items[0].authors[0].name",
    );
    assert_invalid(
        &full_with(|d| {
            d["items"][0]["authors"] = json!([{ "name": "x", "email": "x@example.org" }])
        }),
        "items[0].authors[0].email",
    );
    assert_valid(&full_with(|d| {
        d["items"][0]["authors"] = json!([{ "avatar": "https://a.example/x.png" }])
    }));
    assert_valid(&full_with(|d| d["author"] = json!({ "name": "Wire desk" })));
}

#[test]
fn tags_are_an_array_of_strings() {
    assert_invalid(
        &full_with(|d| d["items"][0]["tags"] = json!("caspian")),
        "items[0].tags",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["tags"] = json!(["caspian", 3])),
        "items[0].tags",
    );
    assert_valid(&full_with(|d| d["items"][0]["tags"] = json!([])));
}

#[test]
fn underscore_extensions_are_allowed_and_other_unknown_keys_are_not() {
    assert_valid(&with(|d| d["_tributary"] = json!({ "output": "all" })));
    assert_valid(&with(|d| {
        d["items"][0]["_tributary"] = json!({ "cluster": 3 })
    }));
    assert_invalid(
        &with(|d| d["generator"] = json!("Tributary")),
        "generator: not a JSON Feed 1.1 key",
    );
    assert_invalid(&with(|d| d["_"] = json!(1)), "_: not a JSON Feed 1.1 key");
    assert_invalid(&with(|d| d["_1x"] = json!(1)), "_1x");
    assert_invalid(
        &with(|d| d["items"][0]["source"] = json!("wire")),
        "items[0].source",
    );
    assert_invalid(
        &with(|d| d["items"][0]["Title"] = json!("t")),
        "items[0].Title",
    );
}

#[test]
fn other_optional_fields_have_their_specified_types() {
    assert_invalid(&full_with(|d| d["expired"] = json!("no")), "expired");
    assert_invalid(&full_with(|d| d["description"] = json!(1)), "description");
    assert_invalid(&full_with(|d| d["hubs"] = json!({})), "hubs");
    assert_invalid(
        &full_with(|d| d["hubs"][0] = json!({ "url": "https://hub.example/" })),
        "hubs[0].type",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["summary"] = json!(["s"])),
        "items[0].summary",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["attachments"][0] = json!({ "url": "https://a.example/a" })),
        "attachments[0].mime_type",
    );
    assert_invalid(
        &full_with(|d| d["items"][0]["attachments"][0]["size_in_bytes"] = json!("1k")),
        "size_in_bytes",
    );
}

// ---------------------------------------------------------------------------------------------
// What Tributary publishes
// ---------------------------------------------------------------------------------------------

/// Validates one served JSON Feed and returns it.
async fn served(demo: &ServedDemo, path: &str) -> Value {
    let reply = demo.get(path).await;
    assert_eq!(reply.status, 200, "{path}");
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/feed+json"), "{path}: {ct}");
    let doc = reply.json();
    let problems = jsonfeed_problems(&doc);
    assert!(problems.is_empty(), "{path}: {problems:#?}");
    doc
}

#[tokio::test]
async fn served_json_feeds_follow_the_json_feed_1_1_rules() {
    let demo = ServedDemo::start().await;
    let all = served(&demo, "/feeds/all.json").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 50);
    for path in [
        "/feeds/all.json?tag=ru",
        "/feeds/all.json?feed=jsonfeed",
        "/feeds/all.json?q=%D0%91%D0%B0%D0%BA%D1%83",
        "/feeds/all.json?since=2026-01-13",
    ] {
        let doc = served(&demo, path).await;
        assert!(!doc["items"].as_array().unwrap().is_empty(), "{path}");
    }
    let mut next = Some("/feeds/all.json?limit=7".to_string());
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages <= 50, "paging ends");
        next = served(&demo, &path).await["next_url"]
            .as_str()
            .map(str::to_string);
    }
    assert!(pages >= 8);
}

#[test]
fn demo_all_json_follows_the_json_feed_1_1_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let args: Vec<String> = vec![
        "demo".into(),
        "--once".into(),
        "--out-dir".into(),
        out.display().to_string(),
        "--fixtures".into(),
        common::fixtures_dir().display().to_string(),
    ];
    let (code, stdout, stderr) = common::run_tributary(dir.path(), &args);
    assert_eq!(code, 0, "demo --once:\n{stdout}\n{stderr}");
    let text = std::fs::read_to_string(out.join("all.json")).expect("the demo writes all.json");
    let doc: Value = serde_json::from_str(&text).expect("all.json is JSON");
    let problems = jsonfeed_problems(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(doc["items"].as_array().unwrap().len(), 50);
}
