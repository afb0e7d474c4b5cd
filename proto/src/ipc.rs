//! Views and events the client engine hands to front ends (the desktop UI over Tauri IPC, the
//! CLI, tests). Plain serde data: no I/O, builds for wasm32.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::api::User;
use crate::ErrorCode;

/// Where an own message stands. Messages from others are always `Sent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// In the outbox, not yet stored by the server.
    Sending,
    /// Stored by the server.
    Sent,
    /// Stored on a device of every other member.
    Delivered,
    /// Read by every other member.
    Read,
    /// Refused by the server; can be retried.
    Failed,
}

/// What a message says, decoded for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentView {
    /// Text; render as text, never as markup.
    Text {
        /// The text.
        body: String,
        /// Mentioned user ids.
        mentions: Vec<i64>,
    },
    /// A notice written by the server about the group.
    System {
        /// What happened.
        kind: NoticeKind,
        /// Who did it.
        actor_id: i64,
        /// Whom it concerns.
        targets: Vec<i64>,
        /// The group name, where it applies.
        name: String,
    },
    /// A file.
    File {
        /// The server's id of the file ('' while it is still being uploaded).
        file_id: String,
        /// Its name.
        name: String,
        /// Size in bytes.
        size: u64,
    },
    /// A picture; its thumbnail and full size come through the shell's media scheme.
    Image {
        /// Pixels across, as shown (0 when unknown).
        width: u32,
        /// Pixels down, as shown.
        height: u32,
        /// Size in bytes.
        size: u64,
        /// An animation (GIF) that plays where it is visible.
        animated: bool,
    },
    /// A sticker: a picture shown on its own, without a bubble; its image comes through the
    /// shell's media scheme like a picture's.
    Sticker {
        /// Pixels across (0 when unknown).
        width: u32,
        /// Pixels down.
        height: u32,
        /// An animation (GIF) that plays where it is visible.
        animated: bool,
    },
    /// A voice clip.
    Voice {
        /// Length in milliseconds.
        duration_ms: u32,
        /// Loudness per bar, 0–255.
        waveform: Vec<u8>,
    },
    /// A video clip.
    Video {
        /// Pixels across.
        width: u32,
        /// Pixels down.
        height: u32,
        /// Length in milliseconds.
        duration_ms: u32,
        /// Size in bytes.
        size: u64,
    },
    /// The record a call left (written by the server when it ended).
    Call {
        /// Audio or video.
        kind: CallKind,
        /// How it ended.
        outcome: CallOutcome,
        /// From the answer to the end (0 when never answered).
        duration_ms: u64,
    },
    /// A kind this client cannot show yet (kept, shown as "unsupported").
    Unsupported {
        /// The kind's name when known (`image`, `file`, …), else `unknown`.
        kind: String,
    },
}

/// Which way the picture viewer steps through a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Toward {
    /// The picture sent before.
    Older,
    /// The picture sent after.
    Newer,
}

/// Audio only, or audio and video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// Voice.
    Audio,
    /// Voice and camera.
    Video,
}

impl From<crate::wire::CallMedia> for CallKind {
    fn from(media: crate::wire::CallMedia) -> Self {
        match media {
            crate::wire::CallMedia::Video => Self::Video,
            crate::wire::CallMedia::Audio | crate::wire::CallMedia::Unspecified => Self::Audio,
        }
    }
}

impl From<CallKind> for crate::wire::CallMedia {
    fn from(kind: CallKind) -> Self {
        match kind {
            CallKind::Audio => Self::Audio,
            CallKind::Video => Self::Video,
        }
    }
}

/// How a call ended, as the server recorded it or as this device saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Nobody answered in time.
    Missed,
    /// The callee declined.
    Declined,
    /// The caller hung up before an answer.
    Cancelled,
    /// The callee was in another call.
    Busy,
    /// Answered, then hung up.
    HungUp,
    /// Answered, then a participant's connection was lost.
    ConnectionLost,
    /// Another device of this user took the call (this device only).
    AnsweredElsewhere,
    /// Media could not be set up or broke (this device only).
    Failed,
    /// An outcome newer than this client.
    Unknown,
}

