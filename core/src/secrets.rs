//! Where the session token lives: the operating system's credential store (Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows); only where none answers, a file
//! readable by its owner alone beside the account's database. Never in the database itself.

use std::path::PathBuf;

use flint_proto::Secret;

use crate::error::{Error, Result};
use crate::files;

/// The credential store's service name for Flint's session tokens.
const SERVICE: &str = "im.flint.desktop";
/// The fallback file in the account folder.
const TOKEN_FILE: &str = "session-token";

/// Which store a client keeps its token in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStore {
    /// The operating system's credential store, falling back to a private file.
    System,
    /// A private file only (tests, the CLI on servers, and machines without a store).
    File,
}

/// One account's session token in its store.
#[derive(Debug, Clone)]
pub struct TokenVault {
    store: CredentialStore,
    account_dir: PathBuf,
}

impl TokenVault {
    /// The vault of the account whose folder is `account_dir`.
    pub fn new(store: CredentialStore, account_dir: PathBuf) -> Self {
        Self { store, account_dir }
    }

    fn file(&self) -> PathBuf {
        self.account_dir.join(TOKEN_FILE)
    }

    /// The credential store's name for this account: the account folder, unique per profile,
    /// server and user.
    fn entry(&self) -> Option<keyring::Entry> {
        match self.store {
            CredentialStore::System => {
                keyring::Entry::new(SERVICE, &self.account_dir.to_string_lossy()).ok()
            }
            CredentialStore::File => None,
        }
    }

    /// Keeps `token`: in the system store when it takes it (any old file is removed), else in
    /// the private file. Blocking (D-Bus or platform calls): run off async threads.
    pub fn save(&self, token: &Secret) -> Result<()> {
        if let Some(entry) = self.entry() {
            match entry.set_password(token.expose()) {
                Ok(()) => {
                    let _ = std::fs::remove_file(self.file());
                    return Ok(());
                }
                Err(error) => {
                    tracing::info!(%error, "no system credential store; using a private file")
                }
            }
        }
        files::private_dir(&self.account_dir)?;
        files::write_private(&self.file(), token.expose().as_bytes())?;
        Ok(())
    }

    /// The kept token, if any. Blocking.
    pub fn load(&self) -> Result<Option<Secret>> {
        if let Some(entry) = self.entry() {
            if let Ok(token) = entry.get_password() {
                return Ok(Some(Secret::new(token)));
            }
        }
        match std::fs::read_to_string(self.file()) {
            Ok(token) if !token.trim().is_empty() => Ok(Some(Secret::new(token.trim()))),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(Error::Io(error)),
        }
    }

    /// Forgets the token everywhere. Blocking.
    pub fn delete(&self) -> Result<()> {
        if let Some(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        match std::fs::remove_file(self.file()) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(Error::Io(error)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_vault_keeps_the_token_private_and_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let vault = TokenVault::new(CredentialStore::File, dir.path().join("acct"));
        assert!(vault.load().unwrap().is_none());
        vault.save(&Secret::new("tok")).unwrap();
        assert_eq!(vault.load().unwrap().unwrap().expose(), "tok");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("acct").join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        vault.delete().unwrap();
        assert!(vault.load().unwrap().is_none());
        vault.delete().unwrap();
    }
}
