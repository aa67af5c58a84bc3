//! The in-memory title-token index that finds near-duplicate candidates for a new entry.
//!
//! Folding asks, for every new entry, which recent entries of other feeds share enough title
//! tokens to possibly be the same story. Answering that in SQL means reading the posting list
//! of every title token, and common tokens ("Baku", "government") have thousands of postings
//! in a busy window: that query was most of the cost of storing an entry. Here the postings
//! are plain vectors of slot numbers, so counting the shared tokens of every entry in the
//! window costs microseconds, and [`titles_may_match`] leaves only the entries that can be the
//! same story for the store to load and compare in full. The longest lists (place names, the
//! commonest words) are also kept as bit sets, so a query need not walk them: it asks them
//! only about the entries its rarer tokens reached.
//!
//! The index holds no SQL: the store loads it from its `dedup_index` table, adds each entry it
//! writes and trims it as it trims the table (and loads it again when a transaction fails).

use foldhash::HashMap;

use super::story::titles_may_match;

/// One indexed entry.
#[derive(Debug, Clone)]
struct Slot {
    entry_id: i64,
    feed: u32,
    /// The entry's time (published, else first seen), Unix seconds: compared with the window.
    at: i64,
    /// When it was stored, Unix seconds: what trimming goes by.
    seen: i64,
    tokens: Box<[u32]>,
    live: bool,
}

/// A candidate for the same story: an indexed entry and how many title tokens it shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub entry_id: i64,
    pub shared: usize,
}

/// Title tokens of recent entries, by slot.
#[derive(Debug, Default)]
pub struct TitleIndex {
    token_ids: HashMap<String, u32>,
    postings: Vec<Vec<u32>>,
    /// For a token whose posting list is long (see [`is_common`]), the same slots as a bit set:
    /// empty for the others.
    common: Vec<Vec<u64>>,
    feed_ids: HashMap<String, u32>,
    slots: Vec<Slot>,
    dead: usize,
    /// Each slot's number of tokens (at most `u16::MAX`), apart from the slots themselves: a
    /// query reads it for thousands of slots, most of which it then skips without reading the
    /// slot (another cache miss each).
    lens: Vec<u16>,
    /// Scratch: shared-token counts by slot, all zero between queries.
    counts: Vec<u16>,
    touched: Vec<u32>,
    query: Vec<u32>,
}

/// Whether a posting list of `len` slots, of `slots` in all, is kept as a bit set too: when the
/// set is no larger than the list (one bit a slot against 32), and the list is long enough to
/// be worth skipping.
fn is_common(len: usize, slots: usize) -> bool {
    len >= 64 && len * 32 >= slots
}

/// A slot's number of tokens as [`TitleIndex`] keeps it apart from the slot.
fn token_count(tokens: &[u32]) -> u16 {
    u16::try_from(tokens.len()).unwrap_or(u16::MAX)
}

/// The bit set of the slots in `list`.
fn bit_set(list: &[u32]) -> Vec<u64> {
    let mut bits = Vec::new();
    for &slot in list {
        set_bit(&mut bits, slot);
    }
    bits
}

/// Sets `slot` in a bit set, growing it as needed.
fn set_bit(bits: &mut Vec<u64>, slot: u32) {
    let word = slot as usize / 64;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    bits[word] |= 1 << (slot % 64);
}

fn has_bit(bits: &[u64], slot: u32) -> bool {
    bits.get(slot as usize / 64)
        .is_some_and(|w| w & (1 << (slot % 64)) != 0)
}

impl TitleIndex {
    pub fn new() -> TitleIndex {
        TitleIndex::default()
    }

