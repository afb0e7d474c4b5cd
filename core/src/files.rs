//! Files and folders only their owner can read: the profile folder, account databases, the
//! session file where no credential store exists.

use std::path::Path;

/// Creates `dir` (and its parents) with mode 0700, narrowing an existing one to it.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        if std::fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates `path` empty with mode 0600 if missing; narrows it (and SQLite's `-wal`/`-shm`
/// beside it) to 0600 if wider.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(meta) = std::fs::metadata(&file) {
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|_| ())
    }
}

/// Writes `contents` to `path` readable by its owner only (replacing what was there).
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    private_file(path)?;
    std::fs::write(path, contents)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        write_private(&file, b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }
}

/// A name safe to create in a folder of ours, from a name someone else chose: no path (a
/// separator or a `..` cannot leave the folder), no control characters, nothing Windows
/// refuses, at most 200 bytes; `file` when nothing is left.
pub fn safe_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let mut name = cleaned.trim().trim_end_matches('.').to_owned();
    while name.len() > 200 {
        name.pop();
    }
    if name.is_empty() || name.chars().all(|c| c == '.' || c == '_') {
        "file".into()
    } else {
        name
    }
}

#[cfg(test)]
mod safe_name_tests {
    use super::safe_name;

    #[test]
    fn names_from_others_stay_inside_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("a\0b"), "a_b");
        assert_eq!(safe_name("报告 📄.pdf"), "报告 📄.pdf");
        assert_eq!(safe_name("C:\\x.txt"), "C__x.txt");
        assert!(safe_name(&"长".repeat(100)).len() <= 200);
    }
}
