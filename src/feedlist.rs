//! Editing `feeds.toml` from the shell without losing what admins wrote in it.
//!
//! `tributary feeds add|remove|import` change the file through toml_edit, so comments,
//! ordering and formatting survive. Every edit is validated as a whole file before it is
//! written (atomically), so a running daemon never sees a broken list.

use std::path::Path;

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use crate::config::{Config, ConfigErrors, FeedsFile};

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
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let labels: Vec<&str> = host
            .split('.')
            .filter(|l| !matches!(*l, "www" | "m" | "feeds" | "rss"))
            .collect();
        let base_labels = if labels.len() > 1 {
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
    }
}
