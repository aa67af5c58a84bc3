//! Group commit: the batches of feeds that finish parsing while another feed is being written
//! are written together, in one transaction, by one writer thread.
//!
//! Storing is the one step of a refresh that cannot run in parallel (SQLite has one writer),
//! and a transaction per feed repeats what every commit costs: the pages that each batch
//! touches in the shared indexes go to the write-ahead log again, and the full-text index gets
//! another small segment to merge. A [`GroupWriter`] hands ready batches to its thread, which
//! waits for one, takes whatever else is queued by then (up to [`MAX_GROUP`] feeds) and writes
//! them with [`Store::store_prepared_group`], which, when one feed's batch fails, writes the
//! group again one feed at a time, so the others are kept. With one feed at a time (a single
//! `fetch --feed`) a group is that one feed, written as before.
//!
//! One thread does all the writing rather than whichever worker holds the store: SQLite's
//! page cache, journals and full-text buffers are then allocated and freed in one place, where
//! a writer moving between threads left freed memory behind in each thread's allocator arena.

use std::sync::{Arc, Mutex, mpsc};

use crate::store::{
    BatchCounts, BatchJob, DedupSettings, FetchRecord, PreparedBatch, Store, StoreError,
};

/// The most feeds written in one transaction: bounds the transaction's size and how long a
/// reader of the write-ahead log waits for the next commit.
pub const MAX_GROUP: usize = 32;

/// A feed's batch waiting for the store.
struct Queued {
    feed_id: String,
    record: FetchRecord,
    batch: PreparedBatch,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// The outcome for one feed, with its batch handed back: the feed's task frees the batch's
/// thousands of small allocations, not the writer thread, which every feed waits for (a
/// twelfth of its time on a cold fetch).
type Answer = (Result<BatchCounts, StoreError>, PreparedBatch);

/// Writes feeds' batches to one store, grouping those that are ready at the same time. Feeds
/// are written as they are fetched, so a group holds at most `[fetch] concurrency` feeds (and
/// never more than [`MAX_GROUP`]).
#[derive(Clone)]
pub struct GroupWriter {
    inner: Arc<Inner>,
}

/// Dropping the last clone of a [`GroupWriter`] closes the queue and waits for the thread to
/// write what was queued, so a shutdown never leaves a committed-to-be batch behind.
struct Inner {
    queue: Option<mpsc::Sender<Queued>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl GroupWriter {
    /// Starts the writer thread for `store`, folding stories by `settings`.
    pub fn new(store: Arc<Mutex<Store>>, settings: DedupSettings) -> GroupWriter {
        // Commits follow each other here; none of them should wait for a checkpoint.
        if let Err(e) = store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .checkpoint_in_background()
        {
            tracing::warn!(error = %e, "checkpoints stay with the commits");
        }
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tributary-store-writer".into())
            .spawn(move || write_loop(&store, &jobs, &settings))
            .map_err(|e| {
                // Without the thread every `store` call answers with an error; nothing is lost.
                tracing::error!(error = %e, "cannot start the store writer thread");
            })
            .ok();
        GroupWriter {
            inner: Arc::new(Inner {
                queue: Some(queue),
                thread,
            }),
        }
    }

    /// Stores one feed's batch and fetch record (see [`Store::store_prepared`]), possibly in
    /// the same transaction as other feeds' batches, and returns its counts once committed.
    pub async fn store(
        &self,
        feed_id: String,
        record: FetchRecord,
        batch: PreparedBatch,
    ) -> Result<BatchCounts, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let queued = Queued {
            feed_id,
            record,
            batch,
            reply,
        };
        let sent = match &self.inner.queue {
            Some(queue) => queue.send(queued).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Shared(
                "the store writer thread is not running".into(),
            ));
        }
        match answer.await {
            Ok((result, batch)) => {
                drop(batch);
                result
            }
            Err(_) => Err(StoreError::Shared(
                "the store writer stopped before answering".into(),
            )),
        }
    }
}

/// The writer thread: waits for a batch, takes the others queued by then, writes them as one
/// group, answers each, and waits again.
fn write_loop(store: &Mutex<Store>, jobs: &mpsc::Receiver<Queued>, settings: &DedupSettings) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        write_group(store, group, settings);
    }
}

fn write_group(store: &Mutex<Store>, group: Vec<Queued>, settings: &DedupSettings) {
    let jobs: Vec<BatchJob<'_>> = group
        .iter()
        .map(|q| BatchJob {
            feed_id: &q.feed_id,
            record: &q.record,
            batch: &q.batch,
        })
        .collect();
    // A panic while storing fails this group, not the thread: later groups are still written
    // (SQLite rolls the open transaction back when its handle is dropped).
    let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        store.store_prepared_group(&jobs, settings)
    }))
    .unwrap_or_else(|_| Err(StoreError::Shared("storing the batches panicked".into())));
    drop(jobs);
    tracing::debug!(feeds = group.len(), "stored a group of batches");
    match results {
        Ok(results) => {
            for (q, r) in group.into_iter().zip(results) {
                let _ = q.reply.send((r, q.batch));
            }
        }
        Err(e) => {
            let feeds: Vec<&str> = group.iter().map(|q| q.feed_id.as_str()).collect();
            tracing::error!(error = %e, feeds = ?feeds, "storing a group of batches failed");
            let message = e.to_string();
            for q in group {
                let _ = q
                    .reply
                    .send((Err(StoreError::Shared(message.clone())), q.batch));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewEntry;
    use crate::store::FeedIdentity;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn batch(feed: &str, n: usize) -> PreparedBatch {
        let entries = (0..n)
            .map(|i| NewEntry {
                id: format!("{feed}-{i}"),
                id_from_feed: true,
                title: format!("{feed} reports item {i} on the harbour works"),
                link: Some(format!("https://{feed}.example/{i}")),
                published: Some(t("2026-01-14T06:00:00Z")),
                updated: None,
                summary: Some(format!("<p>Body {i} of {feed}</p>")),
                content: None,
                authors: vec![],
            })
            .collect();
        PreparedBatch::new(entries)
    }

    fn record() -> FetchRecord {
        FetchRecord::fetched_for_test("2026-01-15T00:00:00Z")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_feeds_are_all_stored_and_a_bad_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let ids: Vec<String> = (0..24).map(|i| format!("outlet-{i}")).collect();
        store
            .sync_feeds(
                ids.iter().map(|id| FeedIdentity {
                    id,
                    url: "https://x.example/",
                    fingerprint: id,
                }),
                t("2026-01-14T00:00:00Z"),
            )
            .unwrap();
        let shared = Arc::new(Mutex::new(store));
        let writer = GroupWriter::new(shared.clone(), DedupSettings::default());
        let mut tasks = Vec::new();
        // Feed 12 has no row in `feeds`: its batch breaks the foreign key.
        for (i, id) in ids.iter().enumerate() {
            let id = if i == 12 {
                "ghost".to_string()
            } else {
                id.clone()
            };
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let r = writer.store(id.clone(), record(), batch(&id, 10)).await;
                (id, r)
            }));
        }
        for task in tasks {
            let (id, result) = task.await.unwrap();
            match result {
                Ok(counts) => {
                    assert_ne!(id, "ghost");
                    assert_eq!(counts.inserted, 10, "{id}");
                }
                Err(e) => assert_eq!(id, "ghost", "{id}: {e}"),
            }
        }
        drop(writer);
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "dropping the writer waited for its thread, which held the store"
        );
        let check = Store::open(&path).unwrap();
        assert_eq!(check.counts().unwrap().entries, 23 * 10);
    }
}
