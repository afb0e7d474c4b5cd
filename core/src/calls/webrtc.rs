//! Call media over standard WebRTC (the `webrtc` crate, in this process: WebKitGTK has no
//! `RTCPeerConnection`, and one engine serves every OS). Audio is Opus at 48 kHz: 20 ms
//! frames from an [`AudioSource`] are encoded and sent; the other side's packets are decoded
//! into an [`AudioSink`]. A video call where the engine has video devices also sends H.264
//! (OpenH264) pictures from a [`VideoSource`] at [`FRAME_RATE`] and decodes the other side's
//! into a [`VideoSink`]. Encoding, decoding and echo cancellation run on the call's own
//! threads (`workers`); the async tasks here only move packets. A lost or undecodable
//! picture asks the sender for a key picture (PLI), and a PLI or FIR from the other side is
//! answered with one (`keys`). SDP and trickled ICE candidates travel as
//! [`MediaNews::Signal`]s through the IM socket. One task owns each peer connection; closing
//! it frees its sockets, tasks and threads.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use flint_proto::ipc::{CallKind, MediaFlags};
use flint_proto::wire::{self, call_signal, SdpKind};
use rtc::interceptor::Slot;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS};
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::media_stream::Track;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCSessionDescription, Registry,
};
use webrtc::rtp_transceiver::RtpSender;

use super::audio::{AudioSink, AudioSource, SAMPLE_RATE};
use super::keys::{self, Asking, KeyWish};
use super::quality::{self, Bitrate, Gauge};
use super::reassembly::{Reassembled, Reassembly};
use super::reorder::{self, Reorder};
use super::rtcp;
use super::video::{VideoSink, VideoSource};
use super::workers::{self, Decoding};
use super::{MediaEngine as Engine, MediaNews, MediaSession, MediaSetup};
use crate::error::{Error, Result};
use crate::locks::lock;

/// Makes the devices of one call (called on the blocking pool).
pub type Devices = Arc<dyn Fn() -> (Box<dyn AudioSource>, Box<dyn AudioSink>) + Send + Sync>;

/// Makes the camera and the screen of one video call (called on the blocking pool).
pub type VideoDevices = Arc<dyn Fn() -> (Box<dyn VideoSource>, Box<dyn VideoSink>) + Send + Sync>;

/// Remote candidates kept while the other side's description is still to come; more are
/// dropped (a real peer sends a handful).
const MAX_PENDING_CANDIDATES: usize = 64;

/// How soon a track not yet bound to its sender is read again.
const UNBOUND_RETRY: Duration = Duration::from_millis(50);

/// Which local addresses to gather candidates on, and whether to relay only.
#[derive(Debug, Clone)]
pub struct Network {
    /// UDP addresses to bind: `0.0.0.0:0` gathers on every interface but loopback;
    /// `127.0.0.1:0` only on loopback (tests).
    pub bind: Vec<String>,
    /// Use TURN relays only (no host or server-reflexive candidates).
    pub relay_only: bool,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            bind: vec!["0.0.0.0:0".into()],
            relay_only: false,
        }
    }
}

/// The WebRTC media engine.
pub struct WebRtc {
    devices: Devices,
    video: Option<VideoDevices>,
    network: Network,
}

impl WebRtc {
    /// An engine taking each call's sound from and to what `devices` makes (video calls
    /// carry sound only).
    pub fn new(devices: Devices, network: Network) -> Self {
        Self {
            devices,
            video: None,
            network,
        }
    }

    /// The engine, with video calls' pictures from and to what `video` makes.
    pub fn with_video(self, video: VideoDevices) -> Self {
        Self {
            video: Some(video),
            ..self
        }
    }
}

/// What one call's media go through.
struct CallDevices {
    microphone: Box<dyn AudioSource>,
    speaker: Box<dyn AudioSink>,
    video: Option<(Box<dyn VideoSource>, Box<dyn VideoSink>)>,
}

/// What the session's task is asked to do.
enum Command {
    Signal(call_signal::Body),
    Flags(MediaFlags),
}

