//! `tributary run`, the daemon, as a service manager runs it: the real binary on its own
//! workspace, listening on a loopback port it picks, fetching from a loopback feed server. It
//! fetches and serves, picks up an edited `feeds.toml` without restart, rejects a broken one
//! while it keeps running, stops cleanly on SIGTERM and SIGINT, and holds the run lock.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{FeedServer, Workspace};

const ANALYSIS: &str = "/feeds/analysis.atom";
const WIRE: &str = "/feeds/wire.rss";

/// Entries in `fixtures/feeds/analysis.atom`.
const ANALYSIS_ENTRIES: u64 = 11;

/// How long the daemon may take to log its address.
const START_DEADLINE: Duration = Duration::from_secs(15);
/// How long a change may take to show: the daemon looks at `feeds.toml` every 5 s.
const RELOAD_DEADLINE: Duration = Duration::from_secs(30);
/// How long the daemon may take to exit after a signal.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// A workspace whose config makes the daemon listen on a free loopback port.
fn daemon_workspace(fetch: &str) -> Workspace {
    Workspace::with_config(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[fetch]\n{fetch}\n"
    ))
}

/// A running `tributary run`; killed when dropped if a test left it running.
struct Daemon {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Daemon {
    /// Starts the daemon and waits for `daemon started listen=ADDR` on its stderr.
    fn start(ws: &Workspace) -> Daemon {
        let mut child = ws
            .command(&["run"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tributary run");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut daemon = Daemon {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            stderr,
        };
        let started = Instant::now();
        loop {
            if let Some(addr) = listen_address(&daemon.log()) {
                daemon.addr = addr;
                return daemon;
            }
            if let Some(status) = daemon.child.try_wait().expect("poll the daemon") {
                panic!("the daemon exited ({status}):\n{}", daemon.log());
            }
            assert!(
                started.elapsed() < START_DEADLINE,
                "no `daemon started listen=` line:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its stderr so far.
    fn log(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("poll the daemon").is_none()
    }

    /// `GET path` on the daemon's server.
    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path)
            .unwrap_or_else(|e| panic!("GET {path} on the daemon failed: {e}\n{}", self.log()))
    }

    /// `/api/feeds` as an array.
    fn feeds(&self) -> Vec<Value> {
        let (code, body) = self.get("/api/feeds");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<Value>(&body)
            .unwrap_or_else(|e| panic!("/api/feeds is not JSON ({e}): {body}"))
            .as_array()
            .expect("/api/feeds is an array")
            .clone()
    }

    /// One feed's object from `/api/feeds`, if configured.
    fn feed(&self, id: &str) -> Option<Value> {
        self.feeds().into_iter().find(|f| f["id"] == id)
    }

    fn entries_of(&self, id: &str) -> u64 {
        self.feed(id)
            .and_then(|f| f["entries"].as_u64())
            .unwrap_or(0)
    }

    /// Polls `done` until it holds, failing after `deadline`.
    fn wait_until(
        &mut self,
        what: &str,
        deadline: Duration,
        mut done: impl FnMut(&Daemon) -> bool,
    ) {
        let started = Instant::now();
        loop {
            if done(self) {
                return;
            }
            assert!(
                self.is_running(),
                "the daemon died while waiting for {what}:\n{}",
                self.log()
            );
            assert!(
                started.elapsed() < deadline,
                "{what}: not within {deadline:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends `signal` (TERM, INT) and waits for the exit, failing after [`STOP_DEADLINE`].
    fn stop_with(&mut self, signal: &str) -> (ExitStatus, Duration) {
        let sent = Instant::now();
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the daemon") {
                return (status, sent.elapsed());
            }
            assert!(
                sent.elapsed() < STOP_DEADLINE,
                "the daemon did not exit within {STOP_DEADLINE:?} of SIG{signal}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in `daemon started listen=ADDR`.
fn listen_address(log: &str) -> Option<SocketAddr> {
    log.lines()
        .filter(|l| l.contains("daemon started"))
        .find_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("listen=")))
        .and_then(|a| a.trim_matches('"').parse().ok())
}

/// A plain HTTP/1.1 GET with `Connection: close`; the status and the (de-chunked) body.
fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk size line")?;
        let size = String::from_utf8_lossy(&raw[..eol]);
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size {size:?}: {e}"))?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(raw.get(..size).ok_or("short chunk")?);
        raw = raw.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Rewrites `feeds.toml` so that its modification time surely differs from the last write.
fn rewrite_feeds(ws: &Workspace, text: &str) {
    let before = std::fs::metadata(ws.feeds_path())
        .and_then(|m| m.modified())
        .ok();
    loop {
        ws.write_feeds(text);
        let now = std::fs::metadata(ws.feeds_path())
            .and_then(|m| m.modified())
            .ok();
        if now != before {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn feeds_text(server: &FeedServer, feeds: &[(&str, &str)]) -> String {
    let mut text = String::from("# Feeds served by the test server.\n");
    for (id, path) in feeds {
        text.push_str(&format!(
            "\n[[feed]]\nid = \"{id}\"\nurl = \"{}\"\n",
            server.url(path)
        ));
    }
    text
}

/// `path:LINE:COL` somewhere in `log`, for a file named `feeds.toml`.
fn position_after_feeds_toml(log: &str) -> Option<(u32, u32)> {
    log.match_indices("feeds.toml:").find_map(|(i, m)| {
        let rest = &log[i + m.len()..];
        let mut parts = rest.splitn(3, ':');
        let line = parts.next()?.parse().ok()?;
        let col = parts.next()?.parse().ok()?;
        Some((line, col))
    })
}

#[test]
fn daemon_fetches_its_feeds_and_answers_healthz() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS), ("wire", WIRE)]);
    let mut daemon = Daemon::start(&ws);

    let (code, body) = daemon.get("/healthz");
    assert_eq!(code, 200);
    assert_eq!(body.trim(), "ok");
    daemon.wait_until("both feeds stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES && d.entries_of("wire") > 0
    });
    assert_eq!(server.requests_to(ANALYSIS).len(), 1);
    let analysis = daemon.feed("analysis").unwrap();
    assert_eq!(analysis["state"], "ok", "{analysis}");
    let (code, atom) = daemon.get("/feed.atom");
    assert_eq!(code, 200);
    assert!(
        atom.contains(common::SEED_TITLE),
        "the merged feed is served"
    );
}

#[test]
fn daemon_fetches_a_feed_added_to_feeds_toml_without_restart() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let mut daemon = Daemon::start(&ws);
    let pid = daemon.child.id();
    daemon.wait_until("the first feed stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES
    });
    assert!(daemon.feed("wire").is_none());

    rewrite_feeds(
        &ws,
        &feeds_text(&server, &[("analysis", ANALYSIS), ("wire", WIRE)]),
    );
    daemon.wait_until("the added feed fetched and stored", RELOAD_DEADLINE, |d| {
        d.entries_of("wire") > 0
    });
    assert_eq!(server.requests_to(WIRE).len(), 1);
    assert!(daemon.is_running());
    assert_eq!(daemon.child.id(), pid, "the same process, not a restart");
    assert!(daemon.log().contains("feeds reloaded"), "{}", daemon.log());
}

#[test]
fn daemon_drops_a_removed_feed_and_keeps_its_history_by_id() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    let both = feeds_text(&server, &[("analysis", ANALYSIS), ("wire", WIRE)]);
    ws.write_feeds(&both);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("both feeds stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES && d.entries_of("wire") > 0
    });
    let wire_entries = daemon.entries_of("wire");

