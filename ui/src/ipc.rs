//! Every call into the Tauri shell, and the one event stream. Nothing else in the UI touches
//! `__TAURI_INTERNALS__`.

use flint_proto::api::{Device, Sticker, User};
use flint_proto::ipc::{
    CallKind, CallView, ConnectionState, ConversationView, Event, MemberView, MessageView,
    Preferences, StagedFile, Toward,
};
use flint_proto::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], catch)]
    async fn invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke, catch)]
    async fn invoke_raw(
        cmd: &str,
        body: js_sys::Uint8Array,
        options: JsValue,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = transformCallback)]
    fn transform_callback(callback: &js_sys::Function, once: bool) -> f64;
}

/// The result of a command.
pub type Reply<T> = Result<T, ErrorBody>;

fn internal(message: impl ToString) -> ErrorBody {
    ErrorBody::new(ErrorCode::Internal, message.to_string())
}

async fn call<A: Serialize, R: DeserializeOwned>(cmd: &str, args: &A) -> Reply<R> {
    let args = args
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(internal)?;
    match invoke(cmd, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(internal),
        Err(error) => Err(serde_wasm_bindgen::from_value(error.clone())
            .unwrap_or_else(|_| internal(format!("{error:?}")))),
    }
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerArgs<'a> {
    server_url: &'a str,
}

