//! The public face of the engine: sign in, read snapshots, act, and subscribe to events.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use flint_proto::api::{LoginRequest, RegisterRequest, User};
use flint_proto::ipc::{ConnectionState, ConversationView, Event, MemberView, MessageView};
use flint_proto::wire::{self, message_content, request, response};
use prost::Message as _;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;
use uuid::Uuid;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::link::{unexpected, LinkParams};
use crate::shared::{Shared, EVENT_BUFFER};
use crate::store::messages::Page;
use crate::store::{conversations, kv, messages, outbox, Store};
use crate::{engine, sync};

/// File in the data folder naming the account to resume.
const LAST_ACCOUNT_FILE: &str = "last-account";
/// File in the data folder holding this installation's device id.
const DEVICE_ID_FILE: &str = "device-id";
/// Text limit assumed before the server's greeting says otherwise.
const DEFAULT_MAX_TEXT_CHARS: u32 = 8_000;
/// Most messages one history window returns.
const MAX_WINDOW: u32 = 500;

/// A signed-in account: one connection, one database, one event stream.
pub struct Client {
    shared: Arc<Shared>,
    http: Http,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// This installation's device id, created on first use.
fn device_id(data_dir: &Path) -> Result<String> {
    let path = data_dir.join(DEVICE_ID_FILE);
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_owned());
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let id = Uuid::new_v4().simple().to_string();
    std::fs::write(&path, &id)?;
    Ok(id)
}

/// The account signed in last in a data folder: its server (when recorded) and user id.
fn last_account(data_dir: &Path) -> Option<(Option<Url>, i64)> {
    let text = std::fs::read_to_string(data_dir.join(LAST_ACCOUNT_FILE)).ok()?;
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next()?;
    match lines.next() {
        Some(user_id) => Some((Url::parse(first).ok(), user_id.parse().ok()?)),
        None => Some((None, first.parse().ok()?)),
    }
}

fn remember_last_account(config: &ClientConfig, user_id: i64) -> std::io::Result<()> {
    std::fs::write(
        config.data_dir.join(LAST_ACCOUNT_FILE),
        format!("{}\n{user_id}\n", config.server_url),
    )
}

fn database_path(config: &ClientConfig, user_id: i64) -> PathBuf {
    config.account_dir(user_id).join("flint.db")
}

impl Client {
    /// Creates an account on the server (does not sign in).
    pub async fn register(
        config: &ClientConfig,
        username: &str,
        password: &str,
        display_name: &str,
    ) -> Result<User> {
        Http::new(config.server_url.clone())
            .register(&RegisterRequest {
                username: username.into(),
                password: password.into(),
                display_name: display_name.into(),
            })
            .await
    }

