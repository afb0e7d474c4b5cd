//! The single writer: one thread owns the write connection and commits jobs in groups.
//!
//! SQLite allows one writer at a time and a commit costs far more than a row, so every write
//! goes through this thread. It takes whatever jobs are queued (up to [`MAX_BATCH`]), runs
//! each in its own savepoint inside one transaction, commits once, and only then answers the
//! callers and tells the [`CommitListener`] — in commit order, so pushes leave in seq order.
//! A job that fails rolls back only its savepoint; a failed commit fails the whole group.
//! A job that panics is a failed job (its caller gets an internal error, the others go on);
//! a panic anywhere else stops the writer for good: [`WriterHealth`] says so, `/health`
//! reports it, and the server exits non-zero so its supervisor restarts it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::store::{CommitListener, Fanout, StoreError, UserId};

/// Most jobs committed together.
const MAX_BATCH: usize = 512;
/// Jobs waiting for the writer before callers wait for room.
const QUEUE_DEPTH: usize = 4096;

/// What a job hands back: its answer and the inbox entries it appended.
type Finish = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
type Job = Box<dyn FnOnce(&mut WriteContext<'_>) -> (Finish, JobStatus) + Send>;

/// Whether a job's own work succeeded; a failed job's savepoint is rolled back.
#[derive(PartialEq, Eq)]
enum JobStatus {
    Done,
    Failed,
}

/// What a job may use: the transaction and the per-user seq counters.
pub(super) struct WriteContext<'a> {
    /// The open savepoint.
    pub conn: &'a Connection,
    /// Inbox seq counters.
    pub seqs: &'a mut SeqCounters,
    /// Fanouts to announce after the commit.
    pub fanouts: Vec<Fanout>,
}

/// Whether the writer thread still runs, and whom to tell when it dies.
pub struct WriterHealth {
    alive: AtomicBool,
    on_death: Box<dyn Fn() + Send + Sync>,
}

impl WriterHealth {
    /// A live writer; `on_death` runs once if it dies.
    pub fn new(on_death: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            alive: AtomicBool::new(true),
            on_death: Box::new(on_death),
        }
    }

    /// False once the writer has died.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    fn died(&self) {
        if self.alive.swap(false, Ordering::SeqCst) {
            (self.on_death)();
        }
    }
}

/// The handle callers use to queue writes.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread over `conn`.
    pub fn spawn(
        conn: Connection,
        listener: Arc<dyn CommitListener>,
        health: Arc<WriterHealth>,
    ) -> Result<(Self, std::thread::JoinHandle<()>), StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let handle = std::thread::Builder::new()
            .name("flint-store-writer".into())
            .spawn(move || {
                let ran = catch_unwind(AssertUnwindSafe(|| run(conn, queue, listener)));
                if ran.is_err() {
                    tracing::error!("the store writer panicked; writes stop and the server exits");
                    health.died();
                }
            })
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok((Self { jobs }, handle))
    }

    /// A handle whose writes all fail with `Closed`; swapped in to let the real one go.
    pub fn closed() -> Self {
        let (jobs, _) = mpsc::channel(1);
        Self { jobs }
    }

    /// Runs `work` in the next group commit and returns its result once committed.
    pub async fn write<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut WriteContext<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |ctx| {
            let result = work(ctx);
            let status = if result.is_ok() {
                JobStatus::Done
            } else {
                JobStatus::Failed
            };
            let finish: Finish = Box::new(move |commit: Result<(), &StoreError>| {
                let outcome = match commit {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::Task(format!("commit failed: {e}"))),
                };
                let _ = reply.send(outcome);
            });
            (finish, status)
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        // A dropped answer means the job panicked (or the writer died under it).
        answer
            .await
            .map_err(|_| StoreError::Task("the write failed inside the store".into()))?
    }
}

fn run(mut conn: Connection, mut queue: mpsc::Receiver<Job>, listener: Arc<dyn CommitListener>) {
    let mut seqs = SeqCounters::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, &mut seqs, &mut batch, listener.as_ref());
    }
    tracing::debug!("store writer stopped");
}

