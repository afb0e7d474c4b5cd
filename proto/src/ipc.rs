//! Views and events the client engine hands to front ends (the desktop UI over Tauri IPC, the
//! CLI, tests). Plain serde data: no I/O, builds for wasm32.

use serde::{Deserialize, Serialize};

use crate::api::User;

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
        /// What happened, e.g. `members_added`.
        kind: String,
        /// Who did it.
        actor_id: i64,
        /// Whom it concerns.
        targets: Vec<i64>,
        /// The group name, where it applies.
        name: String,
    },
    /// A kind this client cannot show yet (kept, shown as "unsupported").
    Unsupported {
        /// The kind's name when known (`image`, `file`, …), else `unknown`.
        kind: String,
    },
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
}

/// Sort keys at or above this belong to messages still in the outbox (above every server id).
pub const PENDING_SORT_BASE: i64 = 1 << 62;

impl MessageView {
    /// Where the message sorts in its conversation, as the client cache orders history: stored
    /// messages by server id, messages still in the outbox after them in the order written.
    pub fn sort_key(&self) -> i64 {
        self.server_id.unwrap_or(PENDING_SORT_BASE + self.local_id)
    }
}

/// Direct or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Two users.
    Direct,
    /// A named group.
    Group,
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The user.
    pub user: User,
    /// `owner`, `admin` or `member`.
    pub role: String,
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
    /// The connection changed state.
    ConnectionChanged {
        /// The new state.
        state: ConnectionState,
    },
    /// The user asked the shell to show a conversation (a notification was clicked). Raised
    /// by the desktop shell, never by the engine.
    OpenRequested {
        /// The conversation to show.
        conversation_id: i64,
    },
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
