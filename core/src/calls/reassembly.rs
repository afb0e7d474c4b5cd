//! The other side's H.264 pictures put back together from RTP packets (in order: see
//! `reorder`): a picture (access unit) ends with the packet carrying the marker bit, is
//! bounded in bytes, and is given up when a packet of it is missing or malformed — the
//! decoder would only show garbage from it, so the caller asks the sender for a key picture
//! instead. The pictures after a lost one refer to it, so they are given up too until a key
//! picture (an IDR) comes: the screen keeps the last good picture meanwhile.

use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::packetizer::Depacketizer;

/// Most bytes of one received access unit (a 4K key picture at a high rate fits).
pub const MAX_ACCESS_UNIT: usize = 4 << 20;

/// What one packet made of the picture under way.
#[derive(Debug, PartialEq, Eq)]
pub enum Reassembled {
    /// The picture is not complete yet (or the packet was a late duplicate).
    Pending,
    /// A whole access unit (Annex B), ready for the decoder.
    Picture(Vec<u8>),
    /// The picture under way is lost (a gap in the sequence, a malformed packet, too many
    /// bytes): packets up to its end are dropped, and a key picture should be asked for.
    Lost,
    /// A whole picture that cannot be decoded: it is not a key picture, and one before it
    /// was lost. A key picture was asked for at the loss; the caller asks again only now and
    /// then (one ask per picture would make the sender send key picture after key picture).
    Skipped,
}

/// Reassembles access units from the packets of one video track.
pub struct Reassembly {
    depacketizer: H264Packet,
    unit: Vec<u8>,
    /// Payload bytes of the picture under way, fragments the depacketizer holds included.
    received: usize,
    /// The sequence number of the last packet taken.
    last: Option<u16>,
    /// The picture under way is lost: drop packets until its last one.
    broken: bool,
    /// A picture was lost since the last key picture (or none came yet): pictures that are
    /// not key pictures cannot be decoded.
    unkeyed: bool,
}

impl Default for Reassembly {
    fn default() -> Self {
        Self {
            depacketizer: H264Packet::default(),
            unit: Vec::new(),
            received: 0,
            last: None,
            broken: false,
            unkeyed: true,
        }
    }
}

impl Reassembly {
    /// Takes the next packet of the track: its sequence number, marker bit and payload.
    pub fn push(&mut self, sequence: u16, marker: bool, payload: &bytes::Bytes) -> Reassembled {
        if let Some(last) = self.last {
            let ahead = sequence.wrapping_sub(last);
            if ahead == 0 || ahead > u16::MAX / 2 {
                // A duplicate or a late retransmission of a packet already given up on.
                return Reassembled::Pending;
            }
            if ahead > 1 && !self.broken {
                self.lose(marker);
                self.last = Some(sequence);
                return Reassembled::Lost;
            }
        }
        self.last = Some(sequence);
        if self.broken {
            self.broken = !marker;
            return Reassembled::Pending;
        }
        self.received = self.received.saturating_add(payload.len());
        match self.depacketizer.depacketize(payload) {
            Ok(nals) if self.received <= MAX_ACCESS_UNIT => self.unit.extend_from_slice(&nals),
            _ => {
                self.lose(marker);
                return Reassembled::Lost;
            }
        }
        if !marker {
            return Reassembled::Pending;
        }
        self.received = 0;
        let unit = std::mem::take(&mut self.unit);
        if self.unkeyed && !is_key(&unit) {
            return Reassembled::Skipped;
        }
        self.unkeyed = false;
        Reassembled::Picture(unit)
    }

    /// Takes note that a picture handed on was not decoded after all (the decoder was
    /// busy): the pictures after it wait for a key picture.
    pub fn dropped(&mut self) {
        self.unkeyed = true;
    }

    /// Gives up the picture under way; `ended` when this packet was its last.
    fn lose(&mut self, ended: bool) {
        self.depacketizer = H264Packet::default();
        self.unit.clear();
        self.received = 0;
        self.broken = !ended;
        self.unkeyed = true;
    }
}

