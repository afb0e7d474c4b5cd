//! The public face of the engine: sign in, read snapshots, act, and subscribe to events.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use flint_proto::api::{Device, LoginRequest, RegisterRequest, Sticker, User};
use flint_proto::ipc::{
    CallKind, CallView, ConnectionState, ConversationView, Event, MemberView, MessageStatus,
    MessageView, Toward,
};
use flint_proto::wire::{self, message_content, request, response};
use flint_proto::{ErrorCode, Secret};
use prost::Message as _;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;
use uuid::Uuid;

use crate::attachment::Look;
use crate::calls::screen::CallScreen;
use crate::calls::{self, Calls, MediaEngine};
use crate::config::ClientConfig;
use crate::downloads::Downloads;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::library::{self, Media, Want};
use crate::link::{unexpected, LinkParams};
use crate::media::Pixels;
use crate::profile;
use crate::secrets::TokenVault;
use crate::shared::{Shared, EVENT_BUFFER};
use crate::stickers::{self, Stickers};
use crate::store::messages::Page;
use crate::store::{self, conversations, kv, messages, now_ms, outbox, uploads, Store};
use crate::uploads::Uploads;
use crate::{attachment, engine, pictures, sync, tls, voice};

/// Text limit assumed before the server's greeting says otherwise.
const DEFAULT_MAX_TEXT_CHARS: u32 = 8_000;
/// Most messages one history window returns.
const MAX_WINDOW: u32 = 500;

/// A signed-in account: one connection, one database, one event stream.
pub struct Client {
    shared: Arc<Shared>,
    http: Http,
    vault: TokenVault,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn database_path(config: &ClientConfig, user_id: i64) -> PathBuf {
    config.account_dir(user_id).join("flint.db")
}

/// How to reach `config`'s server, after checking the connection is secure enough: the REST
/// client and the TLS settings the socket shares with it (reading the system's certificates
/// is file I/O, so it runs off the async threads).
async fn transport(config: &ClientConfig) -> Result<(Http, Arc<rustls::ClientConfig>)> {
    config.check_transport()?;
    let roots = config.extra_roots_pem.clone();
    let tls = blocking(move || tls::client_config(&roots)).await?;
    let http = Http::new(
        config.server_url.clone(),
        Arc::clone(&tls),
        config.request_timeout,
    )?;
    Ok((http, tls))
}

/// Runs blocking work (the credential store, files, pictures) off the async threads.
pub(crate) async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R> + Send + 'static,
) -> Result<R> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Error::Closed)?
}

impl Client {
    /// Creates an account on the server (does not sign in).
    pub async fn register(
        config: &ClientConfig,
        username: &str,
        password: &str,
        display_name: &str,
    ) -> Result<User> {
        transport(config)
            .await?
            .0
            .register(&RegisterRequest {
                username: username.into(),
                password: Secret::new(password),
                display_name: display_name.into(),
            })
            .await
    }