/// What the sign-in form sends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInArgs<'a> {
    /// The server's address.
    pub server_url: &'a str,
    /// Login name.
    pub username: &'a str,
    /// Password.
    pub password: &'a str,
    /// Shown name (registration only).
    pub display_name: &'a str,
    /// The user accepted plain http to another machine.
    pub allow_insecure: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversationArgs {
    conversation_id: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessagesArgs {
    conversation_id: i64,
    before: Option<i64>,
    limit: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AfterArgs {
    conversation_id: i64,
    after: i64,
    limit: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PinnedArgs {
    conversation_id: i64,
    pinned: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MutedArgs {
    conversation_id: i64,
    muted: bool,
}

#[derive(Serialize)]
struct PreferencesArgs {
    preferences: Preferences,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TextArgs<'a> {
    conversation_id: i64,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocalIdArgs {
    local_id: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StickerArgs<'a> {
    file_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendStickerArgs<'a> {
    conversation_id: i64,
    file_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdArgs {
    user_id: i64,
}

#[derive(Serialize)]
struct QueryArgs<'a> {
    query: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupArgs<'a> {
    name: &'a str,
    member_ids: &'a [i64],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FocusArgs {
    conversation_id: Option<i64>,
}

/// The server the sign-in form starts with.
pub async fn default_server_url() -> Reply<String> {
    call("default_server_url", &NoArgs {}).await
}

/// Reopens the last session, if any.
pub async fn resume(server_url: &str) -> Reply<Option<User>> {
    call("resume", &ServerArgs { server_url }).await
}

/// Signs in.
pub async fn sign_in(args: &SignInArgs<'_>) -> Reply<User> {
    call("sign_in", args).await
}

/// Creates an account and signs in.
pub async fn register(args: &SignInArgs<'_>) -> Reply<User> {
    call("register", args).await
}

/// The devices signed in to this account.
pub async fn devices() -> Reply<Vec<Device>> {
    call("devices", &NoArgs {}).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceArgs<'a> {
    device_id: &'a str,
}

/// Signs another device out.
pub async fn sign_out_device(device_id: &str) -> Reply<()> {
    call("sign_out_device", &DeviceArgs { device_id }).await
}

/// Signs out.
pub async fn sign_out() -> Reply<()> {
    call("sign_out", &NoArgs {}).await
}

/// The connection state now.
pub async fn connection_state() -> Reply<ConnectionState> {
    call("connection_state", &NoArgs {}).await
}

/// All conversations.
pub async fn conversations() -> Reply<Vec<ConversationView>> {
    call("conversations", &NoArgs {}).await
}

/// A window of messages.
pub async fn messages(
    conversation_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Reply<Vec<MessageView>> {
    call(
        "messages",
        &MessagesArgs {
            conversation_id,
            before,
            limit,
        },
    )
    .await
}

/// A window of messages after one.
pub async fn messages_after(
    conversation_id: i64,
    after: i64,
    limit: u32,
) -> Reply<Vec<MessageView>> {
    call(
        "messages_after",
        &AfterArgs {
            conversation_id,
            after,
            limit,
        },
    )
    .await
}

/// Pins or unpins a conversation.
pub async fn set_pinned(conversation_id: i64, pinned: bool) -> Reply<()> {
    call(
        "set_pinned",
        &PinnedArgs {
            conversation_id,
            pinned,
        },
    )
    .await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartCallArgs {
    conversation_id: i64,
    kind: CallKind,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallArgs<'a> {
    call_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallMediaArgs<'a> {
    call_id: &'a str,
    muted: bool,
    camera_off: bool,
}

/// Calls the other member of a direct conversation.
pub async fn start_call(conversation_id: i64, kind: CallKind) -> Reply<CallView> {
    call(
        "start_call",
        &StartCallArgs {
            conversation_id,
            kind,
        },
    )
    .await
}

/// Starts recording a voice message from the microphone.
pub async fn start_voice() -> Reply<()> {
    call("start_voice", &NoArgs {}).await
}

/// Stops recording and sends the voice message.
pub async fn send_voice(conversation_id: i64) -> Reply<MessageView> {
    call("send_voice", &ConversationArgs { conversation_id }).await
}

/// The stickers the user keeps, newest first.
pub async fn stickers() -> Reply<Vec<Sticker>> {
    call("stickers", &NoArgs {}).await
}

/// Keeps a message's picture as a sticker.
pub async fn add_sticker(local_id: i64) -> Reply<Sticker> {
    call("add_sticker", &LocalIdArgs { local_id }).await
}

/// Removes one of the user's stickers.
pub async fn remove_sticker(file_id: &str) -> Reply<()> {
    call("remove_sticker", &StickerArgs { file_id }).await
}

/// Sends one of the user's stickers to a conversation.
pub async fn send_sticker(conversation_id: i64, file_id: &str) -> Reply<MessageView> {
    call(
        "send_sticker",
        &SendStickerArgs {
            conversation_id,
            file_id,
        },
    )
    .await
}

/// Stops recording and throws it away.
pub async fn cancel_voice() -> Reply<()> {
    call("cancel_voice", &NoArgs {}).await
}

/// Accepts the call ringing here.
pub async fn accept_call(call_id: &str) -> Reply<()> {
    call("accept_call", &CallArgs { call_id }).await
}

/// Declines, cancels or hangs up a call.
pub async fn hang_up(call_id: &str) -> Reply<()> {
    call("hang_up", &CallArgs { call_id }).await
}

/// Mutes the microphone or turns the camera off.
pub async fn set_call_media(call_id: &str, muted: bool, camera_off: bool) -> Reply<()> {
    call(
        "set_call_media",
        &CallMediaArgs {
            call_id,
            muted,
            camera_off,
        },
    )
    .await
}

/// The call on this device (in progress, or the last one).
pub async fn current_call() -> Reply<Option<CallView>> {
    call("current_call", &NoArgs {}).await
}

/// Mutes or unmutes a conversation.
pub async fn set_muted(conversation_id: i64, muted: bool) -> Reply<()> {
    call(
        "set_muted",
        &MutedArgs {
            conversation_id,
            muted,
        },
    )
    .await
}

/// This profile's preferences.
pub async fn preferences() -> Reply<Preferences> {
    call("preferences", &NoArgs {}).await
}

/// Saves this profile's preferences.
pub async fn set_preferences(preferences: Preferences) -> Reply<()> {
    call("set_preferences", &PreferencesArgs { preferences }).await
}

/// Sends text.
pub async fn send_text(conversation_id: i64, text: &str) -> Reply<MessageView> {
    call(
        "send_text",
        &TextArgs {
            conversation_id,
            text,
        },
    )
    .await
}

#[derive(Serialize)]
struct IndexArgs {
    index: u32,
}

/// Opens the native file dialog; returns every staged file.
pub async fn pick_files() -> Reply<Vec<StagedFile>> {
    call("pick_files", &NoArgs {}).await
}

/// The staged files.
pub async fn staged_files() -> Reply<Vec<StagedFile>> {
    call("staged_files", &NoArgs {}).await
}

/// Drops one staged file; returns the rest.
pub async fn unstage(index: u32) -> Reply<Vec<StagedFile>> {
    call("unstage", &IndexArgs { index }).await
}

/// Drops every staged file.
pub async fn clear_staged() -> Reply<()> {
    call("clear_staged", &NoArgs {}).await
}

/// Sends the staged files to a conversation.
pub async fn send_staged(conversation_id: i64) -> Reply<()> {
    call("send_staged", &ConversationArgs { conversation_id }).await
}

/// Stages pasted bytes as a file named `name` (ASCII); returns every staged file.
pub async fn stage_pasted(name: &str, bytes: &[u8]) -> Reply<Vec<StagedFile>> {
    let headers = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&headers, &"flint-name".into(), &name.into());
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"headers".into(), &headers);
    let body = js_sys::Uint8Array::from(bytes);
    match invoke_raw("stage_pasted", body, options.into()).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(internal),
        Err(error) => Err(serde_wasm_bindgen::from_value(error.clone())
            .unwrap_or_else(|_| internal(format!("{error:?}")))),
    }
}

/// Stops the upload of an own message's file.
pub async fn cancel_upload(local_id: i64) -> Reply<()> {
    call("cancel_upload", &LocalIdArgs { local_id }).await
}

/// Stops the download of a message's file (what arrived is kept).
pub async fn cancel_download(local_id: i64) -> Reply<()> {
    call("cancel_download", &LocalIdArgs { local_id }).await
}

/// Opens a message's file with the system's application.
pub async fn open_file(local_id: i64) -> Reply<()> {
    call("open_file", &LocalIdArgs { local_id }).await
}

/// Shows a message's file in the file manager.
pub async fn show_in_folder(local_id: i64) -> Reply<()> {
    call("show_in_folder", &LocalIdArgs { local_id }).await
}

/// Saves a copy of a message's file where the user chooses.
pub async fn save_file_as(local_id: i64) -> Reply<bool> {
    call("save_file_as", &LocalIdArgs { local_id }).await
}

/// Copies a message's picture to the clipboard.
pub async fn copy_picture(local_id: i64) -> Reply<()> {
    call("copy_picture", &LocalIdArgs { local_id }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NeighbourArgs {
    local_id: i64,
    toward: Toward,
}

/// The picture before or after a message's in its conversation (loaded or not).
pub async fn neighbour_picture(local_id: i64, toward: Toward) -> Reply<Option<i64>> {
    call("neighbour_picture", &NeighbourArgs { local_id, toward }).await
}

/// What a `flint-media` address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// A message's picture at display size on a HiDPI screen.
    Thumbnail(i64),
    /// The same at half its side, for a screen of one device pixel per CSS pixel.
    SmallThumbnail(i64),
    /// The tiny preview a picture's message carries (drawn blurred until the thumbnail).
    Preview(i64),
    /// A message's file.
    Original(i64),
    /// A staged file's thumbnail.
    Staged(u32),
    /// The other side's latest picture in a video call, by its number.
    CallPicture(u64),
}

/// The address of a picture or file served by the shell from the media folder.
pub fn media_url(media: Media) -> String {
    media_address(&match media {
        Media::Thumbnail(id) => format!("thumb/{id}"),
        Media::SmallThumbnail(id) => format!("thumb1x/{id}"),
        Media::Preview(id) => format!("preview/{id}"),
        Media::Original(id) => format!("file/{id}"),
        Media::Staged(index) => format!("staged/{index}"),
        Media::CallPicture(number) => format!("call/{number}"),
    })
}

/// A `srcset` offering a message's thumbnail at both sizes: the page fetches and keeps
/// decoded only the one for its screen (a quarter of the pixels at one device pixel per CSS
/// pixel).
pub fn thumbnail_srcset(local_id: i64) -> String {
    format!(
        "{} 1x, {} 2x",
        media_url(Media::SmallThumbnail(local_id)),
        media_url(Media::Thumbnail(local_id))
    )
}

/// The address of one of the user's stickers' pictures, for the sticker panel.
pub fn sticker_url(file_id: &str) -> String {
    media_address(&format!("sticker/{file_id}"))
}

/// `path` in the media scheme, in the platform's form (Windows' webview reaches custom
/// schemes over `http://<scheme>.localhost`).
fn media_address(path: &str) -> String {
    let windows = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .is_some_and(|agent| agent.contains("Windows"));
    if windows {
        format!("http://flint-media.localhost/{path}")
    } else {
        format!("flint-media://localhost/{path}")
    }
}

/// A `blob:` address holding what a media address serves: WebKitGTK's players cannot
/// stream from a custom scheme, so clips are fetched whole and played from memory (revoke
/// the address when done with it).
pub async fn blob_url(media: Media) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&media_url(media)))
            .await?
            .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("HTTP {}", response.status())));
    }
    let blob: web_sys::Blob = wasm_bindgen_futures::JsFuture::from(response.blob()?)
        .await?
        .dyn_into()?;
    web_sys::Url::create_object_url_with_blob(&blob)
}

