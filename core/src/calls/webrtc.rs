//! Call media over standard WebRTC (the `webrtc` crate, in this process: WebKitGTK has no
//! `RTCPeerConnection`, and one engine serves every OS). Audio is Opus at 48 kHz: 20 ms
//! frames from an [`AudioSource`] are encoded and sent; the other side's packets are decoded
//! into an [`AudioSink`]. A video call where the engine has video devices also sends H.264
//! (OpenH264) pictures from a [`VideoSource`] at [`FRAME_RATE`] and decodes the other side's
//! into a [`VideoSink`]. SDP and trickled ICE candidates travel as [`MediaNews::Signal`]s
//! through the IM socket. One task owns each peer connection; closing it frees its sockets
//! and tasks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flint_proto::ipc::{CallKind, MediaFlags};
use flint_proto::wire::{self, call_signal, SdpKind};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS};
use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::packetizer::Depacketizer;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::media_stream::Track;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceServer,
    RTCIceTransportPolicy, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCSessionDescription, Registry,
};
use webrtc::rtp_transceiver::RtpSender;

use super::audio::{AudioSink, AudioSource, FRAME_SAMPLES, SAMPLE_RATE};
use super::video::{self, VideoSink, VideoSource, FRAME_RATE};
use super::{MediaEngine as Engine, MediaNews, MediaSession, MediaSetup};
use crate::error::{Error, Result};

/// Makes the devices of one call (called on the blocking pool).
pub type Devices = Arc<dyn Fn() -> (Box<dyn AudioSource>, Box<dyn AudioSink>) + Send + Sync>;

/// Makes the camera and the screen of one video call (called on the blocking pool).
pub type VideoDevices = Arc<dyn Fn() -> (Box<dyn VideoSource>, Box<dyn VideoSink>) + Send + Sync>;

/// Most bytes of one received access unit (a 4K key picture at a high rate fits).
const MAX_ACCESS_UNIT: usize = 4 << 20;

/// Remote candidates kept while the other side's description is still to come; more are
/// dropped (a real peer sends a handful).
const MAX_PENDING_CANDIDATES: usize = 64;

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
    let mut media = MediaEngine::default();
    media.register_default_codecs().map_err(failed)?;
    let registry = register_default_interceptors(Registry::new(), &mut media).map_err(failed)?;
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
            arrival = arrivals.recv() => {
                let Some(remote) = arrival else { continue };
                if remote.kind().await == RtpCodecKind::Video {
                    if let Some(screen) = screen.take() {
                        tasks.push(tokio::spawn(show(remote, screen)));
                    }
                } else if let Some(speaker) = speaker.take() {
                    tasks.push(tokio::spawn(play(remote, speaker)));
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
                        let payload_type = audio.payload_type(111).await;
                        tasks.push(tokio::spawn(send(Arc::clone(&audio.track), payload_type, microphone, muted.clone())));
                        if let (Some(camera), Some(source)) = (&camera, camera_source.take()) {
                            let payload_type = camera.payload_type(102).await;
                            tasks.push(tokio::spawn(film(Arc::clone(&camera.track), payload_type, source, dark.clone())));
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

/// Encodes the source's frames every 20 ms and sends them (silence while muted).
async fn send(
    track: Arc<TrackLocalStaticSample>,
    payload_type: u8,
    mut source: Box<dyn AudioSource>,
    muted: watch::Receiver<bool>,
) {
    let Ok(mut encoder) =
        opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
    else {
        tracing::warn!("no Opus encoder");
        return;
    };
    let Some(&ssrc) = track.ssrcs().await.first() else {
        return;
    };
    let mut frame = vec![0i16; FRAME_SAMPLES];
    let mut packet = vec![0u8; 1500];
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        source.fill(&mut frame);
        if *muted.borrow() {
            frame.fill(0);
        }
        let Ok(len) = encoder.encode(&frame, &mut packet) else {
            continue;
        };
        let data = bytes::Bytes::copy_from_slice(&packet[..len]);
        let sent = write(&track, ssrc, payload_type, data, Duration::from_millis(20)).await;
        if let Err(error) = sent {
            tracing::debug!(%error, "an audio frame was not sent");
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

/// Decodes the other side's packets into the sink until its track ends.
async fn play(remote: Arc<dyn TrackRemote>, mut sink: Box<dyn AudioSink>) {
    let Ok(mut decoder) = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono) else {
        tracing::warn!("no Opus decoder");
        return;
    };
    // Room for the longest Opus packet (120 ms).
    let mut pcm = vec![0i16; FRAME_SAMPLES * 6];
    while let Some(event) = remote.poll().await {
        if let TrackRemoteEvent::OnRtpPacket(packet) = event {
            if let Ok(samples) = decoder.decode(&packet.payload, &mut pcm, false) {
                sink.play(&pcm[..samples]);
            }
        }
    }
}

/// Encodes the source's pictures [`FRAME_RATE`] times a second and sends them (nothing while
/// the camera is off).
async fn film(
    track: Arc<TrackLocalStaticSample>,
    payload_type: u8,
    mut source: Box<dyn VideoSource>,
    dark: watch::Receiver<bool>,
) {
    let Ok(mut encoder) = video::Encoder::new() else {
        tracing::warn!("no H.264 encoder");
        return;
    };
    let Some(&ssrc) = track.ssrcs().await.first() else {
        return;
    };
    let every = Duration::from_secs(1) / FRAME_RATE;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if *dark.borrow() {
            continue;
        }
        let Some(picture) = source.capture() else {
            continue;
        };
        let unit = match encoder.encode(&picture) {
            Ok(unit) if !unit.is_empty() => unit,
            Ok(_) => continue,
            Err(error) => {
                tracing::debug!(%error, "a picture was not encoded");
                continue;
            }
        };
        let sent = write(&track, ssrc, payload_type, bytes::Bytes::from(unit), every).await;
        if let Err(error) = sent {
            tracing::debug!(%error, "a picture was not sent");
        }
    }
}

/// Reassembles the other side's H.264 access units (a picture ends with the RTP marker) and
/// decodes them onto the screen until its track ends.
async fn show(remote: Arc<dyn TrackRemote>, mut screen: Box<dyn VideoSink>) {
    let Ok(mut decoder) = video::Decoder::new() else {
        tracing::warn!("no H.264 decoder");
        return;
    };
    let mut depacketizer = H264Packet::default();
    let mut unit: Vec<u8> = Vec::new();
    // Bytes of the picture under way, fragments the depacketizer still holds included.
    let mut received = 0usize;
    while let Some(event) = remote.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else {
            continue;
        };
        received = received.saturating_add(packet.payload.len());
        let nals = depacketizer.depacketize(&packet.payload);
        let whole = packet.header.marker;
        match nals {
            Ok(nals) if received <= MAX_ACCESS_UNIT => unit.extend_from_slice(&nals),
            outcome => {
                if let Err(error) = outcome {
                    tracing::debug!(%error, "a video packet was dropped");
                } else {
                    tracing::debug!("a picture past the limit was dropped");
                }
                depacketizer = H264Packet::default();
                unit.clear();
                received = if whole { 0 } else { MAX_ACCESS_UNIT + 1 };
                continue;
            }
        }
        if !whole {
            continue;
        }
        received = 0;
        match decoder.decode(&unit) {
            Ok(Some(picture)) => screen.show(picture),
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "a picture was not decoded"),
        }
        unit.clear();
    }
}
