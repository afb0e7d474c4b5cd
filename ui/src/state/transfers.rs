//! Files on their way, by message: how far each upload or download has come, kept in step
//! with the engine's events (a progress bar shows while an entry is here).

use std::collections::HashMap;

use flint_proto::ipc::{Event, MessageStatus};

/// Which way a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From this device to the server.
    Up,
    /// From the server to this device.
    Down,
}

/// One file on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Which way.
    pub direction: Direction,
    /// Bytes moved so far.
    pub done: u64,
    /// Bytes of the file.
    pub total: u64,
}

/// The transfers under way, by message.
pub type Transfers = HashMap<i64, Transfer>;

/// Applies an event; true when `transfers` changed.
pub fn apply(transfers: &mut Transfers, event: &Event) -> bool {
    match *event {
        Event::UploadProgress {
            local_id,
            sent,
            total,
            ..
        } => progress(transfers, local_id, Direction::Up, sent, total),
        Event::DownloadProgress {
            local_id,
            received,
            total,
            ..
        } => progress(transfers, local_id, Direction::Down, received, total),
        Event::DownloadStopped { local_id, .. } => end(transfers, local_id, Direction::Down),
        // Sent, failed or cancelled: the upload is over, whatever its last report said.
        Event::MessageStatusChanged {
            local_id, status, ..
        } if status != MessageStatus::Sending => end(transfers, local_id, Direction::Up),
        Event::MessageDeleted { local_id, .. } => transfers.remove(&local_id).is_some(),
        _ => false,
    }
}

fn progress(
    transfers: &mut Transfers,
    local_id: i64,
    direction: Direction,
    done: u64,
    total: u64,
) -> bool {
    if done >= total {
        return end(transfers, local_id, direction);
    }
    let now = Transfer {
        direction,
        done,
        total,
    };
    transfers.insert(local_id, now) != Some(now)
}

fn end(transfers: &mut Transfers, local_id: i64, direction: Direction) -> bool {
    let ends = transfers
        .get(&local_id)
        .is_some_and(|t| t.direction == direction);
    if ends {
        transfers.remove(&local_id);
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use flint_proto::ErrorCode;

    fn up(local_id: i64, sent: u64) -> Event {
        Event::UploadProgress {
            conversation_id: 1,
            local_id,
            sent,
            total: 100,
        }
    }

    fn down(local_id: i64, received: u64) -> Event {
        Event::DownloadProgress {
            conversation_id: 1,
            local_id,
            received,
            total: 100,
        }
    }

    fn status(local_id: i64, status: MessageStatus) -> Event {
        Event::MessageStatusChanged {
            conversation_id: 1,
            local_id,
            server_id: None,
            status,
            failure: None,
        }
    }

    #[test]
    fn progress_shows_until_the_file_is_whole() {
        let mut transfers = Transfers::new();
        assert!(apply(&mut transfers, &up(1, 40)));
        assert!(!apply(&mut transfers, &up(1, 40)), "same report, no change");
        assert!(apply(&mut transfers, &down(2, 10)));
        assert_eq!(transfers[&1].done, 40);
        assert_eq!(transfers[&2].direction, Direction::Down);
        assert!(apply(&mut transfers, &up(1, 100)));
        assert!(apply(&mut transfers, &down(2, 100)));
        assert!(transfers.is_empty());
    }

    #[test]
    fn a_cancelled_or_failed_upload_loses_its_bar() {
        let mut transfers = Transfers::new();
        apply(&mut transfers, &up(1, 40));
        assert!(!apply(&mut transfers, &status(1, MessageStatus::Sending)));
        assert!(apply(&mut transfers, &status(1, MessageStatus::Failed)));
        assert!(transfers.is_empty());
    }

    #[test]
    fn a_stopped_download_loses_its_bar_and_leaves_uploads_alone() {
        let mut transfers = Transfers::new();
        apply(&mut transfers, &up(1, 40));
        apply(&mut transfers, &down(2, 40));
        let stopped = |local_id| Event::DownloadStopped {
            conversation_id: 1,
            local_id,
            reason: ErrorCode::Cancelled,
        };
        assert!(!apply(&mut transfers, &stopped(1)), "1 is an upload");
        assert!(apply(&mut transfers, &stopped(2)));
        assert_eq!(transfers.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert!(!apply(&mut transfers, &status(2, MessageStatus::Sent)));
    }
}