    rewrite_feeds(&ws, &feeds_text(&server, &[("analysis", ANALYSIS)]));
    daemon.wait_until(
        "the removed feed gone from /api/feeds",
        RELOAD_DEADLINE,
        |d| d.feed("wire").is_none(),
    );
    rewrite_feeds(&ws, &both);
    daemon.wait_until("the feed back in /api/feeds", RELOAD_DEADLINE, |d| {
        d.feed("wire").is_some()
    });
    assert_eq!(
        daemon.entries_of("wire"),
        wire_entries,
        "history follows the id"
    );
    assert_eq!(
        server.requests_to(WIRE).len(),
        1,
        "not due again: nothing refetched"
    );
}

#[test]
fn daemon_rejects_a_broken_feeds_toml_and_keeps_running_and_serving() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("the first feed stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES
    });

    // Line 9 is not TOML.
    let broken = format!(
        "{}\n[[feed]]\nid = \"wire\"\nurl = = \"{}\"\n",
        feeds_text(&server, &[("analysis", ANALYSIS)]),
        server.url(WIRE)
    );
    assert!(broken.lines().nth(8).unwrap().starts_with("url = ="));
    rewrite_feeds(&ws, &broken);
    daemon.wait_until("the broken file logged", RELOAD_DEADLINE, |d| {
        position_after_feeds_toml(&d.log()).is_some()
    });
    let log = daemon.log();
    let (line, col) = position_after_feeds_toml(&log).unwrap();
    assert_eq!(line, 9, "the error names the broken line:\n{log}");
    assert!(col >= 1, "{log}");
    assert!(
        daemon.is_running(),
        "a broken file does not stop the daemon"
    );
    let (code, body) = daemon.get("/healthz");
    assert_eq!((code, body.trim()), (200, "ok"));
    assert_eq!(
        daemon.entries_of("analysis"),
        ANALYSIS_ENTRIES,
        "the running list stays in force"
    );
    assert!(daemon.feed("wire").is_none());

    // The admin fixes the file: it applies.
    rewrite_feeds(
        &ws,
        &feeds_text(&server, &[("analysis", ANALYSIS), ("wire", WIRE)]),
    );
    daemon.wait_until("the fixed file applied", RELOAD_DEADLINE, |d| {
        d.entries_of("wire") > 0
    });
}