    /// Entries indexed and not trimmed.
    pub fn len(&self) -> usize {
        self.slots.len() - self.dead
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds an entry of `feed_id` with its distinct title tokens.
    pub fn insert<'t>(
        &mut self,
        entry_id: i64,
        feed_id: &str,
        at: i64,
        seen: i64,
        tokens: impl IntoIterator<Item = &'t str>,
    ) {
        let Ok(slot) = u32::try_from(self.slots.len()) else {
            return;
        };
        let feed = intern(&mut self.feed_ids, feed_id);
        let mut ids: Vec<u32> = tokens
            .into_iter()
            .map(|t| {
                let id = intern(&mut self.token_ids, t);
                if id as usize == self.postings.len() {
                    self.postings.push(Vec::new());
                    self.common.push(Vec::new());
                }
                id
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let slots = self.slots.len() + 1;
        for &id in &ids {
            let (list, bits) = (
                &mut self.postings[id as usize],
                &mut self.common[id as usize],
            );
            list.push(slot);
            if !bits.is_empty() {
                set_bit(bits, slot);
            } else if is_common(list.len(), slots) {
                *bits = bit_set(list);
            }
        }
        self.lens.push(token_count(&ids));
        self.slots.push(Slot {
            entry_id,
            feed,
            at,
            seen,
            tokens: ids.into_boxed_slice(),
            live: true,
        });
        self.counts.push(0);
    }

    /// Drops the entries stored before `seen_before` (Unix seconds).
    pub fn trim(&mut self, seen_before: i64) {
        for slot in &mut self.slots {
            if slot.live && slot.seen < seen_before {
                slot.live = false;
                self.dead += 1;
            }
        }
        if self.dead > 0 && self.dead * 2 >= self.slots.len() {
            self.compact();
        }
    }

    /// Rebuilds the slots and postings without the trimmed entries.
    fn compact(&mut self) {
        let live: Vec<Slot> = self.slots.drain(..).filter(|s| s.live).collect();
        for list in &mut self.postings {
            list.clear();
        }
        for bits in &mut self.common {
            bits.clear();
        }
        for (i, slot) in live.iter().enumerate() {
            for &t in slot.tokens.iter() {
                self.postings[t as usize].push(i as u32);
            }
        }
        for (list, bits) in self.postings.iter().zip(&mut self.common) {
            if is_common(list.len(), live.len()) {
                *bits = bit_set(list);
            }
        }
        self.counts = vec![0; live.len()];
        self.lens = live.iter().map(|s| token_count(&s.tokens)).collect();
        self.slots = live;
        self.dead = 0;
    }

    /// The entries of other feeds than `feed_id`, with a time within `lo..=hi`, whose titles
    /// share enough of `tokens` to be the same story at `threshold`: most shared tokens first
    /// (then oldest entry), at most `max`.
    pub fn candidates<'t>(
        &mut self,
        tokens: impl IntoIterator<Item = &'t str>,
        feed_id: &str,
        (lo, hi): (i64, i64),
        threshold: f64,
        max: usize,
    ) -> Vec<Candidate> {
        let own_feed = self.feed_ids.get(feed_id).copied();
        let mut query = std::mem::take(&mut self.query);
        query.clear();
        let mut n = 0;
        for token in tokens {
            n += 1;
            if let Some(&id) = self.token_ids.get(token) {
                query.push(id);
            }
        }
        let least = least_shared(n, threshold);
        // An entry sharing `least` tokens holds at least one of the query's tokens outside any
        // `least - 1` of them. So the longest posting lists (of place names and the commonest
        // words: most of what a query would walk) need not be walked to find the candidates:
        // they are only asked, by their bit sets, about the entries the others reached.
        query.sort_unstable_by_key(|&id| self.postings[id as usize].len());
        let skipped = query
            .iter()
            .rev()
            .take(least.saturating_sub(1))
            .take_while(|&&id| !self.common[id as usize].is_empty())
            .count();
        let (walked, asked) = query.split_at(query.len() - skipped);
        // Borrowed apart from `self`, so the loop keeps them in registers.
        let (counts, touched) = (&mut self.counts[..], &mut self.touched);
        for &id in walked {
            for &slot in &self.postings[id as usize] {
                let count = &mut counts[slot as usize];
                if *count == 0 {
                    touched.push(slot);
                }
                *count = count.saturating_add(1);
            }
        }
        // Most entries reached share one or two common tokens: skip them on their count
        // alone, before reading their slot.
        let mut found = Vec::new();
        for slot in self.touched.drain(..) {
            let shared = std::mem::take(&mut self.counts[slot as usize]) as usize
                + asked
                    .iter()
                    .filter(|&&id| has_bit(&self.common[id as usize], slot))
                    .count();
            // A length cut to `u16::MAX` only lets more through: the slot's own is checked below.
            if shared < least
                || !titles_may_match(shared, n, self.lens[slot as usize].into(), threshold)
            {
                continue;
            }
            let s = &self.slots[slot as usize];
            if s.live
                && Some(s.feed) != own_feed
                && (lo..=hi).contains(&s.at)
                && titles_may_match(shared, n, s.tokens.len(), threshold)
            {
                found.push(Candidate {
                    entry_id: s.entry_id,
                    shared,
                });
            }
        }
        self.query = query;
        found.sort_unstable_by(|a, b| b.shared.cmp(&a.shared).then(a.entry_id.cmp(&b.entry_id)));
        found.truncate(max);
        found
    }
}

/// The fewest tokens a title of `n` tokens must share with another, of any length, for
/// [`titles_may_match`] to hold at `threshold`: `n + 1` when no count will do. Found by asking
/// the bound itself, so the two cannot disagree.
fn least_shared(n: usize, threshold: f64) -> usize {
    (1..=n)
        .find(|&shared| (shared..=2 * n + 1).any(|len| titles_may_match(shared, n, len, threshold)))
        .unwrap_or(n + 1)
}

fn intern(map: &mut HashMap<String, u32>, key: &str) -> u32 {
    if let Some(&id) = map.get(key) {
        return id;
    }
    let id = map.len() as u32;
    map.insert(key.to_string(), id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> TitleIndex {
        let mut i = TitleIndex::new();
        i.insert(1, "wire", 100, 1000, ["aliyev", "meets", "putin", "moscow"]);
        i.insert(2, "wire", 100, 1000, ["aliyev", "visits", "ankara"]);
        i.insert(
            3,
            "press",
            100,
            2000,
            ["aliyev", "meets", "putin", "kremlin"],
        );
        i.insert(
            4,
            "press",
            900,
            2000,
            ["aliyev", "meets", "putin", "moscow"],
        );
        i
    }

    const NEW: [&str; 4] = ["aliyev", "meets", "putin", "moscow"];

    #[test]
    fn candidates_share_enough_tokens_come_from_other_feeds_and_the_window() {
        let mut i = index();
        let found = i.candidates(NEW, "digest", (0, 500), 0.6, 30);
        assert_eq!(
            found,
            vec![
                Candidate {
                    entry_id: 1,
                    shared: 4
                },
                Candidate {
                    entry_id: 3,
                    shared: 3
                },
            ],
            "entry 2 shares one token of four; entry 4 is outside the window"
        );
        let own = i.candidates(NEW, "wire", (0, 500), 0.6, 30);
        assert_eq!(own.iter().map(|c| c.entry_id).collect::<Vec<_>>(), [3]);
        assert_eq!(i.candidates(NEW, "digest", (0, 500), 0.6, 1).len(), 1);
        // The scratch counts are reset: asking again gives the same answer.
        assert_eq!(i.candidates(NEW, "digest", (0, 500), 0.6, 30).len(), 2);
    }

    #[test]
    fn trimmed_entries_are_no_candidates_and_the_rest_survive_compaction() {
        let mut i = index();
        i.trim(1500);
        assert_eq!(i.len(), 2);
        let found = i.candidates(NEW, "digest", (0, 1000), 0.6, 30);
        assert_eq!(
            found.iter().map(|c| c.entry_id).collect::<Vec<_>>(),
            [4, 3],
            "entries 1 and 2 were stored before the cut"
        );
        i.insert(5, "wire", 100, 3000, NEW);
        i.trim(2500);
        assert_eq!(i.len(), 1);
        let found = i.candidates(NEW, "digest", (0, 1000), 0.6, 30);
        assert_eq!(found.iter().map(|c| c.entry_id).collect::<Vec<_>>(), [5]);
    }
    /// Every indexed entry, checked one by one: what the candidates must be.
    fn brute_force(
        entries: &[(i64, &str, i64, Vec<String>)],
        query: &[String],
        feed: &str,
        (lo, hi): (i64, i64),
        threshold: f64,
    ) -> Vec<Candidate> {
        let mut found: Vec<Candidate> = entries
            .iter()
            .filter(|(_, f, at, _)| *f != feed && (lo..=hi).contains(at))
            .filter_map(|(id, _, _, tokens)| {
                let shared = tokens.iter().filter(|t| query.contains(t)).count();
                titles_may_match(shared, query.len(), tokens.len(), threshold).then_some(
                    Candidate {
                        entry_id: *id,
                        shared,
                    },
                )
            })
            .collect();
        found.sort_unstable_by(|a, b| b.shared.cmp(&a.shared).then(a.entry_id.cmp(&b.entry_id)));
        found
    }

    #[test]
    fn candidates_are_exactly_what_checking_every_entry_finds() {
        // Titles drawn from a skewed vocabulary, so some tokens are in most titles (and their
        // posting lists get bit sets) while others are rare.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut below = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let title = |below: &mut dyn FnMut(u64) -> u64| -> Vec<String> {
            let len = 1 + below(12);
            let mut t: Vec<String> = (0..len)
                .map(|_| {
                    let rank = below(60).min(below(60)).min(below(60));
                    format!("w{rank}")
                })
                .collect();
            t.sort();
            t.dedup();
            t
        };
        let feeds = ["a", "b", "c", "d"];
        let mut index = TitleIndex::new();
        let mut entries: Vec<(i64, &str, i64, Vec<String>)> = Vec::new();
        let check = |index: &mut TitleIndex,
                     entries: &[(i64, &str, i64, Vec<String>)],
                     below: &mut dyn FnMut(u64) -> u64,
                     queries: usize| {
            for threshold in [0.2, 0.3, 0.5, 0.8] {
                for _ in 0..queries {
                    let query = title(below);
                    let feed = feeds[below(4) as usize];
                    let lo = below(1_000) as i64;
                    let window = (lo, lo + 300);
                    let fast = index.candidates(
                        query.iter().map(String::as_str),
                        feed,
                        window,
                        threshold,
                        usize::MAX,
                    );
                    assert_eq!(
                        fast,
                        brute_force(entries, &query, feed, window, threshold),
                        "{query:?} at {threshold}, {} entries",
                        entries.len()
                    );
                }
            }
        };
        // Entry `i` is stored at time `i`: queries while the index grows (bit sets appear as
        // tokens become common), after trimming the older half (the index is compacted), and
        // after growing again.
        for i in 0..4_000 {
            let (f, at) = (feeds[below(4) as usize], below(1_000) as i64);
            let tokens = title(&mut below);
            index.insert(i, f, at, i, tokens.iter().map(String::as_str));
            entries.push((i, f, at, tokens));
            if i % 500 == 499 {
                check(&mut index, &entries, &mut below, 20);
            }
            if i == 2_999 {
                index.trim(1_600);
                entries.retain(|e| e.0 >= 1_600);
                assert_eq!(index.len(), entries.len());
                assert_eq!(index.dead, 0, "trimming more than half compacts the index");
                check(&mut index, &entries, &mut below, 100);
            }
        }
        assert!(
            index.common.iter().filter(|b| !b.is_empty()).count() >= 5,
            "the commonest tokens have bit sets"
        );
        check(&mut index, &entries, &mut below, 100);
    }

    #[test]
    fn no_title_of_any_length_matches_with_fewer_shared_tokens_than_the_least() {
        for threshold in [0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0] {
            for n in 1..=30 {
                let least = least_shared(n, threshold);
                for len in 1..=200 {
                    for shared in 1..=n.min(len) {
                        if titles_may_match(shared, n, len, threshold) {
                            assert!(shared >= least, "{shared} of {n} and {len} at {threshold}");
                        }
                    }
                }
                if least <= n {
                    assert!(
                        (1..=200).any(|len| titles_may_match(least, n, len, threshold)),
                        "{least} of {n} at {threshold} is reached"
                    );
                }
            }
        }
    }
}
