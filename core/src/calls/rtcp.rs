//! The RTCP a call acts on, let through to it. The `webrtc` crate's interceptor chain ends
//! inbound RTCP at its terminus unless an interceptor marks a packet for the application, so
//! without [`Delivery`] a browser's or another Flint's requests for a key picture never
//! reach the encoder. What is let through: picture loss indications, full intra requests and
//! the receiver and sender reports (the other side's view of this side's streams).

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::shared::error::Error;

/// Where in the chain [`Delivery`] sits: past every built-in slot, nearest the application.
pub const SLOT: usize = 20_000;

/// An interceptor marking the RTCP a call acts on for delivery to it; everything passes.
#[derive(Default)]
pub struct Delivery {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

/// Whether a compound RTCP packet holds anything a call acts on.
pub fn wanted(packets: &[Box<dyn rtc::rtcp::Packet>]) -> bool {
    packets.iter().any(|packet| {
        let any = packet.as_any();
        any.is::<PictureLossIndication>()
            || any.is::<FullIntraRequest>()
            || any.is::<ReceiverReport>()
            || any.is::<SenderReport>()
    })
}

impl rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for Delivery {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Error> {
        if matches!(&msg.message.packet, Packet::Rtcp(packets) if wanted(packets)) {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }

    fn handle_timeout(&mut self, _now: Instant) -> Result<(), Error> {
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
}

impl Interceptor for Delivery {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::sansio::Protocol;
    use rtc::shared::TransportContext;

    fn arriving(packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> TaggedPacket {
        TaggedPacket {
            now: Instant::now(),
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(packets)),
        }
    }

    #[test]
    fn key_requests_and_reports_are_marked_for_the_call_and_the_rest_passes_unmarked() {
        let mut delivery = Delivery::default();
        let pli = PictureLossIndication {
            sender_ssrc: 1,
            media_ssrc: 2,
        };
        delivery.handle_read(arriving(vec![Box::new(pli)])).unwrap();
        let report = ReceiverReport::default();
        delivery
            .handle_read(arriving(vec![Box::new(report)]))
            .unwrap();
        let bye = rtc::rtcp::goodbye::Goodbye::default();
        delivery.handle_read(arriving(vec![Box::new(bye)])).unwrap();
        let marked: Vec<bool> = std::iter::from_fn(|| delivery.poll_read())
            .map(|p| p.message.has(&Attribute::DeliverToApplication))
            .collect();
        assert_eq!(marked, [true, true, false]);
    }
}
