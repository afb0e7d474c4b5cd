//! The call on this device: placing, answering, declining and hanging up over the IM socket,
//! the server's news applied as `rules::call` decides, and signalling handed between the
//! server and the media session. Media themselves (WebRTC) sit behind [`MediaEngine`], so
//! the signalling runs and is tested without devices, and the app plugs its engine in.
//!
//! One call at a time per device: the server answers busy to a second one.

pub mod audio;
mod keys;
pub mod processing;
mod quality;
mod reassembly;
mod reorder;
pub mod ring;
mod rtcp;
pub mod screen;
pub mod video;
pub mod webrtc;
mod workers;

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use flint_proto::ipc::{
    CallKind, CallOutcome, CallPhase, CallQuality, CallView, Event, MediaFlags,
};
use flint_proto::wire::{self, call_signal, call_update, request, response, CallVerb};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::link::unexpected;
use crate::locks::lock;
use crate::rules::call::{self as rules, Media};
use crate::shared::Shared;
use crate::store::now_ms;
use ring::{RingSound, Ringer, Speakers};

/// What a media session reports to the call.
#[derive(Debug)]
pub enum MediaNews {
    /// Signalling for the other side (an SDP, a candidate, media flags).
    Signal(call_signal::Body),
    /// Media flow both ways.
    Up,
    /// Media could not be set up or broke down.
    Failed(String),
    /// How the network carries the call changed.
    Quality(CallQuality),
}

/// How to set up the media of one answered call.
pub struct MediaSetup {
    /// Audio or video.
    pub kind: CallKind,
    /// This side makes the SDP offer (the caller).
    pub offerer: bool,
    /// STUN and TURN servers handed out by the server for this call.
    pub ice_servers: Vec<wire::IceServer>,
    /// Where the session reports.
    pub news: mpsc::UnboundedSender<MediaNews>,
}

/// Makes a media session for each answered call.
pub trait MediaEngine: Send + Sync {
    /// Starts setting up media; signalling and state come back on `setup.news`.
    fn start(&self, setup: MediaSetup) -> Result<Box<dyn MediaSession>>;
}

/// The media of one call.
pub trait MediaSession: Send + Sync {
    /// Signalling from the other side.
    fn signal(&self, body: call_signal::Body);
    /// Mutes or unmutes the microphone, turns the camera off or on.
    fn set_flags(&self, flags: MediaFlags);
    /// Stops everything: devices, sockets, threads.
    fn stop(&self);
}

/// How long past the server's ring timeout an incoming call rings here when the server's
/// end never came (it was lost with the connection).
const RING_SLACK: Duration = Duration::from_secs(3);
/// How long a hang-up on the way out (sign-out, quit) may wait for the server.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(2);

/// The call in progress on this device, if any.
struct Live {
    id: Vec<u8>,
    view: CallView,
    ice_servers: Vec<wire::IceServer>,
    media: Option<Box<dyn MediaSession>>,
}

/// The device's call, and the engine its media come from.
#[derive(Default)]
pub struct Calls {
    live: Mutex<Option<Live>>,
    engine: Mutex<Option<Arc<dyn MediaEngine>>>,
    /// News about a call this device does not know yet: the answer to an invite can reach
    /// `start` after the callee's accept reached the engine.
    early: Mutex<Option<wire::CallUpdate>>,
    /// Opens the speaker a ringing call plays on; without one, calls ring silently.
    speakers: Mutex<Option<Speakers>>,
    /// The ring playing now, and which sound it is.
    ringing: Mutex<Option<(RingSound, Ringer)>>,
}

impl Calls {
    fn live(&self) -> MutexGuard<'_, Option<Live>> {
        lock(&self.live)
    }

    /// Uses `engine` for the media of calls answered from now on.
    pub fn set_engine(&self, engine: Arc<dyn MediaEngine>) {
        *lock(&self.engine) = Some(engine);
    }

    fn engine(&self) -> Option<Arc<dyn MediaEngine>> {
        lock(&self.engine).clone()
    }

    /// Rings calls on speakers from `speakers` from now on.
    pub fn set_speakers(&self, speakers: Speakers) {
        *lock(&self.speakers) = Some(speakers);
    }

    /// Plays the sound `call` makes now (see [`RingSound::of`]), stopping the one before.
    fn ring_for(&self, call: &CallView) {
        let wanted = RingSound::of(call);
        let mut ringing = lock(&self.ringing);
        if ringing.as_ref().map(|(sound, _)| *sound) == wanted {
            return;
        }
        *ringing = None;
        let speakers = lock(&self.speakers).clone();
        if let (Some(sound), Some(speakers)) = (wanted, speakers) {
            match Ringer::start(&speakers, sound) {
                Ok(ringer) => *ringing = Some((sound, ringer)),
                Err(error) => tracing::debug!(%error, "the call rings silently"),
            }
        }
    }

    /// The call on this device: the one in progress, or else the last one (ended).
    pub fn last(&self) -> Option<CallView> {
        self.live().as_ref().map(|live| live.view.clone())
    }

    /// The call on this device, if one is in progress.
    pub fn current(&self) -> Option<CallView> {
        self.live()
            .as_ref()
            .filter(|live| !rules::is_over(&live.view))
            .map(|live| live.view.clone())
    }
}

