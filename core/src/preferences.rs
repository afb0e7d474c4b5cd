//! A profile's preferences: one small JSON file in its data folder. Unknown or damaged files
//! fall back to the defaults rather than stopping the app.

use std::path::{Path, PathBuf};

use flint_proto::ipc::Preferences;

use crate::error::Result;

const PREFERENCES_FILE: &str = "preferences.json";

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(PREFERENCES_FILE)
}

/// The saved preferences, or the defaults.
pub fn load(data_dir: &Path) -> Preferences {
    let Ok(text) = std::fs::read_to_string(path(data_dir)) else {
        return Preferences::default();
    };
    serde_json::from_str(&text).unwrap_or_else(|error| {
        tracing::warn!(%error, "preferences unreadable; using the defaults");
        Preferences::default()
    })
}

/// Saves preferences atomically (write a temporary file, then rename).
pub fn save(data_dir: &Path, preferences: &Preferences) -> Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let temporary = data_dir.join(format!("{PREFERENCES_FILE}.tmp"));
    let bytes = serde_json::to_vec_pretty(preferences).map_err(std::io::Error::from)?;
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(temporary, path(data_dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn saved_preferences_come_back_and_damage_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), Preferences::default());
        assert!(
            !Preferences::default().hardware_acceleration,
            "GPU compositing is opt-in"
        );
        let changed = Preferences {
            close_to_tray: false,
            hardware_acceleration: true,
        };
        save(dir.path(), &changed).unwrap();
        assert_eq!(load(dir.path()), changed);
        std::fs::write(path(dir.path()), "{ not json").unwrap();
        assert_eq!(load(dir.path()), Preferences::default());
    }
}
