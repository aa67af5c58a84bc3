//! Is this the same story? Title and text comparison across outlets.
//!
//! Outlets republish each other with small changes: a prefix ("Analysis:"), an outlet suffix
//! (" - Reuters", " | Trend.az"), other quote styles, a reordered clause, one word changed, a
//! shorter summary. Titles and bodies are normalized (Unicode NFKC, case folded, punctuation
//! and quote styles unified, outlet affixes dropped), split into distinct tokens with light
//! stemming that works for Cyrillic and Latin script, and compared by set overlap.
//!
//! Folding two different stories is worse than missing a duplicate (an analyst loses an
//! event), so every rule asks for agreement from both title and body where both exist.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

/// Words too common to say anything about a story (English, Russian, Azerbaijani, Ukrainian).
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "from",
    "as",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "after",
    "over",
    "into",
    "about",
    "amid",
    "says",
    "said",
    "will",
    "has",
    "have",
    "had",
    "not",
    "but",
    "than",
    "how",
    "why",
    "what",
    "who",
    "new",
    "и",
    "в",
    "во",
    "на",
    "с",
    "со",
    "по",
    "к",
    "ко",
    "о",
    "об",
    "от",
    "до",
    "за",
    "из",
    "у",
    "не",
    "что",
    "как",
    "для",
    "это",
    "его",
    "ее",
    "её",
    "их",
    "при",
    "же",
    "ли",
    "а",
    "но",
    "или",
    "также",
    "так",
    "уже",
    "ve",
    "və",
    "ilə",
    "bu",
    "da",
    "də",
    "üçün",
    "bir",
    "i",
    "й",
    "та",
    "що",
    "як",
    "від",
    "до",
    "про",
];

/// Title prefixes that label a story rather than name it.
const LABEL_PREFIXES: &[&str] = &[
    "analysis",
    "opinion",
    "update",
    "updated",
    "breaking",
    "exclusive",
    "video",
    "photo",
    "photos",
    "watch",
    "live",
    "interview",
    "explainer",
    "factbox",
    "comment",
    "editorial",
    "анализ",
    "мнение",
    "срочно",
    "видео",
    "фото",
    "эксклюзив",
    "обновлено",
    "интервью",
    "молния",
    "комментарий",
];

/// A story's comparable form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoryText {
    /// The normalized title as one string (exact-title matching).
    pub title_key: String,
    pub title: HashSet<String>,
    pub body: HashSet<String>,
}

impl StoryText {
    /// Builds the comparable form of a title and its plain-text body (summary or content).
    pub fn new(title: &str, body: &str) -> StoryText {
        let title_tokens = title_tokens(title);
        let body: HashSet<String> = tokens(&normalize(body)).into_iter().take(80).collect();
        StoryText {
            title_key: title_tokens.join(" "),
            title: title_tokens.into_iter().collect(),
            body,
        }
    }
}

/// Unicode NFKC, lower case, every quote, dash and punctuation mark turned into a space,
/// `ё` folded into `е`.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkc().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        if c != ' ' || !out.ends_with(' ') {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// The normalized title with outlet suffixes and label prefixes removed, for exact matching.
pub fn title_key(title: &str) -> String {
    title_tokens(title).join(" ")
}

fn title_tokens(raw: &str) -> Vec<String> {
    tokens(&strip_label_prefix(&normalize(strip_outlet_suffix(raw))))
}

/// Drops a leading label such as "Analysis:" or "UPDATE 2-" from a normalized title.
fn strip_label_prefix(normalized: &str) -> String {
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut start = 0;
    while start < words.len()
        && (LABEL_PREFIXES.contains(&words[start])
            || (start > 0
                && words[start].bytes().all(|b| b.is_ascii_digit())
                && LABEL_PREFIXES.contains(&words[start - 1])))
    {
        start += 1;
    }
    if words.len() - start < 3 {
        start = 0;
    }
    words[start..].join(" ")
}

/// Removes an outlet suffix such as " - Reuters" or " | Trend.az" from a raw title.
pub fn strip_outlet_suffix(title: &str) -> &str {
    for sep in [" - ", " | ", " — ", " – ", " :: "] {
        if let Some(i) = title.rfind(sep) {
            let (head, tail) = (&title[..i], &title[i + sep.len()..]);
            if tail.split_whitespace().count() <= 3 && head.split_whitespace().count() >= 4 {
                return head;
            }
        }
    }
    title
}

