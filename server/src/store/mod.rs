//! Persistence behind one trait, so SQLite (the default) and PostgreSQL (scale-out) are
//! interchangeable. Every method authorises against the caller it is given: a store never
//! returns or changes a conversation the caller does not belong to.

mod sqlite;

use async_trait::async_trait;
use flint_proto::{api::User, wire};

pub use sqlite::SqliteStore;

/// A user id.
pub type UserId = i64;
/// A conversation id.
pub type ConversationId = i64;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist or is not visible to the caller.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// A unique thing exists already.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The input breaks a rule the store enforces.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database schema is newer than this binary.
    #[error("database schema version {found} is newer than this server supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this binary knows.
        supported: i64,
    },
    /// The store is shutting down.
    #[error("store is shutting down")]
    Closed,
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A blocking task failed.
    #[error("store task failed: {0}")]
    Task(String),
}

/// A user as stored, with the password hash the login path needs.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The public profile.
    pub user: User,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// An authenticated device session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose session it is.
    pub user_id: UserId,
    /// The device it was issued to.
    pub device_id: String,
}

/// A message to store, already validated by the caller.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The sender; must be a member of the conversation.
    pub sender_id: UserId,
    /// The target conversation.
    pub conversation_id: ConversationId,
    /// The sender's 16-byte UUID v7.
    pub client_id: Vec<u8>,
    /// Encoded `MessageContent`.
    pub content: Vec<u8>,
}

/// The result of storing a message.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    /// The stored message.
    pub message: wire::Message,
    /// True when the message was stored earlier under the same client id.
    pub duplicate: bool,
}

/// Inbox entries that one committed transaction appended, handed to the [`CommitListener`]
/// in commit order.
#[derive(Debug, Clone)]
pub struct Fanout {
    /// The message appended.
    pub message: wire::Message,
    /// Each recipient with the seq the message got in their inbox.
    pub recipients: Vec<(UserId, u64)>,
}

/// Told about every committed [`Fanout`], in commit order, so that pushes leave in seq order.
pub trait CommitListener: Send + Sync + 'static {
    /// Called right after the commit, on the store's writer; must not block.
    fn committed(&self, fanout: &Fanout);
}

/// The server's persistence.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a user; `Conflict` when the username is taken (case-insensitively).
    async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<User, StoreError>;
    /// The user with this username and their password hash.
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError>;
    /// Replaces a password hash and ends every session of the user.
    async fn set_password(&self, username: &str, password_hash: &str) -> Result<(), StoreError>;
    /// Every user, by id.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Users whose username or display name contains `query` (case-insensitive, CJK-safe).
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>, StoreError>;
    /// One user.
    async fn user(&self, user_id: UserId) -> Result<Option<User>, StoreError>;

    /// Stores a session (replacing the device's previous one).
    async fn create_session(
        &self,
        token_hash: Vec<u8>,
        user_id: UserId,
        device_id: &str,
    ) -> Result<(), StoreError>;
    /// The session with this token hash.
    async fn session(&self, token_hash: Vec<u8>) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError>;

    /// Stores a message once per (sender, client id) and appends it to every member's inbox.
    async fn send(&self, message: NewMessage) -> Result<SendOutcome, StoreError>;
    /// Up to `limit` inbox entries after `since_seq`.
    async fn sync(
        &self,
        user_id: UserId,
        since_seq: u64,
        limit: u32,
    ) -> Result<wire::SyncPage, StoreError>;
    /// The newest seq of a user's inbox.
    async fn head_seq(&self, user_id: UserId) -> Result<u64, StoreError>;
    /// Records delivery up to an inbox seq; returns the markers that moved.
    async fn ack(&self, user_id: UserId, up_to_seq: u64) -> Result<Vec<wire::Receipt>, StoreError>;
    /// Moves the caller's read marker forward (never back).
    async fn mark_read(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
        up_to_message_id: i64,
    ) -> Result<wire::Receipt, StoreError>;

    /// The direct conversation between two users, created on first use.
    async fn open_direct(
        &self,
        user_id: UserId,
        peer_id: UserId,
    ) -> Result<wire::Conversation, StoreError>;
    /// Creates a group owned by `owner_id`.
    async fn create_group(
        &self,
        owner_id: UserId,
        name: &str,
        member_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError>;
    /// Adds members (owner or admin only).
    async fn add_members(
        &self,
        actor_id: UserId,
        conversation_id: ConversationId,
        user_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError>;
    /// Removes members (owner or admin only; the owner cannot be removed).
    async fn remove_members(
        &self,
        actor_id: UserId,
        conversation_id: ConversationId,
        user_ids: &[UserId],
    ) -> Result<wire::Conversation, StoreError>;
    /// The caller leaves a group.
    async fn leave_group(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<wire::Conversation, StoreError>;
    /// One conversation of the caller.
    async fn conversation(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<wire::Conversation, StoreError>;
    /// Every conversation of the caller.
    async fn conversations(&self, user_id: UserId) -> Result<Vec<wire::Conversation>, StoreError>;
    /// The member ids of a conversation the caller belongs to.
    async fn member_ids(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<Vec<UserId>, StoreError>;
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