/// Deletes a failed message.
pub async fn delete_failed(local_id: i64) -> Reply<()> {
    call("delete_failed", &LocalIdArgs { local_id }).await
}

/// Retries a failed message.
pub async fn retry(local_id: i64) -> Reply<()> {
    call("retry", &LocalIdArgs { local_id }).await
}

/// Marks a conversation read.
pub async fn mark_read(conversation_id: i64) -> Reply<()> {
    call("mark_read", &ConversationArgs { conversation_id }).await
}

/// Saves a draft.
pub async fn set_draft(conversation_id: i64, text: &str) -> Reply<()> {
    call(
        "set_draft",
        &TextArgs {
            conversation_id,
            text,
        },
    )
    .await
}

/// Reads a draft.
pub async fn draft(conversation_id: i64) -> Reply<Option<String>> {
    call("draft", &ConversationArgs { conversation_id }).await
}

/// Typing indicator.
pub async fn typing(conversation_id: i64) -> Reply<()> {
    call("typing", &ConversationArgs { conversation_id }).await
}

/// Searches users.
pub async fn search_users(query: &str) -> Reply<Vec<User>> {
    call("search_users", &QueryArgs { query }).await
}

/// Opens a direct chat.
pub async fn open_direct(user_id: i64) -> Reply<ConversationView> {
    call("open_direct", &UserIdArgs { user_id }).await
}

