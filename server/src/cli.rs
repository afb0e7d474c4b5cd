//! The `flint-server` command line: serve (the default) and admin tasks for private
//! deployments.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use flint_proto::api::RegisterRequest;
use flint_proto::Secret;

use crate::accounts;
use crate::app::Server;
use crate::config::{Config, Registration};
use crate::error::AppError;
use crate::state::AppState;

/// Flint's IM server. With no arguments it serves on 127.0.0.1:7800 with an SQLite database
/// in ./flint-data.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// A TOML configuration file (flags and environment override it).
    #[arg(long, env = "FLINT_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "FLINT_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Folder for the database.
    #[arg(long, env = "FLINT_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Who may create accounts.
    #[arg(long, env = "FLINT_REGISTRATION", global = true)]
    pub registration: Option<Registration>,
    /// PEM certificate chain: serve HTTPS/WSS (with --tls-key).
    #[arg(long, env = "FLINT_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "FLINT_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve REST and WebSocket clients (the default).
    Serve,
    /// Manage accounts directly in the database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Account administration.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (works with registration closed).
    CreateUser {
        /// Login name.
        username: String,
        /// Shown to others (defaults to the username).
        #[arg(long, default_value = "")]
        display_name: String,
        /// The password; read from standard input when absent.
        #[arg(long, env = "FLINT_PASSWORD")]
        password: Option<String>,
    },
    /// Set a new password and end the user's sessions.
    ResetPassword {
        /// Login name.
        username: String,
        /// The password; read from standard input when absent.
        #[arg(long, env = "FLINT_PASSWORD")]
        password: Option<String>,
    },
    /// Sign the user out everywhere: every session ends and open sockets close (within a
    /// second on a running server).
    RevokeSessions {
        /// Login name.
        username: String,
    },
    /// Print every account.
    ListUsers,
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] crate::app::ServeError),
    /// An admin action was refused.
    #[error(transparent)]
    App(#[from] AppError),
    /// Reading the password failed.
    #[error("reading the password from standard input: {0}")]
    Stdin(#[from] std::io::Error),
}

impl Cli {
    /// The configuration: defaults, then the file, then flags and environment.
    pub fn resolve_config(&self) -> Result<Config, CliError> {
        let mut config = match &self.config {
            Some(path) => Config::from_toml_file(path)?,
            None => Config::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(registration) = self.registration {
            config.registration = registration;
        }
        if let Some(cert) = &self.tls_cert {
            config.tls_cert = Some(cert.clone());
        }
        if let Some(key) = &self.tls_key {
            config.tls_key = Some(key.clone());
        }
        config.validate()?;
        Ok(config)
    }

    /// Runs the command.
    pub async fn run(self) -> Result<(), CliError> {
        let config = self.resolve_config()?;
        match self.command {
            None | Some(Command::Serve) => serve(config).await,
            Some(Command::Admin(admin)) => run_admin(admin, config).await,
        }
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let server = Server::bind(config).await?;
    let shutdown = server.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        shutdown.cancel();
    });
    server.run().await?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn password_or_stdin(password: Option<String>) -> Result<Secret, CliError> {
    match password {
        Some(password) => Ok(Secret::new(password)),
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(Secret::new(line.trim_end_matches(['\r', '\n'])))
        }
    }
}

async fn run_admin(command: AdminCommand, config: Config) -> Result<(), CliError> {
    let state = AppState::open(config)?;
    match command {
        AdminCommand::CreateUser {
            username,
            display_name,
            password,
        } => {
            let request = RegisterRequest {
                username,
                password: password_or_stdin(password)?,
                display_name,
            };
            let user = accounts::create(&state, &request, None).await?;
            println!(
                "created user {} ({}) with id {}",
                user.username, user.display_name, user.id
            );
        }
        AdminCommand::ResetPassword { username, password } => {
            accounts::reset_password(&state, &username, password_or_stdin(password)?).await?;
            println!("password of {username} reset; their sessions are ended");
        }
        AdminCommand::RevokeSessions { username } => {
            let ended = state
                .store
                .revoke_user_sessions(&username)
                .await
                .map_err(AppError::from)?;
            println!("{ended} session(s) of {username} ended");
        }
        AdminCommand::ListUsers => {
            let users = state.store.list_users().await.map_err(AppError::from)?;
            for user in users {
                println!("{}\t{}\t{}", user.id, user.username, user.display_name);
            }
        }
    }
    Ok(())
}
