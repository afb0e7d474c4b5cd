//! Sync: which inbox entries to store, and what a server behind the client means.

/// What to do with the next inbox entry, given the newest seq stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Stored already (a push raced a sync page, or a page was re-sent): skip it.
    Skip,
    /// The next seq: store it.
    Store,
    /// Entries are missing before it: store nothing more, pull from the server.
    Gap,
}

/// The step for an entry with `seq` when `last_seq` is the newest stored.
pub fn step(last_seq: u64, seq: u64) -> Step {
    if seq <= last_seq {
        Step::Skip
    } else if seq == last_seq + 1 {
        Step::Store
    } else {
        Step::Gap
    }
}

/// Who a message is: the server's id and the sender's own id for it. Two inbox entries with
/// the same seq hold the same message exactly when their fingerprints are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The server's message id.
    pub id: i64,
    /// The sender.
    pub sender_id: i64,
    /// The sender's UUID for the message.
    pub client_id: Vec<u8>,
}

/// How a (re)connect continues, from the server's head and its entry at the newest seq stored
/// here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The server's inbox continues what this device stored: pull what is newer.
    CatchUp,
    /// The server's inbox no longer matches what this device stored: it lost writes (restored
    /// from a backup, or a crash before the disk had them), and may have written other
    /// entries under the same seqs since. Find where the two part ways.
    Diverged,
}

/// Compares the server with this device at the device's newest seq `last_seq`: `local_tip`
/// is the message stored here under that seq (if one is), `server_tip` the server's entry
/// under it.
pub fn resume(
    last_seq: u64,
    head_seq: u64,
    local_tip: Option<&Fingerprint>,
    server_tip: Option<&Fingerprint>,
) -> Resume {
    if last_seq == 0 {
        return Resume::CatchUp;
    }
    if head_seq < last_seq {
        return Resume::Diverged;
    }
    match (local_tip, server_tip) {
        // Nothing stored under that seq here (an entry without a message): nothing to compare.
        (None, _) => Resume::CatchUp,
        (Some(local), Some(server)) if local == server => Resume::CatchUp,
        _ => Resume::Diverged,
    }
}

/// Where the server and this device part ways within a window of seqs `(after, up_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divergence {
    /// Every seq of the window holds the same message on both sides.
    None,
    /// The first seq that differs; everything before it matches.
    At(u64),
    /// The window's first seq differs already: look further back.
    BeforeWindow,
}

/// Compares a window of seqs `(after, up_to]`: `local(seq)` is what this device stored under
/// a seq, `server(seq)` what the server holds. A seq with nothing stored here cannot be
/// compared, so the parting point is just after the last seq seen to match. Inboxes only
/// grow, so once they differ they differ from there on.
pub fn divergence(
    after: u64,
    up_to: u64,
    local: impl Fn(u64) -> Option<Fingerprint>,
    server: impl Fn(u64) -> Option<Fingerprint>,
) -> Divergence {
    let mut matched = after;
    for seq in after + 1..=up_to {
        let Some(mine) = local(seq) else {
            continue;
        };
        if server(seq).as_ref() == Some(&mine) {
            matched = seq;
        } else if matched == after && after > 0 {
            return Divergence::BeforeWindow;
        } else {
            return Divergence::At(matched + 1);
        }
    }
    Divergence::None
}

/// What a rollback does to one stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRollback {
    /// The server still has it: keep it.
    Keep,
    /// An own message the server may have lost: back into the outbox (the server's dedup by
    /// client id answers with the stored copy if it still has it).
    Resend,
    /// Someone else's message the server lost: drop it; its sender's outbox sends it again.
    Drop,
}

