//! The computer's sound devices: the default microphone as an [`AudioSource`] and the
//! default speaker as an [`AudioSink`] (with the `devices` feature, through `cpal`: a sound
//! server such as PulseAudio or PipeWire where one runs, ALSA otherwise, WASAPI on Windows,
//! CoreAudio on macOS), and the conversion between a device's rate and channels and a
//! call's 48 kHz mono ([`convert`], plain code tested without devices).
//!
//! [`AudioSource`]: crate::calls::audio::AudioSource
//! [`AudioSink`]: crate::calls::audio::AudioSink

pub mod convert;
#[cfg(feature = "devices")]
mod system;

#[cfg(feature = "devices")]
pub use system::{call_devices, microphone, speaker};