/// Places a call in the direct conversation `conversation_id`.
pub async fn start(shared: &Arc<Shared>, conversation_id: i64, kind: CallKind) -> Result<CallView> {
    if shared.calls.current().is_some() {
        return Err(Error::Server {
            code: flint_proto::ErrorCode::Busy,
            message: "a call is already in progress on this device".into(),
            retry_after_ms: 0,
        });
    }
    let me = shared.me_id();
    let conversation = shared
        .store
        .call(move |conn| crate::store::conversations::direct_peer(conn, conversation_id, me))
        .await?;
    let peer_id = conversation.ok_or(Error::NotFound("conversation"))?;
    let link = shared.current_link()?;
    let invite = request::Body::CallInvite(wire::CallInvite {
        conversation_id,
        media: wire::CallMedia::from(kind) as i32,
    });
    let started = match link.request(invite).await? {
        response::Result::CallStarted(started) => started,
        other => return Err(unexpected(&other)),
    };
    let view = rules::outgoing(
        hex::encode(&started.call_id),
        conversation_id,
        peer_id,
        kind,
    );
    if started.expires_at_ms > 0 {
        // The caller's ring (and its ringback) stops at the server's time too.
        expire_ring(shared, view.call_id.clone(), started.expires_at_ms);
    }
    *shared.calls.live() = Some(Live {
        id: started.call_id.clone(),
        view: view.clone(),
        ice_servers: started.ice_servers,
        media: None,
    });
    tell(shared, view.clone());
    let early = lock(&shared.calls.early).take();
    if let Some(update) = early.filter(|u| u.call_id == started.call_id) {
        apply(shared, update);
    }
    Ok(shared.calls.last().unwrap_or(view))
}

/// Accepts the ringing call `call_id` on this device.
pub async fn accept(shared: &Shared, call_id: &str) -> Result<()> {
    // The ring stops at the user's answer, not a round trip later at the server's.
    *lock(&shared.calls.ringing) = None;
    act(shared, call_id, CallVerb::Accept).await
}

/// Declines, cancels or hangs up the call `call_id`: it ends here at once, and the server
/// tells the other side (if the link is down, the server ends it there at the ring timeout
/// or once the reconnect grace has passed).
pub async fn hang_up(shared: &Shared, call_id: &str) -> Result<()> {
    let ended = {
        let mut live = shared.calls.live();
        match live.as_mut().filter(|l| l.view.call_id == call_id) {
            Some(live) => {
                let outcome = rules::hang_up_outcome(&live.view);
                let verb = if outcome == CallOutcome::Declined {
                    CallVerb::Decline
                } else {
                    CallVerb::HangUp
                };
                let media = rules::end(&mut live.view, outcome);
                Some((verb, carry(shared, live, media), live.view.clone()))
            }
            None => None,
        }
    };
    let Some((verb, stopped, view)) = ended else {
        return Err(Error::NotFound("call"));
    };
    drop(stopped);
    tell(shared, view);
    act(shared, call_id, verb).await
}

/// Mutes the microphone or turns the camera off (and tells the other side).
pub async fn set_flags(
    shared: &Shared,
    call_id: &str,
    muted: bool,
    camera_off: bool,
) -> Result<()> {
    let (id, view) = {
        let mut live = shared.calls.live();
        let live = live
            .as_mut()
            .filter(|l| l.view.call_id == call_id && !rules::is_over(&l.view))
            .ok_or(Error::NotFound("call"))?;
        live.view.local.muted = muted;
        live.view.local.camera_off = camera_off || live.view.kind == CallKind::Audio;
        if let Some(media) = &live.media {
            media.set_flags(live.view.local);
        }
        (live.id.clone(), live.view.clone())
    };
    tell(shared, view.clone());
    let state = call_signal::Body::MediaState(wire::MediaState {
        muted: view.local.muted,
        camera_off: view.local.camera_off,
        sharing_screen: view.local.sharing_screen,
    });
    send_signal(shared, id, state).await
}

