//! The voice message being recorded on this device: one at a time, its sound pulled from
//! the microphone every 20 ms into a [`Take`], its progress told as [`Event::Recording`]
//! five times a second, and the microphone closed when it ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flint_proto::ipc::Event;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Note, Take, FRAME_MS};
use crate::calls::audio::{AudioSource, FRAME_SAMPLES};
use crate::error::{Error, Result};
use crate::locks::lock;

/// Opens the microphone a voice message is recorded from (the app's device, or a synthetic
/// source in tests).
pub type Microphone = Arc<dyn Fn() -> Result<Box<dyn AudioSource>> + Send + Sync>;

/// Frames between two [`Event::Recording`] (100 ms).
const FRAMES_PER_EVENT: u32 = 5;

/// The recording in progress, if any, and where its sound comes from.
#[derive(Default)]
pub struct Recordings {
    microphone: Mutex<Option<Microphone>>,
    /// Held while a recording starts (the device opens) or stops.
    live: tokio::sync::Mutex<Option<Live>>,
}

/// A recording running on its task.
struct Live {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<Take>>,
}

impl Recordings {
    /// Sets where voice messages are recorded from.
    pub fn set_microphone(&self, microphone: Microphone) {
        *lock(&self.microphone) = Some(microphone);
    }

    /// Opens the microphone (on the blocking pool: a device can take a while) and starts
    /// recording; refused while a recording runs.
    pub async fn start(
        &self,
        events: broadcast::Sender<Event>,
        shutdown: CancellationToken,
    ) -> Result<()> {
        let mut live = self.live.lock().await;
        if live.is_some() {
            return Err(Error::Invalid("a voice message is being recorded".into()));
        }
        let microphone = lock(&self.microphone)
            .clone()
            .ok_or_else(|| Error::NoDevice("no microphone".into()))?;
        let take = Take::new()?;
        let source = tokio::task::spawn_blocking(move || microphone())
            .await
            .map_err(|_| Error::NoDevice("the microphone did not open".into()))??;
        let (stop, stopped) = oneshot::channel();
        let stopped = async move {
            tokio::select! {
                _ = stopped => {}
                _ = shutdown.cancelled() => {}
            }
        };
        let task = tokio::spawn(record(source, take, stopped, events));
        *live = Some(Live { stop, task });
        Ok(())
    }

    /// Stops recording and gives the note (refused when shorter than a second).
    pub async fn finish(&self) -> Result<Note> {
        self.stop().await?.finish()
    }

    /// Stops recording and throws the sound away.
    pub async fn cancel(&self) -> Result<()> {
        self.stop().await.map(drop)
    }

    async fn stop(&self) -> Result<Take> {
        let live = self
            .live
            .lock()
            .await
            .take()
            .ok_or_else(|| Error::Invalid("no voice message is being recorded".into()))?;
        let _ = live.stop.send(());
        live.task.await.map_err(|_| Error::Cancelled)?
    }
}

/// Pulls 20 ms from `source` into `take` until `stopped` (told to, or the client shuts
/// down; the take stops itself when full), telling the elapsed time and the loudness on the
/// way. The microphone closes when it returns.
async fn record(
    mut source: Box<dyn AudioSource>,
    mut take: Take,
    stopped: impl std::future::Future<Output = ()>,
    events: broadcast::Sender<Event>,
) -> Result<Take> {
    tokio::pin!(stopped);
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut frame = vec![0i16; FRAME_SAMPLES];
    loop {
        tokio::select! {
            _ = &mut stopped => return Ok(take),
            _ = ticks.tick(), if !take.is_full() => {
                source.fill(&mut frame);
                take.push(&frame)?;
                let frames = take.elapsed_ms() / FRAME_MS;
                if frames % FRAMES_PER_EVENT == 0 || take.is_full() {
                    let _ = events.send(Event::Recording {
                        elapsed_ms: take.elapsed_ms(),
                        level: take.level(),
                        full: take.is_full(),
                    });
                }
            }
        }
    }
}
