//! The merged feed as JSON Feed 1.1, for readers and scripts that prefer JSON.

use serde_json::{Value, json};

use super::MergedFeed;
use crate::model::rfc3339;

/// Renders the merged feed.
pub fn render(feed: &MergedFeed<'_>) -> String {
    let base = feed.base_url.trim_end_matches('/');
    let items: Vec<Value> = feed
        .entries
        .iter()
        .map(|e| {
            let mut item = json!({
                "id": e.uid,
                "title": e.title,
                "content_html": super::body_with_related(e),
                "date_modified": rfc3339(e.updated),
                "_tributary": {
                    "feed": e.feed_id,
                    "source_title": e.feed_title,
                    "source_url": e.feed_url,
                    "cluster": e.cluster_id,
                    "also_reported_by": e.related.iter().map(|r| json!({
                        "feed": r.feed_id, "source_title": r.feed_title, "title": r.title, "url": r.link,
                    })).collect::<Vec<_>>(),
                },
            });
            if let Some(link) = &e.link {
                item["url"] = json!(link);
            }
            if e.content.is_some()
                && let Some(s) = &e.summary
            {
                item["summary"] = json!(crate::clean::plain_text(s));
            }
            if let Some(p) = e.published {
                item["date_published"] = json!(rfc3339(p));
            }
            if !e.authors.is_empty() {
                item["authors"] = e.authors.iter().map(|a| json!({ "name": a })).collect();
            }
            if !e.tags.is_empty() {
                item["tags"] = json!(e.tags);
            }
            item
        })
        .collect();
    let mut doc = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.output.title,
        "home_page_url": format!("{base}/"),
        "feed_url": format!("{base}/feeds/{}.json", feed.output.name),
        "authors": [{ "name": "Tributary" }],
        "items": items,
    });
    if let Some(next) = feed.next {
        let sep = if feed.query_string.is_empty() {
            ""
        } else {
            "&"
        };
        doc["next_url"] = json!(format!(
            "{base}/feeds/{}.json?{}{sep}before={}",
            feed.output.name,
            feed.query_string,
            next.encode()
        ));
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
