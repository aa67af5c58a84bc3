//! Parse benchmark: what Tributary's whole reading path (decode, repair, feed-rs, dates,
//! sanitizing and cleaning every entry) costs next to feed-rs alone on the same bytes.
//!
//! Run with `cargo bench --bench parse`. Inputs: the largest real feeds of `../shared/corpus`
//! (Guardian, FeedBurner, iTunes, a many-links feed, Miniflux's large RSS and Atom samples and
//! its ISO-8859-1 feed) and a generated 5 MB Cyrillic RSS feed, once as UTF-8 and once as
//! undeclared windows-1251 (the second only Tributary can read: feed-rs sees invalid UTF-8).
//!
//! Each input is run in rounds; a round times feed-rs alone (`feed_rs::parser::parse`) and then
//! Tributary's path (`decode::decode` + `parse::parse_feed`) on the same bytes, so both see the
//! same machine load. Reported: MB/s of each (median round), and the ratio Tributary / feed-rs
//! over all inputs that both read (total bytes over total median time). The target is a ratio
//! of at least 0.6: recovering from broken feeds must cost little on clean ones.
//!
//! `TRIBUTARY_BENCH_ROUNDS` (default 15) sets the rounds per input; `TRIBUTARY_BENCH_ONLY`
//! keeps the inputs whose name contains it (for profiling one of them).

use std::path::Path;
use std::time::{Duration, Instant};

use tributary::decode;
use tributary::parse::{ParseContext, parse_feed};

/// Bytes of the generated Cyrillic feed.
const CYRILLIC_BYTES: usize = 5 * 1024 * 1024;
const TARGET_RATIO: f64 = 0.6;

