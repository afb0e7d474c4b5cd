//! `cargo xtask release-build --target T --bundles B`: one target's installers, built the way
//! the release ships them (CI runs the same command unsigned on every push), gathered into
//! `target/release-assets` with their signatures and updater fragment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::assets;
use super::overlay::{overlay, Inputs, WindowsSigning};
use super::target::{Installer, Os, Target};
use super::{flag, VERSION};
use crate::tools::{self, absolute, target_dir};
use crate::{dist, exec};

/// Debian packages Tauri's Linux bundlers use (linuxdeploy: patchelf, file; the desktop
/// entry: xdg-utils) and the .deb check (lintian).
const APT_BUNDLE: &[&str] = &["patchelf", "xdg-utils", "file", "lintian"];
/// The Azure Artifact Signing CLI (formerly trusted-signing-cli), installed when the fork's
/// sign command uses it.
const ARTIFACT_SIGNING_CLI: (&str, &str) = ("artifact-signing-cli", "0.12.0");
/// Bundling attempts on macOS, where `hdiutil` fails now and then with "Resource busy"
/// (actions/runner-images#7522); a retry bundles the already compiled app again.
const MACOS_ATTEMPTS: u32 = 3;

/// Builds, signs and gathers one target's installers.
pub fn build(args: &[String]) -> Result<(), String> {
    let target = Target::parse(&flag(args, "--target")?)?;
    let installers = Installer::parse_list(&flag(args, "--bundles")?)?;
    let inputs = Inputs::from_env(&target)?;
    prepare(&target, &inputs)?;
    tools::build_ui()?;
    let config = absolute(&target_dir()).join("release-overlay.json");
    let overlay = overlay(&inputs, &target)?;
    println!("release overlay: {overlay}");
    std::fs::write(&config, overlay.to_string()).map_err(|e| e.to_string())?;
    bundle(&target, &installers, &config, &inputs)?;
    let bundles = absolute(&target_dir())
        .join(target.triple())
        .join("release/bundle");
    if installers.contains(&Installer::Deb) {
        finish_deb(&bundles.join("deb"))?;
    }
    let out = absolute(&target_dir()).join("release-assets");
    let _ = std::fs::remove_dir_all(&out);
    for file in assets::collect(&bundles, &target, &installers, &out, inputs.publish)? {
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        println!("asset: {} ({bytes} bytes)", file.display());
    }
    Ok(())
}

/// Installs what this target's build needs.
fn prepare(target: &Target, inputs: &Inputs) -> Result<(), String> {
    if !tools::rustup_target(target.triple()) {
        return Err(format!("rustup cannot add the target {}", target.triple()));
    }
    if target.os() == Os::Linux {
        tools::apt_install(tools::APT_BUILD)?;
        tools::apt_install(APT_BUNDLE)?;
    }
    tools::ensure_ui_tools()?;
    if let WindowsSigning::Command(command) = &inputs.windows {
        let (cli, version) = ARTIFACT_SIGNING_CLI;
        if command.split_whitespace().next() == Some(cli) {
            tools::cargo_install(cli, version, &[cli, "--version", version, "--locked"])?;
        }
    }
    Ok(())
}

/// `PATH` with LLVM's folder first when building for Windows on Arm: ring compiles its C
/// with clang there (ring 0.17 `build.rs`: "On Windows AArch64 we currently must use Clang"),
/// and GitHub's Windows images install LLVM without always putting it on `PATH`.
fn path_for(target: &Target) -> Option<OsString> {
    let llvm = Path::new(r"C:\Program Files\LLVM\bin");
    if target.os() != Os::Windows || target.arch() != "aarch64" || !llvm.exists() {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(llvm.to_owned()).chain(std::env::split_paths(&path))).ok()
}

/// Compiles the app once (`tauri build --no-bundle`: a compile error fails at once), then
/// makes the installers (`tauri bundle`), retried on macOS.
fn bundle(
    target: &Target,
    installers: &[Installer],
    config: &Path,
    inputs: &Inputs,
) -> Result<(), String> {
    exec(&mut tauri(
        target,
        config,
        inputs,
        &["build", "--no-bundle"],
    )?)?;
    let bundles: Vec<&str> = installers.iter().map(|i| i.name()).collect();
    let list = bundles.join(",");
    let attempts = match target.os() {
        Os::Darwin => MACOS_ATTEMPTS,
        _ => 1,
    };
    retry(attempts, || {
        exec(&mut tauri(
            target,
            config,
            inputs,
            &["bundle", "--bundles", &list],
        )?)
    })
}

/// Runs `step` up to `attempts` times, until it succeeds.
fn retry(attempts: u32, mut step: impl FnMut() -> Result<(), String>) -> Result<(), String> {
    let mut attempt = 1;
    loop {
        match step() {
            Err(error) if attempt < attempts => {
                println!("xtask: {error} (attempt {attempt} of {attempts}); retrying");
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Tauri's CLI running `command` for the target with the release overlay, in the environment
/// the release needs and without what it must not see.
fn tauri(
    target: &Target,
    config: &Path,
    inputs: &Inputs,
    command: &[&str],
) -> Result<Command, String> {
    let mut tauri = tools::tauri_cli()?;
    tauri
        .args(command)
        .args(["--ci", "--target", target.triple(), "--config"])
        .arg(config)
        .env("CARGO_TARGET_DIR", absolute(&target_dir()))
        // Never "true" (tauri-action's default): with CI=true the bundler then passes
        // --skip-jenkins to bundle_dmg.sh and skips the Finder AppleScript that hangs on
        // headless runners (tauri-bundler macos/dmg/mod.rs; tauri-action#1091).
        .env("TAURI_BUNDLER_DMG_IGNORE_CI", "false");
    if target.os() == Os::Linux {
        // linuxdeploy says why it failed only when verbose; FUSE is not needed when
        // AppImages extract themselves (tauri-bundler linux/appimage/linuxdeploy.rs).
        tauri.arg("--verbose").env("APPIMAGE_EXTRACT_AND_RUN", "1");
    }
    if let Some(path) = path_for(target) {
        tauri.env("PATH", path);
    }
    inputs.scrub(&mut tauri);
    Ok(tauri)
}

/// Gives the .deb Debian's polish (as `cargo xtask dist` does), signs it again for the updater
/// when Tauri had signed it (the polish changes its bytes), and runs lintian on it.
fn finish_deb(folder: &Path) -> Result<(), String> {
    let deb = dist::only_file(folder, "deb")?;
    dist::polish_deb(&deb)?;
    if PathBuf::from(format!("{}.sig", deb.display())).exists() {
        exec(
            tools::tauri_cli()?
                .args(["signer", "sign", "--app-version", VERSION])
                .arg(&deb),
        )?;
    }
    dist::lintian(&deb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_retried_until_it_succeeds_or_the_attempts_run_out() {
        let mut calls = 0;
        let result = retry(3, || {
            calls += 1;
            if calls < 2 {
                Err("busy".into())
            } else {
                Ok(())
            }
        });
        assert_eq!((result, calls), (Ok(()), 2));
        let mut calls = 0;
        let result = retry(3, || {
            calls += 1;
            Err(format!("failure {calls}"))
        });
        assert_eq!((result, calls), (Err("failure 3".into()), 3));
    }
}
