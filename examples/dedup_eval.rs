//! Measures how well Tributary folds duplicate stories, on the labeled pairs of
//! `fixtures/dedup/pairs.tsv`.
//!
//! ```text
//! cargo run --release --example dedup_eval [-- PAIRS.tsv] [--misses]
//! ```
//!
//! Each pair is judged exactly as the store judges a new entry against a stored one from
//! another feed: the same canonical URL, or the same story by
//! [`tributary::dedup::story::same_story`] at the default `title_similarity` (0.6), comparing
//! titles and the plain-text excerpts the store keeps. The table gives, per class and subclass,
//! how many pairs there are, precision and recall of folding (for pairs labeled `different`
//! only: the fraction folded, which must stay near zero). `--misses` lists every wrong decision.
//!
//! `tests/dedup_eval.rs` includes this file and asserts the targets, so CI enforces them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tributary::dedup::canonical_url;
use tributary::dedup::story::{StoryText, same_story};

/// `[dedup] title_similarity` as shipped.
pub const TITLE_SIMILARITY: f64 = 0.6;

/// Characters of plain text the store keeps as an entry's excerpt, which is what it compares.
pub const EXCERPT_CHARS: usize = 600;

/// The labeled set shipped with Tributary.
pub fn default_pairs_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dedup/pairs.tsv")
}

/// One side of a pair: an entry as a feed gave it.
#[derive(Debug, Clone)]
pub struct Side {
    pub title: String,
    pub link: String,
    pub summary: String,
}

/// Two entries and whether they are the same story.
#[derive(Debug, Clone)]
pub struct Pair {
    pub class: String,
    pub subclass: String,
    pub same: bool,
    pub a: Side,
    pub b: Side,
    pub source: String,
}

impl Pair {
    /// True when the pair is Russian (Cyrillic in either title).
    pub fn is_russian(&self) -> bool {
        let cyrillic = |s: &str| s.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
        cyrillic(&self.a.title) || cyrillic(&self.b.title)
    }
}

const COLUMNS: [&str; 10] = [
    "class",
    "subclass",
    "label",
    "a_title",
    "a_link",
    "a_summary",
    "b_title",
    "b_link",
    "b_summary",
    "source",
];

/// Reads the tab-separated pairs file (header line first, no quoting, no tabs inside fields).
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, h)| h.split('\t').collect())
        .unwrap_or_default();
    if header != COLUMNS {
        return Err(format!(
            "{}: the header must be: {}",
            path.display(),
            COLUMNS.join(" ")
        ));
    }
    let mut pairs = Vec::new();
    for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let at = || format!("{} line {}", path.display(), n + 1);
        if f.len() != COLUMNS.len() {
            return Err(format!(
                "{}: {} fields, expected {}",
                at(),
                f.len(),
                COLUMNS.len()
            ));
        }
        let same = match f[2] {
            "same" => true,
            "different" => false,
            other => return Err(format!("{}: label {other:?} is not same|different", at())),
        };
        if !matches!(f[0], "exact" | "republished" | "negative") {
            return Err(format!(
                "{}: class {:?} is not exact|republished|negative",
                at(),
                f[0]
            ));
        }
        let side = |t: &str, l: &str, s: &str| Side {
            title: t.to_string(),
            link: l.to_string(),
            summary: s.to_string(),
        };
        pairs.push(Pair {
            class: f[0].to_string(),
            subclass: f[1].to_string(),
            same,
            a: side(f[3], f[4], f[5]),
            b: side(f[6], f[7], f[8]),
            source: f[9].to_string(),
        });
    }
    Ok(pairs)
}

/// The store's comparable form of an entry: its title and the plain-text excerpt of its summary.
fn story_of(side: &Side) -> StoryText {
    let text = tributary::clean::plain_text(&side.summary);
    StoryText::new(
        &side.title,
        &tributary::parse::excerpt(&text, EXCERPT_CHARS),
    )
}

/// Would the store put `b`, arriving from another feed, into `a`'s story?
pub fn store_folds(a: &Side, b: &Side) -> bool {
    let has_link = |s: &Side| !s.link.trim().is_empty();
    if has_link(a) && has_link(b) && canonical_url(&a.link) == canonical_url(&b.link) {
        return true;
    }
    let (sa, sb) = (story_of(a), story_of(b));
    !sb.title.is_empty() && same_story(&sb, &sa, TITLE_SIMILARITY).is_some()
}

/// Counts of decisions over some pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Labeled same and folded.
    pub folded_same: usize,
    /// Labeled same and kept apart.
    pub missed_same: usize,
    /// Labeled different and folded.
    pub folded_different: usize,
    /// Labeled different and kept apart.
    pub apart_different: usize,
}

