//! The server as a value: state, router and the serve loop, separate from `main` so tests run
//! it in-process on port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::hub::Hub;
use crate::store::{SqliteStore, Store, StoreError};
use crate::{gateway, rest};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Connected devices.
    pub hub: Arc<Hub>,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Cancelled when the server shuts down; open sockets close with "going away".
    pub shutdown: CancellationToken,
    /// Every live socket task, so shutdown can wait for them.
    pub sockets: TaskTracker,
}

impl AppState {
    /// Opens the SQLite store in `config.data_dir` and wires it to a fresh hub.
    pub fn open(config: Config) -> Result<Self, StoreError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            StoreError::Task(format!("creating {}: {e}", config.data_dir.display()))
        })?;
        let hub = Arc::new(Hub::default());
        let store = SqliteStore::open(
            &config.database_path(),
            hub.clone(),
            config.limits.max_group_members,
        )?;
        Ok(Self {
            store: Arc::new(store),
            hub,
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
        })
    }
}

/// Every route of the server.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.limits.max_body_bytes;
    Router::new()
        .route("/health", get(rest::health))
        .route("/api/v1/register", post(rest::register))
        .route("/api/v1/login", post(rest::login))
        .route("/api/v1/logout", post(rest::logout))
        .route("/api/v1/me", get(rest::me))
        .route("/api/v1/users", get(rest::search_users))
        .route("/ws", get(gateway::upgrade))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
        let state = AppState::open(config)?;
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

    /// Serves until the shutdown token is cancelled, then closes every socket and lets the
    /// store commit what it has queued before returning.
    pub async fn run(self) -> Result<(), ServeError> {
        let Self { listener, state } = self;
        let shutdown = state.shutdown.clone();
        tracing::info!(addr = %listener.local_addr()?, "flint-server listening");
        let router = app(state.clone());
        // Answers are small frames written right after large ones (a sync page, then the
        // ack's answer); with Nagle on, each such pair stalls on the peer's delayed ACK.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        state.sockets.close();
        state.sockets.wait().await;
        // The last handle on the store: dropping it commits what is queued and joins the writer.
        tokio::task::spawn_blocking(move || drop(state))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
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
}
