//! `flint-server`: see `flint-server --help`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("flint_server=info,tower_http=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    match flint_server::cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flint-server: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
