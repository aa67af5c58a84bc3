//! The sources as OPML 2.0, the format every reader imports subscriptions from, and reading
//! OPML back (`tributary feeds import`).

use std::fmt::Write;

use super::xml_escape;
use crate::config::FeedsFile;
use crate::model::FeedRecord;

/// Renders the configured feeds; `records` supply each feed's own title and site link.
pub fn render(
    feeds: &FeedsFile,
    records: &[FeedRecord],
    title: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head>\n",
    );
    let _ = writeln!(out, "    <title>{}</title>", xml_escape(title));
    let _ = writeln!(out, "    <dateCreated>{}</dateCreated>", now.to_rfc2822());
    out.push_str("  </head>\n  <body>\n");
    for f in &feeds.feeds {
        let rec = records.iter().find(|r| r.id == f.id);
        let name = f.display_title(rec.and_then(|r| r.title.as_deref()));
        let _ = write!(
            out,
            "    <outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\"",
            xml_escape(name),
            xml_escape(f.url.as_str())
        );
        if let Some(site) = rec.and_then(|r| r.site_link.as_deref()) {
            let _ = write!(out, " htmlUrl=\"{}\"", xml_escape(site));
        }
        if !f.tags.is_empty() {
            let _ = write!(out, " category=\"{}\"", xml_escape(&f.tags.join(",")));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// A subscription found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub title: Option<String>,
    /// Categories: the outline's `category` attribute and the titles of enclosing folders.
    pub tags: Vec<String>,
}

/// Why an OPML file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid OPML at byte {position}: {message}")]
pub struct OpmlError {
    pub position: u64,
    pub message: String,
}

/// Every outline with an `xmlUrl`, in document order, with the folder names above it as tags.
pub fn parse(text: &str) -> Result<Vec<Subscription>, OpmlError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut subs = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| OpmlError {
            position: reader.buffer_position(),
            message: e.to_string(),
        })?;
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "outline" => {
                let attr = |name: &str| -> Option<String> {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.trim().to_string())
                        })
                        .filter(|v| !v.is_empty())
                };
                let title = attr("title").or_else(|| attr("text"));
                let folder = match attr("xmlUrl") {
                    Some(url) => {
                        let mut tags: Vec<String> = folders.iter().flatten().cloned().collect();
                        if let Some(cats) = attr("category") {
                            tags.extend(
                                cats.split([',', '/'])
                                    .map(str::trim)
                                    .filter(|c| !c.is_empty())
                                    .map(str::to_lowercase),
                            );
                        }
                        tags.dedup();
                        subs.push(Subscription { url, title, tags });
                        None
                    }
                    None => title.map(|t| t.to_lowercase()),
                };
                if is_start {
                    folders.push(folder);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "outline" => {
                folders.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(subs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_with_feeds_are_read_with_their_folders_as_tags() {
        let opml = r#"<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
            <outline text="Caucasus"><outline text="OC Media" xmlUrl="https://oc-media.org/feed/" category="en"/>
              <outline text="Georgia"><outline title="Civil.ge" text="Civil" xmlUrl="https://civil.ge/feed"/></outline></outline>
            <outline text="Fergana &amp; co" type="rss" xmlUrl="https://fergana.agency/rss/"/>
            <outline text="empty folder"/></body></opml>"#;
        let subs = parse(opml).unwrap();
        assert_eq!(subs.len(), 3);
        assert_eq!(subs[0].tags, vec!["caucasus", "en"]);
        assert_eq!(subs[1].title.as_deref(), Some("Civil.ge"));
        assert_eq!(subs[1].tags, vec!["caucasus", "georgia"]);
        assert_eq!(subs[2].title.as_deref(), Some("Fergana & co"));
        assert!(subs[2].tags.is_empty());
        assert!(
            parse("<opml><body><outline").is_err()
                || parse("<opml><body><outline").unwrap().is_empty()
        );
    }
}