fn commit_group(
    conn: &mut Connection,
    seqs: &mut SeqCounters,
    batch: &mut Vec<Job>,
    listener: &dyn CommitListener,
) {
    let mut finishes = Vec::with_capacity(batch.len());
    let mut fanouts = Vec::new();
    let committed = (|| -> Result<(), StoreError> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in batch.drain(..) {
            let savepoint = tx.savepoint()?;
            seqs.begin_job();
            let mut ctx = WriteContext {
                conn: &savepoint,
                seqs,
                fanouts: Vec::new(),
            };
            let ran = catch_unwind(AssertUnwindSafe(|| job(&mut ctx)));
            let job_fanouts = std::mem::take(&mut ctx.fanouts);
            let status = match ran {
                Ok((finish, status)) => {
                    finishes.push(finish);
                    status
                }
                Err(_) => {
                    tracing::error!("a store job panicked; it is rolled back");
                    JobStatus::Failed
                }
            };
            if status == JobStatus::Done {
                savepoint.commit()?;
                fanouts.extend(job_fanouts);
            } else {
                seqs.undo_job();
                // Dropping the savepoint rolls back what the failed job wrote.
                drop(savepoint);
            }
        }
        tx.commit()?;
        Ok(())
    })();
    match committed {
        Ok(()) => {
            for fanout in &fanouts {
                listener.committed(fanout);
            }
            for finish in finishes {
                finish(Ok(()));
            }
        }
        Err(error) => {
            tracing::error!(%error, "group commit failed");
            seqs.clear();
            batch.clear();
            for finish in finishes {
                finish(Err(&error));
            }
        }
    }
}

/// The newest inbox seq of each user the writer has touched; the writer is the only one
/// appending, so the cache stays true. A failed job restores what it changed.
#[derive(Default)]
pub(super) struct SeqCounters {
    last: HashMap<UserId, u64>,
    journal: Vec<(UserId, Option<u64>)>,
}

impl SeqCounters {
    fn begin_job(&mut self) {
        self.journal.clear();
    }

    /// Undoes what the current job changed.
    fn undo_job(&mut self) {
        for (user, previous) in self.journal.drain(..).rev() {
            match previous {
                Some(seq) => self.last.insert(user, seq),
                None => self.last.remove(&user),
            };
        }
    }

    fn clear(&mut self) {
        self.last.clear();
        self.journal.clear();
    }

    /// The next seq of `user`'s inbox.
    pub fn next(&mut self, conn: &Connection, user: UserId) -> Result<u64, StoreError> {
        let previous = self.last.get(&user).copied();
        let current = match previous {
            Some(seq) => seq,
            None => conn
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM inbox WHERE user_id = ?1")?
                .query_row([user], |row| row.get::<_, i64>(0))? as u64,
        };
        self.journal.push((user, previous));
        self.last.insert(user, current + 1);
        Ok(current + 1)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    struct Quiet;
    impl CommitListener for Quiet {
        fn committed(&self, _fanout: &Fanout) {}
    }

    struct Panics;
    impl CommitListener for Panics {
        fn committed(&self, _fanout: &Fanout) {
            panic!("listener bug");
        }
    }

    /// A writer over an in-memory table, its health, how often it died, and a signal of
    /// its death.
    fn writer(
        listener: Arc<dyn CommitListener>,
    ) -> (
        Writer,
        Arc<WriterHealth>,
        Arc<AtomicUsize>,
        Arc<tokio::sync::Notify>,
    ) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let deaths = Arc::new(AtomicUsize::new(0));
        let died = Arc::new(tokio::sync::Notify::new());
        let (counted, signal) = (Arc::clone(&deaths), Arc::clone(&died));
        let health = Arc::new(WriterHealth::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            signal.notify_one();
        }));
        let (writer, _thread) = Writer::spawn(conn, listener, Arc::clone(&health)).unwrap();
        (writer, health, deaths, died)
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_goes_on() {
        let (writer, health, _, _) = writer(Arc::new(Quiet));
        let panicked = writer
            .write(|ctx| -> Result<(), StoreError> {
                ctx.conn.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("job bug")
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Task(_))), "{panicked:?}");
        let count = writer
            .write(|ctx| {
                ctx.conn.execute("INSERT INTO t VALUES (2)", [])?;
                Ok(ctx
                    .conn
                    .query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)
            })
            .await
            .unwrap();
        assert_eq!(count, 1, "the panicking job's row was rolled back");
        assert!(health.is_alive());
    }

    #[tokio::test]
    async fn a_panic_outside_a_job_stops_the_writer_and_says_so() {
        let (writer, health, deaths, died) = writer(Arc::new(Panics));
        let first = writer
            .write(|ctx| {
                ctx.fanouts.push(Fanout {
                    message: Default::default(),
                    recipients: vec![(1, 1)],
                });
                Ok(())
            })
            .await;
        assert!(first.is_err());
        tokio::time::timeout(std::time::Duration::from_secs(10), died.notified())
            .await
            .expect("the writer's death is reported");
        assert!(!health.is_alive());
        assert_eq!(deaths.load(Ordering::SeqCst), 1);
        let next = writer.write(|_| Ok(())).await;
        assert!(matches!(next, Err(StoreError::Closed)), "{next:?}");
    }
}
