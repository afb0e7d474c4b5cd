//! Persistence behind one trait, so SQLite (the default) and PostgreSQL (scale-out) are
//! interchangeable. Every method authorises against the caller it is given: a store never
//! returns or changes a conversation the caller does not belong to.

mod sqlite;

use async_trait::async_trait;
use flint_proto::api::{Device, Sticker, User};
use flint_proto::wire;

pub use sqlite::{SqliteStore, WriterHealth};

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
    /// The user's storage quota cannot hold what they upload.
    #[error("this file needs {needed} bytes; {available} of your {quota}-byte quota are free")]
    QuotaExceeded {
        /// Bytes asked for.
        needed: u64,
        /// Bytes still free.
        available: u64,
        /// The quota.
        quota: u64,
    },
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

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Whose session it is.
    pub user_id: UserId,
    /// The device it is for.
    pub device_id: String,
    /// What the device calls itself.
    pub device_name: String,
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
    /// For a recall: the message withdrawn, which must be the sender's own in this
    /// conversation.
    pub recalls: Option<i64>,
    /// Files the message refers to: each must be the sender's upload or a file sent to a
    /// conversation the sender belongs to; sending makes it downloadable here.
    pub files: Vec<FileRef>,
}

/// A file a message refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The file's id.
    pub file_id: String,
    /// The size the message states, which must be the file's (`None` for a thumbnail).
    pub size: Option<u64>,
    /// The type family the content must be of (`image` for a picture or a thumbnail,
    /// `audio` for a voice clip, `video` for a video), as sniffed at upload; `None` for any
    /// file. A 2 GiB archive sent as a "picture" would be downloaded by every recipient to
    /// make a thumbnail.
    pub family: Option<&'static str>,
}

/// Content held once per SHA-256, as sniffed when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// SHA-256 of the content (32 bytes).
    pub sha256: Vec<u8>,
    /// Bytes.
    pub size: u64,
    /// MIME type decided from the content.
    pub mime: String,
    /// Pixels across, for images (0 otherwise).
    pub width: u32,
    /// Pixels down, for images (0 otherwise).
    pub height: u32,
}

/// A file as one user uploaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Random id (unguessable), what messages carry.
    pub id: String,
    /// The uploader.
    pub owner_id: UserId,
    /// The name it was uploaded under.
    pub name: String,
    /// Its content.
    pub blob: BlobInfo,
}

/// The bytes of a file that prove its possession (inclusive start, length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofRange {
    /// First byte.
    pub start: u64,
    /// How many bytes.
    pub len: u64,
}

/// An upload to create.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Random id (unguessable).
    pub id: String,
    /// The uploader.
    pub owner_id: UserId,
    /// Bytes the file will have.
    pub length: u64,
    /// Its (cleaned) name.
    pub name: String,
    /// Hex SHA-256 the sender declared ('' when none).
    pub sha256_hex: String,
    /// The range to prove possession of, when the server holds this content already.
    pub proof: Option<ProofRange>,
    /// When it is collected if still unfinished.
    pub expires_at_ms: i64,
}

/// An upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Its id.
    pub id: String,
    /// Bytes the file will have.
    pub length: u64,
    /// Its name.
    pub name: String,
    /// Hex SHA-256 the sender declared ('' when none).
    pub sha256_hex: String,
    /// The range to prove possession of, while a proof may still be given.
    pub proof: Option<ProofRange>,
    /// The stored file, once complete.
    pub file_id: Option<String>,
}

