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

/// A file looked at before it is staged.
pub struct Candidate {
    path: PathBuf,
    name: String,
    size: u64,
    is_picture: bool,
}

/// Looks at chosen paths (blocking: call off the async threads): folders and unreadable paths
/// are skipped, pictures recognised by their bytes.
pub fn inspect(paths: Vec<PathBuf>) -> Vec<Candidate> {
    paths
        .into_iter()
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            let is_picture = flint_core::media::sniff(&path)
                .is_ok_and(|mime| flint_core::media::is_picture_type(&mime));
            Some(Candidate {
                path,
                name,
                size: meta.len(),
                is_picture,
            })
        })
        .collect()
}

#[derive(Clone)]
struct Staged {
    path: PathBuf,
    view: StagedFile,
}

impl Staging {
    /// Adds inspected files (nothing past [`MAX_STAGED`], nothing twice); returns every
    /// staged file.
    pub fn add(&self, candidates: Vec<Candidate>) -> Vec<StagedFile> {
        let Ok(mut files) = self.files.lock() else {
            return Vec::new();
        };
        for candidate in candidates {
            if files.len() >= MAX_STAGED {
                break;
            }
            if files.iter().any(|f| f.path == candidate.path) {
                continue;
            }
            let index = files.len() as u32;
            files.push(Staged {
                path: candidate.path,
                view: StagedFile {
                    index,
                    name: candidate.name,
                    size: candidate.size,
                    is_picture: candidate.is_picture,
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
    let (app, paths) = (window.app_handle().clone(), paths.clone());
    tauri::async_runtime::spawn_blocking(move || {
        let files = app
            .state::<crate::state::Desktop>()
            .staging
            .add(inspect(paths));
        crate::events::emit(&app, &flint_proto::ipc::Event::FilesStaged { files });
    });
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
        let listed = staging.add(inspect(vec![a.clone(), b.clone(), dir.path().to_owned()]));
        let listed_again = staging.add(inspect(vec![a.clone()]));
        assert_eq!(listed_again, listed, "a twice is staged once");
        assert_eq!(listed.len(), 2, "a folder is skipped");
        assert_eq!((listed[1].name.as_str(), listed[1].size), ("b.txt", 3));
        let left = staging.remove(0);
        assert_eq!((left[0].index, left[0].name.as_str()), (0, "b.txt"));
        assert_eq!(staging.path(0), Some(b.clone()));
        assert_eq!(staging.take(), vec![b]);
        assert!(staging.list().is_empty());
    }
}
