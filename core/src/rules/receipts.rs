//! Receipts: the status of an own message from the other members' markers.

use flint_proto::ipc::MessageStatus;

/// The delivery and read markers every other member has reached in a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// Lowest `delivered_up_to` among the other members.
    pub delivered: i64,
    /// Lowest `read_up_to` among the other members.
    pub read: i64,
}

impl Markers {
    /// The status of an own message with this server id.
    pub fn status_of(&self, server_id: i64) -> MessageStatus {
        if server_id <= self.read {
            MessageStatus::Read
        } else if server_id <= self.delivered {
            MessageStatus::Delivered
        } else {
            MessageStatus::Sent
        }
    }

    /// The server ids whose status may differ between `self` and `after`: (low, high].
    pub fn moved_range(&self, after: &Self) -> (i64, i64) {
        (
            self.delivered.min(self.read),
            after.delivered.max(after.read),
        )
    }
}

/// The own messages (local id, server id) whose status changed when the markers went from
/// `before` to `after`, with their new status.
pub fn changed(
    before: &Markers,
    after: &Markers,
    own: &[(i64, i64)],
) -> Vec<(i64, i64, MessageStatus)> {
    own.iter()
        .filter_map(|&(local_id, server_id)| {
            let status = after.status_of(server_id);
            (status != before.status_of(server_id)).then_some((local_id, server_id, status))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::*;

    #[test]
    fn status_follows_the_slowest_other_member() {
        let markers = Markers {
            delivered: 20,
            read: 10,
        };
        let table = [
            (5, Read),
            (10, Read),
            (11, Delivered),
            (20, Delivered),
            (21, Sent),
        ];
        for (server_id, expected) in table {
            assert_eq!(markers.status_of(server_id), expected, "{server_id}");
        }
    }

    #[test]
    fn a_receipt_changes_only_the_messages_it_moves() {
        let before = Markers {
            delivered: 10,
            read: 5,
        };
        let after = Markers {
            delivered: 20,
            read: 10,
        };
        let own = [(1, 4), (2, 8), (3, 15), (4, 25)];
        assert_eq!(
            changed(&before, &after, &own),
            [(2, 8, Read), (3, 15, Delivered)]
        );
        assert_eq!(before.moved_range(&after), (5, 20));
    }
}
