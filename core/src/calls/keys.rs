//! Key pictures on demand. A receiver that lost a picture cannot decode the ones that follow
//! until a key picture comes, so it asks the sender with an RTCP picture loss indication
//! (PLI, RFC 4585) — at most once per [`ASK_EVERY`], since the answer takes a round trip —
//! and a sender answers a PLI or a full intra request (FIR, RFC 5104) about its own stream
//! with a key picture at once instead of at the next two-second one. [`KeyWish`] carries
//! the wish between the threads that notice it and the ones that act on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::Packet;

/// Shortest time between two requests for a key picture.
pub const ASK_EVERY: Duration = Duration::from_millis(250);

/// A wish for a key picture, raised on one thread and taken on another.
#[derive(Debug, Default)]
pub struct KeyWish(AtomicBool);

impl KeyWish {
    /// Wishes for a key picture.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether a key picture was wished for since the last take (and clears the wish).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// When a receiver may ask again.
#[derive(Debug, Default)]
pub struct Asking {
    last: Option<Instant>,
}

impl Asking {
    /// Whether a request for a key picture may go out `now` (and counts it when it may).
    pub fn may_ask(&mut self, now: Instant) -> bool {
        let due = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= ASK_EVERY);
        if due {
            self.last = Some(now);
        }
        due
    }
}

/// Whether any of these RTCP packets asks the sender of stream `ssrc` for a key picture.
pub fn asks_for_key(packets: &[Box<dyn Packet>], ssrc: u32) -> bool {
    packets.iter().any(|packet| {
        let any = packet.as_any();
        if let Some(pli) = any.downcast_ref::<PictureLossIndication>() {
            return pli.media_ssrc == ssrc;
        }
        any.downcast_ref::<FullIntraRequest>()
            .is_some_and(|fir| fir.media_ssrc == ssrc || fir.fir.iter().any(|e| e.ssrc == ssrc))
    })
}

/// The request a receiver sends for a key picture of stream `ssrc`.
pub fn request(ssrc: u32) -> Vec<Box<dyn Packet>> {
    vec![Box::new(PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc: ssrc,
    })]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::payload_feedbacks::full_intra_request::FirEntry;
    use rtc::rtcp::receiver_report::ReceiverReport;

    #[test]
    fn a_wish_is_taken_once() {
        let wish = KeyWish::default();
        assert!(!wish.take());
        wish.raise();
        wish.raise();
        assert!(wish.take());
        assert!(!wish.take());
    }

    #[test]
    fn a_receiver_asks_at_most_every_quarter_second() {
        let mut asking = Asking::default();
        let start = Instant::now();
        assert!(asking.may_ask(start));
        assert!(!asking.may_ask(start + Duration::from_millis(100)));
        assert!(asking.may_ask(start + ASK_EVERY));
        assert!(!asking.may_ask(start + ASK_EVERY + Duration::from_millis(249)));
    }

    #[test]
    fn a_pli_or_fir_about_this_stream_asks_for_a_key_and_other_reports_do_not() {
        assert!(asks_for_key(&request(7), 7));
        assert!(!asks_for_key(&request(8), 7));
        let fir: Vec<Box<dyn Packet>> = vec![Box::new(FullIntraRequest {
            sender_ssrc: 1,
            media_ssrc: 0,
            fir: vec![FirEntry {
                ssrc: 7,
                sequence_number: 1,
            }],
        })];
        assert!(asks_for_key(&fir, 7));
        let report: Vec<Box<dyn Packet>> = vec![Box::new(ReceiverReport::default())];
        assert!(!asks_for_key(&report, 7));
    }
}
