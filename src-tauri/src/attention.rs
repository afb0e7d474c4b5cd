//! What the shell tells the user outside the window, as rules over plain values: the unread
//! total (kept from conversation updates, never by re-reading the list) and which new messages
//! become OS notifications (one per message while they trickle in; one summary for a burst or
//! for what a catch-up brought), and which incoming calls do (each once, while the window
//! is not in front).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use flint_core::{ConnectionState, ConversationView};
use flint_proto::ipc::{CallPhase, CallView};

/// Notifications closer together than this are merged into one summary.
pub const QUIET: Duration = Duration::from_secs(1);

/// The unread total over unmuted conversations, kept up to date one conversation at a time.
#[derive(Debug, Default)]
pub struct UnreadTotal {
    counted: HashMap<i64, u32>,
    muted: HashMap<i64, bool>,
    total: u32,
}

impl UnreadTotal {
    /// Starts from a full list.
    pub fn from_list(list: &[ConversationView]) -> Self {
        let mut total = Self::default();
        for conversation in list {
            total.update(conversation);
        }
        total
    }

    /// Takes in a conversation's new summary; returns the total when it changed.
    pub fn update(&mut self, conversation: &ConversationView) -> Option<u32> {
        let counted = if conversation.muted {
            0
        } else {
            conversation.unread
        };
        self.muted.insert(conversation.id, conversation.muted);
        let before = self.counted.insert(conversation.id, counted).unwrap_or(0);
        let total = self.total - before + counted;
        (total != std::mem::replace(&mut self.total, total)).then_some(total)
    }

    /// The total now.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Whether a conversation is known to be muted.
    pub fn is_muted(&self, conversation_id: i64) -> bool {
        self.muted.get(&conversation_id).copied().unwrap_or(false)
    }
}

/// A notification to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice<M> {
    /// One message, shown with its sender and text.
    One(M),
    /// Several messages, counted: "12 new messages from 3 chats".
    Summary {
        /// Messages.
        messages: usize,
        /// Conversations they are in.
        chats: usize,
        /// The conversation, when they are all in one.
        only: Option<i64>,
    },
}

/// Decides which messages become notifications. `M` is what the shell keeps of a message: of
/// the messages held back it keeps only the first (shown when it is the only one), a count
/// and the set of chats, however many a catch-up brings.
#[derive(Debug)]
pub struct Coalescer<M> {
    first: Option<(i64, M)>,
    held: usize,
    chats: BTreeSet<i64>,
    catching_up: bool,
    last_shown: Option<Instant>,
}

impl<M> Default for Coalescer<M> {
    fn default() -> Self {
        Self {
            first: None,
            held: 0,
            chats: BTreeSet::new(),
            catching_up: true,
            last_shown: None,
        }
    }
}

impl<M> Coalescer<M> {
    /// The connection changed: while catching up, messages are held; once online, what the
    /// catch-up brought is shown at once.
    pub fn connection(&mut self, state: &ConnectionState, now: Instant) -> Option<Notice<M>> {
        self.catching_up = !matches!(state, ConnectionState::Online);
        if self.catching_up {
            None
        } else {
            self.flush(now)
        }
    }

    /// A message to notify about (in `conversation_id`): shown now, or held to be merged.
    pub fn message(&mut self, conversation_id: i64, message: M, now: Instant) -> Option<Notice<M>> {
        if self.first.is_none() {
            self.first = Some((conversation_id, message));
        }
        self.held += 1;
        self.chats.insert(conversation_id);
        let quiet = self
            .last_shown
            .is_none_or(|shown| now.saturating_duration_since(shown) >= QUIET);
        if self.catching_up || !quiet {
            return None;
        }
        self.flush(now)
    }

    /// When held messages are due (the quiet time after the last notification).
    pub fn due(&self) -> Option<Instant> {
        if self.held == 0 || self.catching_up {
            return None;
        }
        Some(
            self.last_shown
                .map_or_else(Instant::now, |shown| shown + QUIET),
        )
    }

    /// Shows what is held: one message as itself, several as a summary.
    pub fn flush(&mut self, now: Instant) -> Option<Notice<M>> {
        let (first, held) = (self.first.take(), std::mem::take(&mut self.held));
        let chats = std::mem::take(&mut self.chats);
        let (only, message) = first?;
        let notice = match held {
            1 => Notice::One(message),
            messages => Notice::Summary {
                messages,
                chats: chats.len(),
                only: (chats.len() == 1).then_some(only),
            },
        };
        self.last_shown = Some(now);
        Some(notice)
    }
}

/// Which incoming calls become an OS notification: each once, as it starts ringing, unless
/// the window is in front (its own call view rings there).
#[derive(Debug, Default)]
pub struct CallNotices {
    /// The last call told about.
    told: Option<String>,
}

