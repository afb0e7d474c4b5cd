//! What a call does next, as pure functions over plain values: who may accept, decline or
//! hang up, when it counts as missed, when a lost participant ends it, and where signalling
//! goes. The registry in `mod.rs` keeps the calls and carries out what these decide.

use std::time::{Duration, Instant};

use flint_proto::wire::{CallEnd, CallMedia, CallVerb};

use crate::store::{ConversationId, UserId};

/// One device of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The user.
    pub user_id: UserId,
    /// Their device.
    pub device_id: String,
}

/// Where a call stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Every device of the callee rings until `until`.
    Ringing {
        /// When it counts as missed.
        until: Instant,
    },
    /// A device of the callee took it.
    Answered {
        /// That device.
        callee: Party,
        /// When.
        at: Instant,
        /// Since when each participant has had no socket (caller, callee), if they have none.
        gone_since: [Option<Instant>; 2],
    },
}

/// A call the server keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The client id of the call's log message (secret to the server).
    pub log_id: [u8; 16],
    /// Its conversation (a direct one).
    pub conversation_id: ConversationId,
    /// The device that placed it.
    pub caller: Party,
    /// The user called.
    pub callee: UserId,
    /// Audio or video.
    pub media: CallMedia,
    /// Where it stands.
    pub phase: Phase,
}

/// What an action or a clock tick does to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The callee's device took the call.
    Answer(Party),
    /// The call is over.
    End {
        /// How it ended.
        reason: CallEnd,
        /// From the answer to now (zero when never answered).
        duration: Duration,
    },
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller is not part of the call: the same answer as a call that does not exist.
    NotFound,
    /// Not possible in the call's current phase (accept twice, signal before the answer…).
    Conflict(&'static str),
    /// The verb is unknown or unset.
    Invalid,
}

impl Call {
    /// Whether `user_id` is the caller or the callee (any of their devices).
    pub fn involves(&self, user_id: UserId) -> bool {
        self.caller.user_id == user_id || self.callee == user_id
    }

    /// What `by` doing `verb` at `now` does.
    pub fn act(&self, by: &Party, verb: CallVerb, now: Instant) -> Result<Step, Refusal> {
        if !self.involves(by.user_id) {
            return Err(Refusal::NotFound);
        }
        let is_callee = by.user_id == self.callee && by.user_id != self.caller.user_id;
        match (&self.phase, verb) {
            (_, CallVerb::Unspecified) => Err(Refusal::Invalid),
            (Phase::Ringing { .. }, CallVerb::Accept) if is_callee => Ok(Step::Answer(by.clone())),
            (Phase::Ringing { .. }, CallVerb::Decline | CallVerb::HangUp) if is_callee => {
                Ok(end(CallEnd::Declined, Duration::ZERO))
            }
            (Phase::Ringing { .. }, CallVerb::HangUp) => {
                Ok(end(CallEnd::Cancelled, Duration::ZERO))
            }
            (Phase::Ringing { .. }, _) => Err(Refusal::Conflict("only the callee answers a call")),
            (Phase::Answered { callee, at, .. }, CallVerb::HangUp) => {
                if *by == self.caller || by == callee {
                    Ok(end(CallEnd::HungUp, now.saturating_duration_since(*at)))
                } else {
                    Err(Refusal::Conflict("the call was answered on another device"))
                }
            }
            (Phase::Answered { .. }, _) => Err(Refusal::Conflict("the call was already answered")),
        }
    }

    /// Where signalling from `from` goes: the other participant, once the call is answered.
    pub fn signal_target(&self, from: &Party) -> Result<Party, Refusal> {
        if !self.involves(from.user_id) {
            return Err(Refusal::NotFound);
        }
        match &self.phase {
            Phase::Ringing { .. } => Err(Refusal::Conflict("the call is not answered yet")),
            Phase::Answered { callee, .. } if *from == self.caller => Ok(callee.clone()),
            Phase::Answered { callee, .. } if from == callee => Ok(self.caller.clone()),
            Phase::Answered { .. } => {
                Err(Refusal::Conflict("the call was answered on another device"))
            }
        }
    }

    /// What the clock does at `now`, given which participants have a socket (caller,
    /// callee): a ringing call times out as missed, an answered one ends once a participant
    /// has been gone past `grace`. Records when a participant went or came back.
    pub fn tick(&mut self, now: Instant, connected: [bool; 2], grace: Duration) -> Option<Step> {
        match &mut self.phase {
            Phase::Ringing { until } => {
                (now >= *until).then(|| end(CallEnd::Missed, Duration::ZERO))
            }
            Phase::Answered { at, gone_since, .. } => {
                for (since, here) in gone_since.iter_mut().zip(connected) {
                    *since = if here {
                        None
                    } else {
                        Some(since.unwrap_or(now))
                    };
                }
                let lost = gone_since
                    .iter()
                    .flatten()
                    .any(|since| now.saturating_duration_since(*since) >= grace);
                lost.then(|| end(CallEnd::ConnectionLost, now.saturating_duration_since(*at)))
            }
        }
    }

    /// The participants whose sockets the clock watches: the caller's device and, once
    /// answered, the callee's.
    pub fn watched(&self) -> Option<[&Party; 2]> {
        match &self.phase {
            Phase::Ringing { .. } => None,
            Phase::Answered { callee, .. } => Some([&self.caller, callee]),
        }
    }
}

