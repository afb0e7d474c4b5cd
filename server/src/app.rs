//! The server as a value: router and serve loop, separate from `main` so tests run it
//! in-process on port 0.

use std::net::SocketAddr;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, head, post};
use axum::serve::ListenerExt;
use axum::Router;
use flint_proto::files;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::{json_errors, AppError};
use crate::files::{collect, downloads, uploads};
use crate::state::AppState;
use crate::store::StoreError;
use crate::tls::{self, TlsListener};
use crate::{calls, gateway, rest, sessions, stickers, unparsable};

/// Longest path and query a request may have.
const MAX_URI_BYTES: usize = 8 * 1024;

/// Every route of the server.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.limits.max_body_bytes;
    let upload = format!("{}/{{id}}", files::UPLOADS_PATH);
    // Chunks are bounded by their upload's length, not by the body limit of other requests.
    let file_routes = Router::new()
        .route(
            files::UPLOADS_PATH,
            post(uploads::create).options(uploads::options),
        )
        .route(
            &upload,
            head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::delete),
        )
        .route(&format!("{upload}/proof"), post(uploads::prove))
        .route(
            &format!("{}/{{id}}", files::FILES_PATH),
            get(downloads::download),
        );
    Router::new()
        .route("/health", get(rest::health))
        .route("/api/v1/register", post(rest::register))
        .route("/api/v1/login", post(rest::login))
        .route("/api/v1/logout", post(rest::logout))
        .route("/api/v1/me", get(rest::me))
        .route("/api/v1/users", get(rest::search_users))
        .route("/api/v1/sessions", get(rest::devices))
        .route("/api/v1/sessions/{device_id}", delete(rest::end_device))
        .route(
            files::STICKERS_PATH,
            get(stickers::list).post(stickers::add),
        )
        .route(
            &format!("{}/{{file_id}}", files::STICKERS_PATH),
            delete(stickers::remove),
        )
        .route("/ws", get(gateway::upgrade))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .merge(file_routes)
        .layer(middleware::from_fn(bounded_uri))
        .layer(middleware::map_response(json_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses a request whose path and query are longer than [`MAX_URI_BYTES`].
async fn bounded_uri(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if length > MAX_URI_BYTES {
        let error = AppError::TooLarge(format!(
            "the address is {length} bytes; the limit is {MAX_URI_BYTES}"
        ));
        let mut response = error.into_response();
        *response.status_mut() = axum::http::StatusCode::URI_TOO_LONG;
        return response;
    }
    next.run(request).await
}

/// A server bound to its socket, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Opens the store and binds `config.listen` (port 0 picks a free port).
    pub async fn bind(config: Config) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(config.listen).await?;
        // Opening migrates the database and hashes a password: work for a blocking thread.
        let state = tokio::task::spawn_blocking(move || AppState::open(config))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(Self { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// The token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled (or the store fails), then closes every
    /// socket and lets the store commit what it has queued before returning.
    pub async fn run(self) -> Result<(), ServeError> {
        let Self { listener, state } = self;
        let shutdown = state.shutdown.clone();
        let failed = state.failed.clone();
        tracing::info!(addr = %listener.local_addr()?, tls = state.config.tls_cert.is_some(), "flint-server listening");
        let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let watcher = tokio::spawn(sessions::watch(state.clone()));
        let collector = tokio::spawn(collect::run(state.clone()));
        let clock = tokio::spawn(calls::run(state.calls.clone(), shutdown.clone()));
        let stop = {
            let shutdown = shutdown.clone();
            async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = failed.cancelled() => shutdown.cancel(),
                }
            }
        };
        match (&state.config.tls_cert, &state.config.tls_key) {
            (Some(cert), Some(key)) => {
                let (cert, key) = (cert.clone(), key.clone());
                let config = tokio::task::spawn_blocking(move || tls::server_config(&cert, &key))
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))??;
                // tap_io gives the listener axum's connect-info (the peer's address).
                let listener =
                    unparsable::Listener(TlsListener::new(listener, config)?).tap_io(|_| {});
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await?;
            }
            _ => {
                // Answers are small frames written right after large ones (a sync page, then
                // the ack's answer); with Nagle on, each such pair stalls on a delayed ACK.
                let listener = listener.tap_io(|tcp| {
                    if let Err(error) = tcp.set_nodelay(true) {
                        tracing::warn!(%error, "cannot set TCP_NODELAY");
                    }
                });
                let listener = unparsable::Listener(listener).tap_io(|_| {});
                axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await?;
            }
        }
        let _ = watcher.await;
        let _ = collector.await;
        let _ = clock.await;
        state.sockets.close();
        state.sockets.wait().await;
        let store_failed = state.failed.is_cancelled();
        // The last handle on the store: dropping it commits what is queued and joins the writer.
        tokio::task::spawn_blocking(move || drop(state))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        if store_failed {
            return Err(ServeError::StoreFailed);
        }
        tracing::info!("flint-server stopped");
        Ok(())
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding or serving the socket failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The server could not be set up.
    #[error(transparent)]
    Setup(#[from] AppError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The store's writer died while serving; the server stopped so a supervisor restarts it.
    #[error("the store stopped writing; restart the server")]
    StoreFailed,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::store::{CommitListener, Fanout, NewMessage, SqliteStore, WriterHealth};

    /// A listener with a bug: the writer dies after the first commit that appends.
    struct Panics;
    impl CommitListener for Panics {
        fn committed(&self, _fanout: &Fanout) {
            panic!("listener bug");
        }
    }

    #[tokio::test]
    async fn health_reports_a_store_that_stopped_writing_and_the_server_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let mut state = AppState::open(config).unwrap();
        let failed = state.failed.clone();
        let health = Arc::new(WriterHealth::new(move || failed.cancel()));
        let store =
            SqliteStore::open(&dir.path().join("other.db"), Arc::new(Panics), 500, health).unwrap();
        let store: Arc<dyn crate::store::Store> = Arc::new(store);
        let a = store.create_user("alice", "A", "x").await.unwrap();
        let b = store.create_user("bob", "B", "x").await.unwrap();
        let direct = store.open_direct(a.id, b.id).await.unwrap();
        let sent = store
            .send(NewMessage {
                sender_id: a.id,
                conversation_id: direct.id,
                client_id: vec![7; 16],
                content: vec![0x0a, 0x03, 0x0a, 0x01, 0x78],
                recalls: None,
                files: Vec::new(),
            })
            .await;
        assert!(sent.is_err());
        tokio::time::timeout(std::time::Duration::from_secs(10), state.failed.cancelled())
            .await
            .expect("the serve loop is told to stop");
        state.store = store;
        let response = app(state.clone())
            .oneshot(Request::get("/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["code"], "unavailable");
    }
}