impl CallNotices {
    /// Whether this change to `call` raises its notification.
    pub fn wants(&mut self, call: &CallView, window_focused: bool) -> bool {
        if call.phase != CallPhase::Ringing
            || call.outgoing
            || self.told.as_deref() == Some(call.call_id.as_str())
        {
            return false;
        }
        self.told = Some(call.call_id.clone());
        !window_focused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flint_proto::ipc::{CallKind, CallOutcome, MediaFlags};

    fn call(id: &str, phase: CallPhase, outgoing: bool) -> CallView {
        CallView {
            call_id: id.into(),
            conversation_id: 1,
            peer_id: 2,
            kind: CallKind::Audio,
            outgoing,
            phase,
            answered_at_ms: None,
            local: MediaFlags::default(),
            remote: MediaFlags::default(),
            quality: None,
        }
    }

    #[test]
    fn an_incoming_call_is_told_once_as_it_rings_and_only_behind_other_windows() {
        let mut notices = CallNotices::default();
        assert!(notices.wants(&call("a", CallPhase::Ringing, false), false));
        assert!(
            !notices.wants(&call("a", CallPhase::Ringing, false), false),
            "the same call again (a media change, a reconnect)"
        );
        assert!(!notices.wants(&call("a", CallPhase::Connecting, false), false));
        assert!(
            !notices.wants(&call("b", CallPhase::Ringing, true), false),
            "own call"
        );
        assert!(
            !notices.wants(&call("c", CallPhase::Ringing, false), true),
            "the window is in front"
        );
        let over = CallPhase::Ended {
            outcome: CallOutcome::Missed,
        };
        assert!(!notices.wants(&call("d", over, false), false));
        assert!(notices.wants(&call("d2", CallPhase::Ringing, false), false));
    }

    fn conversation(id: i64, unread: u32, muted: bool) -> ConversationView {
        ConversationView {
            id,
            unread,
            muted,
            ..ConversationView::default()
        }
    }

    #[test]
    fn the_total_follows_updates_and_ignores_muted_conversations() {
        let mut total =
            UnreadTotal::from_list(&[conversation(1, 3, false), conversation(2, 5, true)]);
        assert_eq!(total.total(), 3);
        let steps = [
            (conversation(1, 4, false), Some(4)),
            (conversation(1, 4, false), None),
            (conversation(2, 6, true), None),
            (conversation(2, 6, false), Some(10)),
            (conversation(3, 1, false), Some(11)),
            (conversation(1, 0, false), Some(7)),
        ];
        for (update, expected) in steps {
            assert_eq!(total.update(&update), expected, "{update:?}");
        }
        assert!(!total.is_muted(2));
    }

    #[test]
    fn a_catch_up_becomes_one_summary() {
        let t0 = Instant::now();
        let mut coalescer = Coalescer::default();
        assert_eq!(coalescer.connection(&ConnectionState::Syncing, t0), None);
        for i in 0..12 {
            assert_eq!(coalescer.message(i % 3, i, t0), None);
        }
        assert_eq!(
            coalescer.connection(&ConnectionState::Online, t0),
            Some(Notice::Summary {
                messages: 12,
                chats: 3,
                only: None,
            })
        );
    }

    #[test]
    fn trickling_messages_show_one_by_one_and_bursts_merge() {
        let t0 = Instant::now();
        let mut coalescer = Coalescer::default();
        coalescer.connection(&ConnectionState::Online, t0);
        assert_eq!(coalescer.message(1, "a", t0), Some(Notice::One("a")));
        // Within the quiet time: held.
        assert_eq!(coalescer.message(1, "b", t0), None);
        assert_eq!(coalescer.message(2, "c", t0 + QUIET / 2), None);
        assert_eq!(coalescer.due(), Some(t0 + QUIET));
        assert_eq!(
            coalescer.flush(t0 + QUIET),
            Some(Notice::Summary {
                messages: 2,
                chats: 2,
                only: None,
            })
        );
        assert_eq!(coalescer.message(5, "x", t0 + QUIET), None);
        assert_eq!(coalescer.message(5, "y", t0 + QUIET), None);
        assert_eq!(
            coalescer.flush(t0 + QUIET * 2),
            Some(Notice::Summary {
                messages: 2,
                chats: 1,
                only: Some(5),
            })
        );
        // A single held message is shown as itself.
        assert_eq!(coalescer.message(1, "d", t0 + QUIET * 2), None);
        assert_eq!(coalescer.flush(t0 + QUIET * 3), Some(Notice::One("d")));
        assert_eq!(
            coalescer.message(1, "e", t0 + QUIET * 5),
            Some(Notice::One("e"))
        );
        assert_eq!(coalescer.due(), None);
    }
}