fn main() {
    let rounds = std::env::var("TRIBUTARY_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15usize)
        .max(1);
    let only = std::env::var("TRIBUTARY_BENCH_ONLY").unwrap_or_default();
    let inputs: Vec<_> = inputs()
        .into_iter()
        .filter(|input| input.name.contains(&only))
        .collect();
    let ctx = ParseContext {
        base: url::Url::parse("https://news.example/feed").ok(),
        zone: chrono_tz::UTC,
        now: "2026-11-27T00:00:00Z".parse().expect("a fixed time"),
    };
    println!(
        "parse benchmark: {} inputs, {rounds} rounds each, {} CPUs",
        inputs.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!(
        "| input                          |    KiB | entries | feed-rs MB/s | Tributary MB/s | ratio |"
    );
    println!(
        "|--------------------------------|-------:|--------:|-------------:|---------------:|------:|"
    );
    let (mut both_bytes, mut feed_rs_total, mut ours_total) =
        (0usize, Duration::ZERO, Duration::ZERO);
    for input in &inputs {
        let mut feed_rs_times = Vec::with_capacity(rounds);
        let mut our_times = Vec::with_capacity(rounds);
        let mut feed_rs_reads = true;
        let mut entries = 0;
        for _ in 0..rounds {
            let began = Instant::now();
            let parsed = feed_rs::parser::parse(input.bytes.as_slice());
            feed_rs_times.push(began.elapsed());
            feed_rs_reads = parsed.is_ok();
            std::hint::black_box(parsed.ok());

            let began = Instant::now();
            let ours = decode::decode(&input.bytes, input.content_type, usize::MAX)
                .map_err(|e| e.to_string())
                .and_then(|d| parse_feed(&d.text, &ctx).map_err(|e| e.to_string()));
            our_times.push(began.elapsed());
            match ours {
                Ok(feed) => entries = feed.entries.len(),
                Err(e) => panic!("{}: Tributary cannot read it: {e}", input.name),
            }
        }
        let feed_rs = median(&mut feed_rs_times);
        let ours = median(&mut our_times);
        let mbs = |t: Duration| input.bytes.len() as f64 / 1e6 / t.as_secs_f64();
        let (feed_rs_col, ratio_col) = if feed_rs_reads {
            both_bytes += input.bytes.len();
            feed_rs_total += feed_rs;
            ours_total += ours;
            (
                format!("{:.1}", mbs(feed_rs)),
                format!("{:.2}", feed_rs.as_secs_f64() / ours.as_secs_f64()),
            )
        } else {
            ("fails".to_string(), "-".to_string())
        };
        println!(
            "| {:<30} | {:>6} | {:>7} | {:>12} | {:>14.1} | {:>5} |",
            input.name,
            input.bytes.len() / 1024,
            entries,
            feed_rs_col,
            mbs(ours),
            ratio_col
        );
    }
    let ratio = feed_rs_total.as_secs_f64() / ours_total.as_secs_f64();
    println!();
    println!(
        "all inputs feed-rs reads: feed-rs {:.1} MB/s, Tributary {:.1} MB/s, ratio {ratio:.2} (target >= {TARGET_RATIO}: {})",
        both_bytes as f64 / 1e6 / feed_rs_total.as_secs_f64(),
        both_bytes as f64 / 1e6 / ours_total.as_secs_f64(),
        if ratio >= TARGET_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Input {
    name: String,
    bytes: Vec<u8>,
    content_type: Option<&'static str>,
}

fn inputs() -> Vec<Input> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let files = [
        "rss-parser/test/input/many-links.rss",
        "rss-parser/test/input/itunes-missing-image.rss",
        "rss-parser/test/input/guardian.rss",
        "rss-parser/test/input/feedburner.atom",
        "miniflux/internal/reader/parser/testdata/large_atom.xml",
        "miniflux/internal/reader/parser/testdata/large_rss.xml",
        "miniflux/internal/reader/parser/testdata/encoding_ISO-8859-1.xml",
    ];
    let mut inputs: Vec<Input> = files
        .iter()
        .filter_map(|rel| {
            let bytes = std::fs::read(corpus.join(rel))
                .map_err(|e| eprintln!("skipping {rel}: {e}"))
                .ok()?;
            Some(Input {
                name: Path::new(rel).file_name()?.to_string_lossy().into_owned(),
                bytes,
                content_type: None,
            })
        })
        .collect();
    let text = cyrillic_feed(CYRILLIC_BYTES, " encoding=\"utf-8\"");
    // No encoding declared anywhere: the bytes must be sniffed.
    let undeclared = cyrillic_feed(CYRILLIC_BYTES, "");
    let undeclared = encoding_rs::WINDOWS_1251.encode(&undeclared).0.into_owned();
    inputs.push(Input {
        name: "generated Cyrillic, UTF-8".into(),
        bytes: text.into_bytes(),
        content_type: Some("application/rss+xml; charset=utf-8"),
    });
    inputs.push(Input {
        name: "generated Cyrillic, cp1251".into(),
        bytes: undeclared,
        content_type: Some("application/rss+xml"),
    });
    inputs
}

/// An RSS 2.0 feed of Russian-language items about `size` bytes long: titles, HTML
/// descriptions with paragraphs and links, RFC 822 dates, categories.
fn cyrillic_feed(size: usize, declared_encoding: &str) -> String {
    const WORDS: &[&str] = &[
        "правительство",
        "заявил",
        "министр",
        "иностранных",
        "дел",
        "Азербайджана",
        "Армении",
        "Грузии",
        "переговоры",
        "в",
        "Баку",
        "Ереване",
        "Тбилиси",
        "энергетика",
        "газопровод",
        "граница",
        "делимитация",
        "соглашение",
        "экономика",
        "торговля",
        "транспортный",
        "коридор",
        "выборы",
        "парламент",
        "оппозиция",
        "президент",
        "встреча",
        "на",
        "по",
        "и",
        "с",
        "новый",
        "проект",
        "региона",
    ];
    let mut seed = 0x5EED_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let mut sentence = |n: usize| -> String {
        let words: Vec<&str> = (0..n).map(|_| WORDS[next() % WORDS.len()]).collect();
        let mut s = words.join(" ");
        if let Some(first) = s.chars().next() {
            let upper: String = first.to_uppercase().collect();
            s.replace_range(..first.len_utf8(), &upper);
        }
        s
    };
    let mut out = format!(
        "<?xml version=\"1.0\"{declared_encoding}?>\n<rss version=\"2.0\"><channel>\
         <title>Новости Кавказа</title><link>https://news.example/</link>\
         <description>Главные новости региона</description>\n"
    );
    let mut i = 0;
    while out.len() < size {
        let title = sentence(8);
        let p1 = sentence(30);
        let p2 = sentence(25);
        let day = 1 + i % 28;
        out.push_str(&format!(
            "<item><title>{title}</title><link>https://news.example/ru/{i}</link>\
             <guid>https://news.example/ru/{i}</guid>\
             <pubDate>Wed, {day:02} Jan 2026 {:02}:{:02}:00 +0400</pubDate>\
             <category>Политика</category>\
             <description><![CDATA[<p>{p1}.</p><p>{p2}, <a href=\"/ru/{}\">подробнее</a>.</p>]]></description>\
             </item>\n",
            i % 24,
            i % 60,
            i + 1
        ));
        i += 1;
    }
    out.push_str("</channel></rss>\n");
    out
}
