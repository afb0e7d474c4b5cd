//! The other side's video packets put back in sequence order before they are reassembled. The
//! network may swap two packets, and a packet the receiver asked for again (a NACK, RFC 4585,
//! sent by the WebRTC stack's interceptor every 100 ms) comes back a round trip later than
//! the ones after it. Packets behind a gap wait here for it until [`WAIT`] has passed since
//! the first of them arrived (checked as each packet arrives: the sender sends 30 pictures a
//! second while its camera is on); then the gap is given up on and they go on (the reassembly
//! sees the jump, loses that picture and asks for a key picture). Packets in order pass at
//! once. Bounded in packets and bytes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Longest a packet waits behind a gap: two NACK rounds and a round trip.
pub const WAIT: Duration = Duration::from_millis(250);
/// Most packets held behind a gap (about two seconds of video at 1 Mbit/s).
const MAX_HELD: usize = 256;
/// Most payload bytes held behind a gap.
const MAX_HELD_BYTES: usize = 2 << 20;

/// One RTP packet of the video track, as the reassembly takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Its RTP sequence number.
    pub sequence: u16,
    /// The RTP marker bit: the last packet of a picture.
    pub marker: bool,
    /// The RTP payload.
    pub payload: Bytes,
}

/// Puts one track's packets back in order.
#[derive(Debug, Default)]
pub struct Reorder {
    /// The extended sequence number (never wrapping) of the packet due next.
    next: Option<u64>,
    /// Packets behind a gap, by extended sequence number, with when each arrived.
    held: BTreeMap<u64, (Packet, Instant)>,
    /// Payload bytes in `held`.
    held_bytes: usize,
}

impl Reorder {
    /// Takes a packet that arrived `now`; returns the packets now due, in order (none when it
    /// waits behind a gap, or was a duplicate or too late).
    pub fn push(&mut self, packet: Packet, now: Instant) -> Vec<Packet> {
        let next = *self.next.get_or_insert(extend(None, packet.sequence));
        let number = extend(Some(next), packet.sequence);
        if number < next || self.held.contains_key(&number) {
            return Vec::new();
        }
        self.held_bytes += packet.payload.len();
        self.held.insert(number, (packet, now));
        self.release(now)
    }

    /// The packets due `now`: the run from the one expected next, and past a gap that waited
    /// too long (or holds too much).
    fn release(&mut self, now: Instant) -> Vec<Packet> {
        let mut due = Vec::new();
        while let Some((&number, _)) = self.held.first_key_value() {
            if Some(number) != self.next && !self.overdue(now) {
                break;
            }
            let Some((_, (packet, _))) = self.held.pop_first() else {
                break;
            };
            self.held_bytes -= packet.payload.len();
            self.next = Some(number + 1);
            due.push(packet);
        }
        due
    }

    /// Whether the gap before the held packets is given up on `now`: the first of them to
    /// arrive has waited [`WAIT`], or too much is held.
    fn overdue(&self, now: Instant) -> bool {
        let first_arrival = self.held.values().map(|(_, arrived)| *arrived).min();
        self.held.len() > MAX_HELD
            || self.held_bytes > MAX_HELD_BYTES
            || first_arrival.is_some_and(|at| now.saturating_duration_since(at) >= WAIT)
    }
}

/// The extended sequence number of `sequence`: the one nearest `near` (the first packet's
/// starts well above zero so that one from just before it still has a number).
fn extend(near: Option<u64>, sequence: u16) -> u64 {
    let Some(near) = near else {
        return (1 << 32) + u64::from(sequence);
    };
    let ahead = sequence.wrapping_sub(near as u16) as i16;
    near.saturating_add_signed(i64::from(ahead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(sequence: u16) -> Packet {
        Packet {
            sequence,
            marker: false,
            payload: Bytes::from_static(&[0x41, 1, 2, 3]),
        }
    }

    fn sequences(packets: Vec<Packet>) -> Vec<u16> {
        packets.into_iter().map(|p| p.sequence).collect()
    }

    #[test]
    fn packets_in_order_pass_at_once() {
        let mut reorder = Reorder::default();
        let now = Instant::now();
        for sequence in [65_534, 65_535, 0, 1] {
            assert_eq!(sequences(reorder.push(packet(sequence), now)), [sequence]);
        }
    }

    #[test]
    fn a_retransmission_fills_its_gap_and_the_run_behind_it_goes_on_in_order() {
        let mut reorder = Reorder::default();
        let start = Instant::now();
        assert_eq!(sequences(reorder.push(packet(10), start)), [10]);
        // 11 is lost on the way; 12 and 13 wait for it.
        assert!(reorder.push(packet(12), start).is_empty());
        let later = start + Duration::from_millis(120);
        assert!(reorder.push(packet(13), later).is_empty());
        // The NACK's answer, a round trip later.
        assert_eq!(sequences(reorder.push(packet(11), later)), [11, 12, 13]);
        assert_eq!(sequences(reorder.push(packet(14), later)), [14]);
    }

    #[test]
    fn a_gap_is_given_up_on_after_the_wait_and_its_late_packet_is_dropped() {
        let mut reorder = Reorder::default();
        let start = Instant::now();
        reorder.push(packet(1), start);
        assert!(reorder.push(packet(3), start).is_empty());
        assert!(reorder
            .push(packet(4), start + WAIT - Duration::from_millis(1))
            .is_empty());
        assert_eq!(sequences(reorder.push(packet(5), start + WAIT)), [3, 4, 5]);
        assert!(reorder.push(packet(2), start + WAIT).is_empty());
        assert!(
            reorder.push(packet(4), start + WAIT).is_empty(),
            "a duplicate"
        );
    }

    #[test]
    fn the_wait_counts_from_the_first_packet_held_even_when_those_behind_it_come_swapped() {
        let mut reorder = Reorder::default();
        let start = Instant::now();
        reorder.push(packet(10), start);
        // 11 is lost; 13 comes before 12.
        assert!(reorder.push(packet(13), start).is_empty());
        let later = start + Duration::from_millis(200);
        assert!(reorder.push(packet(12), later).is_empty());
        assert_eq!(
            sequences(reorder.push(packet(14), start + WAIT)),
            [12, 13, 14]
        );
    }

    #[test]
    fn swapped_packets_across_the_wrap_come_out_in_order() {
        let mut reorder = Reorder::default();
        let now = Instant::now();
        reorder.push(packet(65_534), now);
        assert!(reorder.push(packet(0), now).is_empty());
        assert_eq!(sequences(reorder.push(packet(65_535), now)), [65_535, 0]);
    }

    #[test]
    fn what_is_held_is_bounded_in_packets_and_bytes() {
        let mut reorder = Reorder::default();
        let now = Instant::now();
        reorder.push(packet(0), now);
        let mut released = Vec::new();
        for sequence in 2..=(MAX_HELD as u16 + 1) {
            released.extend(reorder.push(packet(sequence), now));
        }
        assert!(released.is_empty());
        released.extend(reorder.push(packet(MAX_HELD as u16 + 2), now));
        assert_eq!(released.len(), MAX_HELD + 1, "the gap is given up on");

        let mut reorder = Reorder::default();
        reorder.push(packet(0), now);
        let big = Packet {
            sequence: 2,
            marker: false,
            payload: Bytes::from(vec![0x41; MAX_HELD_BYTES + 1]),
        };
        assert_eq!(sequences(reorder.push(big, now)), [2]);
        assert_eq!(reorder.held_bytes, 0);
    }
}
