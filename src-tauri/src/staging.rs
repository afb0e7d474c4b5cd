//! Files chosen to send and not sent yet: picked in the native dialog, dropped on the window
//! or pasted. The page sees names, sizes and indexes, never paths — it cannot make the shell
//! send a file the user did not choose.

use std::path::PathBuf;
use std::sync::Mutex;

use flint_proto::ipc::StagedFile;

/// Most files staged at once.
pub const MAX_STAGED: usize = 50;

/// The staged files, in the order chosen.
#[derive(Default)]
pub struct Staging {
    files: Mutex<Vec<Staged>>,
}

#[derive(Clone)]
struct Staged {
    path: PathBuf,
    view: StagedFile,
}

impl Staging {
    /// Adds files (directories and unreadable paths are skipped, and nothing past
    /// [`MAX_STAGED`]); returns every staged file.
    pub fn add(&self, paths: Vec<PathBuf>) -> Vec<StagedFile> {
        let Ok(mut files) = self.files.lock() else {
            return Vec::new();
        };
        for path in paths {
            if files.len() >= MAX_STAGED {
                break;
            }
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() || files.iter().any(|f| f.path == path) {
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_picture = flint_core::media::sniff(&path)
                .is_ok_and(|mime| flint_core::media::is_picture_type(&mime));
            let index = files.len() as u32;
            files.push(Staged {
                path,
                view: StagedFile {
                    index,
                    name,
                    size: meta.len(),
                    is_picture,
                },
            });
        }
        files.iter().map(|f| f.view.clone()).collect()
    }

    /// Every staged file.
    pub fn list(&self) -> Vec<StagedFile> {
        self.files
            .lock()
            .map(|files| files.iter().map(|f| f.view.clone()).collect())
            .unwrap_or_default()
    }

    /// The path of a staged file.
    pub fn path(&self, index: u32) -> Option<PathBuf> {
        let files = self.files.lock().ok()?;
        files.get(index as usize).map(|f| f.path.clone())
    }

    /// Drops one file; the rest are renumbered.
    pub fn remove(&self, index: u32) -> Vec<StagedFile> {
        if let Ok(mut files) = self.files.lock() {
            if (index as usize) < files.len() {
                files.remove(index as usize);
            }
            for (i, file) in files.iter_mut().enumerate() {
                file.view.index = i as u32;
            }
        }
        self.list()
    }

    /// Takes every staged file's path, leaving none.
    pub fn take(&self) -> Vec<PathBuf> {
        self.files
            .lock()
            .map(|mut files| files.drain(..).map(|f| f.path).collect())
            .unwrap_or_default()
    }
}

/// Files dropped on the window join the staged ones, and the page is told to show them.
pub fn on_drop(window: &tauri::Window, event: &tauri::WindowEvent) {
    use tauri::Manager;
    let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event else {
        return;
    };
    let app = window.app_handle();
    let files = app
        .state::<crate::state::Desktop>()
        .staging
        .add(paths.clone());
    crate::events::emit(app, &flint_proto::ipc::Event::FilesStaged { files });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_staged_once_renumbered_and_taken() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        std::fs::write(&a, b"aa").unwrap();
        std::fs::write(&b, b"bbb").unwrap();
        let staging = Staging::default();
        let listed = staging.add(vec![a.clone(), b.clone(), a.clone(), dir.path().to_owned()]);
        assert_eq!(listed.len(), 2, "a twice and a folder are skipped");
        assert_eq!((listed[1].name.as_str(), listed[1].size), ("b.txt", 3));
        let left = staging.remove(0);
        assert_eq!((left[0].index, left[0].name.as_str()), (0, "b.txt"));
        assert_eq!(staging.path(0), Some(b.clone()));
        assert_eq!(staging.take(), vec![b]);
        assert!(staging.list().is_empty());
    }
}
