//! The WebSocket gateway at `/ws`: upgrade, authenticate, then answer requests and forward
//! pushes for one device per socket.

mod connection;
mod dispatch;
mod rate;

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use crate::app::AppState;

/// Per-connection socket buffers. axum's default of 128 KiB each costs ~135 KiB per idle
/// connection; frames are small, so 4 KiB buffers keep an idle device at a few KiB.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// `GET /ws`: upgrades to a WebSocket bounded by the configured frame size.
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    // The socket accepts somewhat more than the limit so that a slightly oversized frame gets
    // a clear TOO_LARGE answer from the gateway instead of a dropped connection.
    let max = state.config.limits.max_frame_bytes * 2 + 1024;
    ws.read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(max * 4)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = state.sockets.clone();
            tracker.track_future(connection::run(socket, state))
        })
}
