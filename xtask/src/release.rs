//! `cargo xtask release-env --target T --bundles B`: run by `.github/workflows/release.yml`
//! before `tauri-action`. It turns the fork's optional secrets and variables into a Tauri
//! config overlay and environment for the build, so a fork without secrets still builds
//! (unsigned) and a fork with them signs and publishes. See docs/RELEASING.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// Environment passed on to the build steps only when set (an empty variable would make the
/// Tauri CLI try to sign with nothing).
const PASS_THROUGH: &[&str] = &[
    "APPLE_CERTIFICATE",
    "APPLE_CERTIFICATE_PASSWORD",
    "APPLE_SIGNING_IDENTITY",
    "APPLE_ID",
    "APPLE_PASSWORD",
    "APPLE_TEAM_ID",
];

/// What the fork configured.
#[derive(Debug, Default)]
struct Inputs {
    publish: bool,
    updater_pubkey: String,
    repository: String,
    windows_thumbprint: Option<String>,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default().trim().to_owned()
}

/// The Tauri config merged over `src-tauri/tauri.conf.json` for this build.
fn overlay(inputs: &Inputs) -> Result<Value, String> {
    let mut config = json!({});
    if inputs.publish {
        if inputs.updater_pubkey.is_empty() {
            return Err(
                "TAURI_SIGNING_PRIVATE_KEY is set but the FLINT_UPDATER_PUBKEY variable \
                        is not: add the public key (docs/RELEASING.md)"
                    .into(),
            );
        }
        config["bundle"]["createUpdaterArtifacts"] = json!(true);
        config["plugins"]["updater"] = json!({
            "pubkey": inputs.updater_pubkey,
            "endpoints": [format!(
                "https://github.com/{}/releases/latest/download/latest.json",
                inputs.repository
            )],
        });
    }
    if let Some(thumbprint) = &inputs.windows_thumbprint {
        config["bundle"]["windows"] = json!({
            "certificateThumbprint": thumbprint,
            "digestAlgorithm": "sha256",
            "timestampUrl": "http://timestamp.digicert.com",
        });
    }
    Ok(config)
}

/// Imports the Windows signing certificate (base64 PFX) and returns its thumbprint.
fn import_windows_certificate() -> Result<Option<String>, String> {
    if !cfg!(windows) || var("WINDOWS_CERTIFICATE").is_empty() {
        return Ok(None);
    }
    let script = "$bytes = [Convert]::FromBase64String($env:WINDOWS_CERTIFICATE);
        $path = Join-Path $env:RUNNER_TEMP 'flint-signing.pfx';
        [IO.File]::WriteAllBytes($path, $bytes);
        $password = ConvertTo-SecureString -String $env:WINDOWS_CERTIFICATE_PASSWORD -Force -AsPlainText;
        $cert = Import-PfxCertificate -FilePath $path -CertStoreLocation Cert:\\CurrentUser\\My -Password $password;
        Remove-Item $path;
        Write-Output $cert.Thumbprint";
    let output = Command::new("powershell")
        .args(["-NoProfile", "-Command", script])
        .output()
        .map_err(|e| format!("powershell: {e}"))?;
    if !output.status.success() {
        return Err("importing WINDOWS_CERTIFICATE failed (wrong password?)".into());
    }
    Ok(Some(
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    ))
}

fn append_env(file: &Path, lines: &[String]) -> Result<(), String> {
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    for line in lines {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn flag(args: &[String], name: &str) -> Result<String, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .ok_or_else(|| format!("release-env needs {name}"))
}

/// Writes the overlay and appends `FLINT_TAURI_ARGS` (and the signing environment that is
/// set) to `$GITHUB_ENV`.
pub fn release_env(args: &[String]) -> Result<(), String> {
    let target = flag(args, "--target")?;
    let bundles = flag(args, "--bundles")?;
    let inputs = Inputs {
        publish: var("PUBLISH") == "true" && !var("TAURI_SIGNING_PRIVATE_KEY").is_empty(),
        updater_pubkey: var("UPDATER_PUBKEY"),
        repository: var("GITHUB_REPOSITORY"),
        windows_thumbprint: import_windows_certificate()?,
    };
    let overlay_path = crate::tools::absolute(&PathBuf::from("target/release-overlay.json"));
    std::fs::create_dir_all("target").map_err(|e| e.to_string())?;
    let overlay = overlay(&inputs)?;
    std::fs::write(&overlay_path, overlay.to_string()).map_err(|e| e.to_string())?;
    let mut lines = vec![format!(
        "FLINT_TAURI_ARGS=--target {target} --bundles {bundles} --config {}",
        overlay_path.display()
    )];
    if inputs.publish {
        lines.extend(
            [
                "TAURI_SIGNING_PRIVATE_KEY",
                "TAURI_SIGNING_PRIVATE_KEY_PASSWORD",
            ]
            .iter()
            .map(|name| format!("{name}={}", var(name))),
        );
    }
    lines.extend(
        PASS_THROUGH
            .iter()
            .filter(|name| !var(name).is_empty())
            .map(|name| format!("{name}={}", var(name))),
    );
    if !var("DEFAULT_SERVER").is_empty() {
        lines.push(format!("FLINT_DEFAULT_SERVER={}", var("DEFAULT_SERVER")));
    }
    println!("release overlay: {overlay}");
    match std::env::var_os("GITHUB_ENV") {
        Some(file) => append_env(Path::new(&file), &lines),
        None => {
            println!(
                "(no GITHUB_ENV; the build would get FLINT_TAURI_ARGS and the signing environment)"
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_fork_without_secrets_builds_unsigned() {
        assert_eq!(overlay(&Inputs::default()).unwrap(), json!({}));
    }

    #[test]
    fn publishing_turns_on_signed_updater_artifacts_for_the_forks_releases() {
        let inputs = Inputs {
            publish: true,
            updater_pubkey: "PUBKEY".into(),
            repository: "acme/flint".into(),
            windows_thumbprint: Some("ABC".into()),
        };
        let config = overlay(&inputs).unwrap();
        assert_eq!(config["bundle"]["createUpdaterArtifacts"], json!(true));
        assert_eq!(config["plugins"]["updater"]["pubkey"], json!("PUBKEY"));
        assert_eq!(
            config["plugins"]["updater"]["endpoints"][0],
            json!("https://github.com/acme/flint/releases/latest/download/latest.json")
        );
        assert_eq!(
            config["bundle"]["windows"]["certificateThumbprint"],
            json!("ABC")
        );
    }

    #[test]
    fn publishing_without_the_public_key_is_refused() {
        let inputs = Inputs {
            publish: true,
            ..Inputs::default()
        };
        assert!(overlay(&inputs)
            .unwrap_err()
            .contains("FLINT_UPDATER_PUBKEY"));
    }
}
