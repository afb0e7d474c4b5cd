//! Calls: the live calls of this server, their state carried out as `rules` decide (ring
//! every device of the callee, first accept wins, busy, missed after the ring timeout, a lost
//! participant ends the call after a grace), signalling relayed between the two participating
//! devices, short-lived TURN credentials (`turn`), and the call-log message each call leaves
//! in its conversation, stored like any message so it syncs to every device.
//!
//! Live calls are kept in memory: a server restart ends them (their media keep flowing
//! peer to peer until a participant hangs up; no call log is written for them).

pub mod rules;
pub mod turn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flint_proto::wire::{self, call_update, push, CallEnd, CallMedia, CallVerb, ConversationKind};
use prost::Message as _;
use tokio_util::sync::CancellationToken;

use crate::config::CallSettings;
use crate::error::AppError;
use crate::hub::Hub;
use crate::store::{now_ms, ConversationId, NewMessage, Store, UserId};
use rules::{Call, Party, Phase, Refusal, Step};

/// A call's id: 16 random-looking bytes (a UUID v7), unguessable.
pub type CallId = [u8; 16];

/// How often the clock looks at the live calls (ring timeouts, lost participants).
const TICK: Duration = Duration::from_millis(250);

/// The live calls, and what they need to reach devices and write their logs.
pub struct Calls {
    live: Mutex<HashMap<CallId, Call>>,
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    settings: CallSettings,
}

impl Calls {
    /// No calls yet.
    pub fn new(hub: Arc<Hub>, store: Arc<dyn Store>, settings: CallSettings) -> Self {
        Self {
            live: Mutex::new(HashMap::new()),
            hub,
            store,
            settings,
        }
    }

    fn live(&self) -> MutexGuard<'_, HashMap<CallId, Call>> {
        // A panic while holding the lock leaves the map as consistent as any single insert
        // or remove: keep using it.
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `caller` calls the other member of the direct conversation `conversation_id`: every
    /// device of theirs rings. A callee already in a call answers busy (and a call log says
    /// so); a caller already in one is refused.
    pub async fn invite(
        &self,
        caller: Party,
        conversation_id: ConversationId,
        media: CallMedia,
    ) -> Result<wire::CallStarted, AppError> {
        if media == CallMedia::Unspecified {
            return Err(AppError::BadRequest("a call is audio or video".into()));
        }
        let conversation = self
            .store
            .conversation(caller.user_id, conversation_id)
            .await?;
        if conversation.kind() != ConversationKind::Direct {
            return Err(AppError::BadRequest(
                "calls are between the two members of a direct conversation".into(),
            ));
        }
        let callee = conversation
            .members
            .iter()
            .map(|m| m.user_id)
            .find(|&id| id != caller.user_id)
            .ok_or_else(|| AppError::BadRequest("nobody else is in this conversation".into()))?;
        let id = *uuid::Uuid::now_v7().as_bytes();
        let now = Instant::now();
        let call = Call {
            log_id: *uuid::Uuid::now_v7().as_bytes(),
            conversation_id,
            caller: caller.clone(),
            callee,
            media,
            phase: Phase::Ringing {
                until: now + self.settings.ring_timeout(),
            },
        };
        {
            let mut live = self.live();
            if live.values().any(|c| c.involves(caller.user_id)) {
                return Err(AppError::Busy("you are already in a call"));
            }
            if !live.values().any(|c| c.involves(callee)) {
                live.insert(id, call.clone());
                drop(live);
                self.ring(&id, &call, None);
                return Ok(wire::CallStarted {
                    call_id: id.to_vec(),
                    ice_servers: self.ice_servers(caller.user_id),
                    expires_at_ms: epoch_ms_in(self.settings.ring_timeout()),
                });
            }
        }
        self.write_log(&id, &call, CallEnd::Busy, Duration::ZERO)
            .await;
        Err(AppError::Busy("they are in another call"))
    }

    /// `by` accepts, declines or hangs up the call `call_id`.
    pub async fn act(&self, by: Party, call_id: &[u8], verb: CallVerb) -> Result<(), AppError> {
        let id = parse_id(call_id)?;
        let now = Instant::now();
        let (call, step) = {
            let mut live = self.live();
            let call = live.get_mut(&id).ok_or(AppError::NotFound("call"))?;
            let step = call.act(&by, verb, now).map_err(refused)?;
            match &step {
                Step::Answer(callee) => {
                    call.phase = Phase::Answered {
                        callee: callee.clone(),
                        at: now,
                        gone_since: [None, None],
                    };
                    (call.clone(), step)
                }
                Step::End { .. } => match live.remove(&id) {
                    Some(call) => (call, step),
                    None => return Err(AppError::NotFound("call")),
                },
            }
        };
        self.carry_out(&id, &call, step, &by).await;
        Ok(())
    }

    /// Relays `signal` from `from` to the other participating device.
    pub fn signal(&self, from: &Party, signal: wire::CallSignal) -> Result<(), AppError> {
        let id = parse_id(&signal.call_id)?;
        let (conversation_id, target) = {
            let live = self.live();
            let call = live.get(&id).ok_or(AppError::NotFound("call"))?;
            (
                call.conversation_id,
                call.signal_target(from).map_err(refused)?,
            )
        };
        let update = wire::CallUpdate {
            call_id: id.to_vec(),
            conversation_id,
            from_user_id: from.user_id,
            from_device_id: from.device_id.clone(),
            body: Some(call_update::Body::Signal(signal)),
        };
        self.hub
            .push_to_device(target.user_id, &target.device_id, push::Body::Call(update));
        Ok(())
    }