impl From<crate::wire::CallEnd> for CallOutcome {
    fn from(end: crate::wire::CallEnd) -> Self {
        use crate::wire::CallEnd as Wire;
        match end {
            Wire::Missed => Self::Missed,
            Wire::Declined => Self::Declined,
            Wire::Cancelled => Self::Cancelled,
            Wire::Busy => Self::Busy,
            Wire::HungUp => Self::HungUp,
            Wire::ConnectionLost => Self::ConnectionLost,
            Wire::Unspecified => Self::Unknown,
        }
    }
}

/// Where a call stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum CallPhase {
    /// Ringing: the other side's devices (outgoing), or this device (incoming).
    Ringing,
    /// Answered; media are being set up.
    Connecting,
    /// Media flow.
    Connected,
    /// Over.
    Ended {
        /// How.
        outcome: CallOutcome,
    },
}

/// A participant's microphone, camera and screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFlags {
    /// Microphone muted.
    pub muted: bool,
    /// Camera off (always, in an audio call).
    pub camera_off: bool,
    /// Sharing a screen or window.
    pub sharing_screen: bool,
}

/// The call on this device, as a front end shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    /// The call's id (hex).
    pub call_id: String,
    /// Its conversation.
    pub conversation_id: i64,
    /// The other participant.
    pub peer_id: i64,
    /// Audio or video.
    pub kind: CallKind,
    /// Placed by this user (else received).
    pub outgoing: bool,
    /// Where it stands.
    pub phase: CallPhase,
    /// When it was answered, milliseconds since the Unix epoch.
    pub answered_at_ms: Option<i64>,
    /// This side's media.
    pub local: MediaFlags,
    /// The other side's media.
    pub remote: MediaFlags,
    /// How the network carries the call, once the other side has reported on it.
    #[serde(default)]
    pub quality: Option<CallQuality>,
}

/// How the network carries a call, from the share of this side's packets the other side
/// reports lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallQuality {
    /// Hardly anything lost.
    Good,
    /// Some loss: sound may break up, the picture is sent smaller.
    Fair,
    /// Heavy loss, or no word from the other side for a while.
    Poor,
}

/// What a server notice says happened in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The actor created the group.
    GroupCreated,
    /// The actor added the targets.
    MembersAdded,
    /// The actor removed the targets.
    MembersRemoved,
    /// The actor left.
    MemberLeft,
    /// The actor renamed the group.
    GroupRenamed,
    /// A kind newer than this client.
    Unknown,
}

impl From<crate::wire::NoticeKind> for NoticeKind {
    fn from(kind: crate::wire::NoticeKind) -> Self {
        use crate::wire::NoticeKind as Wire;
        match kind {
            Wire::GroupCreated => Self::GroupCreated,
            Wire::MembersAdded => Self::MembersAdded,
            Wire::MembersRemoved => Self::MembersRemoved,
            Wire::MemberLeft => Self::MemberLeft,
            Wire::GroupRenamed => Self::GroupRenamed,
            Wire::Unspecified => Self::Unknown,
        }
    }
}

/// A one-line summary of a message, for the conversation list and notifications; front ends
/// put it in words (notices are localised there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preview<'a> {
    /// The first line of a text.
    Text(&'a str),
    /// A server notice.
    Notice(NoticeKind),
    /// A file (its name).
    File(&'a str),
    /// A picture.
    Image,
    /// A sticker.
    Sticker,
    /// A voice clip (its length in milliseconds).
    Voice(u32),
    /// A video clip.
    Video,
    /// A call's record.
    Call(CallKind),
    /// A kind this client cannot show (its name).
    Unsupported(&'a str),
}

/// A message as a front end shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Local id, stable from the moment the message exists on this device.
    pub local_id: i64,
    /// The server's id once stored.
    pub server_id: Option<i64>,
    /// The conversation.
    pub conversation_id: i64,
    /// Who sent it (0 for system notices).
    pub sender_id: i64,
    /// The sender's UUID for it.
    pub client_id: String,
    /// When it was stored (or created, while sending), ms since the epoch.
    pub created_at_ms: i64,
    /// What it says.
    pub content: ContentView,
    /// Where it stands.
    pub status: MessageStatus,
    /// True for messages this account sent.
    pub is_own: bool,
    /// Why a `Failed` message was not sent.
    #[serde(default)]
    pub failure: Option<ErrorCode>,
}

/// Sort keys at or above this belong to messages still in the outbox (above every server id).
pub const PENDING_SORT_BASE: i64 = 1 << 62;

impl MessageView {
    /// Where the message sorts in its conversation, as the client cache orders history: stored
    /// messages by server id, messages still in the outbox after them in the order written.
    pub fn sort_key(&self) -> i64 {
        self.server_id.unwrap_or(PENDING_SORT_BASE + self.local_id)
    }

    /// What the message says in one line.
    pub fn preview(&self) -> Preview<'_> {
        match &self.content {
            ContentView::Text { body, .. } => {
                Preview::Text(body.lines().find(|l| !l.trim().is_empty()).unwrap_or(""))
            }
            ContentView::System { kind, .. } => Preview::Notice(*kind),
            ContentView::File { name, .. } => Preview::File(name),
            ContentView::Image { .. } => Preview::Image,
            ContentView::Sticker { .. } => Preview::Sticker,
            ContentView::Voice { duration_ms, .. } => Preview::Voice(*duration_ms),
            ContentView::Video { .. } => Preview::Video,
            ContentView::Call { kind, .. } => Preview::Call(*kind),
            ContentView::Unsupported { kind } => Preview::Unsupported(kind),
        }
    }
}