impl Tally {
    pub fn add(&mut self, same: bool, folded: bool) {
        match (same, folded) {
            (true, true) => self.folded_same += 1,
            (true, false) => self.missed_same += 1,
            (false, true) => self.folded_different += 1,
            (false, false) => self.apart_different += 1,
        }
    }

    pub fn pairs(&self) -> usize {
        self.folded_same + self.missed_same + self.folded_different + self.apart_different
    }

    /// Of the pairs folded, the share that are the same story (`None` when nothing folded).
    pub fn precision(&self) -> Option<f64> {
        let folded = self.folded_same + self.folded_different;
        (folded > 0).then(|| self.folded_same as f64 / folded as f64)
    }

    /// Of the same-story pairs, the share folded (`None` without such pairs).
    pub fn recall(&self) -> Option<f64> {
        let same = self.folded_same + self.missed_same;
        (same > 0).then(|| self.folded_same as f64 / same as f64)
    }

    /// Of the different-story pairs, the share wrongly folded (`None` without such pairs).
    pub fn folded_different_rate(&self) -> Option<f64> {
        let different = self.folded_different + self.apart_different;
        (different > 0).then(|| self.folded_different as f64 / different as f64)
    }
}

/// Every pair with the store's decision on it.
pub fn judge(pairs: &[Pair]) -> Vec<(&Pair, bool)> {
    pairs.iter().map(|p| (p, store_folds(&p.a, &p.b))).collect()
}

/// Tallies per class (`subclass` empty) and per class and subclass.
pub fn tally_by_class(judged: &[(&Pair, bool)]) -> BTreeMap<(String, String), Tally> {
    let mut out: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for (p, folded) in judged {
        for sub in [String::new(), p.subclass.clone()] {
            out.entry((p.class.clone(), sub))
                .or_default()
                .add(p.same, *folded);
        }
    }
    out
}

/// One tally over the pairs `keep` selects.
pub fn tally_where(judged: &[(&Pair, bool)], keep: impl Fn(&Pair) -> bool) -> Tally {
    let mut t = Tally::default();
    for (p, folded) in judged.iter().filter(|(p, _)| keep(p)) {
        t.add(p.same, *folded);
    }
    t
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// The report: a Markdown table per class and subclass, then totals and the Russian subset.
pub fn report(judged: &[(&Pair, bool)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| class | subclass | pairs | same | different | precision | recall | different folded |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    let row = |out: &mut String, class: &str, sub: &str, t: &Tally| {
        let _ = writeln!(
            out,
            "| {class} | {sub} | {} | {} | {} | {} | {} | {} |",
            t.pairs(),
            t.folded_same + t.missed_same,
            t.folded_different + t.apart_different,
            cell(t.precision()),
            cell(t.recall()),
            cell(t.folded_different_rate()),
        );
    };
    let by_class = tally_by_class(judged);
    for class in ["exact", "republished", "negative"] {
        for ((c, sub), t) in by_class
            .iter()
            .filter(|((c, s), _)| c == class && !s.is_empty())
        {
            row(&mut out, c, sub, t);
        }
        if let Some(t) = by_class.get(&(class.to_string(), String::new())) {
            row(&mut out, &format!("**{class}**"), "**all**", t);
        }
    }
    row(&mut out, "**all**", "", &tally_where(judged, |_| true));
    for class in ["exact", "republished", "negative"] {
        let t = tally_where(judged, |p| p.class == class && p.is_russian());
        row(&mut out, &format!("{class} (Russian)"), "all", &t);
    }
    out
}

/// The wrong decisions, one block each.
pub fn misses(judged: &[(&Pair, bool)]) -> String {
    let mut out = String::new();
    for (p, folded) in judged.iter().filter(|(p, folded)| p.same != *folded) {
        let what = if *folded {
            "folded, but different"
        } else {
            "kept apart, but same"
        };
        let _ = writeln!(
            out,
            "{}/{}: {what} [{}]\n  a: {}\n     {}\n  b: {}\n     {}\n",
            p.class,
            p.subclass,
            p.source,
            p.a.title,
            p.a.summary.chars().take(160).collect::<String>(),
            p.b.title,
            p.b.summary.chars().take(160).collect::<String>(),
        );
    }
    out
}

fn main() -> std::process::ExitCode {
    let mut path = default_pairs_path();
    let mut show_misses = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--misses" => show_misses = true,
            "-h" | "--help" => {
                println!("usage: dedup_eval [PAIRS.tsv] [--misses]");
                return std::process::ExitCode::SUCCESS;
            }
            _ => path = PathBuf::from(arg),
        }
    }
    let pairs = match read_pairs(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dedup_eval: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let judged = judge(&pairs);
    println!("{} pairs from {}\n", pairs.len(), path.display());
    print!("{}", report(&judged));
    if show_misses {
        println!("\n{}", misses(&judged));
    }
    std::process::ExitCode::SUCCESS
}
