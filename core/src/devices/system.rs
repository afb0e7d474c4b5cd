//! The default microphone and speaker, opened with `cpal`. A device's stream lives on a
//! thread of its own (streams cannot move between threads on every platform) until the
//! source or sink that opened it is dropped; between the device's callbacks and the call's
//! 20 ms frames sits a buffer of at most [`BUFFERED`].

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SizedSample};

use super::convert::{mix_down, to_f32, to_i16, Resampler};
use crate::calls::audio::{AudioSink, AudioSource, SAMPLE_RATE};
use crate::error::{Error, Result};
use crate::locks::lock;

/// Most sound buffered between a device and a call (a fifth of a second): older samples are
/// dropped, so a stalled reader never falls further behind than this.
const BUFFERED: usize = SAMPLE_RATE as usize / 5;

/// Samples of a call's rate between a device thread and the call.
type Shared<T> = Arc<Mutex<VecDeque<T>>>;

/// Opens the default microphone (blocks while the device opens: call it off the async
/// executor).
pub fn microphone() -> Result<Box<dyn AudioSource>> {
    let captured: Shared<i16> = Arc::default();
    let into = captured.clone();
    let keeper = on_own_thread("flint-microphone", move || open_input(into))?;
    Ok(Box::new(Microphone {
        captured,
        _keeper: keeper,
    }))
}

/// Opens the default speaker (blocks while the device opens: call it off the async
/// executor).
pub fn speaker() -> Result<Box<dyn AudioSink>> {
    let queued: Shared<f32> = Arc::default();
    let from = queued.clone();
    let keeper = on_own_thread("flint-speaker", move || open_output(from))?;
    Ok(Box::new(Speaker {
        queued,
        _keeper: keeper,
    }))
}

/// A call's microphone and speaker: the devices, or silence in and sound dropped where one
/// cannot be opened (the call still connects; the reason is logged). The speaker's echo,
/// noise and uneven level are taken out of what the microphone sends.
pub fn call_devices() -> (Box<dyn AudioSource>, Box<dyn AudioSink>) {
    let source = microphone().unwrap_or_else(|error| {
        tracing::warn!(%error, "no microphone: the call sends silence");
        Box::new(Silence)
    });
    let sink = speaker().unwrap_or_else(|error| {
        tracing::warn!(%error, "no speaker: the call's sound is not played");
        Box::new(Silence)
    });
    crate::calls::processing::cleaned(source, sink)
}

/// The microphone's sound, at a call's rate.
struct Microphone {
    captured: Shared<i16>,
    _keeper: Keeper,
}

impl AudioSource for Microphone {
    fn fill(&mut self, frame: &mut [i16]) {
        let mut captured = lock(&self.captured);
        let have = captured.len().min(frame.len());
        for (slot, sample) in frame.iter_mut().zip(captured.drain(..have)) {
            *slot = sample;
        }
        frame[have..].fill(0);
    }
}

/// Sound for the speaker, at a call's rate.
struct Speaker {
    queued: Shared<f32>,
    _keeper: Keeper,
}

impl AudioSink for Speaker {
    fn play(&mut self, frame: &[i16]) {
        let mut queued = lock(&self.queued);
        queued.extend(frame.iter().map(|&s| to_f32(s)));
        let over = queued.len().saturating_sub(BUFFERED);
        queued.drain(..over);
    }
}

/// No device: nothing captured, nothing played.
struct Silence;

impl AudioSource for Silence {
    fn fill(&mut self, frame: &mut [i16]) {
        frame.fill(0);
    }
}

impl AudioSink for Silence {
    fn play(&mut self, _frame: &[i16]) {}
}

/// Keeps a device's stream open on its thread; dropping it closes the stream.
struct Keeper {
    _stop: mpsc::Sender<()>,
}

/// Opens a stream on a thread named `name` and keeps it there until the keeper is dropped.
fn on_own_thread(
    name: &str,
    open: impl FnOnce() -> Result<cpal::Stream> + Send + 'static,
) -> Result<Keeper> {
    let (ready, opened) = mpsc::channel();
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || match open() {
            Ok(stream) => {
                let _ = ready.send(Ok(()));
                // Returns when the keeper is dropped.
                let _ = stopped.recv();
                drop(stream);
            }
            Err(error) => {
                let _ = ready.send(Err(error));
            }
        })?;
    opened
        .recv()
        .map_err(|_| Error::NoDevice(format!("{name} stopped while opening")))??;
    Ok(Keeper { _stop: stop })
}

fn no_device(error: impl std::fmt::Display) -> Error {
    Error::NoDevice(error.to_string())
}