/// Direct or group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Two users.
    #[default]
    Direct,
    /// A named group.
    Group,
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    /// Its id.
    pub id: i64,
    /// Direct or group.
    pub kind: ConversationKind,
    /// The group name, or the other user's display name.
    pub title: String,
    /// Number of members.
    pub member_count: u32,
    /// The newest message.
    pub last_message: Option<MessageView>,
    /// Time of the newest activity, ms since the epoch.
    pub last_activity_ms: i64,
    /// Messages from others after the read marker.
    pub unread: u32,
    /// Pinned to the top of the list.
    pub pinned: bool,
    /// No notifications.
    pub muted: bool,
    /// Unsent text in the composer.
    pub draft: Option<String>,
    /// False once this account left or was removed.
    pub is_member: bool,
}

impl ConversationView {
    /// The order of the conversation list: pinned first, then the latest activity, then the
    /// newer conversation. The one definition every front end and the engine use.
    pub fn list_order(a: &Self, b: &Self) -> Ordering {
        b.pinned
            .cmp(&a.pinned)
            .then(b.last_activity_ms.cmp(&a.last_activity_ms))
            .then(b.id.cmp(&a.id))
    }
}

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Created the group.
    Owner,
    /// May add and remove members.
    Admin,
    /// Everyone else (and both users of a direct conversation).
    Member,
}

impl From<crate::wire::MemberRole> for Role {
    fn from(role: crate::wire::MemberRole) -> Self {
        use crate::wire::MemberRole as Wire;
        match role {
            Wire::Owner => Self::Owner,
            Wire::Admin => Self::Admin,
            Wire::Member => Self::Member,
        }
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The user.
    pub user: User,
    /// Their role.
    pub role: Role,
}

/// The state of the connection to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// Opening the socket.
    Connecting,
    /// Connected; catching up on missed messages.
    Syncing,
    /// Connected and up to date.
    Online,
    /// Disconnected; the next attempt is scheduled.
    Reconnecting {
        /// Attempts so far.
        attempt: u32,
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
    },
    /// The session is no longer valid; sign in again.
    SignedOut,
}

