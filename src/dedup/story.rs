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

use std::hash::BuildHasher;
use std::sync::OnceLock;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// A set of normalized tokens. Hashed with foldhash, seeded per process: several times faster
/// than the standard SipHash on short words, which every entry's story form hashes by the
/// hundred, and still not predictable from outside.
pub type TokenSet = foldhash::HashSet<String>;

/// The distinct tokens of a body, as sorted 64-bit hashes. Bodies are only ever compared by
/// how many tokens they share, so a hash stands in for each word: no string to allocate per
/// token, and counting shared tokens is one merge of two sorted lists. The seed is fixed, so
/// equal words hash alike in every story form of the process; two of a body's few dozen words
/// sharing a hash is a chance of about one in 10^16.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyTokens(Vec<u64>);

impl BodyTokens {
    fn new<'t>(tokens: impl Iterator<Item = &'t str>) -> BodyTokens {
        const HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x7a1b);
        let mut hashes: Vec<u64> = tokens.map(|t| HASHER.hash_one(t)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        BodyTokens(hashes)
    }

    /// Distinct tokens.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Shared tokens, tokens in either body, and the smaller body's tokens.
    fn overlap(&self, other: &BodyTokens) -> (usize, usize, usize) {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut shared) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        (shared, a.len() + b.len() - shared, a.len().min(b.len()))
    }
}

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
    pub title: TokenSet,
    /// The distinct tokens of the first 80 words of the body that are not stopwords.
    pub body: BodyTokens,
    /// The runs of digits in the title: counts, versions, dates, issue numbers.
    pub numbers: TokenSet,
    /// Title tokens written with a capital letter (people, places, organisations), when the
    /// title's capitals say anything: empty for Title Case and ALL CAPS headlines.
    pub names: TokenSet,
}

impl StoryText {
    /// Builds the comparable form of a title and its plain-text body (summary or content).
    pub fn new(title: &str, body_text: &str) -> StoryText {
        let title_tokens = title_tokens(title);
        let body = BodyTokens::new(tokens(&normalize(body_text)).take(80));
        let numbers = title_tokens
            .iter()
            .flat_map(|t| t.split(|c: char| !c.is_ascii_digit()))
            .filter(|run| !run.is_empty())
            .map(str::to_string)
            .collect();
        let token_set: TokenSet = title_tokens.iter().cloned().collect();
        let names = capitalised_tokens(strip_outlet_suffix(title), body_text)
            .into_iter()
            .filter(|t| token_set.contains(t))
            .collect();
        StoryText {
            title_key: title_tokens.join(" "),
            title: token_set,
            body,
            numbers,
            names,
        }
    }

    /// True when each title carries a number the other lacks ("Pillar 2" / "Pillar 3",
    /// "v201603" / "v201605", "kills 5" / "kills 12"): another issue, release or count, so
    /// another story, however alike the rest of the words are.
    fn numbers_conflict(&self, other: &StoryText) -> bool {
        self.numbers.difference(&other.numbers).next().is_some()
            && other.numbers.difference(&self.numbers).next().is_some()
    }

    /// True when each title names someone or somewhere the other does not mention
    /// ("Kenyan opposition figure…" / "Zambian opposition figure…", "Ереван: в метро…" /
    /// "Тбилиси: в метро…"): the same kind of event with another party. Press-office and agency
    /// copy reuses one template for such events, so bodies cannot tell them apart.
    fn names_conflict(&self, other: &StoryText) -> bool {
        let unmatched = |names: &TokenSet, title: &TokenSet| {
            names.iter().any(|n| !title.iter().any(|t| same_name(n, t)))
        };
        unmatched(&self.names, &other.title) && unmatched(&other.names, &self.title)
    }
}

/// Two stems of one name: equal, one a prefix of the other, or sharing five letters
/// ("kenya"/"kenyan", "iraq"/"iraqi", "austra"/"austra").
fn same_name(a: &str, b: &str) -> bool {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 5 || common == a.chars().count() || common == b.chars().count()
}

