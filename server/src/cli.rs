//! The `flint-server` command line: serve (the default) and admin tasks for private
//! deployments.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use flint_proto::api::RegisterRequest;

use crate::app::{AppState, Server};
use crate::config::{Config, Registration};
use crate::credentials::{hash_password, off_thread};
use crate::error::AppError;
use crate::validate;

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

fn password_or_stdin(password: Option<String>) -> Result<String, CliError> {
    match password {
        Some(password) => Ok(password),
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

async fn run_admin(command: AdminCommand, config: Config) -> Result<(), CliError> {
    let state = AppState::open(config).map_err(AppError::from)?;
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
            let user = crate::rest::create_account(&state, &request).await?;
            println!(
                "created user {} ({}) with id {}",
                user.username, user.display_name, user.id
            );
        }
        AdminCommand::ResetPassword { username, password } => {
            let password = password_or_stdin(password)?;
            validate::password(&password)?;
            let hash = off_thread(move || hash_password(&password)).await??;
            state
                .store
                .set_password(&username, &hash)
                .await
                .map_err(AppError::from)?;
            println!("password of {username} reset; their sessions are ended");
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
