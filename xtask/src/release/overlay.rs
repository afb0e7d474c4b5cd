//! A fork's optional secrets and variables, turned into the Tauri config merged over
//! `src-tauri/tauri.conf.json` and the environment Tauri's CLI runs with, so a fork without
//! secrets still builds (unsigned; ad-hoc signed on macOS) and a fork with them signs and
//! publishes. Secrets reach the build only as the step's own environment, never `$GITHUB_ENV`.

use std::process::Command;

use serde_json::{json, Value};

use super::target::{Os, Target};
use super::var;

/// Variables the release steps may set that carry secrets or signing settings. Empty ones are
/// removed before Tauri's CLI starts: an empty `APPLE_SIGNING_IDENTITY` or
/// `TAURI_SIGNING_PRIVATE_KEY` makes it try to sign with nothing.
pub const SIGNING_ENV: &[&str] = &[
    "TAURI_SIGNING_PRIVATE_KEY",
    "TAURI_SIGNING_PRIVATE_KEY_PASSWORD",
    "APPLE_CERTIFICATE",
    "APPLE_CERTIFICATE_PASSWORD",
    "APPLE_SIGNING_IDENTITY",
    "APPLE_ID",
    "APPLE_PASSWORD",
    "APPLE_TEAM_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "FLINT_DEFAULT_SERVER",
];

/// Why a signed build cannot go on without the updater's public key.
pub const MISSING_PUBKEY: &str = "TAURI_SIGNING_PRIVATE_KEY is set but the FLINT_UPDATER_PUBKEY \
     variable is not: add the public key (docs/RELEASING.md)";

/// Read by this step only (the certificate is imported here); never passed on.
const CONSUMED_ENV: &[&str] = &["WINDOWS_CERTIFICATE", "WINDOWS_CERTIFICATE_PASSWORD"];

/// How Windows binaries and installers are signed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum WindowsSigning {
    /// Not signed (SmartScreen warns once).
    #[default]
    Unsigned,
    /// A certificate imported into the user's store (a PFX, only possible for certificates
    /// issued before 2023-06-01), by thumbprint.
    Thumbprint(String),
    /// A signing command with `%1` for the file (Azure Artifact Signing or another HSM-backed
    /// signer), Tauri's `bundle.windows.signCommand`.
    Command(String),
}

/// What the fork configured.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Signed updater artifacts and a draft release (the signing key is present).
    pub publish: bool,
    /// The updater's public key (variable `FLINT_UPDATER_PUBKEY`).
    pub updater_pubkey: String,
    /// `owner/name` of the fork.
    pub repository: String,
    /// Windows code signing.
    pub windows: WindowsSigning,
    /// A Developer ID certificate is given (otherwise macOS builds are signed ad hoc).
    pub apple_certificate: bool,
}

impl Inputs {
    /// Reads the step's environment (importing a Windows certificate when one is given).
    pub fn from_env(target: &Target) -> Result<Inputs, String> {
        let sign_command = var("WINDOWS_SIGN_COMMAND");
        let has_certificate = !var("WINDOWS_CERTIFICATE").is_empty();
        let windows = match (target.os(), has_certificate, sign_command.is_empty()) {
            (Os::Windows, true, false) => {
                return Err(
                    "set WINDOWS_CERTIFICATE or FLINT_WINDOWS_SIGN_COMMAND, not both".into(),
                )
            }
            (Os::Windows, true, true) => WindowsSigning::Thumbprint(import_windows_certificate()?),
            (Os::Windows, false, false) => WindowsSigning::Command(sign_command),
            _ => WindowsSigning::Unsigned,
        };
        Ok(Inputs {
            publish: var("PUBLISH") == "true" && !var("TAURI_SIGNING_PRIVATE_KEY").is_empty(),
            updater_pubkey: var("UPDATER_PUBKEY"),
            repository: var("GITHUB_REPOSITORY"),
            windows,
            apple_certificate: !var("APPLE_CERTIFICATE").is_empty(),
        })
    }

