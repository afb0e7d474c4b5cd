//! What the call on this device does with the server's news: an answer starts media (the
//! caller offers, the answering device answers), an answer on another device of this user
//! stops this one ringing, an end stops everything. Pure: the call module carries it out.

use flint_proto::ipc::{CallKind, CallOutcome, CallPhase, CallView, MediaFlags};
use flint_proto::wire::{call_update, CallRinging};

/// What the media engine must do after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// Nothing changes.
    Keep,
    /// Set up media: the caller makes the offer, the callee waits for it.
    Start {
        /// This device makes the SDP offer.
        offerer: bool,
    },
    /// Tear media down (if any).
    Stop,
}

/// The view of a call that starts ringing on this device.
pub fn incoming(call_id: String, conversation_id: i64, ringing: &CallRinging) -> CallView {
    let kind = CallKind::from(ringing.media());
    CallView {
        call_id,
        conversation_id,
        peer_id: ringing.caller_id,
        kind,
        outgoing: false,
        phase: CallPhase::Ringing,
        answered_at_ms: None,
        quality: None,
        local: flags(kind),
        remote: flags(kind),
    }
}

/// The view of a call this device placed, while it rings.
pub fn outgoing(call_id: String, conversation_id: i64, peer_id: i64, kind: CallKind) -> CallView {
    CallView {
        call_id,
        conversation_id,
        peer_id,
        kind,
        outgoing: true,
        phase: CallPhase::Ringing,
        answered_at_ms: None,
        quality: None,
        local: flags(kind),
        remote: flags(kind),
    }
}

fn flags(kind: CallKind) -> MediaFlags {
    MediaFlags {
        camera_off: kind == CallKind::Audio,
        ..MediaFlags::default()
    }
}

/// Whether a call is over on this device.
pub fn is_over(call: &CallView) -> bool {
    matches!(call.phase, CallPhase::Ended { .. })
}

/// Applies a state change from the server to `call` (whose device is `my_device`); returns
/// what media must do. Signalling is not a state change (the caller hands it to media).
pub fn apply(call: &mut CallView, my_device: &str, body: &call_update::Body, now_ms: i64) -> Media {
    if is_over(call) {
        return Media::Keep;
    }
    match body {
        call_update::Body::Accepted(accepted) => {
            if call.phase != CallPhase::Ringing {
                return Media::Keep;
            }
            if call.outgoing || accepted.device_id == my_device {
                call.phase = CallPhase::Connecting;
                call.answered_at_ms = Some(now_ms);
                Media::Start {
                    offerer: call.outgoing,
                }
            } else {
                end(call, CallOutcome::AnsweredElsewhere)
            }
        }
        call_update::Body::Ended(ended) => end(call, ended.reason().into()),
        call_update::Body::Ringing(_) | call_update::Body::Signal(_) => Media::Keep,
    }
}

/// Media came up: the call is connected (once it was answered).
pub fn media_up(call: &mut CallView) -> bool {
    let changed = call.phase == CallPhase::Connecting;
    if changed {
        call.phase = CallPhase::Connected;
    }
    changed
}

/// Ends the call on this device with `outcome` (a hang-up here, or a media failure).
pub fn end(call: &mut CallView, outcome: CallOutcome) -> Media {
    if is_over(call) {
        return Media::Keep;
    }
    call.phase = CallPhase::Ended { outcome };
    Media::Stop
}

/// How this device ending `call` is recorded: cancelling a ringing call, declining a
/// ringing incoming one, or hanging up an answered one.
pub fn hang_up_outcome(call: &CallView) -> CallOutcome {
    match (call.phase, call.outgoing) {
        (CallPhase::Ringing, true) => CallOutcome::Cancelled,
        (CallPhase::Ringing, false) => CallOutcome::Declined,
        _ => CallOutcome::HungUp,
    }
}

#[cfg(test)]
mod tests {
    use flint_proto::wire::{CallAccepted, CallEnd, CallEnded, CallMedia};

    use super::*;

    fn ringing_in() -> CallView {
        let ringing = CallRinging {
            caller_id: 1,
            media: CallMedia::Video as i32,
            ..Default::default()
        };
        incoming("ab".into(), 7, &ringing)
    }

    fn accepted(device: &str) -> call_update::Body {
        call_update::Body::Accepted(CallAccepted {
            user_id: 2,
            device_id: device.into(),
        })
    }

    fn ended(reason: CallEnd) -> call_update::Body {
        call_update::Body::Ended(CallEnded {
            reason: reason as i32,
            duration_ms: 0,
        })
    }

    #[test]
    fn an_answer_starts_media_with_the_caller_offering() {
        let mut out = outgoing("ab".into(), 7, 2, CallKind::Audio);
        assert!(out.local.camera_off);
        assert_eq!(
            apply(&mut out, "laptop", &accepted("desk"), 5),
            Media::Start { offerer: true }
        );
        assert_eq!(
            (out.phase, out.answered_at_ms),
            (CallPhase::Connecting, Some(5))
        );
        let mut here = ringing_in();
        assert!(!here.local.camera_off);
        assert_eq!(
            apply(&mut here, "desk", &accepted("desk"), 5),
            Media::Start { offerer: false }
        );
        assert_eq!(here.phase, CallPhase::Connecting);
    }

    #[test]
    fn an_answer_on_another_device_stops_this_one_ringing() {
        let mut phone = ringing_in();
        assert_eq!(
            apply(&mut phone, "phone", &accepted("desk"), 5),
            Media::Stop
        );
        assert_eq!(
            phone.phase,
            CallPhase::Ended {
                outcome: CallOutcome::AnsweredElsewhere
            }
        );
        // Later news about the call changes nothing here.
        assert_eq!(
            apply(&mut phone, "phone", &ended(CallEnd::HungUp), 9),
            Media::Keep
        );
    }

    #[test]
    fn the_end_stops_media_once_and_media_up_connects_only_an_answered_call() {
        let mut call = ringing_in();
        assert!(!media_up(&mut call));
        apply(&mut call, "desk", &accepted("desk"), 5);
        assert!(media_up(&mut call));
        assert_eq!(call.phase, CallPhase::Connected);
        assert_eq!(apply(&mut call, "desk", &accepted("desk"), 6), Media::Keep);
        assert_eq!(
            apply(&mut call, "desk", &ended(CallEnd::ConnectionLost), 7),
            Media::Stop
        );
        assert_eq!(
            call.phase,
            CallPhase::Ended {
                outcome: CallOutcome::ConnectionLost
            }
        );
        assert_eq!(end(&mut call, CallOutcome::Failed), Media::Keep);
    }

    #[test]
    fn hanging_up_is_a_cancel_a_decline_or_a_hang_up() {
        let out = outgoing("ab".into(), 7, 2, CallKind::Audio);
        assert_eq!(hang_up_outcome(&out), CallOutcome::Cancelled);
        let mut incoming = ringing_in();
        assert_eq!(hang_up_outcome(&incoming), CallOutcome::Declined);
        apply(&mut incoming, "desk", &accepted("desk"), 5);
        assert_eq!(hang_up_outcome(&incoming), CallOutcome::HungUp);
    }
}