/// Tokens of the words of `raw_title` that start with a capital letter, or nothing when the
/// capitals carry no information: every longer word after the first is capitalised (Title
/// Case, ALL CAPS) or the script has no case. The first word is capitalised by convention, so
/// it counts only when `body` never writes it in lower case ("Announcing…" is no name when the
/// text says "we announce").
fn capitalised_tokens(raw_title: &str, body: &str) -> Vec<String> {
    let words: Vec<&str> = raw_title.split_whitespace().collect();
    let starts_upper = |w: &str| {
        w.chars()
            .find(|c| c.is_alphanumeric())
            .is_some_and(char::is_uppercase)
    };
    let starts_lower = |w: &str| {
        w.chars()
            .find(|c| c.is_alphanumeric())
            .is_some_and(char::is_lowercase)
    };
    let informative = words
        .iter()
        .skip(1)
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .any(|w| starts_lower(w));
    if !informative {
        return Vec::new();
    }
    let common_in_body = |token: &str| {
        body.split_whitespace()
            .filter(|w| starts_lower(w))
            .any(|w| {
                starts_with_folded(w.trim_start_matches(|c: char| !c.is_alphanumeric()), token)
            })
    };
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| starts_upper(w))
        .flat_map(|(i, w)| {
            tokens(&normalize(w))
                .map(move |t| (i, t.to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|(i, t)| t.chars().count() >= 2 && (*i > 0 || !common_in_body(t)))
        .map(|(_, t)| t)
        .collect()
}

/// True when `word`, lower-cased with `ё` folded, starts with the normalized `prefix`.
fn starts_with_folded(word: &str, prefix: &str) -> bool {
    let mut folded = word.chars().flat_map(char::to_lowercase).map(fold_yo);
    prefix.chars().all(|p| folded.next() == Some(p))
}

fn fold_yo(c: char) -> char {
    if c == 'ё' { 'е' } else { c }
}

/// Unicode NFKC, lower case, every quote, dash and punctuation mark turned into a space,
/// `ё` folded into `е`. Text already in NFKC (nearly all feed text) skips the normalizer.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        push_folded(&mut out, s.chars());
    } else {
        push_folded(&mut out, s.nfkc());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Appends `chars` lower-cased, with one space for every run of other characters.
fn push_folded(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut push = |c: char, alphanumeric: bool| {
        if alphanumeric {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    for c in chars {
        // ASCII, most of every feed's text, without the Unicode tables.
        if c.is_ascii() {
            push(c.to_ascii_lowercase(), c.is_ascii_alphanumeric());
        } else {
            for c in c.to_lowercase() {
                push(fold_yo(c), c.is_alphanumeric());
            }
        }
    }
}

/// The distinct title tokens of `title`, as [`StoryText::title`] holds them, without building
/// the rest of the story.
pub fn title_token_set(title: &str) -> TokenSet {
    title_tokens(title).into_iter().collect()
}

/// The normalized title with outlet suffixes and label prefixes removed, for exact matching.
pub fn title_key(title: &str) -> String {
    title_tokens(title).join(" ")
}

fn title_tokens(raw: &str) -> Vec<String> {
    tokens(&strip_label_prefix(&normalize(strip_outlet_suffix(raw))))
        .map(str::to_string)
        .collect()
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
fn tokens(normalized: &str) -> impl Iterator<Item = &str> + '_ {
    normalized
        .split(' ')
        .filter(|w| !w.is_empty() && !is_stopword(w))
        .map(stem)
        .filter(|w| !w.is_empty())
}

fn is_stopword(word: &str) -> bool {
    static SET: OnceLock<foldhash::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect())
        .contains(word)
}

/// Light stemming: the first six letters of a word (five for Cyrillic, whose endings are longer
/// and stems shorter), which folds most inflection in Russian and English without a dictionary.
/// A token with a digit in it (a count, year, version or model) is kept whole: `v201603` and
/// `v201605` are different releases, not one stem.
fn stem(word: &str) -> &str {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_digit()) {
            return word;
        }
        let end = word.len().min(6);
        return if end > 3 && word.as_bytes()[end - 1] == b's' && end == word.len() {
            &word[..end - 1]
        } else {
            &word[..end]
        };
    }
    if word.chars().any(|c| c.is_ascii_digit()) {
        return word;
    }
    let cyrillic = word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    let keep = if cyrillic { 5 } else { 6 };
    let end = word.char_indices().nth(keep).map_or(word.len(), |(i, _)| i);
    let s = &word[..end];
    if !cyrillic && s.len() > 3 && s.ends_with('s') && end == word.len() {
        &s[..s.len() - 1]
    } else {
        s
    }
}

fn overlap(a: &TokenSet, b: &TokenSet) -> (usize, usize, usize) {
    let shared = a.intersection(b).count();
    (shared, a.len() + b.len() - shared, a.len().min(b.len()))
}

/// Whether two titles sharing `shared` distinct tokens, of `a_len` and `b_len` tokens, can be
/// the same story at `threshold` at all, whatever their bodies say: the title bound of every
/// rule of [`same_story`]. The candidate index uses it to skip entries without loading them.
pub fn titles_may_match(shared: usize, a_len: usize, b_len: usize, threshold: f64) -> bool {
    if shared == 0 || a_len == 0 || b_len == 0 {
        return false;
    }
    let union = a_len + b_len - shared;
    let smaller = a_len.min(b_len);
    let jaccard = shared as f64 / union as f64;
    let containment = shared as f64 / smaller as f64;
    // The weakest title rules: a reworded title over the same text (0.3), or the threshold
    // itself when it is set lower (the same title passes it too); one title inside the other.
    jaccard >= threshold.min(0.3) || (containment >= 0.85 && smaller >= 4)
}

/// How alike two stories are, and whether they are the same story at `threshold`
/// (`[dedup] title_similarity`). Returns the score when they are.
pub fn same_story(a: &StoryText, b: &StoryText, threshold: f64) -> Option<f64> {
    if a.title.is_empty() || b.title.is_empty() || a.numbers_conflict(b) || a.names_conflict(b) {
        return None;
    }
    let (shared, union, smaller) = overlap(&a.title, &b.title);
    let title_jaccard = shared as f64 / union as f64;
    let title_containment = shared as f64 / smaller as f64;
    let body = (a.body.len() >= 5 && b.body.len() >= 5).then(|| {
        let (s, u, m) = a.body.overlap(&b.body);
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

    /// Token sets of `a_len` and `b_len` tokens sharing `shared`, with the same body.
    fn pair(shared: usize, a_len: usize, b_len: usize, body: &str) -> (StoryText, StoryText) {
        // Three-letter words: shorter than a stem, never a stopword, no capitals, no digits.
        let word = |side: &str, i: usize| format!("{side}{}x", char::from(b'a' + i as u8));
        let a: Vec<String> = (0..a_len)
            .map(|i| {
                if i < shared {
                    word("k", i)
                } else {
                    word("l", i)
                }
            })
            .collect();
        let b: Vec<String> = (0..b_len)
            .map(|i| {
                if i < shared {
                    word("k", i)
                } else {
                    word("r", i)
                }
            })
            .collect();
        (story(&a.join(" "), body), story(&b.join(" "), body))
    }

    #[test]
    fn title_bound_never_rejects_a_pair_that_same_story_folds() {
        let mut folded = 0;
        for threshold in [0.1, 0.3, 0.6, 0.9] {
            for a_len in 1..=12 {
                for b_len in 1..=12 {
                    for shared in 0..=a_len.min(b_len) {
                        for body in [BODY, ""] {
                            let (a, b) = pair(shared, a_len, b_len, body);
                            assert_eq!((a.title.len(), b.title.len()), (a_len, b_len));
                            if same_story(&a, &b, threshold).is_some() {
                                folded += 1;
                                assert!(
                                    titles_may_match(shared, a_len, b_len, threshold),
                                    "{shared} of {a_len}/{b_len} at {threshold} folds but is skipped"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(folded > 100, "the sweep reaches the folding rules");
        assert!(!titles_may_match(1, 8, 8, 0.6), "one shared word of eight");
        assert!(!titles_may_match(0, 3, 3, 0.0));
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
        assert_eq!(
            normalize("Ｂａｋｕ — Azərbaycan's GDP, 2026!"),
            "baku azərbaycan s gdp 2026"
        );
        assert_eq!(normalize("  Baku's GDP,\t2026!  "), "baku s gdp 2026");
        assert_eq!(normalize(" -- "), "");
        assert_eq!(
            ["exports", "gas", "talks", "v201603", "азербайджан"].map(stem),
            ["export", "gas", "talk", "v201603", "азерб"]
        );
    }

    #[test]
    fn another_number_in_the_title_is_another_story() {
        let body = |v: &str| {
            format!(
                "Today we are announcing the release of AdWords API {v}. This release follows \
                 the new release schedule; here are the highlights of what changed for reporting"
            )
        };
        let a = story("Announcing v201605 of the AdWords API", &body("v201605"));
        let b = story("Announcing v201603 of the AdWords API", &body("v201603"));
        assert_eq!(same_story(&a, &b, 0.6), None, "versions are kept whole");
        assert_eq!(
            same_story(
                &story("Hackable Projects - Pillar 3: Infrastructure", ""),
                &story("Hackable Projects - Pillar 2: Infrastructure", ""),
                0.6
            ),
            None
        );
        // A number on one side only is detail a republisher added, not a conflict.
        let c = story("Announcing the new AdWords API release", &body("v201605"));
        let d = story(
            "Announcing the new AdWords API release v201605",
            &body("v201605"),
        );
        assert!(same_story(&c, &d, 0.6).is_some());
    }

    #[test]
    fn another_named_party_is_another_story_even_with_a_template_body() {
        let template = |who: &str, country: &str| {
            format!(
                "{who}, a former vice-president, says he was victim of assassination attempt \
                 hours after opposition rally. A senior opposition leader in {country} has said \
                 unknown gunmen tried to kill him at his home in the early hours"
            )
        };
        let a = story(
            "Kenyan opposition figure alleges gun and grenade attack on home",
            &template("Kalonzo Musyoka", "Kenya"),
        );
        let b = story(
            "Zambian opposition figure alleges gun and grenade attack on home",
            &template("Joseph Banda", "Zambia"),
        );
        assert_eq!(same_story(&a, &b, 0.6), None);
        let ru = |city: &str| {
            story(
                &format!("{city}: в метро появятся бесконтактные турникеты"),
                "Мэрия объявила, что к весне на всех станциях метрополитена установят турникеты, \
                 принимающие банковские карты и смартфоны",
            )
        };
        assert_eq!(same_story(&ru("Ереван"), &ru("Тбилиси"), 0.6), None);
        assert!(same_story(&ru("Ереван"), &ru("Ереван"), 0.6).is_some());
    }

    #[test]
    fn capitals_that_say_nothing_are_not_names() {
        // Title Case and ALL CAPS headlines carry no names; nor does a first word the text
        // itself writes in lower case.
        assert!(
            story("Trump Sues Over Property Tax Bill For Golf Club", "")
                .names
                .is_empty()
        );
        assert!(
            story("ВЕРХНИЙ ЛАРС ЗАКРЫТ ДЛЯ ГРУЗОВИКОВ", "")
                .names
                .is_empty()
        );
        let body = "Today we are pleased to announce that we have released an updated beta \
                    version of the Ads PHP client library, the first step in its refactoring";
        let a = story(
            "Announcing beta release of the new Ads PHP client library",
            body,
        );
        let b = story(
            "Introducing beta release of the new Ads PHP client library",
            body,
        );
        assert!(!a.names.contains("announ"), "{:?}", a.names);
        assert!(same_story(&a, &b, 0.6).is_some());
        // Demonym and country are one name.
        let k = story(
            "Kenyan opposition figure alleges attack on home in Nairobi",
            BODY,
        );
        let k2 = story(
            "Opposition figure in Kenya alleges attack on home in Nairobi",
            BODY,
        );
        assert!(same_story(&k, &k2, 0.6).is_some());
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

    #[test]
    fn bodies_share_what_their_word_sets_share() {
        let text = "Baku gas exports rose as the pipeline to Europe ran at full capacity while \
                    talks on transit fees with Tbilisi and Ankara continued through the week";
        let words: Vec<&str> = text.split_whitespace().collect();
        for (skip_a, skip_b) in [(0, 0), (0, 5), (3, 9), (10, 0), (20, 2)] {
            let (a, b) = (words[skip_a..].join(" "), words[skip_b..].join(" "));
            let sets: [TokenSet; 2] =
                [&a, &b].map(|t| tokens(&normalize(t)).take(80).map(str::to_string).collect());
            let (x, y) = (story("t", &a), story("t", &b));
            assert_eq!((x.body.len(), y.body.len()), (sets[0].len(), sets[1].len()));
            assert_eq!(
                x.body.overlap(&y.body),
                overlap(&sets[0], &sets[1]),
                "{skip_a} {skip_b}"
            );
        }
        let repeated = story("t", "gas exports gas export exports");
        assert_eq!(
            repeated.body.len(),
            2,
            "stems are counted once: gas, export"
        );
    }
}