    /// Removes from `command`'s environment what Tauri's CLI must not see: empty signing
    /// variables, the certificate this step consumed, and the updater key when not publishing.
    pub fn scrub(&self, command: &mut Command) {
        for name in SIGNING_ENV {
            let unpublished_key = !self.publish && name.starts_with("TAURI_SIGNING_");
            if var(name).is_empty() || unpublished_key {
                command.env_remove(name);
            }
        }
        for name in CONSUMED_ENV {
            command.env_remove(name);
        }
    }
}

/// The Tauri config merged over `src-tauri/tauri.conf.json` for this build.
pub fn overlay(inputs: &Inputs, target: &Target) -> Result<Value, String> {
    let mut config = json!({});
    if inputs.publish {
        if inputs.updater_pubkey.is_empty() {
            return Err(MISSING_PUBKEY.into());
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
    match &inputs.windows {
        WindowsSigning::Unsigned => {}
        WindowsSigning::Thumbprint(thumbprint) => {
            config["bundle"]["windows"] = json!({
                "certificateThumbprint": thumbprint,
                "digestAlgorithm": "sha256",
                "timestampUrl": "http://timestamp.digicert.com",
            });
        }
        WindowsSigning::Command(command) => {
            config["bundle"]["windows"] = json!({ "signCommand": command });
        }
    }
    // Apple silicon refuses unsigned code ("damaged"); an ad-hoc signature ("-") lets the
    // user open it through System Settings → Privacy & Security → Open Anyway instead.
    if target.os() == Os::Darwin && !inputs.apple_certificate {
        config["bundle"]["macOS"]["signingIdentity"] = json!("-");
    }
    Ok(config)
}

/// Imports the Windows signing certificate (base64 PFX) and returns its thumbprint.
fn import_windows_certificate() -> Result<String, String> {
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
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn linux() -> Target {
        Target::parse("x86_64-unknown-linux-gnu").unwrap()
    }

    #[test]
    fn a_fork_without_secrets_builds_unsigned() {
        assert_eq!(overlay(&Inputs::default(), &linux()).unwrap(), json!({}));
    }

    #[test]
    fn publishing_turns_on_signed_updater_artifacts_for_the_forks_releases() {
        let inputs = Inputs {
            publish: true,
            updater_pubkey: "PUBKEY".into(),
            repository: "acme/flint".into(),
            ..Inputs::default()
        };
        let config = overlay(&inputs, &linux()).unwrap();
        assert_eq!(config["bundle"]["createUpdaterArtifacts"], json!(true));
        assert_eq!(config["plugins"]["updater"]["pubkey"], json!("PUBKEY"));
        assert_eq!(
            config["plugins"]["updater"]["endpoints"][0],
            json!("https://github.com/acme/flint/releases/latest/download/latest.json")
        );
    }

    #[test]
    fn publishing_without_the_public_key_is_refused() {
        let inputs = Inputs {
            publish: true,
            ..Inputs::default()
        };
        assert!(overlay(&inputs, &linux())
            .unwrap_err()
            .contains("FLINT_UPDATER_PUBKEY"));
    }

    #[test]
    fn windows_signs_by_thumbprint_or_by_command() {
        let windows = Target::parse("x86_64-pc-windows-msvc").unwrap();
        let by_thumbprint = Inputs {
            windows: WindowsSigning::Thumbprint("ABC".into()),
            ..Inputs::default()
        };
        let config = overlay(&by_thumbprint, &windows).unwrap();
        assert_eq!(
            config["bundle"]["windows"]["certificateThumbprint"],
            json!("ABC")
        );
        let command = "artifact-signing-cli -e https://weu.codesigning.azure.net -a A -c P %1";
        let by_command = Inputs {
            windows: WindowsSigning::Command(command.into()),
            ..Inputs::default()
        };
        let config = overlay(&by_command, &windows).unwrap();
        assert_eq!(
            config["bundle"]["windows"],
            json!({ "signCommand": command })
        );
    }

    #[test]
    fn macos_builds_without_a_certificate_are_signed_ad_hoc() {
        let mac = Target::parse("aarch64-apple-darwin").unwrap();
        let config = overlay(&Inputs::default(), &mac).unwrap();
        assert_eq!(config["bundle"]["macOS"]["signingIdentity"], json!("-"));
        let signed = Inputs {
            apple_certificate: true,
            ..Inputs::default()
        };
        assert_eq!(overlay(&signed, &mac).unwrap(), json!({}));
    }
}
