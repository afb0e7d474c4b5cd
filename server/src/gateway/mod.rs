//! The WebSocket gateway at `/ws`: upgrade, authenticate, then answer requests and forward
//! pushes for one device per socket.

mod connection;
pub(crate) mod dispatch;

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use crate::state::AppState;

/// Per-connection socket buffers. axum's default of 128 KiB each costs ~135 KiB per idle
/// connection; frames are small, so 4 KiB buffers keep an idle device at a few KiB.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// `GET /ws`: upgrades to a WebSocket bounded by the configured frame size.
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let limits = &state.config.limits;
    // The socket accepts somewhat more than the limit so that a slightly oversized frame gets
    // a clear TOO_LARGE answer from the gateway instead of a dropped connection.
    let max_in = limits.max_frame_bytes * 2 + 1024;
    // The write buffer must hold the largest frame the server can produce on top of what is
    // buffered already: a frame that does not fit fails the write and ends the socket.
    let max_out = SOCKET_BUFFER_BYTES + 2 * limits.largest_outgoing_frame();
    ws.read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(max_out)
        .max_message_size(max_in)
        .max_frame_size(max_in)
        .on_upgrade(move |socket| {
            let tracker = state.sockets.clone();
            tracker.track_future(connection::run(socket, state))
        })
}
