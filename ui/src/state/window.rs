//! The message window: the slice of one conversation's history the chat shows (at most
//! [`MAX_IN_DOM`] messages, oldest first), as rules over plain vectors.

use flint_proto::ipc::{MessageStatus, MessageView};
use flint_proto::ErrorCode;

/// Most messages kept in the DOM: the window slides, dropping the far end as a page loads.
pub const MAX_IN_DOM: usize = 300;

/// Drops the oldest messages of a window past [`MAX_IN_DOM`].
pub fn keep_newest(messages: &mut Vec<MessageView>) {
    let excess = messages.len().saturating_sub(MAX_IN_DOM);
    messages.drain(..excess);
}

/// Drops the newest messages of a window past [`MAX_IN_DOM`]; true if any were dropped.
pub fn keep_oldest(messages: &mut Vec<MessageView>) -> bool {
    let dropped = messages.len() > MAX_IN_DOM;
    messages.truncate(MAX_IN_DOM);
    dropped
}

/// Puts the newest page of a conversation into a window that was just emptied, keeping what
/// arrived while the page was read (events can lag behind the database, so an arrival may be
/// older than the page: the result is in the core's sort order).
pub fn merge_latest(window: &mut Vec<MessageView>, page: Vec<MessageView>) {
    let arrived: Vec<MessageView> = window
        .drain(..)
        .filter(|m| !page.iter().any(|p| p.local_id == m.local_id))
        .collect();
    *window = page;
    window.extend(arrived);
    window.sort_by_key(MessageView::sort_key);
    keep_newest(window);
}

/// Appends a message unless the window holds it already.
pub fn append(window: &mut Vec<MessageView>, message: MessageView) {
    if !window.iter().any(|m| m.local_id == message.local_id) {
        window.push(message);
    }
    keep_newest(window);
}

/// Applies a status change to the message it names, if the window holds it.
pub fn set_status(
    window: &mut [MessageView],
    local_id: i64,
    status: MessageStatus,
    server_id: Option<i64>,
    failure: Option<ErrorCode>,
) {
    if let Some(m) = window.iter_mut().find(|m| m.local_id == local_id) {
        m.status = status;
        m.failure = failure;
        if server_id.is_some() {
            m.server_id = server_id;
        }
    }
}

/// Removes a message from the window.
pub fn remove(window: &mut Vec<MessageView>, local_id: i64) {
    window.retain(|m| m.local_id != local_id);
}

/// Where the reader is in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The window reaches the newest message.
    pub at_newest: bool,
    /// The list is scrolled to its end.
    pub at_bottom: bool,
    /// Messages in the window.
    pub len: usize,
}

/// What a message arriving in the open conversation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Append it; the reader sees it (at the bottom) or it counts as unseen below.
    Append {
        /// The reader is at the bottom: it is on screen.
        seen: bool,
    },
    /// The window ends before it (or would outgrow the DOM bound under the reader's eyes):
    /// count it as new below.
    Unseen,
    /// An own message while the window is elsewhere: jump to the newest.
    JumpToLatest,
}

/// Decides what an arrival does.
pub fn arrival(position: Position, is_own: bool) -> Arrival {
    let at_bottom = position.at_bottom || is_own;
    let full = position.len >= MAX_IN_DOM;
    if !position.at_newest || (full && !at_bottom) {
        return if is_own {
            Arrival::JumpToLatest
        } else {
            Arrival::Unseen
        };
    }
    Arrival::Append { seen: at_bottom }
}

#[cfg(test)]
mod tests {
    use flint_proto::ipc::ContentView;

    use super::*;

    fn message(local_id: i64, server_id: Option<i64>) -> MessageView {
        MessageView {
            local_id,
            server_id,
            conversation_id: 1,
            sender_id: 2,
            client_id: String::new(),
            created_at_ms: 0,
            content: ContentView::Text {
                body: format!("m{local_id}"),
                mentions: vec![],
            },
            status: MessageStatus::Sent,
            is_own: false,
            failure: None,
        }
    }

    fn ids(window: &[MessageView]) -> Vec<i64> {
        window.iter().map(|m| m.local_id).collect()
    }

    #[test]
    fn a_page_merges_with_arrivals_in_sort_order_without_duplicates() {
        let mut window = vec![message(9, Some(90)), message(4, Some(40))];
        let page = vec![
            message(3, Some(30)),
            message(4, Some(40)),
            message(5, Some(50)),
        ];
        merge_latest(&mut window, page);
        assert_eq!(ids(&window), [3, 4, 5, 9]);
        // An unsent message sorts after every stored one.
        let mut window = vec![message(11, None)];
        merge_latest(&mut window, vec![message(10, Some(100))]);
        assert_eq!(ids(&window), [10, 11]);
    }

    #[test]
    fn the_window_stays_within_its_bound() {
        let mut window: Vec<MessageView> = (0..MAX_IN_DOM as i64)
            .map(|i| message(i, Some(i)))
            .collect();
        append(&mut window, message(1000, Some(1000)));
        assert_eq!(window.len(), MAX_IN_DOM);
        assert_eq!(window.first().map(|m| m.local_id), Some(1));
        append(&mut window, message(1000, Some(1000)));
        assert_eq!(window.len(), MAX_IN_DOM, "no duplicate");
        window.push(message(2000, Some(2000)));
        assert!(keep_oldest(&mut window));
        assert_eq!(window.last().map(|m| m.local_id), Some(1000));
    }

    #[test]
    fn statuses_and_removals_reach_their_message() {
        let mut window = vec![message(1, None), message(2, None)];
        set_status(
            &mut window,
            2,
            MessageStatus::Failed,
            None,
            Some(ErrorCode::TooLarge),
        );
        assert_eq!(window[1].status, MessageStatus::Failed);
        assert_eq!(window[1].failure, Some(ErrorCode::TooLarge));
        set_status(&mut window, 2, MessageStatus::Sent, Some(7), None);
        assert_eq!((window[1].server_id, window[1].failure), (Some(7), None));
        remove(&mut window, 1);
        assert_eq!(ids(&window), [2]);
    }

    #[test]
    fn arrivals_append_count_or_jump() {
        let at = |at_newest, at_bottom, len| Position {
            at_newest,
            at_bottom,
            len,
        };
        let table = [
            (at(true, true, 10), false, Arrival::Append { seen: true }),
            (at(true, false, 10), false, Arrival::Append { seen: false }),
            (at(true, false, 10), true, Arrival::Append { seen: true }),
            (at(false, true, 10), false, Arrival::Unseen),
            (at(false, false, 10), true, Arrival::JumpToLatest),
            (at(true, false, MAX_IN_DOM), false, Arrival::Unseen),
            (
                at(true, true, MAX_IN_DOM),
                false,
                Arrival::Append { seen: true },
            ),
        ];
        for (position, own, expected) in table {
            assert_eq!(arrival(position, own), expected, "{position:?} own {own}");
        }
    }
}
