//! Duplicate folding meets its targets on the labeled set `fixtures/dedup/pairs.tsv`, judged
//! exactly as the store judges (the evaluation itself lives in `examples/dedup_eval.rs`, which
//! `cargo run --release --example dedup_eval` prints as a table).

#[path = "../examples/dedup_eval.rs"]
#[allow(dead_code)] // the example's `main` and its table are not used here
mod dedup_eval;

use dedup_eval::{Pair, Tally, default_pairs_path, judge, misses, read_pairs, tally_where};

fn pairs() -> Vec<Pair> {
    read_pairs(&default_pairs_path()).expect("fixtures/dedup/pairs.tsv is readable")
}

fn class_tally(pairs: &[Pair], class: &str) -> (Tally, String) {
    let judged = judge(pairs);
    let only: Vec<_> = judged
        .iter()
        .filter(|(p, _)| p.class == class)
        .cloned()
        .collect();
    (tally_where(&only, |_| true), misses(&only))
}

#[test]
fn evaluation_set_is_large_balanced_and_bilingual() {
    let pairs = pairs();
    assert!(pairs.len() >= 400, "{} pairs", pairs.len());
    let negatives = pairs.iter().filter(|p| p.class == "negative").count();
    assert!(
        negatives * 3 >= pairs.len(),
        "hard negatives are {negatives} of {}",
        pairs.len()
    );
    for class in ["exact", "republished", "negative"] {
        let russian = pairs
            .iter()
            .filter(|p| p.class == class && p.is_russian())
            .count();
        assert!(russian >= 10, "{class}: {russian} Russian pairs");
    }
    assert!(
        pairs.iter().all(|p| p.class != "negative" || !p.same),
        "every hard negative is labeled different"
    );
}

#[test]
fn exact_variants_always_fold_and_never_overreach() {
    let (t, wrong) = class_tally(&pairs(), "exact");
    assert_eq!(t.precision(), Some(1.0), "{t:?}\n{wrong}");
    assert!(t.recall().unwrap() >= 0.99, "{t:?}\n{wrong}");
}

#[test]
fn republished_copies_fold_with_high_precision() {
    let (t, wrong) = class_tally(&pairs(), "republished");
    assert!(t.precision().unwrap() >= 0.97, "{t:?}\n{wrong}");
    assert!(t.recall().unwrap() >= 0.8, "{t:?}\n{wrong}");
}

#[test]
fn hard_negatives_almost_never_fold() {
    let (t, wrong) = class_tally(&pairs(), "negative");
    assert!(t.folded_different_rate().unwrap() <= 0.01, "{t:?}\n{wrong}");
}
