//! How the network carries a call, from what the other side reports about this side's
//! streams (RTCP reception reports, RFC 3550 §6.4: the share of packets lost since the last
//! report, about once a second). Two rules, free of sockets and clocks: [`Gauge`], the
//! quality the people in the call are shown (smoothed; poor when the reports stop), and
//! [`Bitrate`], what the video encoder is given (loss-based, like the loss controller of
//! WebRTC's GCC: a step down on heavy loss, a step up after a clean while).

use std::time::{Duration, Instant};

use flint_proto::ipc::CallQuality;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::Packet;

use super::video::BITRATE;

/// No report for this long, and the call is shown as poor: three of Chromium's audio report
/// intervals (about 5 s, jittered), since a camera-off call sends no video to report on.
pub const SILENCE: Duration = Duration::from_secs(15);
/// Loss below this share is good.
const GOOD_BELOW: f32 = 0.03;
/// Loss from this share on is poor.
const POOR_FROM: f32 = 0.12;

/// The video bitrates a call steps between, best first.
pub const STEPS: [u32; 4] = [BITRATE, 600_000, 350_000, 200_000];
/// Loss from this share on takes the bitrate a step down.
const HEAVY_LOSS: f32 = 0.10;
/// Loss below this share counts as clean.
const CLEAN_LOSS: f32 = 0.02;
/// Shortest time between two steps down.
const DOWN_EVERY: Duration = Duration::from_secs(1);
/// How long the reports stay clean before a step up (and the shortest time between two).
const CLEAN_FOR: Duration = Duration::from_secs(5);

/// The worst share lost that these RTCP packets report about any of `ssrcs`.
pub fn loss_of(packets: &[Box<dyn Packet>], ssrcs: &[u32]) -> Option<f32> {
    packets
        .iter()
        .flat_map(|packet| {
            let any = packet.as_any();
            let reports: &[ReceptionReport] = if let Some(rr) = any.downcast_ref::<ReceiverReport>()
            {
                &rr.reports
            } else if let Some(sr) = any.downcast_ref::<SenderReport>() {
                &sr.reports
            } else {
                &[]
            };
            reports.iter()
        })
        .filter(|report| ssrcs.contains(&report.ssrc))
        .map(|report| f32::from(report.fraction_lost) / 256.0)
        .reduce(f32::max)
}

/// The quality shown for a call.
#[derive(Debug, Default)]
pub struct Gauge {
    smoothed: Option<f32>,
    last: Option<Instant>,
    shown: Option<CallQuality>,
}

impl Gauge {
    /// A report of `lost` (a share) at `now`; the quality to show when it changed.
    pub fn report(&mut self, lost: f32, now: Instant) -> Option<CallQuality> {
        let smoothed = self.smoothed.map_or(lost, |before| (before + lost) / 2.0);
        self.smoothed = Some(smoothed);
        self.last = Some(now);
        let quality = if smoothed < GOOD_BELOW {
            CallQuality::Good
        } else if smoothed < POOR_FROM {
            CallQuality::Fair
        } else {
            CallQuality::Poor
        };
        self.show(quality)
    }

    /// Time passing: poor once reports have stopped for [`SILENCE`].
    pub fn tick(&mut self, now: Instant) -> Option<CallQuality> {
        let silent = self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) >= SILENCE);
        if !silent {
            return None;
        }
        self.smoothed = None;
        self.show(CallQuality::Poor)
    }

    fn show(&mut self, quality: CallQuality) -> Option<CallQuality> {
        (self.shown != Some(quality)).then(|| {
            self.shown = Some(quality);
            quality
        })
    }
}

/// The video bitrate of a call.
#[derive(Debug, Default)]
pub struct Bitrate {
    step: usize,
    changed: Option<Instant>,
    clean_since: Option<Instant>,
}

impl Bitrate {
    /// Bits a second now.
    pub fn bps(&self) -> u32 {
        STEPS[self.step]
    }

