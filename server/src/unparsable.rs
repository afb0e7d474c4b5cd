//! Requests hyper cannot parse (a request line over 64 KiB, headers past its buffer, bytes
//! that are not HTTP) are answered by hyper itself, before any route runs, with an empty body:
//! `400`, `414` or `431` and `content-length: 0`. This wrapper around each connection gives
//! those answers the `{code, message}` body every other error has.
//!
//! It recognises them by shape: a 4xx head with `content-length: 0` and no `content-type`.
//! Flint's own error answers always carry `content-type: application/json`
//! (`error::json_errors`), and JSON bodies cannot hold a raw line break, so only hyper's can
//! match; hyper closes the connection after them. Once a connection switches protocols (a
//! WebSocket, whose frames are binary and chosen by users), nothing more is inspected.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use flint_proto::{ErrorBody, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A listener whose connections are wrapped in [`JsonRefusals`].
pub struct Listener<L>(pub L);

impl<L: axum::serve::Listener> axum::serve::Listener for Listener<L> {
    type Io = JsonRefusals<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.0.accept().await;
        (
            JsonRefusals {
                inner: io,
                replacing: None,
                switched: false,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose bare refusals from hyper are rewritten with a JSON body.
pub struct JsonRefusals<S> {
    inner: S,
    /// A rewritten answer being written: its bytes, how many are out, and the length of the
    /// original write to report once done.
    replacing: Option<(Vec<u8>, usize, usize)>,
    /// The connection switched protocols: its bytes are not HTTP any more.
    switched: bool,
}

/// The JSON answer for hyper's bare head `head`, if it is one.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let status: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let lower = text.to_ascii_lowercase();
    let bare = lower.contains("\r\ncontent-length: 0\r\n") && !lower.contains("\r\ncontent-type:");
    let (code, message) = match status {
        400 => (ErrorCode::BadRequest, "the request is not valid HTTP"),
        414 => (ErrorCode::TooLarge, "the address is too long"),
        431 => (ErrorCode::TooLarge, "the request headers are too large"),
        _ => return None,
    };
    if !bare {
        return None;
    }
    let body = serde_json::to_vec(&ErrorBody::new(code, message)).ok()?;
    let reason = text.lines().next()?.get(13..).unwrap_or("");
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.starts_with(b"HTTP/1.1 101 ") {
            self.switched = true;
        }
        if self.switched {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        }
        if self.replacing.is_none() {
            match buf
                .starts_with(b"HTTP/1.1 4")
                .then(|| rewrite(buf))
                .flatten()
            {
                Some(answer) => self.replacing = Some((answer, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        while let Some((answer, written, _)) = this.replacing.as_mut() {
            if *written == answer.len() {
                break;
            }
            match Pin::new(&mut this.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let reported = this.replacing.take().map_or(0, |(_, _, length)| length);
        Poll::Ready(Ok(reported))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_refusals_are_rewritten() {
        let bare = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(rewrite(bare).unwrap()).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        assert!(answer.ends_with(r#"{"code":"too_large","message":"the address is too long"}"#));
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ours).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(ok).is_none());
        let json = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n";
        assert!(rewrite(json).is_none());
    }

    #[tokio::test]
    async fn after_a_protocol_switch_bytes_pass_untouched() {
        use tokio::io::AsyncWriteExt;
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let mut fresh = JsonRefusals {
            inner: Vec::new(),
            replacing: None,
            switched: false,
        };
        fresh.write_all(bare).await.unwrap();
        assert!(fresh.inner.ends_with(b"}"), "a bare refusal is rewritten");
        let mut upgraded = JsonRefusals {
            inner: Vec::new(),
            replacing: None,
            switched: false,
        };
        upgraded
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            .await
            .unwrap();
        upgraded.write_all(bare).await.unwrap();
        assert!(
            upgraded.inner.ends_with(bare),
            "a WebSocket frame is never touched"
        );
    }
}