/// Whether an Annex B access unit holds an IDR slice (NAL unit type 5). A start code cannot
/// occur inside a NAL unit (emulation prevention), so every `00 00 01` starts one.
fn is_key(unit: &[u8]) -> bool {
    unit.windows(4)
        .any(|w| w[..3] == [0, 0, 1] && w[3] & 0x1F == 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A single-NAL-unit packet (a non-key slice) of `len` bytes.
    fn slice(len: usize) -> Bytes {
        nal(0x41, len)
    }

    /// A single-NAL-unit packet holding a whole key picture (an IDR slice) of `len` bytes.
    fn key(len: usize) -> Bytes {
        nal(0x65, len)
    }

    fn nal(header: u8, len: usize) -> Bytes {
        let mut payload = vec![0xAB; len];
        payload[0] = header;
        Bytes::from(payload)
    }

    /// The `index`th FU-A fragment of a NAL unit in `of` fragments.
    fn fragment(index: usize, of: usize) -> Bytes {
        let mut header = 0x05;
        if index == 0 {
            header |= 0x80;
        }
        if index + 1 == of {
            header |= 0x40;
        }
        Bytes::from(vec![0x7C, header, 1, 2, 3])
    }

    #[test]
    fn a_picture_comes_out_at_its_marker() {
        let mut reassembly = Reassembly::default();
        assert_eq!(
            reassembly.push(7, false, &fragment(0, 3)),
            Reassembled::Pending
        );
        assert_eq!(
            reassembly.push(8, false, &fragment(1, 3)),
            Reassembled::Pending
        );
        let Reassembled::Picture(unit) = reassembly.push(9, true, &fragment(2, 3)) else {
            panic!("no picture");
        };
        assert_eq!(unit, [0, 0, 0, 1, 0x65, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
        assert!(matches!(
            reassembly.push(10, true, &slice(9)),
            Reassembled::Picture(_)
        ));
    }

    #[test]
    fn a_missing_packet_loses_its_picture_and_the_next_key_picture_decodes() {
        let mut reassembly = Reassembly::default();
        assert_eq!(
            reassembly.push(65_534, false, &fragment(0, 3)),
            Reassembled::Pending
        );
        // 65,535 never comes: the sequence wraps to 0.
        assert_eq!(
            reassembly.push(0, false, &fragment(2, 4)),
            Reassembled::Lost
        );
        assert_eq!(
            reassembly.push(1, true, &fragment(3, 4)),
            Reassembled::Pending
        );
        assert!(matches!(
            reassembly.push(2, true, &key(20)),
            Reassembled::Picture(_)
        ));
    }

    #[test]
    fn pictures_after_a_lost_one_are_lost_until_a_key_picture() {
        let mut reassembly = Reassembly::default();
        assert!(matches!(
            reassembly.push(1, true, &key(5)),
            Reassembled::Picture(_)
        ));
        assert!(matches!(
            reassembly.push(2, true, &slice(5)),
            Reassembled::Picture(_)
        ));
        // 3 is lost: 4 refers to it and would decode as garbage, and so would 5.
        assert_eq!(reassembly.push(4, true, &slice(5)), Reassembled::Lost);
        assert_eq!(reassembly.push(5, true, &slice(5)), Reassembled::Skipped);
        assert!(matches!(
            reassembly.push(6, true, &key(5)),
            Reassembled::Picture(_)
        ));
        assert!(matches!(
            reassembly.push(7, true, &slice(5)),
            Reassembled::Picture(_)
        ));
        // A busy decoder dropped 7: 8 refers to it.
        reassembly.dropped();
        assert_eq!(reassembly.push(8, true, &slice(5)), Reassembled::Skipped);
        assert!(matches!(
            reassembly.push(9, true, &key(5)),
            Reassembled::Picture(_)
        ));
    }

    #[test]
    fn pictures_before_the_first_key_picture_are_lost() {
        let mut reassembly = Reassembly::default();
        assert_eq!(reassembly.push(1, true, &slice(5)), Reassembled::Skipped);
        let sps_then_idr = [Bytes::from_static(&[0x67, 0x42, 0x00, 0x1F]), key(5)];
        assert_eq!(
            reassembly.push(2, false, &sps_then_idr[0]),
            Reassembled::Pending
        );
        assert!(matches!(
            reassembly.push(3, true, &sps_then_idr[1]),
            Reassembled::Picture(_)
        ));
    }

    #[test]
    fn a_gap_before_a_pictures_last_packet_loses_that_picture_and_a_key_picture_decodes() {
        let mut reassembly = Reassembly::default();
        assert!(matches!(
            reassembly.push(1, true, &key(5)),
            Reassembled::Picture(_)
        ));
        assert_eq!(reassembly.push(3, true, &slice(5)), Reassembled::Lost);
        assert!(matches!(
            reassembly.push(4, true, &key(5)),
            Reassembled::Picture(_)
        ));
    }

    #[test]
    fn duplicates_and_late_packets_are_ignored() {
        let mut reassembly = Reassembly::default();
        assert_eq!(
            reassembly.push(10, false, &fragment(0, 2)),
            Reassembled::Pending
        );
        assert_eq!(
            reassembly.push(10, false, &fragment(0, 2)),
            Reassembled::Pending
        );
        assert_eq!(reassembly.push(9, true, &slice(5)), Reassembled::Pending);
        let Reassembled::Picture(unit) = reassembly.push(11, true, &fragment(1, 2)) else {
            panic!("no picture");
        };
        assert_eq!(unit.len(), 4 + 1 + 3 + 3);
    }

    #[test]
    fn garbage_and_oversized_pictures_are_lost_without_a_panic() {
        let mut reassembly = Reassembly::default();
        assert_eq!(
            reassembly.push(1, true, &Bytes::from_static(&[0x7C])),
            Reassembled::Lost
        );
        let big = Bytes::from(vec![0x41; 1 << 20]);
        let mut outcomes = Vec::new();
        for sequence in 2..8 {
            outcomes.push(reassembly.push(sequence, false, &big));
        }
        assert_eq!(
            outcomes[..4],
            [
                Reassembled::Pending,
                Reassembled::Pending,
                Reassembled::Pending,
                Reassembled::Pending
            ]
        );
        assert_eq!(outcomes[4], Reassembled::Lost);
        assert_eq!(reassembly.push(8, true, &slice(5)), Reassembled::Pending);
        assert_eq!(reassembly.push(9, true, &slice(5)), Reassembled::Skipped);
        assert!(matches!(
            reassembly.push(10, true, &key(5)),
            Reassembled::Picture(_)
        ));
    }
}
