//! Background checkpoints: the write-ahead log is copied into the database file by a thread of
//! its own, not by the connection that commits.
//!
//! SQLite's default is that the commit which takes the log past its limit copies every page
//! committed since the last checkpoint into the database and then waits for the disk to make
//! the copy durable. The store writer ([`crate::group_commit`]) is the one stage of a refresh
//! that cannot run in parallel, so every such wait stopped all storing: a cold fetch of 1,000
//! feeds spent about 2 of its 11 seconds waiting for `fsync` in checkpoints.
//!
//! With [`Checkpointer::start`], the writing connection only reports the log's length after
//! each commit; past [`CHECKPOINT_PAGES`] the checkpoint thread runs a passive checkpoint on
//! its own connection, which never blocks the writer or readers.
//!
//! The log starts over only at a write that begins after a checkpoint has copied all of it.
//! A writer committing back to back (a cold fetch of many feeds) seldom begins at such a
//! moment, so the log grows while each checkpoint copies what was added since the last. At
//! [`WRITER_CHECKPOINT_PAGES`] the committing connection checkpoints itself, as it would by
//! default; the next write then starts the log over, and the first commit after that cuts the
//! file back to `journal_size_limit`. So the log stays bounded (about 160 MiB under sustained
//! writing, a few pages between the daemon's refreshes).

use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

use super::CHECKPOINT_PAGES;

/// The log length at which the writing connection stops leaving checkpoints to the thread.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 4 * CHECKPOINT_PAGES;

/// When checkpoints happen, in pages of the write-ahead log.
#[derive(Debug, Clone, Copy)]
pub(super) struct Thresholds {
    /// The thread checkpoints from here on.
    pub background: i64,
    /// The committing connection checkpoints from here on.
    pub writer: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            background: CHECKPOINT_PAGES,
            writer: WRITER_CHECKPOINT_PAGES,
        }
    }
}

/// The checkpoint thread of one store. Dropping it stops the thread (after the checkpoint it
/// may be running) and joins it; commits after that checkpoint as SQLite does by default.
#[derive(Debug)]
pub(super) struct Checkpointer {
    thread: Option<std::thread::JoinHandle<()>>,
    wake: mpsc::SyncSender<()>,
    stop: Arc<AtomicBool>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A full queue means the thread wakes anyway.
        let _ = self.wake.try_send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Checkpointer {
    /// Moves the checkpoints of `conn`'s database file to a thread with a connection of its
    /// own. `None` for a database without a file (in memory), which has no log.
    pub(super) fn start(
        conn: &mut Connection,
        at: Thresholds,
    ) -> Result<Option<Checkpointer>, rusqlite::Error> {
        let Some(path) = conn.path().filter(|p| !p.is_empty()).map(str::to_string) else {
            return Ok(None);
        };
        let own = Connection::open(&path)?;
        own.busy_timeout(std::time::Duration::from_secs(10))?;
        // Reading the mode opens the log; a connection that has read nothing has no log to
        // checkpoint yet. Without one (journal_mode is not WAL) there is nothing to move.
        let mode: String = own.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Ok(None);
        }
        // One pending request is enough: a checkpoint copies whatever the log holds by then.
        let (request, requests) = mpsc::sync_channel::<()>(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = match std::thread::Builder::new()
            .name("tributary-checkpoint".into())
            .spawn(move || checkpoint_loop(&own, &requests, &stopped, &path))
        {
            Ok(thread) => thread,
            Err(e) => {
                // The commits go on checkpointing themselves, as SQLite does by default.
                tracing::warn!(error = %e, "cannot start the checkpoint thread");
                return Ok(None);
            }
        };
        let wake = request.clone();
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: c_int| {
            let pages = i64::from(pages);
            if pages >= at.writer {
                // The thread is behind: checkpoint here, as SQLite would. A failure (the thread
                // holding the checkpoint lock) must not turn the commit into an error: the data
                // is committed, and the next commit asks again.
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            } else if pages >= at.background {
                // Full means a request is already waiting.
                let _ = request.try_send(());
            }
            Ok(())
        }))?;
        Ok(Some(Checkpointer {
            thread: Some(thread),
            wake,
            stop,
        }))
    }
}

/// Runs a passive checkpoint for each request until the [`Checkpointer`] is dropped.
fn checkpoint_loop(
    conn: &Connection,
    requests: &mpsc::Receiver<()>,
    stop: &AtomicBool,
    path: &str,
) {
    while requests.recv().is_ok() && !stop.load(Ordering::Relaxed) {
        match conn.wal_checkpoint_v2(Some("main"), CheckpointMode::PASSIVE) {
            Ok((log, copied)) => {
                tracing::debug!(log, copied, "checkpointed the write-ahead log");
            }
            Err(e) => {
                // Nothing is lost: the pages stay in the log for the next checkpoint.
                tracing::warn!(database = %path, error = %e, "checkpoint failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// 60 commits of one 8 KiB row each.
    fn write_rows(conn: &Connection) {
        for i in 0..60 {
            conn.execute(
                "INSERT INTO rows (id, body) VALUES (?1, zeroblob(8192))",
                [i],
            )
            .unwrap();
        }
    }

    /// A database in WAL mode with a table for the rows, its checkpoints started at `at`.
    struct Started {
        dir: tempfile::TempDir,
        path: std::path::PathBuf,
        conn: Connection,
        checkpointer: Checkpointer,
        /// The database file's size before any row was written.
        before: u64,
    }

    fn started(at: Thresholds) -> Started {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB)")
            .unwrap();
        let before = file_len(&path);
        let checkpointer = Checkpointer::start(&mut conn, at).unwrap().unwrap();
        Started {
            dir,
            path,
            conn,
            checkpointer,
            before,
        }
    }

    #[test]
    fn the_thread_copies_the_log_into_the_database_while_the_writer_goes_on() {
        // The writer itself would checkpoint only past a million pages: any copy is the thread's.
        let Started {
            dir,
            path,
            conn,
            checkpointer,
            before,
        } = started(Thresholds {
            background: 20,
            writer: 1_000_000,
        });
        write_rows(&conn);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        // 60 rows of 8 KiB: the database file holds most of them once checkpoints ran.
        while file_len(&path) < before + 40 * 8192 {
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {} bytes",
                file_len(&path)
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 60);
        // Dropping the handle stops and joins the thread; the writer closes last.
        drop(checkpointer);
        drop(conn);
        assert!(
            !dir.path().join("t.db-wal").exists(),
            "the last connection to close checkpoints and removes the log"
        );
    }

    #[test]
    fn without_the_thread_the_writer_checkpoints_at_its_own_threshold() {
        let s = started(Thresholds {
            background: 1_000_000,
            writer: 20,
        });
        write_rows(&s.conn);
        // Each commit past 20 pages checkpointed before it returned.
        assert!(file_len(&s.path) >= s.before + 50 * 8192);
    }

    #[test]
    fn a_database_in_memory_has_no_log_and_no_thread() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(
            Checkpointer::start(&mut conn, Thresholds::default())
                .unwrap()
                .is_none()
        );
    }
}
