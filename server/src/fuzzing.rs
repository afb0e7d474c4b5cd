//! Entry points for the fuzz targets in `fuzz/` (built only with `--cfg fuzzing`, which
//! `cargo fuzz` sets: never part of a release build).

use flint_proto::wire::{self, frame, response};
use prost::Message as _;

use crate::error::AppError;
use crate::gateway::dispatch::Dispatcher;
use crate::state::AppState;
use crate::store::Session;

/// One device's request handler, as the gateway has it after authentication.
pub struct Device(Dispatcher);

impl Device {
    /// A handler for `user_id`'s device `device_id`.
    pub fn new(state: &AppState, user_id: i64, device_id: &str) -> Self {
        let session = Session {
            user_id,
            device_id: device_id.into(),
        };
        Self(Dispatcher::new(session, state.clone()))
    }

    /// Decodes a frame the way the gateway does and answers a request in it; returns the
    /// encoded answer (`None` when the frame holds no request).
    pub async fn handle_frame(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let Ok(wire::Frame {
            kind: Some(frame::Kind::Request(request)),
        }) = wire::Frame::decode(bytes)
        else {
            return None;
        };
        let request_id = request.request_id;
        let result = match self.0.handle(request).await {
            Ok(result) => result,
            Err(error) => response::Result::Error(AppError::to_wire(&error)),
        };
        let answer = wire::Frame {
            kind: Some(frame::Kind::Response(wire::Response {
                request_id,
                result: Some(result),
            })),
        };
        Some(answer.encode_to_vec())
    }
}
