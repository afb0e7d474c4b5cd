//! Where pictures are decoded: two threads of their own, fed by a queue. A 12 MB photo
//! decodes into ~24 MB of pixels; on the blocking pool, a screenful of photos decoded at once
//! on as many threads made the allocator keep hundreds of MiB (each thread's arena keeps its
//! peak). Two long-lived threads bound both the peak and what is kept, and still use both
//! cores; once the queue is empty, the heap's free memory goes back to the system.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

use crate::attachment::Look;
use crate::error::{Error, Result};
use crate::media::{self, Pixels};
use crate::video;

/// Threads decoding pictures.
const WORKERS: usize = 2;
/// Pictures waiting for a thread before callers wait for room.
const QUEUE: usize = 256;

type Job = Box<dyn FnOnce() + Send>;

/// Pictures queued or being decoded.
static PENDING: AtomicUsize = AtomicUsize::new(0);

fn queue() -> Option<&'static SyncSender<Job>> {
    static QUEUE_SENDER: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    QUEUE_SENDER
        .get_or_init(|| {
            let (sender, receiver) = sync_channel::<Job>(QUEUE);
            let receiver = Arc::new(Mutex::new(receiver));
            for index in 0..WORKERS {
                let receiver = Arc::clone(&receiver);
                let spawned = std::thread::Builder::new()
                    .name(format!("flint-pictures-{index}"))
                    .spawn(move || work(&receiver));
                if spawned.is_err() {
                    return None;
                }
            }
            Some(sender)
        })
        .as_ref()
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Runs `decode` on a picture thread.
async fn run<R: Send + 'static>(decode: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _done = Done;
        let _ = answer.send(decode());
    });
    let sender = queue().ok_or(Error::Closed)?.clone();
    PENDING.fetch_add(1, Ordering::AcqRel);
    let queued = tokio::task::spawn_blocking(move || sender.send(job)).await;
    if !matches!(queued, Ok(Ok(()))) {
        PENDING.fetch_sub(1, Ordering::AcqRel);
        return Err(Error::Closed);
    }
    answered.await.map_err(|_| Error::Closed)?
}

/// Counts a job done as it ends, even by a panic; the last one pending trims the heap.
struct Done;

impl Drop for Done {
    fn drop(&mut self) {
        if PENDING.fetch_sub(1, Ordering::AcqRel) == 1 {
            give_back_free_memory();
        }
    }
}

/// Hands the heap's free memory back to the system. glibc keeps what each thread's arena
/// held at its peak: after scrolling a chat of 200 photos, 13 of the app's 71 MiB of
/// anonymous memory was free heap (`malloc_trim` from gdb gave it back). mimalloc instead
/// of glibc's malloc held far more (243 MiB), so the allocator stays and is trimmed.
#[allow(unsafe_code)]
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers and walks glibc's own arenas under their
    // locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A thumbnail (JPEG) of an image file.
pub async fn thumbnail(path: PathBuf) -> Result<Vec<u8>> {
    run(move || media::thumbnail(&path)).await
}

/// A small thumbnail (JPEG) made from a thumbnail's file.
pub async fn small_thumbnail(thumbnail: PathBuf) -> Result<Vec<u8>> {
    run(move || media::small_thumbnail(&thumbnail)).await
}

/// The pixels of an image file, turned as shown.
pub async fn pixels(path: PathBuf) -> Result<Pixels> {
    run(move || media::pixels(&path)).await
}

/// The poster (a JPEG thumbnail of its first picture) of a video file, if it has one.
pub async fn poster(path: PathBuf) -> Result<Option<Vec<u8>>> {
    run(move || {
        let mime = media::sniff(&path)?;
        let poster = video::read(&path, &mime)?.and_then(|video| video.poster);
        poster.as_ref().map(media::thumbnail_of).transpose()
    })
    .await
}

/// An image or video file's type and how it is sent: a picture with its size, preview and
/// thumbnail, a clip with its length, size and poster, or a file.
pub async fn inspect(path: PathBuf) -> Result<(String, Look)> {
    run(move || {
        let mime = media::sniff(&path)?;
        if let Some(picture) = media::picture(&path)? {
            return Ok((mime, Look::Picture(picture)));
        }
        let look = match video::read(&path, &mime)? {
            Some(video) => Look::Video {
                clip: video.clip,
                poster: video.poster.as_ref().map(media::stills).transpose()?,
            },
            None => Look::File,
        };
        Ok((mime, look))
    })
    .await
}