impl Engine for WebRtc {
    fn start(&self, setup: MediaSetup) -> Result<Box<dyn MediaSession>> {
        let (commands, inbox) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let devices = self.devices.clone();
        let video = self.video.clone().filter(|_| setup.kind == CallKind::Video);
        if setup.kind == CallKind::Video && video.is_none() {
            tracing::info!("no video devices: the video call carries sound only");
        }
        let network = self.network.clone();
        tokio::spawn(async move {
            let news = setup.news.clone();
            // Devices can take a while to open: not on the executor.
            let opened = tokio::task::spawn_blocking(move || {
                let (microphone, speaker) = devices();
                CallDevices {
                    microphone,
                    speaker,
                    video: video.map(|video| video()),
                }
            });
            let Ok(devices) = opened.await else {
                let _ = news.send(MediaNews::Failed("the devices did not open".into()));
                return;
            };
            if let Err(error) = run(setup, network, devices, inbox, stopped).await {
                let _ = news.send(MediaNews::Failed(error.to_string()));
            }
        });
        Ok(Box::new(Session { commands, stop }))
    }
}

/// A running call's media: signalling in, stop on demand or when dropped.
struct Session {
    commands: mpsc::UnboundedSender<Command>,
    stop: watch::Sender<bool>,
}

impl MediaSession for Session {
    fn signal(&self, body: call_signal::Body) {
        let _ = self.commands.send(Command::Signal(body));
    }

    fn set_flags(&self, flags: MediaFlags) {
        let _ = self.commands.send(Command::Flags(flags));
    }

    fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn failed(error: impl std::fmt::Display) -> Error {
    Error::Connection(format!("call media: {error}"))
}

/// Events of the peer connection, handed to the session's task and to `news`.
struct Events {
    news: mpsc::UnboundedSender<MediaNews>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let candidate = wire::IceCandidate {
                candidate: init.candidate,
                sdp_mid: init.sdp_mid.unwrap_or_default(),
                sdp_mline_index: u32::from(init.sdp_mline_index.unwrap_or(0)),
                end_of_candidates: false,
            };
            let _ = self
                .news
                .send(MediaNews::Signal(call_signal::Body::Candidate(candidate)));
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(%state, "call media state");
        match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.news.send(MediaNews::Up);
            }
            RTCPeerConnectionState::Failed => {
                let _ = self
                    .news
                    .send(MediaNews::Failed("no route to the other side".into()));
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// The Opus codec as both sides offer it.
fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: SAMPLE_RATE,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// H.264 (constrained baseline, what OpenH264 makes) as both sides offer it.
fn h264() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
            .to_owned(),
        rtcp_feedback: vec![],
    }
}

/// The RTP payload type Opus is offered with (what Chromium uses too).
const OPUS_PAYLOAD: u8 = 111;
/// The RTP payload type H.264 is offered with.
const H264_PAYLOAD: u8 = 102;

/// The codecs a call offers and accepts: only what this engine encodes and decodes (with
/// the defaults a browser would pick VP8 first and send pictures nobody here can decode).
fn codecs() -> Result<MediaEngine> {
    let mut media = MediaEngine::default();
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    let video = RTCRtpCodec {
        rtcp_feedback: vec![
            feedback("nack", ""),
            feedback("nack", "pli"),
            feedback("ccm", "fir"),
        ],
        ..h264()
    };
    for (codec, payload_type, kind) in [
        (opus(), OPUS_PAYLOAD, RtpCodecKind::Audio),
        (video, H264_PAYLOAD, RtpCodecKind::Video),
    ] {
        let parameters = RTCRtpCodecParameters {
            rtp_codec: codec,
            payload_type,
        };
        media.register_codec(parameters, kind).map_err(failed)?;
    }
    Ok(media)
}

/// A track this side sends, and its sender.
struct Outgoing {
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
}

