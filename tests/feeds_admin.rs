//! Admins edit the shipped `feeds.toml` from the shell: `tributary feeds add` followed by
//! `tributary feeds remove` of the same feed must give back the file byte for byte, comments,
//! order and blank lines included. Run with the real binary on a copy of the repository's own
//! `feeds.toml`, adding a feed served by the fixture server on 127.0.0.1 (so `add` fetches and
//! checks it, as it does for admins) and one added unchecked with a title and tags.

mod common;

use common::{FeedServer, Workspace};

/// The repository's `feeds.toml`, as shipped.
fn shipped() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read the shipped {}: {e}", path.display()))
}

fn workspace_with_shipped_feeds() -> Workspace {
    let ws = Workspace::new();
    ws.write_feeds(&shipped());
    ws
}

fn feeds_text(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.feeds_path()).expect("read feeds.toml")
}

/// Runs `tributary ARGS` in the workspace, failing the test with its output unless it exits 0.
fn ok(ws: &Workspace, args: &[&str]) -> String {
    let (code, stdout, stderr) = ws.tributary(args);
    assert_eq!(
        code,
        0,
        "tributary {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.join(" ")
    );
    stdout
}

#[test]
fn adding_a_checked_feed_then_removing_it_leaves_the_shipped_file_byte_identical() {
    let before = shipped();
    let ws = workspace_with_shipped_feeds();
    let server = FeedServer::start();
    let url = server.url("/feeds/wire.rss");

    ok(&ws, &["feeds", "add", &url, "--id", "caspian-wire-test"]);
    let added = feeds_text(&ws);
    assert_ne!(added, before, "feeds add changed nothing");
    assert!(
        added.starts_with(before.trim_end()),
        "feeds add kept every line before the new feed, in place"
    );
    assert!(added.contains("id = \"caspian-wire-test\""), "{added}");
    assert!(added.contains(&url), "{added}");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/feeds/wire.rss"),
        "feeds add fetched the feed to check it"
    );
    let listed = ok(&ws, &["feeds", "list"]);
    assert!(listed.contains("caspian-wire-test"), "{listed}");

    ok(&ws, &["feeds", "remove", "caspian-wire-test"]);
    let after = feeds_text(&ws);
    assert!(
        after == before,
        "feeds.toml differs from the shipped file after add + remove:\n{}",
        first_difference(&before, &after)
    );
}

#[test]
fn adding_an_unchecked_feed_with_title_and_tags_then_removing_it_is_byte_identical_too() {
    let before = shipped();
    let ws = workspace_with_shipped_feeds();
    ok(
        &ws,
        &[
            "feeds",
            "add",
            "https://news.example/rss",
            "--no-check",
            "--id",
            "news-example",
            "--title",
            "Новости «Пример»",
            "--tag",
            "ru",
            "--tag",
            "caucasus",
        ],
    );
    let added = feeds_text(&ws);
    assert!(added.contains("Новости «Пример»"), "{added}");
    assert!(added.contains("\"caucasus\""), "{added}");
    // The edited file is valid as a whole, as every edit must be.
    ok(&ws, &["check"]);

    ok(&ws, &["feeds", "remove", "news-example"]);
    let after = feeds_text(&ws);
    assert!(
        after == before,
        "feeds.toml differs from the shipped file after add + remove:\n{}",
        first_difference(&before, &after)
    );
}

/// The first line where two texts part, for a readable failure.
fn first_difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    for i in 0..la.len().max(lb.len()) {
        if la.get(i) != lb.get(i) {
            return format!(
                "line {}: shipped {:?}, now {:?} ({} vs {} bytes in all)",
                i + 1,
                la.get(i),
                lb.get(i),
                a.len(),
                b.len()
            );
        }
    }
    "same lines; the line endings differ".to_string()
}