    /// Signs in, opens the account's database and starts syncing.
    pub async fn login(config: ClientConfig, username: &str, password: &str) -> Result<Self> {
        let device_id = device_id(&config.data_dir)?;
        let http = Http::new(config.server_url.clone());
        let session = http
            .login(&LoginRequest {
                username: username.into(),
                password: password.into(),
                device_id: device_id.clone(),
            })
            .await?;
        let store = Store::open(&database_path(&config, session.user.id))?;
        let user_json =
            serde_json::to_string(&session.user).map_err(|e| Error::Protocol(e.to_string()))?;
        let token = session.token.clone();
        let device = device_id.clone();
        store
            .call(move |conn| {
                let tx = conn.transaction()?;
                kv::set(&tx, kv::TOKEN, &token)?;
                kv::set(&tx, kv::USER, &user_json)?;
                kv::set(&tx, kv::DEVICE_ID, &device)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        remember_last_account(&config, session.user.id)?;
        Ok(Self::start(
            config,
            store,
            session.user,
            session.token,
            device_id,
        ))
    }

    /// Reopens the account signed in last in this data folder, if its session is kept.
    /// The session keeps its own server: `config.server_url` only stands in for sessions saved
    /// before the server was recorded.
    pub async fn resume(config: ClientConfig) -> Result<Option<Self>> {
        let Some((server, user_id)) = last_account(&config.data_dir) else {
            return Ok(None);
        };
        let config = match server {
            Some(server_url) => ClientConfig {
                server_url,
                ..config
            },
            None => config,
        };
        let store = Store::open(&database_path(&config, user_id))?;
        let saved = store
            .call(|conn| {
                Ok((
                    kv::get(conn, kv::TOKEN)?,
                    kv::get(conn, kv::USER)?,
                    kv::get(conn, kv::DEVICE_ID)?,
                ))
            })
            .await?;
        let (Some(token), Some(user), Some(device_id)) = saved else {
            return Ok(None);
        };
        let user: User = serde_json::from_str(&user).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(Some(Self::start(config, store, user, token, device_id)))
    }

    fn start(
        config: ClientConfig,
        store: Store,
        me: User,
        token: String,
        device_id: String,
    ) -> Self {
        let params = LinkParams {
            url: config.socket_url(),
            token,
            device_id,
            request_timeout: config.request_timeout,
            heartbeat: config.heartbeat,
        };
        let shared = Arc::new(Shared {
            store,
            me,
            params,
            events: broadcast::channel(EVENT_BUFFER).0,
            link: watch::channel(None).0,
            state: watch::channel(ConnectionState::Connecting).0,
            outbox_wake: Notify::new(),
            shutdown: CancellationToken::new(),
            max_text_chars: AtomicU32::new(DEFAULT_MAX_TEXT_CHARS),
            config: config.clone(),
        });
        let tasks = vec![
            tokio::spawn(engine::run(Arc::clone(&shared))),
            tokio::spawn(crate::outbox::run(Arc::clone(&shared))),
        ];
        Self {
            shared,
            http: Http::new(config.server_url),
            tasks: Mutex::new(tasks),
        }
    }

    /// The server of the last account signed in from this data folder, if recorded.
    pub fn last_server(data_dir: &Path) -> Option<Url> {
        last_account(data_dir)?.0
    }

    /// The signed-in user.
    pub fn me(&self) -> &User {
        &self.shared.me
    }

    /// Every change from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// The connection state, observable.
    pub fn connection(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// All conversations, pinned first, then by latest activity.
    pub async fn conversations(&self) -> Result<Vec<ConversationView>> {
        let me = self.shared.me_id();
        self.shared
            .store
            .call(move |conn| conversations::list(conn, me))
            .await
    }

    /// One conversation.
    pub async fn conversation(&self, conversation_id: i64) -> Result<Option<ConversationView>> {
        let me = self.shared.me_id();
        self.shared
            .store
            .call(move |conn| conversations::view(conn, conversation_id, me))
            .await
    }

    /// Up to `limit` messages older than the message `before` (a local id; `None` = newest),
    /// oldest first.
    pub async fn messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        match before {
            Some(local_id) => {
                self.page_around(conversation_id, local_id, Page::Before, limit)
                    .await
            }
            None => self.page(conversation_id, Page::Latest, limit).await,
        }
    }

    /// Up to `limit` messages newer than the message `after` (a local id), oldest first.
    pub async fn messages_after(
        &self,
        conversation_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        self.page_around(conversation_id, after, Page::After, limit)
            .await
    }

    /// A page on one side of a message, given by its local id.
    async fn page_around(
        &self,
        conversation_id: i64,
        local_id: i64,
        side: fn(i64) -> Page,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let key = self
            .shared
            .store
            .call(move |conn| messages::sort_key(conn, local_id))
            .await?
            .ok_or(Error::NotFound("message"))?;
        self.page(conversation_id, side(key), limit).await
    }

    async fn page(&self, conversation_id: i64, page: Page, limit: u32) -> Result<Vec<MessageView>> {
        let me = self.shared.me_id();
        let limit = limit.min(MAX_WINDOW);
        self.shared
            .store
            .call(move |conn| messages::window(conn, conversation_id, page, limit, me))
            .await
    }

    /// One message.
    pub async fn message(&self, local_id: i64) -> Result<Option<MessageView>> {
        let me = self.shared.me_id();
        self.shared
            .store
            .call(move |conn| messages::view(conn, local_id, me))
            .await
    }

    /// Queues a text message; it shows at once as "sending" and is delivered when possible.
    pub async fn send_text(&self, conversation_id: i64, text: &str) -> Result<MessageView> {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(Error::Invalid("the message is empty".into()));
        }
        if chars > self.shared.max_text_chars() {
            return Err(Error::Invalid(format!(
                "the message is {chars} characters; the limit is {}",
                self.shared.max_text_chars()
            )));
        }
        let content = wire::MessageContent {
            kind: Some(message_content::Kind::Text(wire::Text {
                body: text.to_owned(),
                ..Default::default()
            })),
        };
        self.enqueue(conversation_id, content.encode_to_vec()).await
    }

    async fn enqueue(&self, conversation_id: i64, content: Vec<u8>) -> Result<MessageView> {
        let me = self.shared.me_id();
        let client_id = Uuid::now_v7().as_bytes().to_vec();
        let message = self
            .shared
            .store
            .call(move |conn| {
                if !conversations::is_member(conn, conversation_id)? {
                    return Err(Error::NotFound("conversation"));
                }
                let tx = conn.transaction()?;
                let local_id = messages::insert_local(
                    &tx,
                    conversation_id,
                    me,
                    &client_id,
                    &content,
                    now_ms(),
                )?;
                outbox::enqueue(&tx, local_id)?;
                conversations::set_draft(&tx, conversation_id, "", now_ms())?;
                conversations::touch(&tx, conversation_id, now_ms())?;
                tx.commit()?;
                messages::view(conn, local_id, me)?.ok_or(Error::NotFound("message"))
            })
            .await?;
        self.shared.outbox_wake.notify_one();
        self.shared.emit(Event::MessageAdded {
            message: message.clone(),
        });
        self.shared
            .emit_conversations(vec![conversation_id])
            .await?;
        Ok(message)
    }

    /// Puts a failed message back in the outbox.
    pub async fn retry(&self, local_id: i64) -> Result<()> {
        let requeued = self
            .shared
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let requeued = messages::mark_sending(&tx, local_id)?;
                if requeued {
                    outbox::enqueue(&tx, local_id)?;
                }
                tx.commit()?;
                Ok(requeued)
            })
            .await?;
        if !requeued {
            return Err(Error::Invalid("only failed messages can be retried".into()));
        }
        self.shared.outbox_wake.notify_one();
        Ok(())
    }

    /// Messages waiting to be sent.
    pub async fn outbox_len(&self) -> Result<u64> {
        self.shared.store.call(|conn| outbox::len(conn)).await
    }

    /// Marks everything in a conversation read (sent to the server now or on reconnect).
    pub async fn mark_read(&self, conversation_id: i64) -> Result<()> {
        let me = self.shared.me_id();
        let moved = self
            .shared
            .store
            .call(move |conn| conversations::mark_read_locally(conn, conversation_id, me))
            .await?;
        self.shared
            .emit_conversations(vec![conversation_id])
            .await?;
        if let (Some(up_to), Ok(link)) = (moved, self.shared.current_link()) {
            sync::send_read_marker(&self.shared, &link, conversation_id, up_to).await?;
        }
        Ok(())
    }

    /// Tells the other members this account is typing (dropped when offline).
    pub async fn typing(&self, conversation_id: i64) -> Result<()> {
        let body = request::Body::Typing(wire::Typing { conversation_id });
        self.shared.current_link()?.request(body).await.map(|_| ())
    }

    async fn conversation_request(&self, body: request::Body) -> Result<ConversationView> {
        let conversation = match self.shared.current_link()?.request(body).await? {
            response::Result::Conversation(conversation) => conversation,
            other => return Err(unexpected(&other)),
        };
        let (id, me) = (conversation.id, self.shared.me_id());
        let view = self
            .shared
            .store
            .call(move |conn| {
                conversations::upsert(conn, &conversation, me)?;
                conversations::view(conn, id, me)?.ok_or(Error::NotFound("conversation"))
            })
            .await?;
        self.shared.emit(Event::ConversationUpdated {
            conversation: view.clone(),
        });
        Ok(view)
    }

    /// The direct conversation with a user (created on first use; needs a connection).
    pub async fn open_direct(&self, user_id: i64) -> Result<ConversationView> {
        self.conversation_request(request::Body::OpenDirect(wire::OpenDirect { user_id }))
            .await
    }

    /// Creates a group with this account as owner.
    pub async fn create_group(&self, name: &str, member_ids: &[i64]) -> Result<ConversationView> {
        self.conversation_request(request::Body::CreateGroup(wire::CreateGroup {
            name: name.into(),
            member_ids: member_ids.to_vec(),
        }))
        .await
    }

    /// Adds users to a group.
    pub async fn add_members(
        &self,
        conversation_id: i64,
        user_ids: &[i64],
    ) -> Result<ConversationView> {
        self.conversation_request(request::Body::AddMembers(wire::AddMembers {
            conversation_id,
            user_ids: user_ids.to_vec(),
        }))
        .await
    }

    /// Removes users from a group.
    pub async fn remove_members(
        &self,
        conversation_id: i64,
        user_ids: &[i64],
    ) -> Result<ConversationView> {
        self.conversation_request(request::Body::RemoveMembers(wire::RemoveMembers {
            conversation_id,
            user_ids: user_ids.to_vec(),
        }))
        .await
    }

    /// Leaves a group.
    pub async fn leave_group(&self, conversation_id: i64) -> Result<()> {
        let body = request::Body::LeaveGroup(wire::LeaveGroup { conversation_id });
        self.shared.current_link()?.request(body).await?;
        self.shared
            .store
            .call(move |conn| conversations::mark_departed(conn, conversation_id))
            .await?;
        self.shared.emit_conversations(vec![conversation_id]).await
    }

    /// The members of a conversation, as last synced.
    pub async fn members(&self, conversation_id: i64) -> Result<Vec<MemberView>> {
        self.shared
            .store
            .call(move |conn| conversations::members(conn, conversation_id))
            .await
    }

    /// Users on the server whose name contains `query`.
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>> {
        self.http
            .search_users(&self.shared.params.token, query)
            .await
    }

    /// Saves the composer draft of a conversation (empty clears it).
    pub async fn set_draft(&self, conversation_id: i64, text: &str) -> Result<()> {
        let text = text.to_owned();
        self.shared
            .store
            .call(move |conn| conversations::set_draft(conn, conversation_id, &text, now_ms()))
            .await?;
        self.shared.emit_conversations(vec![conversation_id]).await
    }

    /// Pins a conversation to the top of the list (this device only), or unpins it.
    pub async fn set_pinned(&self, conversation_id: i64, pinned: bool) -> Result<()> {
        self.set_flag(conversation_id, conversations::Flag::Pinned, pinned)
            .await
    }

    /// Mutes a conversation (no notifications, not counted in the total), or unmutes it.
    pub async fn set_muted(&self, conversation_id: i64, muted: bool) -> Result<()> {
        self.set_flag(conversation_id, conversations::Flag::Muted, muted)
            .await
    }

    async fn set_flag(
        &self,
        conversation_id: i64,
        flag: conversations::Flag,
        on: bool,
    ) -> Result<()> {
        self.shared
            .store
            .call(move |conn| conversations::set_flag(conn, conversation_id, flag, on))
            .await?;
        self.shared.emit_conversations(vec![conversation_id]).await
    }

    /// The composer draft of a conversation.
    pub async fn draft(&self, conversation_id: i64) -> Result<Option<String>> {
        self.shared
            .store
            .call(move |conn| conversations::draft(conn, conversation_id))
            .await
    }

    /// Ends the session on the server, forgets it locally, and stops.
    pub async fn logout(&self) -> Result<()> {
        let ended = self.http.logout(&self.shared.params.token).await;
        self.shared
            .store
            .call(|conn| {
                conn.execute("DELETE FROM kv WHERE key = ?1", [kv::TOKEN])?;
                Ok(())
            })
            .await?;
        let _ = std::fs::remove_file(self.shared.config.data_dir.join(LAST_ACCOUNT_FILE));
        self.shutdown().await;
        ended
    }

    /// Stops the engine and waits for its tasks; the outbox is kept for next time.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        let tasks = self
            .tasks
            .lock()
            .map(|mut tasks| std::mem::take(&mut *tasks))
            .unwrap_or_default();
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