/// Creates a group.
pub async fn create_group(name: &str, member_ids: &[i64]) -> Reply<ConversationView> {
    call("create_group", &GroupArgs { name, member_ids }).await
}

/// Members of a conversation.
pub async fn members(conversation_id: i64) -> Reply<Vec<MemberView>> {
    call("members", &ConversationArgs { conversation_id }).await
}

/// The conversation a link or notification asked for, not opened yet (forgets it).
pub async fn take_pending_open() -> Reply<Option<i64>> {
    call("take_pending_open", &NoArgs {}).await
}

/// Tells the shell which conversation is on screen.
pub async fn focus_conversation(conversation_id: Option<i64>) -> Reply<()> {
    call("focus_conversation", &FocusArgs { conversation_id }).await
}

#[derive(Serialize)]
struct ListenTarget {
    kind: &'static str,
}

#[derive(Serialize)]
struct ListenArgs {
    event: &'static str,
    target: ListenTarget,
    handler: f64,
}

/// Calls `handler` for every `flint:event` for the life of the page.
pub async fn listen(handler: impl Fn(Event) + 'static) -> Reply<()> {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |raw: JsValue| {
        let payload =
            js_sys::Reflect::get(&raw, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(event) = serde_wasm_bindgen::from_value::<Event>(payload) {
            handler(event);
        }
    });
    let id = transform_callback(closure.as_ref().unchecked_ref(), false);
    // The listener lives as long as the page.
    closure.forget();
    let args = ListenArgs {
        event: "flint:event",
        target: ListenTarget { kind: "Any" },
        handler: id,
    };
    call::<_, f64>("plugin:event|listen", &args)
        .await
        .map(|_| ())
}