impl Outgoing {
    /// Adds a track of `kind` sending `codec` to the peer connection.
    async fn add(pc: &impl PeerConnection, kind: RtpCodecKind, codec: RTCRtpCodec) -> Result<Self> {
        let name = kind.to_string();
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    "flint".into(),
                    name.clone(),
                    name,
                    kind,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(rand::random()),
                            ..Default::default()
                        },
                        codec,
                        ..Default::default()
                    }],
                ),
            )
            .map_err(failed)?,
        );
        let sender = pc
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(failed)?;
        Ok(Self { track, sender })
    }

    /// The payload type negotiated for the track (`fallback` before negotiation ends).
    async fn payload_type(&self, fallback: u8) -> u8 {
        self.sender
            .get_parameters()
            .await
            .ok()
            .and_then(|p| p.rtp_parameters.codecs.first().map(|c| c.payload_type))
            .unwrap_or(fallback)
    }
}

/// Sets up the peer connection, negotiates, then moves sound (and pictures) both ways until
/// stopped.
async fn run(
    setup: MediaSetup,
    network: Network,
    devices: CallDevices,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    mut stopped: watch::Receiver<bool>,
) -> Result<()> {
    let mut media = codecs()?;
    let registry = register_default_interceptors(Registry::new(), &mut media)
        .map_err(failed)?
        .with(Slot::Custom(rtcp::SLOT), rtcp::Delivery::default());
    let servers = setup
        .ice_servers
        .iter()
        .map(|server| RTCIceServer {
            urls: server.urls.clone(),
            username: server.username.clone(),
            credential: server.credential.clone(),
        })
        .collect();
    let mut config = RTCConfigurationBuilder::new().with_ice_servers(servers);
    if network.relay_only {
        config = config.with_ice_transport_policy(RTCIceTransportPolicy::Relay);
    }
    let (tracks, mut arrivals) = mpsc::unbounded_channel();
    let events = Arc::new(Events {
        news: setup.news.clone(),
        tracks,
    });
    let pc = PeerConnectionBuilder::new()
        .with_configuration(config.build())
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_handler(events)
        .with_udp_addrs(network.bind.clone())
        .build()
        .await
        .map_err(failed)?;
    let audio = Outgoing::add(&pc, RtpCodecKind::Audio, opus()).await?;
    let camera = match devices.video {
        Some(_) => Some(Outgoing::add(&pc, RtpCodecKind::Video, h264()).await?),
        None => None,
    };
    let video_ssrcs = match &camera {
        Some(camera) => camera.track.ssrcs().await,
        None => Vec::new(),
    };
    let asked = Arc::new(Reported::new(
        audio.track.ssrcs().await,
        video_ssrcs,
        setup.news.clone(),
    ));
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    if setup.offerer {
        let offer = pc.create_offer(None).await.map_err(failed)?;
        let sdp = offer.sdp.clone();
        pc.set_local_description(offer).await.map_err(failed)?;
        send_description(&setup, SdpKind::Offer, sdp);
    }
    let mut pending: Vec<RTCIceCandidateInit> = Vec::new();
    let mut described = false;
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let (mute, muted) = watch::channel(false);
    let (camera_off, dark) = watch::channel(false);
    let mut microphone = Some(devices.microphone);
    let (mut camera_source, mut screen) = match devices.video {
        Some((source, sink)) => (Some(source), Some(sink)),
        None => (None, None),
    };
    let mut speaker = Some(devices.speaker);
    let outcome = loop {
        tokio::select! {
            _ = stopped.changed() => break Ok(()),
            _ = ticks.tick() => asked.tick(),
            arrival = arrivals.recv() => {
                let Some(remote) = arrival else { continue };
                if remote.kind().await == RtpCodecKind::Video {
                    if let Some(screen) = screen.take() {
                        let keys = Arc::new(KeyWish::default());
                        match workers::screen(screen, Arc::clone(&keys)) {
                            Ok(decoding) => tasks.push(tokio::spawn(watch_pictures(remote, decoding, keys, Arc::clone(&asked)))),
                            Err(error) => break Err(error),
                        }
                    }
                } else if let Some(speaker) = speaker.take() {
                    match workers::speaker(speaker) {
                        Ok(packets) => tasks.push(tokio::spawn(hear(remote, packets, Arc::clone(&asked)))),
                        Err(error) => break Err(error),
                    }
                }
            }
            command = inbox.recv() => match command {
                None => break Ok(()),
                Some(Command::Flags(flags)) => {
                    let _ = mute.send(flags.muted);
                    let _ = camera_off.send(flags.camera_off);
                }
                Some(Command::Signal(call_signal::Body::Description(description))) => {
                    let kind = description.kind();
                    let remote = match kind {
                        SdpKind::Offer => RTCSessionDescription::offer(description.sdp),
                        _ => RTCSessionDescription::answer(description.sdp),
                    };
                    let remote = match remote {
                        Ok(remote) => remote,
                        Err(error) => break Err(failed(error)),
                    };
                    if let Err(error) = pc.set_remote_description(remote).await {
                        break Err(failed(error));
                    }
                    if kind == SdpKind::Offer {
                        match answer(&pc).await {
                            Ok(sdp) => send_description(&setup, SdpKind::Answer, sdp),
                            Err(error) => break Err(error),
                        }
                    }
                    described = true;
                    for candidate in pending.drain(..) {
                        if let Err(error) = pc.add_ice_candidate(candidate).await {
                            tracing::debug!(%error, "a remote candidate was refused");
                        }
                    }
                    if let Some(microphone) = microphone.take() {
                        let started = start_sending(&audio, microphone, muted.clone(), camera.as_ref().zip(camera_source.take()), dark.clone(), &asked, &mut tasks).await;
                        if let Err(error) = started {
                            break Err(error);
                        }
                    }
                }
                Some(Command::Signal(call_signal::Body::Candidate(candidate))) => {
                    if candidate.candidate.is_empty() {
                        continue;
                    }
                    let init = RTCIceCandidateInit {
                        candidate: candidate.candidate,
                        sdp_mid: Some(candidate.sdp_mid),
                        sdp_mline_index: u16::try_from(candidate.sdp_mline_index).ok(),
                        ..Default::default()
                    };
                    if described {
                        if let Err(error) = pc.add_ice_candidate(init).await {
                            tracing::debug!(%error, "a remote candidate was refused");
                        }
                    } else if pending.len() < MAX_PENDING_CANDIDATES {
                        pending.push(init);
                    }
                }
                Some(Command::Signal(call_signal::Body::MediaState(_))) => {}
            },
        }
    };
    for task in tasks {
        task.abort();
    }
    let closed = pc.close().await.map_err(failed);
    outcome.and(closed)
}

