//! The SQLite store: one writer thread with group commits ([`writer`]) and a pool of reader
//! connections, over a WAL database file.

mod conversations;
mod messages;
mod schema;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use flint_proto::{api::User, wire};
use rusqlite::Connection;

use self::writer::Writer;
use super::{
    CommitListener, ConversationId, Credentials, NewMessage, SendOutcome, Session, Store,
    StoreError, UserId,
};

/// Readers kept open for reuse.
const MAX_IDLE_READERS: usize = 8;

/// Flint's store over one SQLite file.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    max_group_members: usize,
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
    /// committed inbox append, in commit order.
    pub fn open(
        path: &Path,
        listener: Arc<dyn CommitListener>,
        max_group_members: usize,
    ) -> Result<Self, StoreError> {
        let mut conn = schema::connect(path)?;
        schema::migrate(&mut conn)?;
        let (writer, handle) = Writer::spawn(conn, listener)?;
        Ok(Self {
            writer,
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            max_group_members,
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
        token_hash: Vec<u8>,
        user_id: UserId,
        device_id: &str,
    ) -> Result<(), StoreError> {
        let device_id = device_id.to_owned();
        self.writer
            .write(move |ctx| users::create_session(ctx.conn, &token_hash, user_id, &device_id))
            .await
    }

    async fn session(&self, token_hash: Vec<u8>) -> Result<Option<Session>, StoreError> {
        self.read(move |conn| users::session(conn, &token_hash))
            .await
    }

    async fn delete_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError> {
        self.writer
            .write(move |ctx| users::delete_session(ctx.conn, &token_hash))
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
    ) -> Result<wire::SyncPage, StoreError> {
        self.read(move |conn| messages::sync(conn, user_id, since_seq, limit))
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

    async fn conversations(&self, user_id: UserId) -> Result<Vec<wire::Conversation>, StoreError> {
        self.read(move |conn| conversations::list(conn, user_id))
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
}