/// What a garbage collection took out of the database; the caller deletes the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Uploads that expired: their staging files go.
    pub uploads: Vec<String>,
    /// Files never sent anywhere that expired.
    pub files: usize,
    /// Blobs no file refers to any more (SHA-256s): their content goes.
    pub blobs: Vec<Vec<u8>>,
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
    /// False once the store can no longer write (its writer died); `/health` reports it.
    fn is_healthy(&self) -> bool;

    /// Creates a user; `Conflict` when the username is taken (case-insensitively) or looks
    /// like a taken one (same confusable skeleton).
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
    /// Ends every session of the user; returns how many ended.
    async fn revoke_user_sessions(&self, username: &str) -> Result<usize, StoreError>;
    /// Every user, by id.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Users whose username or display name contains `query` (case-insensitive, CJK-safe).
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>, StoreError>;
    /// One user.
    async fn user(&self, user_id: UserId) -> Result<Option<User>, StoreError>;

    /// Stores a session, ending the device's previous one and, beyond `max_per_user`
    /// sessions, the user's least recently used ones. Every ended session is revoked.
    async fn create_session(
        &self,
        session: NewSession,
        max_per_user: u32,
    ) -> Result<(), StoreError>;
    /// The session with this token hash, unless unused since before `idle_since_ms`.
    async fn session(
        &self,
        token_hash: Vec<u8>,
        idle_since_ms: i64,
    ) -> Result<Option<Session>, StoreError>;
    /// Notes that a session is in use now.
    async fn touch_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError>;
    /// Ends a session (its sockets are closed through the revocation log).
    async fn end_session(&self, token_hash: Vec<u8>) -> Result<(), StoreError>;
    /// Ends the session of one of `user_id`'s devices; false when it had none.
    async fn end_device(&self, user_id: UserId, device_id: &str) -> Result<bool, StoreError>;
    /// The signed-in devices of a user, most recently used first.
    async fn devices(&self, user_id: UserId) -> Result<Vec<Device>, StoreError>;
    /// Sessions ended after revocation `after_id`, oldest first: (revocation id, token hash).
    async fn revocations_after(&self, after_id: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError>;
    /// Ends the sessions unused since before `idle_since_ms`; returns how many ended.
    async fn expire_sessions(&self, idle_since_ms: i64) -> Result<usize, StoreError>;

    /// Stores a message once per (sender, client id) and appends it to every member's inbox.
    async fn send(&self, message: NewMessage) -> Result<SendOutcome, StoreError>;
    /// Up to `limit` inbox entries after `since_seq`, within `max_bytes` encoded.
    async fn sync(
        &self,
        user_id: UserId,
        since_seq: u64,
        limit: u32,
        max_bytes: usize,
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
    /// A page of the caller's conversations after `after_id` (id order), within `max_bytes`.
    async fn conversations(
        &self,
        user_id: UserId,
        after_id: ConversationId,
        limit: u32,
        max_bytes: usize,
    ) -> Result<wire::ConversationList, StoreError>;
    /// The member ids of a conversation the caller belongs to.
    async fn member_ids(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
    ) -> Result<Vec<UserId>, StoreError>;

    /// Creates an upload unless the owner's files and unfinished uploads would then pass
    /// `quota_bytes` (`QuotaExceeded`) or the owner has `max_pending` unfinished uploads.
    async fn create_upload(
        &self,
        upload: NewUpload,
        quota_bytes: u64,
        max_pending: u32,
    ) -> Result<Upload, StoreError>;
    /// One of the owner's uploads (another user's id is as missing as an unknown one).
    async fn upload(&self, owner_id: UserId, upload_id: &str)
        -> Result<Option<Upload>, StoreError>;
    /// The blob holding this content, if the server has it.
    async fn blob(&self, sha256: Vec<u8>) -> Result<Option<BlobInfo>, StoreError>;
    /// Completes an upload as file `file_id` over `blob` (recorded if new; its bytes must be
    /// in the blob store already).
    async fn finish_upload(
        &self,
        owner_id: UserId,
        upload_id: &str,
        file_id: &str,
        blob: BlobInfo,
    ) -> Result<FileRecord, StoreError>;
    /// Withdraws an upload's offer of a possession proof (one attempt only).
    async fn drop_proof(&self, owner_id: UserId, upload_id: &str) -> Result<(), StoreError>;
    /// Deletes one of the owner's uploads; false when there was none.
    async fn delete_upload(&self, owner_id: UserId, upload_id: &str) -> Result<bool, StoreError>;
    /// A file the caller may download: their own upload, one sent to a conversation they
    /// belong to, or one of their stickers. Anything else is `None`, as for a missing file.
    async fn file(&self, user_id: UserId, file_id: &str) -> Result<Option<FileRecord>, StoreError>;
    /// The user's stickers, newest first.
    async fn stickers(&self, user_id: UserId) -> Result<Vec<Sticker>, StoreError>;
    /// Keeps a picture the user may download as a sticker (again: moved to the front). A
    /// file they cannot see is `NotFound`; one that is no picture, is larger than
    /// [`flint_proto::files::MAX_STICKER_BYTES`] or would pass
    /// [`flint_proto::files::MAX_STICKERS`] is `Invalid`.
    async fn add_sticker(&self, user_id: UserId, file_id: &str) -> Result<Sticker, StoreError>;
    /// Removes one of the user's stickers; false when there was none.
    async fn remove_sticker(&self, user_id: UserId, file_id: &str) -> Result<bool, StoreError>;
    /// Deletes uploads expired at `now_ms`, files never sent anywhere (nor kept as a
    /// sticker) and created before `unsent_before_ms`, and the blobs left without a file.
    async fn collect_files(
        &self,
        now_ms: i64,
        unsent_before_ms: i64,
    ) -> Result<Collected, StoreError>;
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
