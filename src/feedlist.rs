//! Editing `feeds.toml` from the shell without losing what admins wrote in it.
//!
//! `tributary feeds add|remove|import` change the file through toml_edit, so comments,
//! ordering and formatting survive. Every edit is validated as a whole file before it is
//! written (atomically), so a running daemon never sees a broken list.
//!
//! [`html_source_template`] writes the `[[feed]]` entry `feeds add` suggests for a page that
//! has no feed, for the admin to check and paste.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::config::{Config, ConfigErrors, FeedsFile};
use crate::parse::html_source::HtmlSource;

/// A feed to add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFeed {
    pub id: String,
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("a feed with id `{0}` already exists")]
    DuplicateId(String),
    #[error("a feed with this URL already exists: `{0}`")]
    DuplicateUrl(String),
    #[error("no feed with id `{0}`")]
    NoSuchId(String),
    #[error("the edited file would be invalid:\n{0}")]
    Invalid(ConfigErrors),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// `feeds.toml` held for editing.
#[derive(Debug, Clone)]
pub struct FeedList {
    doc: DocumentMut,
    path: std::path::PathBuf,
}

impl FeedList {
    /// Reads the file; a missing file is an empty list (the first `add` creates it).
    pub fn open(path: &Path) -> Result<FeedList, EditError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(EditError::Write {
                    path: path.display().to_string(),
                    source: e,
                });
            }
        };
        let doc = text.parse::<DocumentMut>().map_err(|e| EditError::Syntax {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(FeedList {
            doc,
            path: path.to_path_buf(),
        })
    }

    fn feeds(&self) -> Option<&ArrayOfTables> {
        self.doc.get("feed").and_then(Item::as_array_of_tables)
    }

    /// Ids and URLs as written.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.feeds()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        let s = |k: &str| t.get(k).and_then(Item::as_str).unwrap_or("").to_string();
                        (s("id"), s("url"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An id not yet used, derived from the URL's host (`https://www.oc-media.org/feed/` →
    /// `oc-media`), with `-2`, `-3`… appended when taken.
    pub fn suggest_id(&self, url: &str) -> String {
        let parsed = url::Url::parse(url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        // An IPv4 address is kept whole (`127.0.0.1` → `127-0-0-1`); a name loses its TLD.
        let is_ip = matches!(
            parsed.as_ref().and_then(url::Url::host),
            Some(url::Host::Ipv4(_))
        );
        let labels: Vec<&str> = host
            .split('.')
            .filter(|l| !matches!(*l, "www" | "m" | "feeds" | "rss"))
            .collect();
        let base_labels = if labels.len() > 1 && !is_ip {
            &labels[..labels.len() - 1]
        } else {
            &labels[..]
        };
        let mut base: String = base_labels
            .join("-")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        base = base.trim_matches('-').to_string();
        if base.is_empty() {
            base = "feed".into();
        }
        let taken: Vec<String> = self.entries().into_iter().map(|(id, _)| id).collect();
        if !taken.contains(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|c| !taken.contains(c))
            .unwrap_or(base)
    }

    /// Appends a `[[feed]]` table.
    pub fn add(&mut self, feed: &NewFeed) -> Result<(), EditError> {
        for (id, url) in self.entries() {
            if id == feed.id {
                return Err(EditError::DuplicateId(id));
            }
            if url == feed.url {
                return Err(EditError::DuplicateUrl(url));
            }
        }
        let mut t = Table::new();
        t.insert("id", value(feed.id.as_str()));
        t.insert("url", value(feed.url.as_str()));
        if let Some(title) = &feed.title {
            t.insert("title", value(title.as_str()));
        }
        if !feed.tags.is_empty() {
            t.insert(
                "tags",
                value(toml_edit::Array::from_iter(
                    feed.tags.iter().map(String::as_str),
                )),
            );
        }
        match self
            .doc
            .get_mut("feed")
            .and_then(Item::as_array_of_tables_mut)
        {
            Some(a) => a.push(t),
            None => {
                let mut a = ArrayOfTables::new();
                a.push(t);
                self.doc.insert("feed", Item::ArrayOfTables(a));
            }
        }
        Ok(())
    }

    /// Removes the `[[feed]]` with this id (its comments go with it).
    pub fn remove(&mut self, id: &str) -> Result<(), EditError> {
        let feeds = self
            .doc
            .get_mut("feed")
            .and_then(Item::as_array_of_tables_mut)
            .ok_or_else(|| EditError::NoSuchId(id.to_string()))?;
        let index = feeds
            .iter()
            .position(|t| t.get("id").and_then(Item::as_str) == Some(id))
            .ok_or_else(|| EditError::NoSuchId(id.to_string()))?;
        feeds.remove(index);
        Ok(())
    }

    /// The text the file would have.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Validates the whole edited file as `tributary check` would, then writes it atomically.
    pub fn save(&self, config: &Config) -> Result<FeedsFile, EditError> {
        let text = self.text();
        let feeds = FeedsFile::parse_str(&text, &self.path, config).map_err(EditError::Invalid)?;
        crate::atomic::write_if_changed(&self.path, text.as_bytes()).map_err(|source| {
            EditError::Write {
                path: self.path.display().to_string(),
                source,
            }
        })?;
        Ok(feeds)
    }
}

/// A `[[feed]]` entry reading a web page as an HTML source (`kind = "html"`), as text to paste
/// into `feeds.toml`. With `source`, its selectors; without, placeholders in angle brackets
/// that `tributary check` rejects until they are replaced. Optional keys not set are shown
/// commented out.
pub fn html_source_template(feed: &NewFeed, source: Option<&HtmlSource>) -> String {
    let q = |s: &str| toml_edit::Value::from(s).to_string();
    let mut out = String::from("[[feed]]\n");
    out.push_str(&format!("id = {}\nurl = {}\n", q(&feed.id), q(&feed.url)));
    if let Some(title) = &feed.title {
        out.push_str(&format!("title = {}\n", q(title)));
    }
    if !feed.tags.is_empty() {
        let tags: Vec<String> = feed.tags.iter().map(|t| q(t)).collect();
        out.push_str(&format!("tags = [{}]\n", tags.join(", ")));
    }
    out.push_str("kind = \"html\"\n");
    out.push_str("# full_text = \"<the article body on each entry's page, e.g. article .body>\"\n");
    out.push_str("[feed.html]\n");
    let placeholder = HtmlSource {
        item: "<one element per entry, e.g. .latest-news li>".into(),
        title: "<the title inside it, e.g. a>".into(),
        link: "<the link inside it as selector@attribute, e.g. a@href>".into(),
        ..HtmlSource::default()
    };
    let src = source.unwrap_or(&placeholder);
    for (key, value) in [
        ("item", &src.item),
        ("title", &src.title),
        ("link", &src.link),
    ] {
        out.push_str(&format!("{key} = {}\n", q(value)));
    }
    let optional = [
        ("date", &src.date, "<e.g. .date or time@datetime>"),
        (
            "date_format",
            &src.date_format,
            "<strftime, e.g. %d.%b.%Y for 10.Jan.2026; without it dates are recognised>",
        ),
        ("summary", &src.summary, "<e.g. p>"),
        ("author", &src.author, "<e.g. .author>"),
        ("image", &src.image, "<e.g. img@src>"),
    ];
    for (key, value, example) in optional {
        match value {
            Some(v) => out.push_str(&format!("{key} = {}\n", q(v))),
            None => out.push_str(&format!("# {key} = {}\n", q(example))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Sources for the Caucasus desk.\n[defaults]\nschedule = \"*/30 * * * *\"\n\n# Armenian outlet, English edition\n[[feed]]\nid = \"hetq-en\"   # keep\nurl = \"https://hetq.am/en/rss\"\n\n# Georgian\n[[feed]]\nid = \"civil-ge\"\nurl = \"https://civil.ge/feed\"\ntags = [\"en\", \"georgia\"]\n";

    fn list() -> (tempfile::TempDir, FeedList) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("feeds.toml");
        std::fs::write(&p, FILE).unwrap();
        let l = FeedList::open(&p).unwrap();
        (dir, l)
    }

    #[test]
    fn add_and_remove_keep_comments_and_order() {
        let (_d, mut l) = list();
        let id = l.suggest_id("https://www.oc-media.org/feed/");
        assert_eq!(id, "oc-media");
        l.add(&NewFeed {
            id,
            url: "https://oc-media.org/feed/".into(),
            title: Some("OC Media".into()),
            tags: vec!["en".into()],
        })
        .unwrap();
        l.remove("hetq-en").unwrap();
        let text = l.text();
        assert!(
            text.starts_with("# Sources for the Caucasus desk.\n[defaults]"),
            "{text}"
        );
        assert!(!text.contains("hetq"), "{text}");
        assert!(
            text.contains("# Georgian\n[[feed]]\nid = \"civil-ge\""),
            "{text}"
        );
        assert!(text.trim_end().ends_with("id = \"oc-media\"\nurl = \"https://oc-media.org/feed/\"\ntitle = \"OC Media\"\ntags = [\"en\"]"), "{text}");
        let cfg = Config::defaults(Path::new("."));
        let saved = l.save(&cfg).unwrap();
        assert_eq!(
            saved
                .feeds
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>(),
            ["civil-ge", "oc-media"]
        );
    }

    #[test]
    fn duplicates_and_invalid_results_are_refused_and_nothing_is_written() {
        let (dir, mut l) = list();
        assert!(matches!(
            l.add(&NewFeed {
                id: "civil-ge".into(),
                url: "https://x.example/".into(),
                ..Default::default()
            }),
            Err(EditError::DuplicateId(_))
        ));
        assert!(matches!(
            l.add(&NewFeed {
                id: "x".into(),
                url: "https://civil.ge/feed".into(),
                ..Default::default()
            }),
            Err(EditError::DuplicateUrl(_))
        ));
        assert!(matches!(l.remove("nope"), Err(EditError::NoSuchId(_))));
        l.add(&NewFeed {
            id: "Bad Id".into(),
            url: "https://x.example/".into(),
            ..Default::default()
        })
        .unwrap();
        let cfg = Config::defaults(Path::new("."));
        assert!(matches!(l.save(&cfg), Err(EditError::Invalid(_))));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("feeds.toml")).unwrap(),
            FILE
        );
    }

    fn parse_feeds(text: &str) -> Result<FeedsFile, ConfigErrors> {
        let cfg = Config::defaults(Path::new("."));
        FeedsFile::parse_str(text, Path::new("feeds.toml"), &cfg)
    }

    #[test]
    fn an_html_template_with_selectors_is_a_valid_feed_as_pasted() {
        let mut src = HtmlSource::new(".latest-news li", "a", "a@href");
        src.date = Some(".date".into());
        src.date_format = Some("%d.%b.%Y".into());
        let feed = NewFeed {
            id: "caucasus-analysis".into(),
            url: "https://caucasus-analysis.example/en/news/".into(),
            title: Some("Caucasus \"Analysis\"".into()),
            tags: vec!["en".into(), "caucasus".into()],
        };
        let text = html_source_template(&feed, Some(&src));
        assert!(
            text.contains("[feed.html]\nitem = \".latest-news li\"\ntitle = \"a\"\nlink = \"a@href\"\ndate = \".date\"\ndate_format = \"%d.%b.%Y\"\n# summary = "),
            "{text}"
        );
        let parsed = parse_feeds(&format!("{FILE}\n{text}")).expect("valid as pasted");
        let added = parsed.feeds.last().unwrap();
        assert_eq!(added.id, "caucasus-analysis");
        assert_eq!(added.title.as_deref(), Some("Caucasus \"Analysis\""));
        assert_eq!(added.tags, ["en", "caucasus"]);
        assert_eq!(
            added.source,
            crate::config::SourceKind::Html(src),
            "the selectors read back as written"
        );
    }

    #[test]
    fn an_html_template_with_placeholders_is_refused_until_filled_in() {
        let feed = NewFeed {
            id: "x".into(),
            url: "https://x.example/news".into(),
            ..Default::default()
        };
        let text = html_source_template(&feed, None);
        assert!(text.contains("item = \"<one element per entry"), "{text}");
        let errors = parse_feeds(&text).expect_err("placeholders are not selectors");
        assert!(errors.to_string().contains("is not valid CSS"), "{errors}");
    }

    #[test]
    fn suggested_ids_avoid_taken_ones() {
        let (_d, l) = list();
        assert_eq!(l.suggest_id("https://civil.ge/en/feed"), "civil");
        let (_d2, mut l2) = list();
        l2.add(&NewFeed {
            id: "civil".into(),
            url: "https://civil.ge/x".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l2.suggest_id("https://civil.ge/en/feed"), "civil-2");
        assert_eq!(l2.suggest_id("not a url"), "feed");
        assert_eq!(l2.suggest_id("http://127.0.0.1:8080/news/"), "127-0-0-1");
    }
}
