//! Telling entries apart and recognising the same entry again.
//!
//! Within a feed an entry is known by its key: the feed's guid/id, else its canonical link,
//! else a hash of title and content ([`entry_key`]). The key, with a `UNIQUE(feed_id,
//! entry_key)` constraint in the store, is what keeps a re-fetched item from being stored
//! twice. Each stored entry also gets a stable Atom id ([`entry_uid`]) fixed at first sight.

pub mod canonical;
pub mod index;
pub mod story;

use sha2::{Digest, Sha256};

use crate::model::NewEntry;

pub use canonical::canonical_url;

/// How a feed's entries are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    /// guid/id when the feed gives one (the normal case).
    Guid,
    /// The feed's guids proved not unique: links (then content hash) are used instead.
    Link,
}

/// The key identifying `entry` within its feed.
pub fn entry_key(entry: &NewEntry, mode: KeyMode) -> String {
    if entry.id_from_feed && mode == KeyMode::Guid {
        return format!("id:{}", entry.id);
    }
    if let Some(link) = &entry.link {
        return format!("link:{}", canonical_url(link));
    }
    format!(
        "hash:{}",
        content_hash(
            &entry.title,
            entry.content.as_deref().or(entry.summary.as_deref())
        )
    )
}

/// True when one batch holds several different items under one guid: such a feed must be keyed
/// by link instead, or its items would overwrite each other.
pub fn guids_are_ambiguous(entries: &[NewEntry]) -> bool {
    let mut seen: std::collections::HashMap<&str, (&Option<String>, &str)> =
        std::collections::HashMap::new();
    for e in entries.iter().filter(|e| e.id_from_feed) {
        if let Some((link, title)) = seen.insert(&e.id, (&e.link, &e.title))
            && (link != &e.link || title != e.title)
        {
            return true;
        }
    }
    false
}

/// Hex SHA-256 of a title and body, the fallback identity of an item with neither guid nor link.
pub fn content_hash(title: &str, body: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0u8]);
    h.update(body.unwrap_or("").as_bytes());
    hex(&h.finalize()[..16])
}

/// Hash of everything an update can change, to tell a changed entry from an unchanged one.
pub fn revision_hash(entry: &NewEntry) -> String {
    let mut h = Sha256::new();
    for part in [
        Some(entry.title.as_str()),
        entry.link.as_deref(),
        entry.summary.as_deref(),
        entry.content.as_deref(),
    ] {
        h.update(part.unwrap_or("").as_bytes());
        h.update([0u8]);
    }
    for a in &entry.authors {
        h.update(a.as_bytes());
        h.update([1u8]);
    }
    hex(&h.finalize()[..16])
}

/// The stable Atom id of an entry: a name-based UUID (`urn:uuid:…`) of its feed id and key,
/// so it never changes across runs and never collides between feeds.
pub fn entry_uid(feed_id: &str, entry_key: &str) -> String {
    uuid_urn(&["entry", feed_id, entry_key])
}

/// A name-based UUID URN from `parts` (SHA-256, version and variant bits set as for v5).
pub fn uuid_urn(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"tributary");
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, from_feed: bool, link: Option<&str>, title: &str) -> NewEntry {
        NewEntry {
            id: id.into(),
            id_from_feed: from_feed,
            title: title.into(),
            link: link.map(str::to_string),
            published: None,
            updated: None,
            summary: None,
            content: Some("body".into()),
            authors: vec![],
        }
    }

    #[test]
    fn key_prefers_guid_then_canonical_link_then_hash() {
        assert_eq!(
            entry_key(
                &entry("g1", true, Some("https://a.example/x"), "t"),
                KeyMode::Guid
            ),
            "id:g1"
        );
        assert_eq!(
            entry_key(
                &entry(
                    "g1",
                    true,
                    Some("https://www.a.example/x?utm_source=rss"),
                    "t"
                ),
                KeyMode::Link
            ),
            "link:https://a.example/x"
        );
        let k = entry_key(&entry("", false, None, "t"), KeyMode::Guid);
        assert!(k.starts_with("hash:") && k.len() == 5 + 32, "{k}");
    }

    #[test]
    fn uid_is_a_stable_uuid_urn_per_feed() {
        let a = entry_uid("wire", "id:1");
        assert_eq!(a, entry_uid("wire", "id:1"));
        assert_ne!(a, entry_uid("other", "id:1"));
        assert!(a.starts_with("urn:uuid:") && a.len() == 45, "{a}");
        assert_eq!(&a[23..24], "5");
    }

    #[test]
    fn repeated_guid_with_other_items_is_ambiguous() {
        let same = [
            entry("g", true, Some("https://a/1"), "x"),
            entry("g", true, Some("https://a/1"), "x"),
        ];
        assert!(!guids_are_ambiguous(&same));
        let clash = [
            entry("g", true, Some("https://a/1"), "x"),
            entry("g", true, Some("https://a/2"), "y"),
        ];
        assert!(guids_are_ambiguous(&clash));
    }
}