/// The default input device's stream, writing into `into` at a call's rate.
fn open_input(into: Shared<i16>) -> Result<cpal::Stream> {
    let device = cpal::default_host()
        .default_input_device()
        .ok_or_else(|| no_device("no microphone"))?;
    let supported = device.default_input_config().map_err(no_device)?;
    let build = |config: cpal::StreamConfig| match supported.sample_format() {
        cpal::SampleFormat::F32 => input::<f32>(&device, config, into.clone()),
        cpal::SampleFormat::I16 => input::<i16>(&device, config, into.clone()),
        cpal::SampleFormat::I32 => input::<i32>(&device, config, into.clone()),
        cpal::SampleFormat::U16 => input::<u16>(&device, config, into.clone()),
        other => Err(no_device(format!("microphone samples as {other}"))),
    };
    let stream = with_period(&supported, INPUT_PERIOD_MS, build)?;
    stream.play().map_err(no_device)?;
    Ok(stream)
}

/// The microphone's callbacks come every 20 ms, a call's frame (a sound server's default
/// can be seconds: sound would arrive in bursts).
const INPUT_PERIOD_MS: u32 = 20;
/// The speaker asks every 40 ms: short for a call, long enough not to run dry.
const OUTPUT_PERIOD_MS: u32 = 40;

/// A stream built with callbacks every `period_ms` where the device allows it, else with
/// the device's own period.
fn with_period(
    supported: &cpal::SupportedStreamConfig,
    period_ms: u32,
    build: impl Fn(cpal::StreamConfig) -> Result<cpal::Stream>,
) -> Result<cpal::Stream> {
    let mut config = supported.config();
    let frames = config.sample_rate * period_ms / 1000;
    if let cpal::SupportedBufferSize::Range { min, max } = *supported.buffer_size() {
        config.buffer_size = cpal::BufferSize::Fixed(frames.clamp(min, max));
        match build(config) {
            Ok(stream) => return Ok(stream),
            Err(error) => tracing::debug!(%error, "the device's own period, then"),
        }
    }
    config.buffer_size = cpal::BufferSize::Default;
    build(config)
}

fn input<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    into: Shared<i16>,
) -> Result<cpal::Stream>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels);
    let mut resampler = Resampler::new(config.sample_rate, SAMPLE_RATE);
    let (mut floats, mut mono) = (Vec::new(), VecDeque::new());
    device
        .build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _| {
                floats.clear();
                floats.extend(data.iter().map(|s| s.to_sample::<f32>()));
                mix_down(&floats, channels, &mut mono);
                let mut into = lock(&into);
                while let Some(sample) = resampler.next(&mut mono) {
                    into.push_back(to_i16(sample));
                }
                let over = into.len().saturating_sub(BUFFERED);
                into.drain(..over);
            },
            |error| tracing::warn!(%error, "microphone"),
            None,
        )
        .map_err(no_device)
}

/// The default output device's stream, playing what `from` holds at a call's rate.
fn open_output(from: Shared<f32>) -> Result<cpal::Stream> {
    let device = cpal::default_host()
        .default_output_device()
        .ok_or_else(|| no_device("no speaker"))?;
    let supported = device.default_output_config().map_err(no_device)?;
    let build = |config: cpal::StreamConfig| match supported.sample_format() {
        cpal::SampleFormat::F32 => output::<f32>(&device, config, from.clone()),
        cpal::SampleFormat::I16 => output::<i16>(&device, config, from.clone()),
        cpal::SampleFormat::I32 => output::<i32>(&device, config, from.clone()),
        cpal::SampleFormat::U16 => output::<u16>(&device, config, from.clone()),
        other => Err(no_device(format!("speaker samples as {other}"))),
    };
    let stream = with_period(&supported, OUTPUT_PERIOD_MS, build)?;
    stream.play().map_err(no_device)?;
    Ok(stream)
}

fn output<T>(
    device: &cpal::Device,
    config: cpal::StreamConfig,
    from: Shared<f32>,
) -> Result<cpal::Stream>
where
    T: SizedSample + FromSample<f32>,
{
    let channels = usize::from(config.channels).max(1);
    let mut resampler = Resampler::new(SAMPLE_RATE, config.sample_rate);
    device
        .build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], _| {
                let mut from = lock(&from);
                for frame in data.chunks_mut(channels) {
                    let sample = resampler.next(&mut from).unwrap_or(0.0);
                    frame.fill(T::from_sample(sample));
                }
            },
            |error| tracing::warn!(%error, "speaker"),
            None,
        )
        .map_err(no_device)
}