/// Distinct-meaning tokens: stopwords dropped, light stemming applied.
fn tokens(normalized: &str) -> Vec<String> {
    normalized
        .split(' ')
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(stem)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Light stemming: the first six letters of a word (five for Cyrillic, whose endings are longer
/// and stems shorter), which folds most inflection in Russian and English without a dictionary.
fn stem(word: &str) -> String {
    let cyrillic = word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    let keep = if cyrillic { 5 } else { 6 };
    let mut s: String = word.chars().take(keep).collect();
    if !cyrillic && s.len() > 3 && s.ends_with('s') && word.chars().count() <= keep {
        s.pop();
    }
    s
}

fn overlap(a: &HashSet<String>, b: &HashSet<String>) -> (usize, usize, usize) {
    let shared = a.intersection(b).count();
    (shared, a.len() + b.len() - shared, a.len().min(b.len()))
}

/// How alike two stories are, and whether they are the same story at `threshold`
/// (`[dedup] title_similarity`). Returns the score when they are.
pub fn same_story(a: &StoryText, b: &StoryText, threshold: f64) -> Option<f64> {
    if a.title.is_empty() || b.title.is_empty() {
        return None;
    }
    let (shared, union, smaller) = overlap(&a.title, &b.title);
    let title_jaccard = shared as f64 / union as f64;
    let title_containment = shared as f64 / smaller as f64;
    let body = (a.body.len() >= 5 && b.body.len() >= 5).then(|| {
        let (s, u, m) = overlap(&a.body, &b.body);
        (s as f64 / u as f64, s as f64 / m as f64)
    });
    let exact_title = a.title_key == b.title_key && a.title.len() >= 3;
    let score = match body {
        // Same title, and the bodies do not contradict it.
        _ if exact_title && body.is_none_or(|(_, c)| c >= 0.2) => 1.0,
        // Similar titles, agreeing bodies (or no bodies to compare).
        None if title_jaccard >= threshold.max(0.75) => title_jaccard,
        Some((j, c)) if title_jaccard >= threshold && (j >= 0.25 || c >= 0.5) => title_jaccard,
        // One title inside the other (prefix or suffix added, truncated) with agreeing bodies.
        Some((j, c)) if title_containment >= 0.85 && smaller >= 4 && (j >= 0.3 || c >= 0.6) => {
            title_containment
        }
        // The same text under a reworded title.
        Some((j, c)) if (j >= 0.6 || c >= 0.85) && title_jaccard >= 0.3 => j.max(c),
        _ => return None,
    };
    Some(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(title: &str, body: &str) -> StoryText {
        StoryText::new(title, body)
    }

    const BODY: &str = "Kremlin spokesman Dmitry Peskov confirmed that diplomats from both countries are actively working to preserve allied relations and are in constant contact amid mounting pressure from the West";

    #[test]
    fn republished_variants_are_the_same_story() {
        let a = story(
            "An Alliance Without Illusions: Why Russia Needs Azerbaijan",
            BODY,
        );
        for t in [
            "Why Russia needs Azerbaijan: an alliance without illusions - Wire",
            "Analysis: An Alliance Without Illusions: Why Russia Needs Azerbaijan",
            "An alliance without illusions: why Russia needs Azerbaijan | Trend.az",
            "«An Alliance Without Illusions»: Why Russia Needs Azerbaijan",
        ] {
            let b = story(t, &BODY[..120]);
            assert!(same_story(&a, &b, 0.6).is_some(), "{t}");
        }
    }

    #[test]
    fn same_topic_different_event_is_not_folded() {
        let a = story(
            "Aliyev meets Putin in Moscow to discuss the Middle Corridor",
            BODY,
        );
        let b = story(
            "Aliyev meets Erdogan in Ankara to discuss gas supplies",
            "President Ilham Aliyev held talks with Recep Tayyip Erdogan on gas supplies to Europe via the Southern Gas Corridor and new pipeline capacity",
        );
        assert_eq!(same_story(&a, &b, 0.6), None);
        let follow_up = story(
            "Peskov: Moscow and Baku to hold consultations next week",
            "Consultations between the foreign ministries of Russia and Azerbaijan will take place next week in Baku, the Kremlin said on Thursday, a day after talks",
        );
        let first = story(
            "Peskov: Moscow and Baku actively working to preserve alliance",
            BODY,
        );
        assert_eq!(same_story(&first, &follow_up, 0.6), None);
    }

    #[test]
    fn cyrillic_titles_fold_across_inflection_and_quotes() {
        let a = story(
            "Песков: Москва и Баку активно работают над сохранением союзнических отношений",
            "",
        );
        let b = story(
            "Песков: Москва и Баку активно работают над сохранением «союзнических» отношений — ТАСС",
            "",
        );
        assert!(same_story(&a, &b, 0.6).is_some());
        assert_eq!(normalize("Ёлка «Новая»"), "елка новая");
    }

    #[test]
    fn outlet_suffix_needs_a_long_enough_title() {
        assert_eq!(
            strip_outlet_suffix("Baku talks resume - Reuters"),
            "Baku talks resume - Reuters"
        );
        assert_eq!(
            strip_outlet_suffix("Baku and Yerevan talks resume - Reuters"),
            "Baku and Yerevan talks resume"
        );
        assert_eq!(
            title_key("UPDATE 2 - Baku and Yerevan talks resume"),
            title_key("Baku and Yerevan talks resume")
        );
    }
}
