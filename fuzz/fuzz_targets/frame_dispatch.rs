//! Arbitrary bytes as a WebSocket frame from a signed-in device: decoded as the gateway
//! decodes, answered by the real dispatcher over a real SQLite store (in /dev/shm, so fsync
//! costs nothing). Never a panic; every answer is a frame that decodes.

#![no_main]

use std::sync::{Mutex, OnceLock};

use flint_fuzz::Harness;
use flint_proto::wire;
use flint_server::fuzzing::Device;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

struct World {
    harness: Harness,
    device: Mutex<Device>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let harness = Harness::new(|config| {
            config.limits.requests_per_second = u32::MAX;
            config.limits.request_burst = u32::MAX;
            config.limits.user_sends_per_second = u32::MAX;
            config.limits.user_send_burst = u32::MAX;
        });
        let state = &harness.state;
        let device = harness.runtime.block_on(async {
            // Two users, so direct chats, groups and sends have someone to reach.
            let a = state
                .store
                .create_user("fuzz_a", "A", "x")
                .await
                .expect("user");
            let b = state
                .store
                .create_user("fuzz_b", "B", "x")
                .await
                .expect("user");
            state
                .store
                .open_direct(a.id, b.id)
                .await
                .expect("direct chat");
            Device::new(state, a.id, "fuzz")
        });
        World {
            harness,
            device: Mutex::new(device),
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let world = world();
    let Ok(mut device) = world.device.lock() else {
        return;
    };
    if let Some(answer) = world.harness.runtime.block_on(device.handle_frame(bytes)) {
        wire::Frame::decode(answer.as_slice()).expect("answers decode");
    }
});
