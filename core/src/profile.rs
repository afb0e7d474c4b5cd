//! What a profile folder remembers outside any account: this installation's device id and the
//! account signed in last (its server, user, and whether plain http was allowed for it).

use std::path::Path;

use url::Url;
use uuid::Uuid;

use crate::config::ClientConfig;
use crate::error::Result;
use crate::files;

/// File in the data folder naming the account to resume.
const LAST_ACCOUNT_FILE: &str = "last-account";
/// File in the data folder holding this installation's device id.
const DEVICE_ID_FILE: &str = "device-id";
/// The third line of `last-account` when the user allowed an insecure connection.
const INSECURE: &str = "allow-insecure";

/// The account signed in last in a data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAccount {
    /// Its server (missing in files written before servers were recorded).
    pub server: Option<Url>,
    /// The user.
    pub user_id: i64,
    /// The user allowed plain http to this (non-local) server.
    pub allow_insecure: bool,
}

/// This installation's device id, created on first use.
pub fn device_id(data_dir: &Path) -> Result<String> {
    let path = data_dir.join(DEVICE_ID_FILE);
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_owned());
        }
    }
    files::private_dir(data_dir)?;
    let id = Uuid::new_v4().simple().to_string();
    files::write_private(&path, id.as_bytes())?;
    Ok(id)
}

/// The account signed in last in `data_dir`, if any.
pub fn last_account(data_dir: &Path) -> Option<LastAccount> {
    let text = std::fs::read_to_string(data_dir.join(LAST_ACCOUNT_FILE)).ok()?;
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next()?;
    match lines.next() {
        Some(user_id) => Some(LastAccount {
            server: Url::parse(first).ok(),
            user_id: user_id.parse().ok()?,
            allow_insecure: lines.next() == Some(INSECURE),
        }),
        None => Some(LastAccount {
            server: None,
            user_id: first.parse().ok()?,
            allow_insecure: false,
        }),
    }
}

/// Records the account just signed in.
pub fn remember_last_account(config: &ClientConfig, user_id: i64) -> Result<()> {
    let insecure = if config.allow_insecure { INSECURE } else { "" };
    let text = format!("{}\n{user_id}\n{insecure}\n", config.server_url);
    files::write_private(&config.data_dir.join(LAST_ACCOUNT_FILE), text.as_bytes())?;
    Ok(())
}

/// Forgets the account signed in last.
pub fn forget_last_account(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join(LAST_ACCOUNT_FILE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_account_round_trips_with_its_insecure_choice() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ClientConfig::new(Url::parse("http://10.0.0.5:7800").unwrap(), dir.path());
        config.allow_insecure = true;
        remember_last_account(&config, 42).unwrap();
        let last = last_account(dir.path()).unwrap();
        assert_eq!(last.user_id, 42);
        assert!(last.allow_insecure);
        assert_eq!(last.server.unwrap().as_str(), "http://10.0.0.5:7800/");
        std::fs::write(dir.path().join(LAST_ACCOUNT_FILE), "7\n").unwrap();
        let old = last_account(dir.path()).unwrap();
        assert_eq!(
            (old.server, old.user_id, old.allow_insecure),
            (None, 7, false)
        );
        forget_last_account(dir.path());
        assert!(last_account(dir.path()).is_none());
    }
}