fn end(reason: CallEnd, duration: Duration) -> Step {
    Step::End { reason, duration }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(user_id: UserId, device: &str) -> Party {
        Party {
            user_id,
            device_id: device.into(),
        }
    }

    fn ringing(now: Instant) -> Call {
        Call {
            log_id: [9; 16],
            conversation_id: 7,
            caller: party(1, "laptop"),
            callee: 2,
            media: CallMedia::Audio,
            phase: Phase::Ringing {
                until: now + Duration::from_secs(45),
            },
        }
    }

    fn answered(now: Instant) -> Call {
        Call {
            phase: Phase::Answered {
                callee: party(2, "desk"),
                at: now,
                gone_since: [None, None],
            },
            ..ringing(now)
        }
    }

    #[test]
    fn while_ringing_the_callee_answers_or_declines_and_the_caller_cancels() {
        let now = Instant::now();
        let call = ringing(now);
        let cases = [
            (
                party(2, "desk"),
                CallVerb::Accept,
                Ok(Step::Answer(party(2, "desk"))),
            ),
            (
                party(2, "phone"),
                CallVerb::Accept,
                Ok(Step::Answer(party(2, "phone"))),
            ),
            (
                party(2, "desk"),
                CallVerb::Decline,
                Ok(end(CallEnd::Declined, Duration::ZERO)),
            ),
            (
                party(2, "desk"),
                CallVerb::HangUp,
                Ok(end(CallEnd::Declined, Duration::ZERO)),
            ),
            (
                party(1, "laptop"),
                CallVerb::HangUp,
                Ok(end(CallEnd::Cancelled, Duration::ZERO)),
            ),
            (
                party(1, "phone"),
                CallVerb::HangUp,
                Ok(end(CallEnd::Cancelled, Duration::ZERO)),
            ),
            (
                party(1, "laptop"),
                CallVerb::Accept,
                Err(Refusal::Conflict("only the callee answers a call")),
            ),
            (
                party(1, "laptop"),
                CallVerb::Decline,
                Err(Refusal::Conflict("only the callee answers a call")),
            ),
            (party(3, "x"), CallVerb::HangUp, Err(Refusal::NotFound)),
            (
                party(2, "desk"),
                CallVerb::Unspecified,
                Err(Refusal::Invalid),
            ),
        ];
        for (by, verb, expected) in cases {
            assert_eq!(call.act(&by, verb, now), expected, "{by:?} {verb:?}");
        }
    }

    #[test]
    fn once_answered_only_the_two_participating_devices_hang_up() {
        let start = Instant::now();
        let call = answered(start);
        let later = start + Duration::from_secs(61);
        let hung_up = Ok(end(CallEnd::HungUp, Duration::from_secs(61)));
        assert_eq!(
            call.act(&party(1, "laptop"), CallVerb::HangUp, later),
            hung_up
        );
        assert_eq!(
            call.act(&party(2, "desk"), CallVerb::HangUp, later),
            hung_up
        );
        let elsewhere = Err(Refusal::Conflict("the call was answered on another device"));
        assert_eq!(
            call.act(&party(2, "phone"), CallVerb::HangUp, later),
            elsewhere
        );
        let again = Err(Refusal::Conflict("the call was already answered"));
        assert_eq!(call.act(&party(2, "phone"), CallVerb::Accept, later), again);
    }

    #[test]
    fn signalling_flows_between_the_participating_devices_only() {
        let now = Instant::now();
        assert_eq!(
            ringing(now).signal_target(&party(1, "laptop")),
            Err(Refusal::Conflict("the call is not answered yet"))
        );
        let call = answered(now);
        assert_eq!(
            call.signal_target(&party(1, "laptop")),
            Ok(party(2, "desk"))
        );
        assert_eq!(
            call.signal_target(&party(2, "desk")),
            Ok(party(1, "laptop"))
        );
        assert!(matches!(
            call.signal_target(&party(2, "phone")),
            Err(Refusal::Conflict(_))
        ));
        assert!(matches!(
            call.signal_target(&party(1, "phone")),
            Err(Refusal::Conflict(_))
        ));
        assert_eq!(call.signal_target(&party(9, "x")), Err(Refusal::NotFound));
    }

    #[test]
    fn an_unanswered_call_is_missed_at_the_ring_timeout() {
        let now = Instant::now();
        let mut call = ringing(now);
        let grace = Duration::from_secs(30);
        assert_eq!(
            call.tick(now + Duration::from_secs(44), [true, true], grace),
            None
        );
        assert_eq!(
            call.tick(now + Duration::from_secs(45), [false, false], grace),
            Some(end(CallEnd::Missed, Duration::ZERO))
        );
    }

    #[test]
    fn a_participant_without_a_socket_ends_the_call_only_after_the_grace() {
        let start = Instant::now();
        let mut call = answered(start);
        let grace = Duration::from_secs(30);
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(call.tick(at(10), [true, false], grace), None);
        // Back within the grace: the clock starts again next time.
        assert_eq!(call.tick(at(35), [true, true], grace), None);
        assert_eq!(call.tick(at(50), [false, true], grace), None);
        assert_eq!(call.tick(at(79), [false, true], grace), None);
        assert_eq!(
            call.tick(at(80), [false, true], grace),
            Some(end(CallEnd::ConnectionLost, Duration::from_secs(80)))
        );
    }
}