/// Starts the microphone (and the camera) workers and the tasks sending what they make,
/// each task put in `tasks` as it starts, so a failure halfway leaves none running once the
/// call's tasks are aborted (and the workers end with their channels).
async fn start_sending(
    audio: &Outgoing,
    microphone: Box<dyn AudioSource>,
    muted: watch::Receiver<bool>,
    camera: Option<(&Outgoing, Box<dyn VideoSource>)>,
    dark: watch::Receiver<bool>,
    asked: &Arc<Reported>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<()> {
    let frames = workers::microphone(microphone, muted)?;
    let payload_type = audio.payload_type(OPUS_PAYLOAD).await;
    tasks.push(tokio::spawn(send_sound(
        Arc::clone(&audio.track),
        payload_type,
        frames,
    )));
    tasks.push(tokio::spawn(listen(
        Arc::clone(&audio.track),
        Arc::clone(asked),
    )));
    if let Some((camera, source)) = camera {
        let units = workers::camera(
            source,
            dark,
            Arc::clone(&asked.keys),
            Arc::clone(&asked.rate),
        )?;
        let payload_type = camera.payload_type(H264_PAYLOAD).await;
        tasks.push(tokio::spawn(send_pictures(
            Arc::clone(&camera.track),
            payload_type,
            units,
        )));
        tasks.push(tokio::spawn(listen(
            Arc::clone(&camera.track),
            Arc::clone(asked),
        )));
    }
    Ok(())
}

async fn answer(pc: &impl PeerConnection) -> Result<String> {
    let answer = pc.create_answer(None).await.map_err(failed)?;
    let sdp = answer.sdp.clone();
    pc.set_local_description(answer).await.map_err(failed)?;
    Ok(sdp)
}

fn send_description(setup: &MediaSetup, kind: SdpKind, sdp: String) {
    let description = wire::SessionDescription {
        kind: kind as i32,
        sdp,
    };
    let _ = setup
        .news
        .send(MediaNews::Signal(call_signal::Body::Description(
            description,
        )));
}

/// Sends the microphone worker's encoded frames on the audio track.
async fn send_sound(
    track: Arc<TrackLocalStaticSample>,
    payload_type: u8,
    mut frames: mpsc::Receiver<Bytes>,
) {
    let Some(&ssrc) = track.ssrcs().await.first() else {
        return;
    };
    while let Some(frame) = frames.recv().await {
        if let Err(error) = write(&track, ssrc, payload_type, frame, workers::AUDIO_FRAME).await {
            tracing::debug!(%error, "an audio frame was not sent");
        }
    }
}

/// Sends the camera worker's pictures on the video track.
async fn send_pictures(
    track: Arc<TrackLocalStaticSample>,
    payload_type: u8,
    mut units: mpsc::Receiver<Bytes>,
) {
    let Some(&ssrc) = track.ssrcs().await.first() else {
        return;
    };
    let every = workers::picture_interval();
    while let Some(unit) = units.recv().await {
        if let Err(error) = write(&track, ssrc, payload_type, unit, every).await {
            tracing::debug!(%error, "a picture was not sent");
        }
    }
}

/// Sends one encoded frame or picture, `duration` long, on `track`.
async fn write(
    track: &TrackLocalStaticSample,
    ssrc: u32,
    payload_type: u8,
    data: bytes::Bytes,
    duration: Duration,
) -> Result<()> {
    let sample = Sample {
        data,
        duration,
        ..Sample::new(Instant::now())
    };
    track
        .sample_writer(ssrc, payload_type)
        .write_sample(&sample)
        .await
        .map_err(failed)
}

/// What the other side's RTCP says of this side's streams: a key picture wanted, the share
/// of packets lost (the call's quality, told on `news`, and the video bitrate).
struct Reported {
    /// The audio stream's SSRCs.
    audio: Vec<u32>,
    /// The video stream's SSRCs (none in an audio call).
    video: Vec<u32>,
    /// Raised when the other side asks for a key picture; the camera worker takes it.
    keys: Arc<KeyWish>,
    /// The video bitrate the camera worker encodes at.
    rate: Arc<AtomicU32>,
    gauge: Mutex<Gauge>,
    bitrate: Mutex<Bitrate>,
    news: mpsc::UnboundedSender<MediaNews>,
}

impl Reported {
    fn new(audio: Vec<u32>, video: Vec<u32>, news: mpsc::UnboundedSender<MediaNews>) -> Self {
        let bitrate = Bitrate::default();
        Self {
            audio,
            video,
            keys: Arc::new(KeyWish::default()),
            rate: Arc::new(AtomicU32::new(bitrate.bps())),
            gauge: Mutex::default(),
            bitrate: Mutex::new(bitrate),
            news,
        }
    }

    /// Acts on one compound RTCP packet. The crate hands RTCP to whichever track its first
    /// SSRC names, a sent or a received one, so every track's reader brings it here.
    fn take(&self, packets: &[Box<dyn rtc::rtcp::Packet>]) {
        if self
            .video
            .iter()
            .any(|&ssrc| keys::asks_for_key(packets, ssrc))
        {
            self.keys.raise();
        }
        let now = Instant::now();
        let own: Vec<u32> = self.audio.iter().chain(&self.video).copied().collect();
        if let Some(lost) = quality::loss_of(packets, &own) {
            if let Some(quality) = lock(&self.gauge).report(lost, now) {
                let _ = self.news.send(MediaNews::Quality(quality));
            }
        }
        if let Some(lost) = quality::loss_of(packets, &self.video) {
            if let Some(bps) = lock(&self.bitrate).report(lost, now) {
                tracing::debug!(bps, lost, "the video bitrate changes");
                self.rate.store(bps, Ordering::Release);
            }
        }
    }

    /// Time passing: the quality goes poor when the reports stop.
    fn tick(&self) {
        if let Some(quality) = lock(&self.gauge).tick(Instant::now()) {
            let _ = self.news.send(MediaNews::Quality(quality));
        }
    }
}

/// Reads the RTCP handed to a track this side sends. Until the track is bound to its sender
/// (negotiation may still be finishing) there is nothing to read; the task ends with the
/// call.
async fn listen(track: Arc<TrackLocalStaticSample>, asked: Arc<Reported>) {
    loop {
        match track.poll().await {
            Some(TrackLocalEvent::OnRtcpPacket(packets)) => asked.take(&packets),
            Some(_) => {}
            None => tokio::time::sleep(UNBOUND_RETRY).await,
        }
    }
}

/// Hands the other side's sound packets to the speaker worker until its track ends.
async fn hear(remote: Arc<dyn TrackRemote>, speaker: mpsc::Sender<Bytes>, asked: Arc<Reported>) {
    while let Some(event) = remote.poll().await {
        match event {
            // A busy speaker drops the packet: late sound is no use.
            TrackRemoteEvent::OnRtpPacket(packet) => drop(speaker.try_send(packet.payload)),
            TrackRemoteEvent::OnRtcpPacket(packets) => asked.take(&packets),
            _ => {}
        }
    }
}

/// One video track's packets on their way to the screen: put back in order and reassembled.
#[derive(Default)]
struct Pictures {
    reorder: Reorder,
    reassembly: Reassembly,
    /// When a skipped picture last asked for a key picture.
    skipped_asked: Option<Instant>,
}

impl Pictures {
    /// Takes a packet: hands the pictures it completes to `screen`, and wishes for a key
    /// picture through `keys` when one was lost (again each [`ASK_AGAIN`] while pictures are
    /// skipped: a sender may send key pictures only when asked, and the ask can be lost).
    fn take(&mut self, packet: reorder::Packet, screen: &Decoding, keys: &KeyWish) {
        let now = Instant::now();
        for due in self.reorder.push(packet, now) {
            match self.reassembly.push(due.sequence, due.marker, &due.payload) {
                Reassembled::Pending => {}
                Reassembled::Picture(unit) => {
                    if !screen.show(unit) {
                        self.reassembly.dropped();
                    }
                }
                Reassembled::Lost => keys.raise(),
                Reassembled::Skipped => {
                    let due = self
                        .skipped_asked
                        .is_none_or(|at| now.saturating_duration_since(at) >= ASK_AGAIN);
                    if due {
                        self.skipped_asked = Some(now);
                        keys.raise();
                    }
                }
            }
        }
    }
}

/// How often pictures skipped while waiting for a key picture ask for one again.
const ASK_AGAIN: Duration = Duration::from_secs(1);

/// Reassembles the other side's pictures and hands them to the screen worker until its
/// track ends; asks the other side for a key picture when one was lost or did not decode.
async fn watch_pictures(
    remote: Arc<dyn TrackRemote>,
    screen: Decoding,
    keys: Arc<KeyWish>,
    asked: Arc<Reported>,
) {
    let mut pictures = Pictures::default();
    let mut asking = Asking::default();
    while let Some(event) = remote.poll().await {
        let packet = match event {
            TrackRemoteEvent::OnRtpPacket(packet) => packet,
            TrackRemoteEvent::OnRtcpPacket(packets) => {
                asked.take(&packets);
                continue;
            }
            _ => continue,
        };
        let ssrc = packet.header.ssrc;
        let arrived = reorder::Packet {
            sequence: packet.header.sequence_number,
            marker: packet.header.marker,
            payload: packet.payload,
        };
        pictures.take(arrived, &screen, &keys);
        if keys.take() {
            if asking.may_ask(Instant::now()) {
                if let Err(error) = remote.write_rtcp(keys::request(ssrc)).await {
                    tracing::debug!(%error, "no key picture could be asked for");
                }
            } else {
                keys.raise();
            }
        }
    }
}
