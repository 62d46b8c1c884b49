//! The samples folder: names given over the network, resolved to files inside it and nowhere
//! else.

use crate::SampleError;
use std::path::{Component, Path, PathBuf};

/// The folder samples are loaded from (`chronus run --samples DIR`).
#[derive(Debug, Clone)]
pub struct SampleFolder {
    root: PathBuf,
}

/// The longest name taken (bytes).
const MAX_NAME: usize = 512;

impl SampleFolder {
    /// The folder at `root` (it need not exist yet: a load then says the file is missing).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SampleFolder { root: root.into() }
    }

    /// The folder's path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file `name` names inside the folder, a regular file of at most `limit` bytes: a
    /// relative path of plain parts (no `..`, no `.`, not absolute, no NUL), none of them a
    /// symbolic link, the folder itself included.
    pub fn resolve(&self, name: &str, limit: u64) -> Result<PathBuf, SampleError> {
        let outside = |reason| SampleError::OutsideFolder {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(outside("the name is empty"));
        }
        if name.len() > MAX_NAME {
            return Err(outside("the name is longer than 512 bytes"));
        }
        if name.contains('\0') || name.contains('\\') {
            return Err(outside("the name has a NUL or a backslash"));
        }
        let rel = Path::new(name);
        // The name's form first, before the file system is asked anything.
        let mut parts = Vec::new();
        for part in rel.components() {
            match part {
                Component::Normal(p) => parts.push(p),
                Component::ParentDir => return Err(outside("'..' leads out of it")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(outside("the path is absolute"))
                }
                Component::CurDir => return Err(outside("'.' is not a part of a name")),
            }
        }
        if name.starts_with("./") || name.split('/').any(|p| p == ".") {
            return Err(outside("'.' is not a part of a name"));
        }
        let mut path = self.root.clone();
        self.check_link(&path, name)?;
        for p in parts {
            path.push(p);
            self.check_link(&path, name)?;
        }
        let meta = std::fs::metadata(&path).map_err(|e| self.io(name, e))?;
        if !meta.is_file() {
            return Err(outside("it is not a regular file"));
        }
        if meta.len() > limit {
            return Err(SampleError::FileTooLarge {
                name: name.to_owned(),
                size: meta.len(),
                limit,
            });
        }
        Ok(path)
    }

    /// The sample files in the folder, as names [`SampleFolder::resolve`] takes, sorted; at
    /// most `max` of them, no links followed.
    pub fn list(&self, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut dirs = vec![PathBuf::new()];
        while let Some(rel) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&rel)) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(ft) = e.file_type() else { continue };
                let child = rel.join(e.file_name());
                if ft.is_dir() {
                    dirs.push(child);
                } else if ft.is_file() && is_audio(&child) {
                    if let Some(s) = child.to_str() {
                        out.push(s.to_owned());
                    }
                }
                if out.len() >= max {
                    break;
                }
            }
        }
        out.sort();
        out.truncate(max);
        out
    }

    fn check_link(&self, path: &Path, name: &str) -> Result<(), SampleError> {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Err(SampleError::Symlink {
                name: name.to_owned(),
                link: path.display().to_string(),
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(self.io(name, e)),
        }
    }

    fn io(&self, name: &str, e: std::io::Error) -> SampleError {
        if e.kind() == std::io::ErrorKind::NotFound {
            SampleError::NotFound {
                name: name.to_owned(),
                folder: self.root.clone(),
            }
        } else {
            SampleError::Io {
                name: name.to_owned(),
                source: e,
            }
        }
    }
}

fn is_audio(p: &Path) -> bool {
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(
        ext.as_deref(),
        Some("wav" | "wave" | "flac" | "ogg" | "oga" | "mp3")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempdir::Dir, SampleFolder) {
        let dir = tempdir::Dir::new();
        std::fs::create_dir_all(dir.path().join("samples/kicks")).expect("mkdir");
        std::fs::write(dir.path().join("samples/kicks/808.wav"), b"RIFF").expect("write");
        std::fs::write(dir.path().join("secret.wav"), b"RIFF").expect("write");
        let f = SampleFolder::new(dir.path().join("samples"));
        (dir, f)
    }

    #[test]
    fn a_plain_relative_name_resolves_inside_the_folder() {
        let (_d, f) = folder();
        let p = f.resolve("kicks/808.wav", 100).expect("inside");
        assert!(p.starts_with(f.root()));
        assert_eq!(f.list(10), vec!["kicks/808.wav".to_owned()]);
    }

    #[test]
    fn traversal_absolute_paths_links_and_big_files_are_refused() {
        let (d, f) = folder();
        for name in [
            "../secret.wav",
            "kicks/../../secret.wav",
            "/etc/passwd",
            "./kicks/808.wav",
            "",
            "a\0b",
        ] {
            assert!(
                matches!(f.resolve(name, 100), Err(SampleError::OutsideFolder { .. })),
                "{name:?}"
            );
        }
        std::os::unix::fs::symlink(d.path().join("secret.wav"), f.root().join("link.wav"))
            .expect("symlink");
        assert!(matches!(
            f.resolve("link.wav", 100),
            Err(SampleError::Symlink { .. })
        ));
        std::os::unix::fs::symlink(d.path(), f.root().join("up")).expect("symlink");
        assert!(matches!(
            f.resolve("up/secret.wav", 100),
            Err(SampleError::Symlink { .. })
        ));
        assert!(matches!(
            f.resolve("kicks/808.wav", 3),
            Err(SampleError::FileTooLarge { size: 4, .. })
        ));
        assert!(matches!(
            f.resolve("kicks/none.wav", 100),
            Err(SampleError::NotFound { .. })
        ));
        assert!(matches!(
            f.resolve("kicks", 100),
            Err(SampleError::OutsideFolder { .. })
        ));
        let msg = f
            .resolve("../secret.wav", 100)
            .expect_err("refused")
            .to_string();
        assert!(msg.contains("relative"), "{msg}");
    }

    /// A scratch directory removed on drop (std only).
    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "chronus-samples-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).expect("temp dir");
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