/// The fate of a message when the server agrees with this device only up to seq `kept`:
/// `seq` is the inbox entry it arrived in (none for an own message confirmed only by the
/// server's answer so far), `stored` whether the server had confirmed it.
pub fn after_rollback(kept: u64, is_own: bool, seq: Option<u64>, stored: bool) -> AfterRollback {
    let lost = match seq {
        Some(seq) => seq > kept,
        // Confirmed by the answer to its send but not yet seen in the inbox: it is recent, and
        // may be lost.
        None => stored,
    };
    match (lost, is_own) {
        (false, _) => AfterRollback::Keep,
        (true, true) => AfterRollback::Resend,
        (true, false) => AfterRollback::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_continue_the_sequence_or_are_skipped_or_reveal_a_gap() {
        let table = [
            (0, 1, Step::Store),
            (5, 6, Step::Store),
            (5, 5, Step::Skip),
            (5, 2, Step::Skip),
            (5, 7, Step::Gap),
            (0, 2, Step::Gap),
            (u64::MAX - 1, u64::MAX, Step::Store),
        ];
        for (last, seq, expected) in table {
            assert_eq!(step(last, seq), expected, "last {last}, seq {seq}");
        }
    }

    fn print(id: i64) -> Fingerprint {
        Fingerprint {
            id,
            sender_id: 7,
            client_id: vec![id as u8],
        }
    }

    #[test]
    fn the_tip_tells_whether_the_server_continues_this_device() {
        let (a, b) = (print(10), print(11));
        let table = [
            (0, 0, None, None, Resume::CatchUp),
            (10, 25, Some(&a), Some(&a), Resume::CatchUp),
            (10, 10, Some(&a), Some(&a), Resume::CatchUp),
            (10, 4, Some(&a), None, Resume::Diverged),
            (10, 25, Some(&a), Some(&b), Resume::Diverged),
            (10, 25, Some(&a), None, Resume::Diverged),
            (10, 25, None, Some(&b), Resume::CatchUp),
        ];
        for (last, head, local, server, expected) in table {
            assert_eq!(
                resume(last, head, local, server),
                expected,
                "last {last}, head {head}"
            );
        }
    }

    #[test]
    fn divergence_is_the_first_seq_that_differs() {
        // This device stored messages 1..=10 under seqs 1..=10.
        let local = |seq: u64| (seq <= 10).then(|| print(seq as i64));
        // The server was restored to seq 6 and wrote other messages after it.
        let restored = |seq: u64| match seq {
            0..=6 => Some(print(seq as i64)),
            7..=12 => Some(print(100 + seq as i64)),
            _ => None,
        };
        let table = [
            (0, 10, Divergence::At(7)),
            (4, 10, Divergence::At(7)),
            (7, 10, Divergence::BeforeWindow),
            (0, 6, Divergence::None),
            (2, 5, Divergence::None),
        ];
        for (after, up_to, expected) in table {
            assert_eq!(
                divergence(after, up_to, local, restored),
                expected,
                "({after}, {up_to}]"
            );
        }
        // Seqs with nothing stored here are skipped; a gap on the server is a difference.
        let sparse = |seq: u64| (seq % 2 == 0).then(|| print(seq as i64));
        assert_eq!(divergence(0, 10, sparse, restored), Divergence::At(7));
        assert_eq!(
            divergence(6, 10, sparse, restored),
            Divergence::BeforeWindow
        );
        let truncated = |seq: u64| (seq <= 8).then(|| print(seq as i64));
        assert_eq!(divergence(0, 10, local, truncated), Divergence::At(9));
    }

    #[test]
    fn after_a_rollback_lost_own_messages_are_resent_and_others_dropped() {
        use AfterRollback::*;
        // (kept, own, seq, stored) → fate
        let table = [
            (10, true, Some(10), true, Keep),
            (10, false, Some(3), true, Keep),
            (10, true, Some(11), true, Resend),
            (10, false, Some(11), true, Drop),
            (10, true, None, true, Resend),
            (10, true, None, false, Keep),
        ];
        for (head, own, seq, stored, expected) in table {
            assert_eq!(
                after_rollback(head, own, seq, stored),
                expected,
                "head {head}, own {own}, seq {seq:?}, stored {stored}"
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn print(id: i64) -> Fingerprint {
        Fingerprint {
            id,
            sender_id: id % 3,
            client_id: id.to_le_bytes().to_vec(),
        }
    }

    proptest! {
        /// A device stored `stored` entries; the server was restored to `kept` of them and
        /// wrote `written` others since. The search finds the first seq after `kept` (or
        /// none when nothing this device stored differs).
        #[test]
        fn divergence_finds_the_restore_point(stored in 1u64..200, kept_pct in 0u64..=100, written in 0u64..200) {
            let kept = stored * kept_pct / 100;
            let local = |seq: u64| (seq <= stored).then(|| print(seq as i64));
            let server = |seq: u64| match seq {
                s if s <= kept => Some(print(s as i64)),
                s if s <= kept + written => Some(print(1_000_000 + s as i64)),
                _ => None,
            };
            let up_to = stored.min(kept + written).max(kept);
            let found = divergence(0, stored, local, server);
            if kept == stored {
                prop_assert_eq!(found, Divergence::None);
            } else {
                prop_assert_eq!(found, Divergence::At(kept + 1));
            }
            // Any window starting on common ground finds the same point.
            if kept > 0 {
                let window = divergence(kept - 1, up_to.max(kept), local, server);
                prop_assert!(matches!(window, Divergence::None | Divergence::At(_)));
            }
        }
    }
}