async fn act(shared: &Shared, call_id: &str, verb: CallVerb) -> Result<()> {
    let id = hex::decode(call_id).map_err(|_| Error::Invalid("not a call id".into()))?;
    let action = request::Body::CallAction(wire::CallAction {
        call_id: id,
        verb: verb as i32,
    });
    match shared.current_link()?.request(action).await? {
        response::Result::Ok(_) => Ok(()),
        other => Err(unexpected(&other)),
    }
}

async fn send_signal(shared: &Shared, call_id: Vec<u8>, body: call_signal::Body) -> Result<()> {
    let signal = request::Body::CallSignal(wire::CallSignal {
        call_id,
        body: Some(body),
    });
    match shared.current_link()?.request(signal).await? {
        response::Result::Ok(_) => Ok(()),
        other => Err(unexpected(&other)),
    }
}

/// Applies the server's news about a call (from a push).
pub fn apply(shared: &Arc<Shared>, update: wire::CallUpdate) {
    let Some(body) = update.body else {
        return;
    };
    let call_id = hex::encode(&update.call_id);
    let changed = {
        let mut live = shared.calls.live();
        if let call_update::Body::Ringing(ringing) = &body {
            // A call already here (this one again, or another in progress) keeps its place.
            let taken = live
                .as_ref()
                .is_some_and(|l| l.view.call_id == call_id || !rules::is_over(&l.view));
            if taken {
                return;
            }
            let view = rules::incoming(call_id.clone(), update.conversation_id, ringing);
            expire_ring(shared, call_id, ringing.expires_at_ms);
            *live = Some(Live {
                id: update.call_id,
                view: view.clone(),
                ice_servers: ringing.ice_servers.clone(),
                media: None,
            });
            Some(view)
        } else {
            match live.as_mut().filter(|l| l.view.call_id == call_id) {
                None => {
                    if !matches!(body, call_update::Body::Signal(_)) {
                        let mut early = lock(&shared.calls.early);
                        *early = Some(wire::CallUpdate {
                            body: Some(body),
                            ..update
                        });
                    }
                    None
                }
                Some(current) => match body {
                    call_update::Body::Signal(signal) => receive_signal(current, signal),
                    body => {
                        let device = &shared.params.device_id;
                        let media = rules::apply(&mut current.view, device, &body, now_ms());
                        let stopped = carry(shared, current, media);
                        if matches!(media, Media::Start { .. }) {
                            start_media(shared, current);
                        }
                        drop(stopped);
                        Some(current.view.clone())
                    }
                },
            }
        }
    };
    if let Some(call) = changed {
        tell(shared, call);
    }
}

/// Tells the front end of a change to the call, and rings as the call now does.
fn tell(shared: &Shared, call: CallView) {
    shared.calls.ring_for(&call);
    shared.emit(Event::CallChanged { call });
}

/// The other side's signalling: media state changes the view; the rest goes to media.
fn receive_signal(live: &mut Live, signal: wire::CallSignal) -> Option<CallView> {
    match signal.body? {
        call_signal::Body::MediaState(state) => {
            live.view.remote = MediaFlags {
                muted: state.muted,
                camera_off: state.camera_off,
                sharing_screen: state.sharing_screen,
            };
            Some(live.view.clone())
        }
        body => {
            if let Some(media) = &live.media {
                media.signal(body);
            }
            None
        }
    }
}

/// Stops media when `media` says so (and forgets the other side's last picture); the session
/// is handed back to be dropped outside the lock.
fn carry(shared: &Shared, live: &mut Live, media: Media) -> Option<Box<dyn MediaSession>> {
    if media != Media::Stop {
        return None;
    }
    shared.call_screen.clear();
    let session = live.media.take();
    if let Some(session) = &session {
        session.stop();
    }
    session
}

/// Ends the call `call_id` here as missed if it still rings [`RING_SLACK`] past the server's
/// ring timeout, `expires_at_ms` (the server's end can be lost with the connection).
fn expire_ring(shared: &Arc<Shared>, call_id: String, expires_at_ms: i64) {
    let left = expires_at_ms.saturating_sub(now_ms()).max(0);
    let until = Duration::from_millis(u64::try_from(left).unwrap_or(0)) + RING_SLACK;
    expire(
        shared,
        call_id,
        until,
        CallPhase::Ringing,
        CallOutcome::Missed,
    );
}

/// Ends the call `call_id` here with `outcome` if it is still in `phase` after `after` (the
/// server's news can be lost with a connection; a device must not ring or connect forever).
fn expire(
    shared: &Arc<Shared>,
    call_id: String,
    after: Duration,
    phase: CallPhase,
    outcome: CallOutcome,
) {
    let shared = Arc::downgrade(shared);
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let stale = shared
            .calls
            .last()
            .is_some_and(|call| call.call_id == call_id && call.phase == phase);
        if !stale {
            return;
        }
        if outcome == CallOutcome::Failed {
            media_failed(&shared, &call_id).await;
        } else {
            end_here(&shared, &call_id, outcome);
        }
    });
}