    /// A device of `user_id` connected: if a call rings for them, it rings there too.
    pub fn connected(&self, user_id: UserId, device_id: &str) {
        let ringing: Vec<(CallId, Call)> = self
            .live()
            .iter()
            .filter(|(_, c)| c.callee == user_id && matches!(c.phase, Phase::Ringing { .. }))
            .map(|(id, c)| (*id, c.clone()))
            .collect();
        for (id, call) in ringing {
            self.ring(&id, &call, Some(device_id));
        }
    }

    /// Ends calls whose time is up: unanswered past the ring timeout, or with a participant
    /// gone past the reconnect grace.
    pub async fn tick(&self, now: Instant) {
        let grace = self.settings.reconnect_grace();
        let ended: Vec<(CallId, Call, Step)> = {
            let mut live = self.live();
            let mut ended = Vec::new();
            for (id, call) in live.iter_mut() {
                let connected = call.watched().map_or([true, true], |parties| {
                    parties.map(|p| self.hub.is_connected(p.user_id, &p.device_id))
                });
                if let Some(step) = call.tick(now, connected, grace) {
                    ended.push((*id, call.clone(), step));
                }
            }
            for (id, _, _) in &ended {
                live.remove(id);
            }
            ended
        };
        for (id, call, step) in ended {
            let server = Party {
                user_id: 0,
                device_id: String::new(),
            };
            self.carry_out(&id, &call, step, &server).await;
        }
    }

    /// Calls in progress (ringing or answered).
    pub fn count(&self) -> usize {
        self.live().len()
    }

    async fn carry_out(&self, id: &CallId, call: &Call, step: Step, by: &Party) {
        let body = match &step {
            Step::Answer(callee) => call_update::Body::Accepted(wire::CallAccepted {
                user_id: callee.user_id,
                device_id: callee.device_id.clone(),
            }),
            Step::End { reason, duration } => call_update::Body::Ended(wire::CallEnded {
                reason: *reason as i32,
                duration_ms: millis(*duration),
            }),
        };
        let update = wire::CallUpdate {
            call_id: id.to_vec(),
            conversation_id: call.conversation_id,
            from_user_id: by.user_id,
            from_device_id: by.device_id.clone(),
            body: Some(body),
        };
        self.hub
            // The callee's devices first: the caller answers an accept with its SDP offer,
            // which must not reach the callee before the accept does.
            .push_to_users([call.callee, call.caller.user_id], push::Body::Call(update));
        if let Step::End { reason, duration } = step {
            self.write_log(id, call, reason, duration).await;
        }
    }

    /// Rings the callee's devices (or one of them).
    fn ring(&self, id: &CallId, call: &Call, device_id: Option<&str>) {
        let Phase::Ringing { until } = call.phase else {
            return;
        };
        let left = until.saturating_duration_since(Instant::now());
        let update = wire::CallUpdate {
            call_id: id.to_vec(),
            conversation_id: call.conversation_id,
            from_user_id: call.caller.user_id,
            from_device_id: call.caller.device_id.clone(),
            body: Some(call_update::Body::Ringing(wire::CallRinging {
                caller_id: call.caller.user_id,
                media: call.media as i32,
                ice_servers: self.ice_servers(call.callee),
                expires_at_ms: epoch_ms_in(left),
            })),
        };
        let body = push::Body::Call(update);
        match device_id {
            Some(device) => self.hub.push_to_device(call.callee, device, body),
            None => self.hub.push_to_users([call.callee], body),
        }
    }

    fn ice_servers(&self, user_id: UserId) -> Vec<wire::IceServer> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        turn::ice_servers(&self.settings, user_id, now)
    }

    /// Stores the call's record in its conversation, in the caller's name, once: its client
    /// id is one the server drew for the call and never told anyone, so the caller cannot
    /// send a message under it first and have the record taken for a resend.
    async fn write_log(&self, id: &CallId, call: &Call, outcome: CallEnd, duration: Duration) {
        let content = wire::MessageContent {
            kind: Some(wire::message_content::Kind::CallLog(wire::CallLog {
                call_id: id.to_vec(),
                media: call.media as i32,
                outcome: outcome as i32,
                duration_ms: millis(duration),
            })),
        };
        let message = NewMessage {
            sender_id: call.caller.user_id,
            conversation_id: call.conversation_id,
            client_id: call.log_id.to_vec(),
            content: content.encode_to_vec(),
            recalls: None,
            files: Vec::new(),
        };
        if let Err(error) = self.store.send(message).await {
            tracing::warn!(%error, "cannot store a call's log");
        }
    }
}

/// Runs the calls' clock until `shutdown`.
pub async fn run(calls: Arc<Calls>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => calls.tick(Instant::now()).await,
        }
    }
}

fn parse_id(raw: &[u8]) -> Result<CallId, AppError> {
    CallId::try_from(raw).map_err(|_| AppError::BadRequest("call_id must be 16 bytes".into()))
}

fn refused(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::NotFound => AppError::NotFound("call"),
        Refusal::Conflict(why) => AppError::Conflict(why),
        Refusal::Invalid => AppError::BadRequest("unknown call action".into()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch, `left` from now.
fn epoch_ms_in(left: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(left.as_millis()).unwrap_or(i64::MAX))
}
