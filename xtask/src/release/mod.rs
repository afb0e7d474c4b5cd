//! The release workflow's steps (`.github/workflows/release.yml`, `desktop.yml`), as commands
//! whose rules are unit-tested here: `release-plan` decides what a run builds and whether it
//! publishes, `release-build` builds and signs one target's installers into
//! `target/release-assets`, `release-publish` puts every job's files on one draft release with
//! one `latest.json`. docs/RELEASING.md explains the workflow and cites what it relies on.

mod assets;
mod build;
mod github;
mod manifest;
mod overlay;
mod plan;
mod publish;
mod target;

pub use build::build;
pub use plan::plan;
pub use publish::publish;

/// The version every artifact carries: the workspace's (`[workspace.package] version`).
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The value following `name` in `args`.
fn flag(args: &[String], name: &str) -> Result<String, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .ok_or_else(|| format!("missing {name} <value>"))
}

/// A trimmed environment variable, empty when unset.
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default().trim().to_owned()
}

/// Appends `lines` to the file a GitHub Actions variable names (`GITHUB_OUTPUT`,
/// `GITHUB_STEP_SUMMARY`); prints them when run elsewhere.
fn append_github_file(variable: &str, lines: &[String]) -> Result<(), String> {
    use std::io::Write;
    let Some(path) = std::env::var_os(variable) else {
        lines.iter().for_each(|line| println!("{variable}: {line}"));
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| format!("{variable}: {e}"))?;
    lines
        .iter()
        .try_for_each(|line| writeln!(file, "{line}"))
        .map_err(|e| format!("{variable}: {e}"))
}
