//! `cargo xtask fuzz [seconds] [target]`: the libFuzzer targets in `fuzz/` (both, or the one
//! named), each for `seconds` (default 300), with AddressSanitizer (for the C inside: SQLite,
//! ring).
//!
//! cargo-fuzz asks rustc for `-Zsanitizer=address`, a nightly flag. The machine's one toolchain
//! is stable, so the build sets `RUSTC_BOOTSTRAP=1`, which lets stable rustc take the flag
//! (the sanitizer runtime ships with stable's x86_64 Linux std). `-s none` would build on
//! plain stable without it, at the price of the sanitizer.

use std::path::Path;
use std::process::Command;

use crate::exec;
use crate::tools::{absolute, cargo_install, target_dir};

/// The cargo-fuzz release this task installs.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The targets, each with its seed corpus in `fuzz/seeds/<target>`.
const TARGETS: &[&str] = &["frame_dispatch", "rest_bodies"];

/// Runs the targets for `seconds` each; libFuzzer prints the executions and any crash.
pub fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args.first() {
        Some(s) => s
            .parse()
            .map_err(|_| format!("not a number of seconds: {s}"))?,
        None => 300,
    };
    let targets: Vec<&str> = match args.get(1) {
        Some(one) if TARGETS.contains(&one.as_str()) => vec![one.as_str()],
        Some(other) => return Err(format!("no fuzz target {other}; there are {TARGETS:?}")),
        None => TARGETS.to_vec(),
    };
    cargo_install(
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        &["cargo-fuzz", "--version", CARGO_FUZZ_VERSION, "--locked"],
    )?;
    let build_dir = absolute(&target_dir()).join("fuzz");
    // Cargo caches rustc's answers per target folder without keying them on RUSTC_BOOTSTRAP:
    // a build once tried without it would keep failing on the cached refusal of `-Z`.
    let _ = std::fs::remove_file(build_dir.join(".rustc_info.json"));
    for target in targets {
        let corpus = build_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        let seeds = absolute(Path::new("fuzz/seeds")).join(target);
        exec(
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["fuzz", "run", "-O", target])
                .arg(&corpus)
                .arg(&seeds)
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .args(["-rss_limit_mb=4096", "-print_final_stats=1"])
                .current_dir("fuzz")
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_DIR", &build_dir),
        )?;
    }
    Ok(())
}
