//! Where `/record/start` may write: new WAV files directly inside one configured folder, named
//! by the sender or after the clock. Nothing else on the filesystem is reachable over OSC.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Checks a file name given over OSC: one plain name (no folder, no `..`, no hidden file, no
/// control characters), ending in `.wav` (added when missing).
pub fn file_name(name: &str) -> Result<String, String> {
    plain_name(name, "wav", "recording")
}

/// Checks a file name given over OSC for a `what` file (`recording`, `preset`): one plain name
/// (no folder, no `..`, no hidden file, no control characters), ending in `.<ext>` (added when
/// missing).
pub fn plain_name(name: &str, ext: &str, what: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(format!("a {what} name is 1..200 characters"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(format!("a {what} name has no control characters"));
    }
    let mut parts = Path::new(name).components();
    let ok = matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    );
    if !ok || name.starts_with('.') || name.contains('/') {
        return Err(format!(
            "'{name}' is not a plain file name: {what}s go straight into the {what}s folder"
        ));
    }
    Ok(if name.to_ascii_lowercase().ends_with(&format!(".{ext}")) {
        name.to_owned()
    } else {
        format!("{name}.{ext}")
    })
}

/// Writes a new preset file `name` (checked with [`plain_name`], `.preset`) inside `dir`
/// (created if missing); an existing file or link of that name is never replaced or followed.
pub fn save_preset(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    let (mut file, path) = create_new(dir, &plain_name(name, "preset", "preset")?, "preset")?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Reads the preset file `name` (checked with [`plain_name`], `.preset`) from `dir`; a link is
/// not followed. At most 64 KiB.
pub fn read_preset(dir: &Path, name: &str) -> Result<String, String> {
    read_named(dir, name, ("preset", 64 << 10), |name| {
        format!(
            "no preset '{name}' in {} (nor a built-in one: pad, pluck, supersaw, pwm, brass)",
            dir.display()
        )
    })
}

/// Reads the file `name` (checked with [`plain_name`], `.<ext>` added) from `dir`: a link is
/// not followed, at most `limit` bytes are read; a missing file is `missing(name)`.
fn read_named(
    dir: &Path,
    name: &str,
    (ext, limit): (&str, u64),
    missing: impl FnOnce(&str) -> String,
) -> Result<String, String> {
    use std::io::Read;
    let name = plain_name(name, ext, ext)?;
    let path = dir.join(&name);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => missing(&name),
            _ => format!("cannot read {}: {e}", path.display()),
        })?;
    let mut text = String::new();
    file.take(limit)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(text)
}

/// Creates a new file `name` (checked with [`file_name`]) inside `dir` (created if missing).
/// An existing file or symbolic link of that name is never opened, replaced or followed.
pub fn create(dir: &Path, name: &str) -> Result<(File, PathBuf), String> {
    create_new(dir, &file_name(name)?, "recording")
}

/// Creates the new file `name` (already checked) inside `dir`, the `what`s folder (created if
/// missing); an existing file or link of that name is never opened, replaced or followed.
fn create_new(dir: &Path, name: &str, what: &str) -> Result<(File, PathBuf), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the {what}s folder {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o640)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!("{name} exists already in the {what}s folder; pick another name")
            }
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    Ok((file, path))
}

/// A new file named after the clock (`take-<unix seconds>.wav`, `-2`, `-3`… when taken).
pub fn create_dated(dir: &Path) -> Result<(File, PathBuf), String> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut last = String::new();
    for n in 1..100 {
        let name = if n == 1 {
            format!("take-{secs}.wav")
        } else {
            format!("take-{secs}-{n}.wav")
        };
        match create(dir, &name) {
            Ok(done) => return Ok(done),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Writes session `name` (`<name>.session`, a plain name) into `dir` (made if missing),
/// replacing one of that name atomically; a symbolic link there is refused. Returns its path.
pub fn save_session(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(plain_name(name, "session", "session")?);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "{} is a symbolic link: sessions are plain files in the sessions folder",
            path.display()
        ));
    }
    chronus_engine::session::write_atomically(&path, text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Reads session `name` from `dir` (a plain name; a symbolic link is not followed; at most
/// 4 MiB).
pub fn read_session(dir: &Path, name: &str) -> Result<String, String> {
    read_named(dir, name, ("session", 4 << 20), |name| {
        format!(
            "no session '{name}' in {} (/state/list names them)",
            dir.display()
        )
    })
}

/// The sessions in `dir` (their names without `.session`), sorted; none when it is missing.
pub fn list_sessions(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".session"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_folder() {
        assert_eq!(file_name("take1").unwrap(), "take1.wav");
        assert_eq!(file_name("Take 2.WAV").unwrap(), "Take 2.WAV");
        for bad in [
            "",
            "../x.wav",
            "..",
            ".",
            "/etc/passwd",
            "a/b.wav",
            ".hidden.wav",
            "x\u{0}.wav",
            "x\n.wav",
        ] {
            assert!(file_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
