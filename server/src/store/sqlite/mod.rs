//! The SQLite store: one writer thread with group commits ([`writer`]) and a pool of reader
//! connections, over a WAL database file.

mod conversations;
mod files;
mod messages;
mod schema;
mod stickers;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use flint_proto::api::{Device, Sticker, User};
use flint_proto::wire;
use rusqlite::Connection;

use self::writer::Writer;
pub use self::writer::WriterHealth;
use super::{
    BlobInfo, Collected, CommitListener, ConversationId, Credentials, FileRecord, NewMessage,
    NewSession, NewUpload, SendOutcome, Session, Store, StoreError, Upload, UserId,
};

/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

/// Flint's store over one SQLite file.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    max_group_members: usize,
    health: Arc<WriterHealth>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => schema::connect(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
        }
    }
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`. `listener` hears of every
    /// committed inbox append, in commit order; `health` tracks the writer thread.
    pub fn open(
        path: &Path,
        listener: Arc<dyn CommitListener>,
        max_group_members: usize,
        health: Arc<WriterHealth>,
    ) -> Result<Self, StoreError> {
        let mut conn = schema::connect(path)?;
        schema::migrate(&mut conn)?;
        let (writer, handle) = Writer::spawn(conn, listener, Arc::clone(&health))?;
        Ok(Self {
            writer,
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            max_group_members,
            health,
            writer_thread: Mutex::new(Some(handle)),
        })
    }

    async fn read<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let result = work(&conn);
            readers.give_back(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Dropping the store lets the writer commit what is queued, then waits for it: nothing
/// half-written is left behind on shutdown.
impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.writer = Writer::closed();
        if let Some(handle) = self.writer_thread.get_mut().ok().and_then(Option::take) {
            if handle.join().is_err() {
                tracing::error!("store writer panicked");
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn is_healthy(&self) -> bool {
        self.health.is_alive()
    }

    async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        let (username, display_name, hash) = (
            username.to_owned(),
            display_name.to_owned(),
            password_hash.to_owned(),
        );
        self.writer
            .write(move |ctx| users::create_user(ctx.conn, &username, &display_name, &hash))
            .await
    }

    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        let username = username.to_owned();
        self.read(move |conn| users::credentials(conn, &username))
            .await
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<(), StoreError> {
        let (username, hash) = (username.to_owned(), password_hash.to_owned());
        self.writer
            .write(move |ctx| users::set_password(ctx.conn, &username, &hash))
            .await
    }

    async fn revoke_user_sessions(&self, username: &str) -> Result<usize, StoreError> {
        let username = username.to_owned();
        self.writer
            .write(move |ctx| users::revoke_user_sessions(ctx.conn, &username))
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.read(users::list_users).await
    }

    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        let query = query.to_owned();
        self.read(move |conn| users::search_users(conn, &query, limit))
            .await
    }

    async fn user(&self, user_id: UserId) -> Result<Option<User>, StoreError> {
        self.read(move |conn| users::user(conn, user_id)).await
    }

    async fn create_session(
        &self,
        session: NewSession,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |ctx| users::create_session(ctx.conn, &session, max_per_user))
            .await
    }

    async fn session(
        &self,
        token_hash: Vec<u8>,
        idle_since_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        self.read(move |conn| users::session(conn, &token_hash, idle_since_ms))
            .await
    }

    async fn touch_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError> {
        self.writer
            .write(move |ctx| users::touch_session(ctx.conn, &token_hash))
            .await
    }

    async fn end_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError> {
        self.writer
            .write(move |ctx| users::end_session(ctx.conn, &token_hash))
            .await
    }

    async fn end_device(&self, user_id: UserId, device_id: &str) -> Result<bool, StoreError> {
        let device_id = device_id.to_owned();
        self.writer
            .write(move |ctx| users::end_device(ctx.conn, user_id, &device_id))
            .await
    }

    async fn devices(&self, user_id: UserId) -> Result<Vec<Device>, StoreError> {
        self.read(move |conn| users::devices(conn, user_id)).await
    }

    async fn revocations_after(&self, after_id: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        self.read(move |conn| users::revocations_after(conn, after_id))
            .await
    }

    async fn expire_sessions(&self, idle_since_ms: i64) -> Result<usize, StoreError> {
        self.writer
            .write(move |ctx| users::expire_sessions(ctx.conn, idle_since_ms))
            .await
    }

    async fn send(&self, message: NewMessage) -> Result<SendOutcome, StoreError> {
        self.writer
            .write(move |ctx| messages::send(ctx, message))
            .await
    }

    async fn sync(
        &self,
        user_id: UserId,
        since_seq: u64,
        limit: u32,
        max_bytes: usize,
    ) -> Result<wire::SyncPage, StoreError> {
        self.read(move |conn| messages::sync(conn, user_id, since_seq, limit, max_bytes))
            .await
    }

    async fn head_seq(&self, user_id: UserId) -> Result<u64, StoreError> {
        self.read(move |conn| messages::head_seq(conn, user_id))
            .await
    }

    async fn ack(&self, user_id: UserId, up_to_seq: u64) -> Result<Vec<wire::Receipt>, StoreError> {
        self.writer
            .write(move |ctx| messages::ack(ctx.conn, user_id, up_to_seq))
            .await
    }

    async fn mark_read(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
        up_to_message_id: i64,
    ) -> Result<wire::Receipt, StoreError> {
        self.writer
            .write(move |ctx| {
                messages::mark_read(ctx.conn, user_id, conversation_id, up_to_message_id)
            })
            .await
    }

    async fn open_direct(
        &self,
        user_id: UserId,
        peer_id: UserId,
    ) -> Result<wire::Conversation, StoreError> {
        self.writer
            .write(move |ctx| conversations::open_direct(ctx, user_id, peer_id))
            .await
    }

    async fn create_group(
        &self,
        owner_id: UserId,
        name: &str,
        member_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError> {
        let (name, member_ids, max) =
            (name.to_owned(), member_ids.to_vec(), self.max_group_members);
        self.writer
            .write(move |ctx| conversations::create_group(ctx, owner_id, &name, &member_ids, max))
            .await
    }

    async fn add_members(
        &self,
        actor_id: UserId,
        conversation_id: ConversationId,
        user_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError> {
        let (user_ids, max) = (user_ids.to_vec(), self.max_group_members);
        self.writer
            .write(move |ctx| {
                conversations::add_members(ctx, actor_id, conversation_id, &user_ids, max)
            })
            .await
    }

    async fn remove_members(
        &self,
        actor_id: UserId,
        conversation_id: ConversationId,
        user_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError> {
        let user_ids = user_ids.to_vec();
        self.writer
            .write(move |ctx| {
                conversations::remove_members(ctx, actor_id, conversation_id, &user_ids)
            })
            .await
    }

    async fn leave_group(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<wire::Conversation, StoreError> {
        self.writer
            .write(move |ctx| conversations::leave_group(ctx, user_id, conversation_id))
            .await
    }

    async fn conversation(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<wire::Conversation, StoreError> {
        self.read(move |conn| conversations::load(conn, user_id, conversation_id))
            .await
    }

    async fn conversations(
        &self,
        user_id: UserId,
        after_id: ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> Result<wire::ConversationList, StoreError> {
        self.read(move |conn| conversations::page(conn, user_id, after_id, limit, max_bytes))
            .await
    }

    async fn member_ids(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<Vec<UserId>, StoreError> {
        self.read(move |conn| {
            conversations::require_member(conn, conversation_id, user_id)?;
            conversations::member_ids(conn, conversation_id)
        })
        .await
    }

    async fn create_upload(
        &self,
        upload: NewUpload,
        quota_bytes: u64,
        max_pending: u32,
    ) -> Result<Upload, StoreError> {
        self.writer
            .write(move |ctx| files::create_upload(ctx.conn, &upload, quota_bytes, max_pending))
            .await
    }

    async fn upload(
        &self,
        owner_id: UserId,
        upload_id: &str,
    ) -> Result<Option<Upload>, StoreError> {
        let upload_id = upload_id.to_owned();
        self.read(move |conn| files::upload(conn, owner_id, &upload_id))
            .await
    }

    async fn blob(&self, sha256: Vec<u8>) -> Result<Option<BlobInfo>, StoreError> {
        self.read(move |conn| files::blob(conn, &sha256)).await
    }

    async fn finish_upload(
        &self,
        owner_id: UserId,
        upload_id: &str,
        file_id: &str,
        blob: BlobInfo,
    ) -> Result<FileRecord, StoreError> {
        let (upload_id, file_id) = (upload_id.to_owned(), file_id.to_owned());
        self.writer
            .write(move |ctx| files::finish_upload(ctx.conn, owner_id, &upload_id, &file_id, blob))
            .await
    }

    async fn drop_proof(&self, owner_id: UserId, upload_id: &str) -> Result<(), StoreError> {
        let upload_id = upload_id.to_owned();
        self.writer
            .write(move |ctx| files::drop_proof(ctx.conn, owner_id, &upload_id))
            .await
    }

    async fn delete_upload(&self, owner_id: UserId, upload_id: &str) -> Result<bool, StoreError> {
        let upload_id = upload_id.to_owned();
        self.writer
            .write(move |ctx| files::delete_upload(ctx.conn, owner_id, &upload_id))
            .await
    }

    async fn file(&self, user_id: UserId, file_id: &str) -> Result<Option<FileRecord>, StoreError> {
        let file_id = file_id.to_owned();
        self.read(move |conn| files::file(conn, user_id, &file_id))
            .await
    }

    async fn stickers(&self, user_id: UserId) -> Result<Vec<Sticker>, StoreError> {
        self.read(move |conn| stickers::list(conn, user_id)).await
    }

    async fn add_sticker(&self, user_id: UserId, file_id: &str) -> Result<Sticker, StoreError> {
        let file_id = file_id.to_owned();
        self.writer
            .write(move |ctx| stickers::add(ctx.conn, user_id, &file_id))
            .await
    }

    async fn remove_sticker(&self, user_id: UserId, file_id: &str) -> Result<bool, StoreError> {
        let file_id = file_id.to_owned();
        self.writer
            .write(move |ctx| stickers::remove(ctx.conn, user_id, &file_id))
            .await
    }

    async fn collect_files(
        &self,
        now_ms: i64,
        unsent_before_ms: i64,
    ) -> Result<Collected, StoreError> {
        self.writer
            .write(move |ctx| files::collect(ctx.conn, now_ms, unsent_before_ms))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_marker_is_checked_by_primary_key_not_by_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = schema::connect(&dir.path().join("flint.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                messages::MESSAGE_IN_CONVERSATION
            ))
            .unwrap()
            .query_map([1, 1], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join(" | ");
        assert!(plan.contains("INTEGER PRIMARY KEY"), "{plan}");
        assert!(!plan.contains("SCAN"), "{plan}");
    }

    #[cfg(unix)]
    #[test]
    fn database_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flint.db");
        let conn = schema::connect(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("flint.db{suffix}"));
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        drop(conn);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(schema::connect(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a file opened too wide is narrowed");
    }

    struct Quiet;
    impl CommitListener for Quiet {
        fn committed(&self, _fanout: &crate::store::Fanout) {}
    }

    fn store(dir: &tempfile::TempDir) -> SqliteStore {
        let health = Arc::new(WriterHealth::new(|| {}));
        SqliteStore::open(&dir.path().join("flint.db"), Arc::new(Quiet), 500, health).unwrap()
    }

    #[tokio::test]
    async fn sessions_unused_past_the_idle_time_end_and_are_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let user = store.create_user("alice", "Alice", "hash").await.unwrap();
        let session = NewSession {
            token_hash: vec![1; 32],
            user_id: user.id,
            device_id: "laptop".into(),
            device_name: String::new(),
        };
        store.create_session(session, 20).await.unwrap();
        let now = crate::store::now_ms();
        assert!(store
            .session(vec![1; 32], now - 1000)
            .await
            .unwrap()
            .is_some());
        // Seen from a day later, unused since: the session no longer counts…
        let later = now + 1000;
        assert!(store.session(vec![1; 32], later).await.unwrap().is_none());
        // …and the sweep ends it, recording the revocation for open sockets.
        assert_eq!(store.expire_sessions(later).await.unwrap(), 1);
        let revoked = store.revocations_after(0).await.unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0].1, vec![1; 32]);
        assert!(store.session(vec![1; 32], 0).await.unwrap().is_none());
    }

    #[test]
    fn names_from_before_look_alike_keys_keep_working() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flint.db");
        {
            let conn = schema::connect(&path).unwrap();
            conn.execute_batch(include_str!("migrations/001_init.sql"))
                .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            for name in ["alice", "\u{0430}lice", "bob"] {
                conn.execute(
                    "INSERT INTO users (username, display_name, password_hash, created_at_ms)
                     VALUES (?1, ?1, 'x', 0)",
                    [name],
                )
                .unwrap();
            }
        }
        let mut conn = schema::connect(&path).unwrap();
        schema::migrate(&mut conn).unwrap();
        let keys: Vec<String> = conn
            .prepare("SELECT name_key FROM users ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, ["alice", "alice#2", "bob"]);
    }

    #[test]
    fn revocation_ids_never_go_back_when_pruning_empties_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = schema::connect(&dir.path().join("flint.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        let insert = "INSERT INTO revocations (token_hash, at_ms) VALUES (x'01', 0)";
        conn.execute_batch(&format!(
            "{insert}; {insert}; DELETE FROM revocations; {insert};"
        ))
        .unwrap();
        let id: i64 = conn
            .query_row("SELECT id FROM revocations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, 3, "the watcher's cursor (2) still sees the new one");
    }

    #[test]
    fn full_sync_is_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let conn = schema::connect(&dir.path().join("flint.db")).unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }
}