/// Ends the call here only (the server ended it already, or will).
fn end_here(shared: &Shared, call_id: &str, outcome: CallOutcome) {
    let ended = {
        let mut live = shared.calls.live();
        live.as_mut()
            .filter(|l| l.view.call_id == call_id)
            .map(|l| {
                let media = rules::end(&mut l.view, outcome);
                (carry(shared, l, media), l.view.clone())
            })
    };
    if let Some((stopped, call)) = ended {
        drop(stopped);
        tell(shared, call);
    }
}

/// Hangs up the call in progress, if any, as the client stops: media stop at once, and the
/// server is told if the link allows within a moment.
pub async fn leave(shared: &Shared) {
    let Some(call) = shared.calls.current() else {
        return;
    };
    let leaving = hang_up(shared, &call.call_id);
    if tokio::time::timeout(LEAVE_TIMEOUT, leaving).await.is_err() {
        tracing::debug!("the server was not told of the hang-up in time");
    }
}

/// Starts the media session of an answered call, and a task that relays what it reports.
fn start_media(shared: &Arc<Shared>, live: &mut Live) {
    let offerer = live.view.outgoing;
    let call_id = live.view.call_id.clone();
    let connecting = CallPhase::Connecting;
    expire(
        shared,
        call_id.clone(),
        shared.config.call_connect_timeout,
        connecting,
        CallOutcome::Failed,
    );
    let Some(engine) = shared.calls.engine() else {
        tracing::info!("no media engine: the call fails unless media come up");
        return;
    };
    let (news, mut reports) = mpsc::unbounded_channel();
    let setup = MediaSetup {
        kind: live.view.kind,
        offerer,
        ice_servers: live.ice_servers.clone(),
        news,
    };
    match engine.start(setup) {
        Ok(session) => live.media = Some(session),
        Err(error) => {
            tracing::warn!(%error, "media could not start");
            // Failed at once, once this lock is released.
            expire(
                shared,
                call_id,
                Duration::ZERO,
                connecting,
                CallOutcome::Failed,
            );
            return;
        }
    }
    // The relay holds the client weakly: a session kept alive by its own relay would outlive
    // a signed-out client.
    let (shared, id, call_id) = (
        Arc::downgrade(shared),
        live.id.clone(),
        live.view.call_id.clone(),
    );
    tokio::spawn(async move {
        while let Some(report) = reports.recv().await {
            let Some(shared) = Weak::upgrade(&shared) else {
                return;
            };
            match report {
                MediaNews::Signal(body) => {
                    if let Err(error) = send_signal(&shared, id.clone(), body).await {
                        tracing::debug!(%error, "call signalling not sent");
                    }
                }
                MediaNews::Up => media_up(&shared, &call_id),
                MediaNews::Quality(quality) => quality_changed(&shared, &call_id, quality),
                MediaNews::Failed(why) => {
                    tracing::warn!(%why, "call media failed");
                    media_failed(&shared, &call_id).await;
                }
            }
        }
    });
}

fn media_up(shared: &Shared, call_id: &str) {
    let view = {
        let mut live = shared.calls.live();
        live.as_mut()
            .filter(|l| l.view.call_id == call_id)
            .and_then(|l| rules::media_up(&mut l.view).then(|| l.view.clone()))
    };
    if let Some(call) = view {
        tell(shared, call);
    }
}

fn quality_changed(shared: &Shared, call_id: &str, quality: CallQuality) {
    let view = {
        let mut live = shared.calls.live();
        live.as_mut()
            .filter(|l| l.view.call_id == call_id && !rules::is_over(&l.view))
            .map(|l| {
                l.view.quality = Some(quality);
                l.view.clone()
            })
    };
    if let Some(call) = view {
        tell(shared, call);
    }
}

async fn media_failed(shared: &Shared, call_id: &str) {
    let ended = {
        let mut live = shared.calls.live();
        live.as_mut()
            .filter(|l| l.view.call_id == call_id)
            .map(|l| {
                let media = rules::end(&mut l.view, CallOutcome::Failed);
                (carry(shared, l, media), l.view.clone())
            })
    };
    let Some((stopped, call)) = ended else {
        return;
    };
    drop(stopped);
    tell(shared, call);
    if let Err(error) = act(shared, call_id, CallVerb::HangUp).await {
        tracing::debug!(%error, "hang-up after a media failure not sent");
    }
}
