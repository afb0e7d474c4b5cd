//! `flint-server` built inside the test crate, so suites that must `kill -9` a real server
//! process can find it through `CARGO_BIN_EXE_flint-server-process`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match flint_server::cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flint-server: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
