//! The GitHub releases of the fork, through the `gh` CLI every GitHub-hosted runner has
//! (authenticated by `GH_TOKEN`). Drafts are found by listing releases: "get a release by tag"
//! does not return drafts.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::exec;

/// A draft release: the commit its tag will be made on when published, and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// `target_commitish`.
    pub target: String,
    /// The names of its assets.
    pub assets: Vec<String>,
}

impl Draft {
    /// Assets a new upload of `names` leaves behind (an earlier run's files this run did not
    /// make, such as a format since dropped).
    pub fn stale(&self, names: &[String]) -> Vec<String> {
        self.assets
            .iter()
            .filter(|asset| !names.contains(asset))
            .cloned()
            .collect()
    }
}

/// What the fork already has under a release tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// No release (or a draft this token cannot see).
    Absent,
    /// A draft, still open for assets.
    Draft(Draft),
    /// A published release: its assets are what users downloaded and must not change.
    Published,
}

/// Reads `gh api …/releases` lines (one JSON object per release under the tag).
fn parse_releases(tag: &str, text: &str) -> Result<Existing, String> {
    let releases: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("reading the releases: {e}"))?;
    if releases.iter().any(|r| r["draft"] == Value::Bool(false)) {
        return Ok(Existing::Published);
    }
    match releases.as_slice() {
        [] => Ok(Existing::Absent),
        [draft] => Ok(Existing::Draft(Draft {
            target: draft["target_commitish"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            assets: draft["assets"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect(),
        })),
        drafts => Err(format!(
            "{} draft releases are tagged {tag}; delete all but one (Releases page) and re-run",
            drafts.len()
        )),
    }
}

/// The state of the release tagged `tag` in `repository`.
pub fn release(repository: &str, tag: &str) -> Result<Existing, String> {
    let query = format!(
        ".[] | select(.tag_name == \"{tag}\") | \
         {{draft, target_commitish, assets: [.assets[].name]}} | @json"
    );
    let output = Command::new("gh")
        .args(["api", "--paginate", "--jq", &query])
        .arg(format!("repos/{repository}/releases"))
        .output()
        .map_err(|e| format!("cannot start gh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "listing the releases of {repository} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse_releases(tag, &String::from_utf8_lossy(&output.stdout))
}

/// `gh release <args> --repo <repository>`.
fn gh_release(repository: &str, args: &[&str]) -> Result<(), String> {
    exec(
        Command::new("gh")
            .arg("release")
            .args(args)
            .args(["--repo", repository]),
    )
}

/// Creates the draft release `tag` for `commit` (the tag itself is made when it is published).
pub fn create_draft(repository: &str, tag: &str, commit: &str, title: &str) -> Result<(), String> {
    let notes = "Installers for every platform, the server, and latest.json for the app's updater.";
    gh_release(
        repository,
        &[
            "create", tag, "--draft", "--target", commit, "--title", title, "--notes", notes,
        ],
    )
}

/// Points the draft's tag-to-be at `commit` (the commit this run built).
pub fn retarget(repository: &str, tag: &str, commit: &str) -> Result<(), String> {
    gh_release(repository, &["edit", tag, "--target", commit])
}

/// Removes one asset from the draft.
pub fn delete_asset(repository: &str, tag: &str, name: &str) -> Result<(), String> {
    gh_release(repository, &["delete-asset", tag, name, "--yes"])
}

/// Uploads `files` to the release `tag`, replacing same-named assets (a re-run's).
pub fn upload(repository: &str, tag: &str, files: &[PathBuf]) -> Result<(), String> {
    exec(
        Command::new("gh")
            .args(["release", "upload", tag, "--clobber", "--repo", repository])
            .args(files),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn releases_under_the_tag_read_as_absent_draft_or_published() {
        assert_eq!(parse_releases("v1", "").unwrap(), Existing::Absent);
        let draft = r#"{"draft":true,"target_commitish":"abc","assets":["a.deb","latest.json"]}"#;
        let Existing::Draft(found) = parse_releases("v1", draft).unwrap() else {
            panic!("a draft")
        };
        assert_eq!(found.target, "abc");
        assert_eq!(found.stale(&["a.deb".into()]), ["latest.json"]);
        let published = r#"{"draft":false,"target_commitish":"abc","assets":[]}"#;
        let both = format!("{draft}\n{published}\n");
        assert_eq!(parse_releases("v1", &both).unwrap(), Existing::Published);
    }

    #[test]
    fn two_drafts_for_one_tag_are_named_not_mistaken_for_a_published_release() {
        let draft = r#"{"draft":true,"target_commitish":"abc","assets":[]}"#;
        let error = parse_releases("v1", &format!("{draft}\n{draft}")).unwrap_err();
        assert!(error.contains("2 draft releases"), "{error}");
    }
}