#[test]
fn daemon_exits_zero_on_sigterm() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("the first feed stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES
    });

    let (status, _) = daemon.stop_with("TERM");
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    assert!(daemon.log().contains("daemon stopped"), "{}", daemon.log());
    assert!(
        http_get(daemon.addr, "/healthz").is_err(),
        "nothing listens any more"
    );
}

#[test]
fn daemon_exits_zero_on_sigint() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("the first feed stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES
    });
    let (status, _) = daemon.stop_with("INT");
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
}

#[test]
fn daemon_exits_within_bounds_on_sigterm_with_a_fetch_in_flight() {
    let server = FeedServer::start();
    let ws = daemon_workspace("timeout = \"60s\"\n");
    server.delay_answers("/slow.rss", Duration::from_secs(60));
    ws.feeds_on(&server, &[("slow", "/slow.rss")]);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("the slow request in flight", RELOAD_DEADLINE, |_| {
        !server.requests_to("/slow.rss").is_empty()
    });

    let (status, _) = daemon.stop_with("TERM");
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
}

#[test]
fn fetch_while_the_daemon_runs_exits_4() {
    let server = FeedServer::start();
    let ws = daemon_workspace("");
    ws.feeds_on(&server, &[("analysis", ANALYSIS)]);
    let mut daemon = Daemon::start(&ws);
    daemon.wait_until("the first feed stored", RELOAD_DEADLINE, |d| {
        d.entries_of("analysis") == ANALYSIS_ENTRIES
    });

    let (code, _, stderr) = ws.tributary(&["fetch", "--all"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("lock"), "{stderr}");
    assert_eq!(
        server.requests_to(ANALYSIS).len(),
        1,
        "the locked-out run fetched nothing"
    );
    assert!(daemon.is_running());
}