    /// A report of `lost` (a share) at `now`; the new bitrate when it changed.
    pub fn report(&mut self, lost: f32, now: Instant) -> Option<u32> {
        let since_change = |changed: Option<Instant>, at_least: Duration| {
            changed.is_none_or(|changed| now.saturating_duration_since(changed) >= at_least)
        };
        if lost >= HEAVY_LOSS {
            self.clean_since = None;
            if self.step + 1 < STEPS.len() && since_change(self.changed, DOWN_EVERY) {
                self.step += 1;
                self.changed = Some(now);
                return Some(self.bps());
            }
            return None;
        }
        if lost >= CLEAN_LOSS {
            self.clean_since = None;
            return None;
        }
        let clean_since = *self.clean_since.get_or_insert(now);
        let clean_long = now.saturating_duration_since(clean_since) >= CLEAN_FOR;
        if self.step > 0 && clean_long && since_change(self.changed, CLEAN_FOR) {
            self.step -= 1;
            self.changed = Some(now);
            self.clean_since = Some(now);
            return Some(self.bps());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(start: Instant, s: u64) -> Instant {
        start + Duration::from_secs(s)
    }

    #[test]
    fn the_worst_loss_reported_about_own_streams_counts() {
        let report = |ssrc, fraction_lost| ReceptionReport {
            ssrc,
            fraction_lost,
            ..Default::default()
        };
        let packets: Vec<Box<dyn Packet>> = vec![
            Box::new(ReceiverReport {
                reports: vec![report(1, 64), report(9, 255)],
                ..Default::default()
            }),
            Box::new(SenderReport {
                reports: vec![report(2, 128)],
                ..Default::default()
            }),
        ];
        assert_eq!(loss_of(&packets, &[1]), Some(0.25));
        assert_eq!(loss_of(&packets, &[1, 2]), Some(0.5));
        assert_eq!(loss_of(&packets, &[3]), None);
    }

    #[test]
    fn the_gauge_follows_smoothed_loss_and_goes_poor_when_reports_stop() {
        let start = Instant::now();
        let mut gauge = Gauge::default();
        assert_eq!(gauge.report(0.0, start), Some(CallQuality::Good));
        assert_eq!(gauge.report(0.0, secs(start, 1)), None, "told once");
        // One bad second is smoothed to fair; a second one makes it poor.
        assert_eq!(gauge.report(0.2, secs(start, 2)), Some(CallQuality::Fair));
        assert_eq!(gauge.report(0.2, secs(start, 3)), Some(CallQuality::Poor));
        assert_eq!(gauge.report(0.0, secs(start, 4)), Some(CallQuality::Fair));
        assert_eq!(gauge.report(0.0, secs(start, 5)), None);
        assert_eq!(gauge.report(0.0, secs(start, 6)), Some(CallQuality::Good));
        assert_eq!(gauge.tick(secs(start, 20)), None);
        assert_eq!(gauge.tick(secs(start, 21)), Some(CallQuality::Poor));
        assert_eq!(gauge.report(0.0, secs(start, 22)), Some(CallQuality::Good));
    }

    #[test]
    fn heavy_loss_steps_down_each_second_to_the_floor_and_clean_reports_step_back_up() {
        let start = Instant::now();
        let mut rate = Bitrate::default();
        assert_eq!(rate.bps(), BITRATE);
        assert_eq!(rate.report(0.2, start), Some(600_000));
        assert_eq!(rate.report(0.2, start + Duration::from_millis(500)), None);
        assert_eq!(rate.report(0.2, secs(start, 1)), Some(350_000));
        assert_eq!(rate.report(0.2, secs(start, 2)), Some(200_000));
        assert_eq!(rate.report(0.2, secs(start, 3)), None, "the floor");
        // Moderate loss holds; clean reports for five seconds step up, one step at a time.
        assert_eq!(rate.report(0.05, secs(start, 4)), None);
        for s in 5..10 {
            assert_eq!(rate.report(0.0, secs(start, s)), None);
        }
        assert_eq!(rate.report(0.0, secs(start, 10)), Some(350_000));
        assert_eq!(rate.report(0.0, secs(start, 11)), None);
        assert_eq!(rate.report(0.0, secs(start, 15)), Some(600_000));
    }
}
