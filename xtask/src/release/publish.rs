//! `cargo xtask release-publish --dir D`: the release run's last job, the only one that may
//! write to the fork's releases. It writes `latest.json` once from every build's fragment,
//! finds or creates the one draft release, and uploads every file to it, so no build job races
//! another for the draft or the manifest (tauri-action#914, #1270).

use std::path::PathBuf;

use super::github::{self, Draft, Existing};
use super::{append_github_file, assets, flag, manifest, var, VERSION};

/// Publishes the files in `--dir` to the draft release `v<version>`.
pub fn publish(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(flag(args, "--dir")?);
    let repository = var("GITHUB_REPOSITORY");
    let tag = format!("v{VERSION}");
    let mut files: Vec<PathBuf> = assets::files_in(&dir)?
        .into_iter()
        .filter(|path| !manifest::is_fragment(path))
        .collect();
    let entries = manifest::read_fragments(&dir)?;
    if !entries.is_empty() {
        let base = format!("https://github.com/{repository}/releases/download/{tag}");
        let latest = manifest::latest_json(VERSION, &base, &entries)?;
        let path = dir.join("latest.json");
        std::fs::write(&path, latest.to_string()).map_err(|e| e.to_string())?;
        files.push(path);
    }
    let commit = var("GITHUB_SHA");
    let draft = match github::release(&repository, &tag)? {
        Existing::Published => {
            return Err(format!(
                "release {tag} was published meanwhile; nothing uploaded"
            ))
        }
        Existing::Absent => {
            github::create_draft(&repository, &tag, &commit, &format!("Flint {tag}"))?;
            None
        }
        Existing::Draft(draft) => Some(draft),
    };
    github::upload(&repository, &tag, &files)?;
    if let Some(draft) = draft {
        refresh(&repository, &tag, &commit, &draft, &files)?;
    }
    append_github_file(
        "GITHUB_STEP_SUMMARY",
        &[format!(
            "Draft release {tag}: {} files, {} updater entries",
            files.len(),
            entries.len()
        )],
    )
}

/// Makes an earlier run's draft this run's: its tag-to-be moves to the commit just built, and
/// files this run did not make are removed.
fn refresh(
    repository: &str,
    tag: &str,
    commit: &str,
    draft: &Draft,
    files: &[PathBuf],
) -> Result<(), String> {
    if draft.target != commit {
        github::retarget(repository, tag, commit)?;
    }
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for stale in draft.stale(&names) {
        github::delete_asset(repository, tag, &stale)?;
    }
    Ok(())
}
