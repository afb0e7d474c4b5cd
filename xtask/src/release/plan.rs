//! `cargo xtask release-plan`: the release run's first job. It decides the version and tag
//! every later job uses and whether the run publishes, and stops a run that would ship the
//! wrong version (tag `v0.2.0` on a `0.1.0` tree) or change a published release's assets.

use super::github::{self, Existing};
use super::overlay::MISSING_PUBKEY;
use super::{append_github_file, var, VERSION};

/// What the fork configured for signing (only whether each is set: the plan never sees a key).
#[derive(Debug, Default, Clone, Copy)]
pub struct Signing {
    /// The secret `TAURI_SIGNING_PRIVATE_KEY` is set.
    pub key: bool,
    /// The variable `FLINT_UPDATER_PUBKEY` is set.
    pub public_key: bool,
}

/// What this run builds and whether it publishes.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The workspace version.
    pub version: String,
    /// The release tag, `v<version>`.
    pub tag: String,
    /// A signing key is present: signed updater artifacts go to a draft release.
    pub publish: bool,
}

/// Decides the plan. `pushed_tag` is the tag that started the run (none for a manual run),
/// `existing` what the fork has under the release tag (asked only when publishing).
pub fn decide(
    version: &str,
    pushed_tag: Option<&str>,
    signing: Signing,
    existing: impl FnOnce(&str) -> Result<Existing, String>,
) -> Result<Plan, String> {
    let tag = format!("v{version}");
    if let Some(pushed) = pushed_tag {
        if pushed != tag {
            return Err(format!(
                "tag {pushed} does not match the version in Cargo.toml ({version}): set \
                 [workspace.package] version = \"{}\" and tag that commit",
                pushed.trim_start_matches('v')
            ));
        }
    }
    if signing.key && !signing.public_key {
        return Err(MISSING_PUBKEY.into());
    }
    if signing.key && existing(&tag)? == Existing::Published {
        return Err(format!(
            "release {tag} is already published; its assets stay as users downloaded them. \
             Bump the version to release again"
        ));
    }
    Ok(Plan {
        version: version.to_owned(),
        tag,
        publish: signing.key,
    })
}

/// Runs in the workflow's `plan` job: writes `version`, `tag` and `publish` to
/// `$GITHUB_OUTPUT` and a line to the run's summary.
pub fn plan() -> Result<(), String> {
    let pushed_tag = (var("GITHUB_REF_TYPE") == "tag").then(|| var("GITHUB_REF_NAME"));
    let repository = var("GITHUB_REPOSITORY");
    let plan = decide(
        VERSION,
        pushed_tag.as_deref(),
        Signing {
            key: var("HAS_SIGNING_KEY") == "true",
            public_key: !var("UPDATER_PUBKEY").is_empty(),
        },
        |tag| github::release(&repository, tag),
    )?;
    append_github_file(
        "GITHUB_OUTPUT",
        &[
            format!("version={}", plan.version),
            format!("tag={}", plan.tag),
            format!("publish={}", plan.publish),
        ],
    )?;
    let publishing = if plan.publish {
        format!("signed, to the draft release {}", plan.tag)
    } else {
        "unsigned, as workflow artifacts (no TAURI_SIGNING_PRIVATE_KEY)".into()
    };
    append_github_file(
        "GITHUB_STEP_SUMMARY",
        &[format!("Flint {}: {publishing}", plan.version)],
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn none(_: &str) -> Result<Existing, String> {
        Ok(Existing::Absent)
    }

    const UNSIGNED: Signing = Signing {
        key: false,
        public_key: false,
    };
    const SIGNED: Signing = Signing {
        key: true,
        public_key: true,
    };

    #[test]
    fn a_tag_that_is_not_the_cargo_version_stops_the_run() {
        let error = decide("0.1.0", Some("v0.2.0"), UNSIGNED, none).unwrap_err();
        assert!(
            error.contains("v0.2.0") && error.contains("0.1.0"),
            "{error}"
        );
        let plan = decide("0.2.0", Some("v0.2.0"), UNSIGNED, none).unwrap();
        assert_eq!(plan.tag, "v0.2.0");
    }

    #[test]
    fn a_manual_run_releases_the_cargo_version() {
        let plan = decide("0.1.0", None, SIGNED, none).unwrap();
        assert_eq!(
            plan,
            Plan {
                version: "0.1.0".into(),
                tag: "v0.1.0".into(),
                publish: true
            }
        );
    }

    #[test]
    fn a_published_release_is_never_rebuilt_but_a_draft_is_refilled() {
        let published = decide("0.1.0", None, SIGNED, |_| Ok(Existing::Published));
        assert!(published.unwrap_err().contains("already published"));
        let draft = Existing::Draft(github::Draft {
            target: "abc".into(),
            assets: vec![],
        });
        assert!(decide("0.1.0", None, SIGNED, |_| Ok(draft)).is_ok());
    }

    #[test]
    fn unsigned_runs_only_make_artifacts_and_ask_github_nothing() {
        let plan = decide("0.1.0", None, UNSIGNED, |_| Err("not asked".into())).unwrap();
        assert!(!plan.publish);
    }

    #[test]
    fn a_signing_key_without_its_public_key_stops_the_run_before_any_build() {
        let half = Signing {
            key: true,
            public_key: false,
        };
        let error = decide("0.1.0", None, half, none).unwrap_err();
        assert!(error.contains("FLINT_UPDATER_PUBKEY"), "{error}");
    }
}
