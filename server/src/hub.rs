//! Who is online: each connected device's outgoing queue, by user. Pushes are encoded here and
//! queued without waiting; a device whose queue is full is disconnected (it will reconnect and
//! sync), so one slow client never holds up the others. A device whose session ends (sign-out,
//! password reset, revocation) is told to close.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use flint_proto::wire::{self, frame, push};
use prost::Message as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::{CommitListener, Fanout, UserId};

/// Frames waiting for one device before it counts as too slow.
pub const DEVICE_QUEUE: usize = 1024;

/// One connected device.
#[derive(Clone)]
struct Device {
    id: u64,
    device_id: Arc<str>,
    session: Arc<[u8]>,
    frames: mpsc::Sender<Bytes>,
    too_slow: CancellationToken,
    ended: CancellationToken,
}

impl Device {
    /// Queues a frame, or marks the device too slow when its queue is full.
    fn offer(&self, frame: &Bytes) {
        if self.frames.try_send(frame.clone()).is_err() {
            self.too_slow.cancel();
        }
    }
}

/// The registry of connected devices.
#[derive(Default)]
pub struct Hub {
    devices: RwLock<HashMap<UserId, Vec<Device>>>,
    next_id: AtomicU64,
}

/// A device's place in the hub; removes it when dropped.
pub struct Registration {
    hub: Arc<Hub>,
    user_id: UserId,
    id: u64,
    /// Cancelled when the device's queue overflows: it must reconnect and sync.
    pub too_slow: CancellationToken,
    /// Cancelled when the device's session ends: it must close.
    pub ended: CancellationToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut devices) = self.hub.devices.write() {
            if let Some(list) = devices.get_mut(&self.user_id) {
                list.retain(|device| device.id != self.id);
                if list.is_empty() {
                    devices.remove(&self.user_id);
                }
            }
        }
    }
}

/// Encodes a push as a complete frame.
pub fn push_frame(body: push::Body) -> Bytes {
    let frame = wire::Frame {
        kind: Some(frame::Kind::Push(wire::Push { body: Some(body) })),
    };
    Bytes::from(frame.encode_to_vec())
}

impl Hub {
    /// Registers the device `device_id` of `user_id` signed in with the session `token_hash`;
    /// pushes for the user go to `frames` until the registration drops.
    pub fn register(
        self: &Arc<Self>,
        user_id: UserId,
        device_id: &str,
        token_hash: &[u8],
        frames: mpsc::Sender<Bytes>,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (too_slow, ended) = (CancellationToken::new(), CancellationToken::new());
        if let Ok(mut devices) = self.devices.write() {
            devices.entry(user_id).or_default().push(Device {
                id,
                device_id: Arc::from(device_id),
                session: Arc::from(token_hash),
                frames,
                too_slow: too_slow.clone(),
                ended: ended.clone(),
            });
        }
        Registration {
            hub: Arc::clone(self),
            user_id,
            id,
            too_slow,
            ended,
        }
    }

    /// Tells every device signed in with the session `token_hash` to close. Sessions end
    /// rarely, so a scan of the connected devices is fine.
    pub fn end_session(&self, token_hash: &[u8]) {
        let Ok(devices) = self.devices.read() else {
            return;
        };
        for device in devices.values().flatten() {
            if *device.session == *token_hash {
                device.ended.cancel();
            }
        }
    }

    /// Devices connected now.
    pub fn connected(&self) -> usize {
        self.devices
            .read()
            .map(|devices| devices.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Queues a frame to every device of `user_id`.
    pub fn send_to_user(&self, user_id: UserId, frame: &Bytes) {
        let Ok(devices) = self.devices.read() else {
            return;
        };
        for device in devices.get(&user_id).into_iter().flatten() {
            device.offer(frame);
        }
    }

    /// Queues a push to the device `device_id` of `user_id` (to each of its sockets, should it
    /// have two for a moment while reconnecting).
    pub fn push_to_device(&self, user_id: UserId, device_id: &str, body: push::Body) {
        let Ok(devices) = self.devices.read() else {
            return;
        };
        let frame = push_frame(body);
        for device in devices.get(&user_id).into_iter().flatten() {
            if *device.device_id == *device_id {
                device.offer(&frame);
            }
        }
    }

    /// Whether the device `device_id` of `user_id` has a socket open now.
    pub fn is_connected(&self, user_id: UserId, device_id: &str) -> bool {
        self.devices.read().is_ok_and(|devices| {
            devices
                .get(&user_id)
                .is_some_and(|list| list.iter().any(|d| *d.device_id == *device_id))
        })
    }

    /// Queues a push to every device of each user.
    pub fn push_to_users(&self, user_ids: impl IntoIterator<Item = UserId>, body: push::Body) {
        let frame = push_frame(body);
        for user_id in user_ids {
            self.send_to_user(user_id, &frame);
        }
    }
}

impl CommitListener for Hub {
    fn committed(&self, fanout: &Fanout) {
        let Ok(devices) = self.devices.read() else {
            return;
        };
        for &(user_id, seq) in &fanout.recipients {
            let Some(targets) = devices.get(&user_id) else {
                continue;
            };
            let entry = wire::InboxEntry {
                seq,
                message: Some(fanout.message.clone()),
            };
            let frame = push_frame(push::Body::Inbox(entry));
            for device in targets {
                device.offer(&frame);
            }
        }
    }
}