    /// Signs in, opens the account's database and starts syncing. The session token goes to
    /// the credential store, never into the database.
    pub async fn login(config: ClientConfig, username: &str, password: &str) -> Result<Self> {
        let (http, tls) = transport(&config).await?;
        let data_dir = config.data_dir.clone();
        let device_id = blocking(move || profile::device_id(&data_dir)).await?;
        let session = http
            .login(&LoginRequest {
                username: username.into(),
                password: Secret::new(password),
                device_id: device_id.clone(),
                device_name: config.device_name.clone(),
            })
            .await?;
        let vault = TokenVault::new(config.credential_store, config.account_dir(session.user.id));
        let path = database_path(&config, session.user.id);
        let store = blocking(move || Store::open(&path)).await?;
        let user_json =
            serde_json::to_string(&session.user).map_err(|e| Error::Protocol(e.to_string()))?;
        let device = device_id.clone();
        store
            .call(move |conn| {
                let tx = conn.transaction()?;
                kv::delete(&tx, kv::LEGACY_TOKEN)?;
                kv::set(&tx, kv::USER, &user_json)?;
                kv::set(&tx, kv::DEVICE_ID, &device)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        let (kept, token) = (vault.clone(), session.token.clone());
        blocking(move || kept.save(&token)).await?;
        let (remembered, user_id) = (config.clone(), session.user.id);
        blocking(move || profile::remember_last_account(&remembered, user_id)).await?;
        Ok(Self::start(
            config,
            (http, tls),
            vault,
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
        let data_dir = config.data_dir.clone();
        let Some(last) = blocking(move || Ok(profile::last_account(&data_dir))).await? else {
            return Ok(None);
        };
        let config = ClientConfig {
            server_url: last.server.unwrap_or(config.server_url),
            allow_insecure: config.allow_insecure || last.allow_insecure,
            ..config
        };
        let (http, tls) = transport(&config).await?;
        let vault = TokenVault::new(config.credential_store, config.account_dir(last.user_id));
        let path = database_path(&config, last.user_id);
        let store = blocking(move || Store::open(&path)).await?;
        let saved = store
            .call(|conn| {
                Ok((
                    kv::get(conn, kv::LEGACY_TOKEN)?,
                    kv::get(conn, kv::USER)?,
                    kv::get(conn, kv::DEVICE_ID)?,
                ))
            })
            .await?;
        let (legacy, Some(user), Some(device_id)) = saved else {
            return Ok(None);
        };
        let token = match legacy {
            // A database from before the credential store: move the token out of it.
            Some(token) => {
                let (kept, token) = (vault.clone(), Secret::new(token));
                let saved = token.clone();
                blocking(move || kept.save(&saved)).await?;
                store
                    .call(|conn| kv::delete(conn, kv::LEGACY_TOKEN))
                    .await?;
                Some(token)
            }
            None => {
                let kept = vault.clone();
                blocking(move || kept.load()).await?
            }
        };
        let Some(token) = token else {
            return Ok(None);
        };
        let user: User = serde_json::from_str(&user).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(Some(Self::start(
            config,
            (http, tls),
            vault,
            store,
            user,
            token,
            device_id,
        )))
    }

    fn start(
        config: ClientConfig,
        (http, tls): (Http, Arc<rustls::ClientConfig>),
        vault: TokenVault,
        store: Store,
        me: User,
        token: Secret,
        device_id: String,
    ) -> Self {
        let params = LinkParams {
            url: config.socket_url(),
            tls,
            token,
            device_id,
            request_timeout: config.request_timeout,
            heartbeat: config.heartbeat,
        };
        let events = broadcast::channel(EVENT_BUFFER).0;
        let shared = Arc::new(Shared {
            store,
            me,
            params,
            call_screen: CallScreen::new(events.clone()),
            events,
            link: watch::channel(None).0,
            state: watch::channel(ConnectionState::Connecting).0,
            outbox_wake: Notify::new(),
            uploads: Uploads::default(),
            downloads: Downloads::default(),
            shutdown: CancellationToken::new(),
            max_text_chars: AtomicU32::new(DEFAULT_MAX_TEXT_CHARS),
            calls: Calls::default(),
            voice: voice::Recordings::default(),
            stickers: Stickers::default(),
            config,
        });
        let tasks = vec![
            tokio::spawn(engine::run(Arc::clone(&shared))),
            tokio::spawn(crate::outbox::run(Arc::clone(&shared))),
            tokio::spawn(crate::uploads::run(Arc::clone(&shared))),
            tokio::spawn(crate::downloads::run(Arc::clone(&shared))),
        ];
        Self {
            shared,
            http,
            vault,
            tasks: Mutex::new(tasks),
        }
    }

    /// The server of the last account signed in from this data folder, if recorded.
    pub fn last_server(data_dir: &Path) -> Option<Url> {
        profile::last_account(data_dir)?.server
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

    /// The picture before or after a message's in its conversation (the viewer's ← and →),
    /// whether or not the UI has it loaded.
    pub async fn neighbour_picture(&self, local_id: i64, toward: Toward) -> Result<Option<i64>> {
        self.shared
            .store
            .call(move |conn| messages::neighbour_picture(conn, local_id, toward))
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
        self.enqueue(conversation_id, content.encode_to_vec(), None)
            .await
    }

    /// Sends a file — a picture (JPEG, PNG, GIF, WebP) as an image with its size, a tiny
    /// preview and a thumbnail made here, an MP4 or QuickTime video up to
    /// [`crate::media::MAX_WHOLE_BYTES`] as a video with its length, size and poster (its
    /// first picture, uploaded beside it), anything else as a file. The message shows at once
    /// as "sending" while the file uploads (resumed after a lost connection or a restart,
    /// [`Event::UploadProgress`] on the way), and enters the outbox once the server holds it.
    pub async fn send_file(&self, conversation_id: i64, path: &Path) -> Result<MessageView> {
        let meta = tokio::fs::metadata(path).await?;
        if !meta.is_file() {
            return Err(Error::Invalid("only files can be sent".into()));
        }
        if meta.len() == 0 {
            return Err(Error::Invalid("the file is empty".into()));
        }
        let path = std::path::absolute(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let inspected = path.clone();
        let (mime, look) = pictures::inspect(inspected).await?;
        let content = attachment::content(name, meta.len(), mime, &look);
        let source = path.to_string_lossy().into_owned();
        let message = self.enqueue(conversation_id, content, Some(source)).await?;
        let thumbnail = match look {
            Look::Picture(picture) => Some(picture.thumbnail),
            Look::Video { poster, .. } => poster.map(|stills| stills.thumbnail),
            Look::Voice { .. } | Look::File => None,
        };
        if let Some(jpeg) = thumbnail {
            library::keep_own_thumbnail(&self.shared, message.local_id, jpeg).await?;
        }
        Ok(message)
    }

    /// The stickers this user keeps, newest first (the server's list: the same on every
    /// device of the account).
    pub async fn stickers(&self) -> Result<Vec<Sticker>> {
        let stickers = self.http.stickers(&self.shared.params.token).await?;
        self.shared.stickers.remember(&stickers);
        Ok(stickers)
    }

    /// Keeps the picture (or sticker) of message `local_id` as a sticker, first in the list.
    pub async fn add_sticker(&self, local_id: i64) -> Result<Sticker> {
        let content = self
            .shared
            .store
            .call(move |conn| messages::located(conn, local_id))
            .await?
            .ok_or(Error::NotFound("message"))?
            .1;
        let file_id = stickers::keepable(&content)?;
        let token = &self.shared.params.token;
        let sticker = self.http.add_sticker(token, &file_id).await?;
        self.shared.stickers.put_first(sticker.clone());
        Ok(sticker)
    }

    /// Removes one of the user's stickers.
    pub async fn remove_sticker(&self, file_id: &str) -> Result<()> {
        let token = &self.shared.params.token;
        self.http.remove_sticker(token, file_id).await?;
        self.shared.stickers.forget(file_id);
        Ok(())
    }

    /// Sends one of the user's stickers: queued like a text (its file is on the server
    /// already), shown at once as "sending".
    pub async fn send_sticker(&self, conversation_id: i64, file_id: &str) -> Result<MessageView> {
        let sticker = self.known_sticker(file_id).await?;
        self.enqueue(conversation_id, stickers::content(&sticker), None)
            .await
    }

    /// One of the user's stickers at display size, for the sticker panel.
    pub async fn sticker_picture(&self, file_id: &str) -> Result<Media> {
        let sticker = self.known_sticker(file_id).await?;
        library::sticker(&self.shared, &sticker).await
    }

    /// A sticker of the list last fetched, fetching it again when it is not there.
    async fn known_sticker(&self, file_id: &str) -> Result<Sticker> {
        if let Some(sticker) = self.shared.stickers.find(file_id) {
            return Ok(sticker);
        }
        self.stickers().await?;
        self.shared
            .stickers
            .find(file_id)
            .ok_or(Error::NotFound("sticker"))
    }

    /// Sets where voice messages are recorded from (the app's microphone, or a synthetic
    /// source in tests); without one, [`Client::start_voice`] answers `NoDevice`.
    pub fn set_microphone(&self, microphone: voice::Microphone) {
        self.shared.voice.set_microphone(microphone);
    }

    /// Opens the microphone and records a voice message (at most a minute;
    /// [`Event::Recording`] tells its progress) until it is sent or cancelled.
    pub async fn start_voice(&self) -> Result<()> {
        let shared = &self.shared;
        shared
            .voice
            .start(shared.events.clone(), shared.shutdown.clone())
            .await
    }

    /// Stops the recording and throws it away.
    pub async fn cancel_voice(&self) -> Result<()> {
        self.shared.voice.cancel().await
    }

    /// Stops the recording and sends it to the conversation as a voice message (Ogg Opus,
    /// with its length and waveform), uploaded like any file; refused when shorter than a
    /// second.
    pub async fn send_voice(&self, conversation_id: i64) -> Result<MessageView> {
        let note = self.shared.voice.finish().await?;
        let name = format!("voice-{}.ogg", Uuid::now_v7());
        let path = library::pasted_path(&self.shared, &name).await?;
        tokio::fs::write(&path, &note.ogg).await?;
        let look = Look::Voice {
            duration_ms: note.duration_ms,
            waveform: note.waveform,
        };
        let size = note.ogg.len() as u64;
        let content = attachment::content(name, size, voice::MIME.into(), &look);
        let source = path.to_string_lossy().into_owned();
        self.enqueue(conversation_id, content, Some(source)).await
    }

    /// Keeps bytes pasted into the composer as a file named `name` in the media folder, to
    /// be sent like any file; returns where.
    pub async fn keep_pasted(&self, name: &str, bytes: Vec<u8>) -> Result<PathBuf> {
        let path = library::pasted_path(&self.shared, name).await?;
        tokio::fs::write(&path, bytes).await?;
        Ok(path)
    }

    /// The tiny preview (JPEG) a picture's message carries, if it has one.
    pub async fn preview(&self, local_id: i64) -> Result<Option<Vec<u8>>> {
        let content = self
            .shared
            .store
            .call(move |conn| messages::content(conn, local_id))
            .await?;
        Ok(content.as_deref().and_then(attachment::preview))
    }

    /// A message's file on this device — its thumbnail (pictures) or the original —
    /// downloaded first when needed.
    pub async fn media(&self, local_id: i64, want: Want) -> Result<Media> {
        library::media(&self.shared, local_id, want).await
    }

    /// Stops the upload of an own message's file; the message shows failed (retry starts
    /// the upload again).
    pub async fn cancel_upload(&self, local_id: i64) -> Result<()> {
        if self.shared.uploads.cancel(local_id) {
            return Ok(());
        }
        let stopped = self
            .shared
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let view = messages::view(&tx, local_id, 0)?;
                let waiting = view
                    .as_ref()
                    .is_some_and(|v| v.status == MessageStatus::Sending)
                    && uploads::deactivate(&tx, local_id, true)?;
                if waiting {
                    messages::mark_failed(&tx, local_id, ErrorCode::Cancelled)?;
                }
                tx.commit()?;
                Ok(view.filter(|_| waiting))
            })
            .await?
            .ok_or_else(|| Error::Invalid("no upload of this message is under way".into()))?;
        self.shared.emit(Event::MessageStatusChanged {
            conversation_id: stopped.conversation_id,
            local_id,
            server_id: None,
            status: MessageStatus::Failed,
            failure: Some(ErrorCode::Cancelled),
        });
        Ok(())
    }

    /// Stops the download of a message's file (what arrived is kept for the next request),
    /// running or waiting to carry on; the request that started it fails with `Cancelled`.
    pub async fn cancel_download(&self, local_id: i64) -> Result<()> {
        let running = self.shared.downloads.cancel(local_id);
        // One waiting to carry on (cut off by a lost link) is dropped too.
        let waiting = crate::downloads::forget(&self.shared, local_id).await?;
        if running || waiting {
            Ok(())
        } else {
            Err(Error::Invalid(
                "no download of this message is under way".into(),
            ))
        }
    }

    /// Downloads the file of a message into this account's media folder (continuing an
    /// earlier partial download); returns where it is.
    pub async fn download_file(&self, local_id: i64) -> Result<PathBuf> {
        Ok(self.media(local_id, Want::Original).await?.path)
    }

    /// The pixels of a message's picture, turned as shown (downloading it first): for the
    /// clipboard.
    pub async fn picture_pixels(&self, local_id: i64) -> Result<Pixels> {
        let picture = self.media(local_id, Want::Picture).await?;
        crate::pictures::pixels(picture.path).await
    }

    async fn enqueue(
        &self,
        conversation_id: i64,
        content: Vec<u8>,
        upload: Option<String>,
    ) -> Result<MessageView> {
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
                match &upload {
                    Some(path) => {
                        uploads::insert(&tx, local_id, path)?;
                        store::media::set_source(&tx, local_id, path)?;
                    }
                    None => outbox::enqueue(&tx, local_id)?,
                }
                if upload.is_none() {
                    conversations::set_draft(&tx, conversation_id, "", now_ms())?;
                }
                conversations::touch(&tx, conversation_id, now_ms())?;
                tx.commit()?;
                messages::view(conn, local_id, me)?.ok_or(Error::NotFound("message"))
            })
            .await?;
        self.shared.outbox_wake.notify_one();
        self.shared.uploads.wake.notify_one();
        self.shared.emit(Event::MessageAdded {
            message: message.clone(),
        });
        self.shared
            .emit_conversations(vec![conversation_id])
            .await?;
        Ok(message)
    }

    /// Deletes a failed message (one the server never stored) from this device.
    pub async fn delete_failed(&self, local_id: i64) -> Result<()> {
        let me = self.shared.me_id();
        let conversation_id = self
            .shared
            .store
            .call(move |conn| messages::delete_unsent(conn, local_id, me))
            .await?
            .ok_or_else(|| Error::Invalid("only failed messages can be deleted".into()))?;
        self.shared.emit(Event::MessageDeleted {
            conversation_id,
            local_id,
        });
        self.shared.emit_conversations(vec![conversation_id]).await
    }

    /// Puts a failed message back in the outbox.
    pub async fn retry(&self, local_id: i64) -> Result<()> {
        let requeued = self
            .shared
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let requeued = messages::mark_sending(&tx, local_id)?;
                if requeued && !uploads::reactivate(&tx, local_id)? {
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
        self.shared.uploads.wake.notify_one();
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

    /// The devices signed in to this account (this one is marked `current`).
    pub async fn devices(&self) -> Result<Vec<Device>> {
        self.http.devices(&self.shared.params.token).await
    }

    /// Signs another device of this account out; its connection closes within a second.
    pub async fn sign_out_device(&self, device_id: &str) -> Result<()> {
        self.http
            .end_device(&self.shared.params.token, device_id)
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

    /// Places a call to the other member of the direct conversation `conversation_id`; it
    /// rings on their devices (`Event::CallChanged` follows it).
    pub async fn start_call(&self, conversation_id: i64, kind: CallKind) -> Result<CallView> {
        calls::start(&self.shared, conversation_id, kind).await
    }

    /// Accepts the call ringing on this device.
    pub async fn accept_call(&self, call_id: &str) -> Result<()> {
        calls::accept(&self.shared, call_id).await
    }

    /// Declines a ringing call, cancels an outgoing one, or hangs up.
    pub async fn hang_up(&self, call_id: &str) -> Result<()> {
        calls::hang_up(&self.shared, call_id).await
    }

    /// Mutes the microphone or turns the camera off during a call.
    pub async fn set_call_media(&self, call_id: &str, muted: bool, camera_off: bool) -> Result<()> {
        calls::set_flags(&self.shared, call_id, muted, camera_off).await
    }

    /// Drops the connection and connects again at once (the network changed, or the user
    /// asked to retry): a call in progress keeps its media, which do not use this connection.
    pub fn reconnect(&self) {
        if let Ok(link) = self.shared.current_link() {
            link.close();
        }
    }

    /// The call on this device: the one in progress, or else the last one (ended), if any.
    pub fn call(&self) -> Option<CallView> {
        self.shared.calls.last()
    }

    /// Where the other side's pictures in a video call go: hand it to the engine as its
    /// screen; the front end is told of each picture and fetches it with
    /// [`CallScreen::jpeg`].
    pub fn call_screen(&self) -> CallScreen {
        self.shared.call_screen.clone()
    }

    /// Uses `engine` for the media of calls from now on (the app's devices, or tests'
    /// synthetic sources); without one, calls connect their signalling only.
    pub fn set_media_engine(&self, engine: Arc<dyn MediaEngine>) {
        self.shared.calls.set_engine(engine);
    }

    /// Sets the speaker a ringing call plays its ringtone (callee) or ringback (caller) on:
    /// the app's device, or a recorder in tests; without one, calls ring silently.
    pub fn set_ring_speaker(&self, speakers: crate::calls::ring::Speakers) {
        self.shared.calls.set_speakers(speakers);
    }

    /// Ends the session on the server, forgets it locally, and stops.
    pub async fn logout(&self) -> Result<()> {
        let ended = self.http.logout(&self.shared.params.token).await;
        let vault = self.vault.clone();
        blocking(move || vault.delete()).await?;
        profile::forget_last_account(&self.shared.config.data_dir);
        self.shutdown().await;
        ended
    }

    /// Stops the engine and waits for its tasks; the outbox is kept for next time.
    pub async fn shutdown(&self) {
        // A call in progress ends with the client: media stop, and the other side is told
        // (while the link still stands).
        calls::leave(&self.shared).await;
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