/// Something that changed, pushed to front ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A message appeared: received, synced, or created locally.
    MessageAdded {
        /// The message.
        message: MessageView,
    },
    /// An own message's status changed.
    MessageStatusChanged {
        /// The conversation.
        conversation_id: i64,
        /// The message.
        local_id: i64,
        /// Its server id, once it has one.
        server_id: Option<i64>,
        /// The new status.
        status: MessageStatus,
        /// Why, when the new status is `Failed`.
        #[serde(default)]
        failure: Option<ErrorCode>,
    },
    /// A message is gone from this device (an unsent one the user deleted).
    MessageDeleted {
        /// The conversation.
        conversation_id: i64,
        /// The message.
        local_id: i64,
    },
    /// A conversation's summary changed (new message, unread, name, members).
    ConversationUpdated {
        /// The conversation as it is now.
        conversation: ConversationView,
    },
    /// A member is typing.
    Typing {
        /// The conversation.
        conversation_id: i64,
        /// Who is typing.
        user_id: i64,
    },
    /// A file of an own message is on its way to the server (at most ten a second per file).
    UploadProgress {
        /// The conversation.
        conversation_id: i64,
        /// The message the file belongs to.
        local_id: i64,
        /// Bytes the server holds.
        sent: u64,
        /// Bytes of the file.
        total: u64,
    },
    /// A message's file is on its way from the server to this device (at most ten a second
    /// per file; the last says `received == total`). A cancelled or failed download ends
    /// with [`Event::DownloadStopped`].
    DownloadProgress {
        /// The conversation.
        conversation_id: i64,
        /// The message the file belongs to.
        local_id: i64,
        /// Bytes on this device.
        received: u64,
        /// Bytes of the file.
        total: u64,
    },
    /// A download ended before the whole file arrived (cancelled, refused or cut off); what
    /// arrived is kept, and the next request continues from there.
    DownloadStopped {
        /// The conversation.
        conversation_id: i64,
        /// The message the file belongs to.
        local_id: i64,
        /// Why.
        reason: ErrorCode,
    },
    /// The connection changed state.
    ConnectionChanged {
        /// The new state.
        state: ConnectionState,
    },
    /// Files were dropped on the window and wait, staged, for the user to send them. Raised by
    /// the desktop shell, never by the engine.
    FilesStaged {
        /// Every staged file, in order.
        files: Vec<StagedFile>,
    },
    /// The user asked the shell to show a conversation (a notification was clicked). Raised
    /// by the desktop shell, never by the engine.
    OpenRequested {
        /// The conversation to show.
        conversation_id: i64,
    },
    /// The call on this device changed (rings, answered, connected, media flags, ended).
    CallChanged {
        /// The call as it is now.
        call: CallView,
    },
    /// A new picture of the other side of the video call is ready: the front end fetches it
    /// from the shell (`flint-media://…/call/{number}`) when it can draw it.
    CallPicture {
        /// Pictures shown in this call so far.
        number: u64,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// A voice message is being recorded (five times a second, and once more when it is
    /// full).
    Recording {
        /// Milliseconds recorded.
        elapsed_ms: u32,
        /// Loudness of the last 20 ms, 0–255.
        level: u8,
        /// The recording reached its longest and takes no more sound; send or cancel it.
        full: bool,
    },
    /// History changed under the front end: events were lost on the way (it fell behind; the
    /// shell raises this) or the server was restored from a backup (the engine raises this).
    /// Read the conversation list and the open window again.
    Reload,
}

/// A file chosen to send (picked, dropped or pasted), shown in the sheet before sending. The
/// page never sees its path: it names it by `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedFile {
    /// Its place among the staged files.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether it goes as a picture (its thumbnail is at `staged/{index}` of the media scheme).
    pub is_picture: bool,
}

/// Settings of one desktop profile, kept across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Closing the window hides it to the tray instead of quitting.
    pub close_to_tray: bool,
    /// The window is drawn with GPU compositing (WebKitGTK's accelerated compositing on Linux).
    /// Off by default: a chat window gains little from it and it costs tens of MiB per window
    /// (docs/BENCHMARKS.md). Takes effect at the next start.
    pub hardware_acceleration: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            close_to_tray: true,
            hardware_acceleration: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: i64, pinned: bool, last_activity_ms: i64) -> ConversationView {
        ConversationView {
            id,
            last_activity_ms,
            pinned,
            ..ConversationView::default()
        }
    }

    #[test]
    fn list_order_is_pinned_then_activity_then_newer() {
        let mut list = [
            conversation(1, false, 10),
            conversation(2, true, 1),
            conversation(3, false, 10),
            conversation(4, false, 50),
        ];
        list.sort_by(ConversationView::list_order);
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        assert_eq!(ids, [2, 4, 3, 1]);
    }

    #[test]
    fn preview_is_the_first_written_line() {
        let message = MessageView {
            local_id: 1,
            server_id: None,
            conversation_id: 1,
            sender_id: 1,
            client_id: String::new(),
            created_at_ms: 0,
            content: ContentView::Text {
                body: "\n  \n你好\nsecond".into(),
                mentions: vec![],
            },
            status: MessageStatus::Sent,
            is_own: false,
            failure: None,
        };
        assert_eq!(message.preview(), Preview::Text("你好"));
    }

    #[test]
    fn roles_and_notices_cross_ipc_as_snake_case() {
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        let kind = NoticeKind::from(crate::wire::NoticeKind::MembersAdded);
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"members_added\"");
        let reload = serde_json::to_string(&Event::Reload).unwrap();
        assert_eq!(reload, r#"{"type":"reload"}"#);
    }
}
