//! Samples in sealed shared memory: the host writes each one once into a memfd and seals it
//! (no process can change it again); every worker, and every replacement, maps that same
//! memory read only through `/proc/<host>/fd/<n>`. 1 GB of samples costs 1 GB once, a
//! respawn maps them without copying a byte, and the data is never in a snapshot: a snapshot
//! carries each sample's [`SampleDesc`] (where its memory is), the worker maps it again.

use crate::EngineError;
use chronus_dsp::sample::{Sample, SampleDesc, SampleMemory, SampleOrigin, MAX_SAMPLES};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// The start of a kit's sounds' source (`kit:basic`).
pub const KIT_SOURCE: &str = "kit:";

/// The longest sample name (bytes).
pub const MAX_SAMPLE_NAME: usize = 64;

/// What a loaded sample is: for `/sample/loaded` and `/sample/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleInfo {
    /// Its name (what `/sample/play` and `/seq/target … sample` call it).
    pub name: String,
    /// Where it came from: the file in the samples folder, or `kit:<name>` for a built-in
    /// kit's sound.
    pub source: String,
    /// Its slot in the workers' bank.
    pub slot: u16,
    /// Frames at the engine's rate.
    pub frames: u64,
    /// 1 or 2.
    pub channels: u16,
    /// The engine's rate (the sample was converted to it).
    pub rate: u32,
}

/// A sample's memory in the host: a sealed memfd.
#[derive(Debug)]
pub(crate) struct Sealed {
    fd: OwnedFd,
    ino: u64,
    bytes: u64,
}

impl Sealed {
    /// Writes `parts`, one after the other, into a new memfd and seals it against any change.
    pub(crate) fn create(name: &str, parts: &[&[f32]]) -> std::io::Result<Sealed> {
        let cname = std::ffi::CString::new(format!("chronus-sample-{name}"))
            .map_err(|_| std::io::ErrorKind::InvalidInput)?;
        // SAFETY: a valid NUL-terminated name and valid flags.
        let raw = unsafe {
            libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut file = std::fs::File::from(fd.try_clone()?);
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in parts.iter().flat_map(|p| p.chunks(1 << 14)) {
            buf.clear();
            buf.extend(chunk.iter().flat_map(|x| x.to_ne_bytes()));
            file.write_all(&buf)?;
        }
        drop(file);
        let seals =
            libc::F_SEAL_WRITE | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
        // SAFETY: fcntl on a valid memfd made with MFD_ALLOW_SEALING; no mapping of it exists.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (ino, bytes) = stat(&fd)?;
        Ok(Sealed { fd, ino, bytes })
    }

    /// Where a worker finds it.
    pub(crate) fn origin(&self) -> SampleOrigin {
        SampleOrigin {
            pid: std::process::id(),
            fd: self.fd.as_raw_fd(),
            ino: self.ino,
        }
    }

    /// Its size in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

fn stat(fd: &OwnedFd) -> std::io::Result<(u64, u64)> {
    // SAFETY: `st` is written by fstat before it is read.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and out-pointer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((st.st_ino, st.st_size as u64))
}

/// A read-only mapping of a sample's sealed memory, in any process.
struct Mapped {
    ptr: std::ptr::NonNull<f32>,
    len: usize,
}

// SAFETY: the memory is sealed against writes (F_SEAL_WRITE) and mapped read only: nothing
// can change it while it is mapped, so sharing `&[f32]` views between threads is sound.
unsafe impl Send for Mapped {}
// SAFETY: as above.
unsafe impl Sync for Mapped {}

impl SampleMemory for Mapped {
    fn samples(&self) -> &[f32] {
        // SAFETY: `ptr` maps `len` f32s (page-aligned, so aligned for f32), read only and
        // sealed, for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: exactly the mapping made in `map`, unmapped once.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.len * 4);
            }
        }
    }
}

/// Maps the sample `desc` describes, read only, from its origin (the host's descriptor, seen
/// through `/proc`), checking that the descriptor still names the same memory and that the
/// memory is sealed and large enough. Makes syscalls: at a start, or between blocks (as a
/// patch edit is applied).
pub(crate) fn map(desc: &SampleDesc) -> Result<Sample, EngineError> {
    let bad = |reason: String| EngineError::SampleMemory {
        slot: desc.slot,
        reason,
    };
    let o = desc.origin;
    let path = format!("/proc/{}/fd/{}", o.pid, o.fd);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .open(&path)
        .map_err(|e| bad(format!("{path}: {e}")))?;
    let fd = OwnedFd::from(file);
    let (ino, bytes) = stat(&fd).map_err(|e| bad(e.to_string()))?;
    if ino != o.ino {
        return Err(bad(format!("{path} is another file now")));
    }
    // SAFETY: F_GET_SEALS on a valid descriptor.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 || seals & libc::F_SEAL_WRITE == 0 {
        return Err(bad("its memory is not sealed".into()));
    }
    let len = desc
        .frames
        .checked_mul(u64::from(desc.channels))
        .map(|n| n + u64::from(desc.onsets))
        .filter(|&n| n * 4 <= bytes)
        .ok_or_else(|| bad(format!("{bytes} bytes hold fewer than its frames")))?
        as usize;
    let ptr = if len == 0 {
        std::ptr::NonNull::dangling()
    } else {
        // SAFETY: a fresh read-only shared mapping of a valid descriptor, within its size.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len * 4,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(bad(std::io::Error::last_os_error().to_string()));
        }
        std::ptr::NonNull::new(p.cast::<f32>()).ok_or_else(|| bad("mapped at 0".into()))?
    };
    // The mapping holds the memory; the descriptor is no longer needed.
    drop(fd);
    Ok(Sample::new(*desc, Arc::new(Mapped { ptr, len }))?)
}

/// The host's samples: each one's memory, name and source, and the memory of those freed
/// recently (kept until a checkpoint no longer needs it: a restart after a double fault
/// replays commands from the last checkpoint, which may map them again).
#[derive(Debug, Default)]
pub(crate) struct SampleStore {
    entries: BTreeMap<String, (SampleInfo, Sealed)>,
    /// Freed samples' memory, with the number of the command that freed them.
    freed: Vec<(u64, Sealed)>,
}

impl SampleStore {
    /// A loaded sample by name.
    pub(crate) fn get(&self, name: &str) -> Option<&SampleInfo> {
        self.entries.get(name).map(|(i, _)| i)
    }

    /// Every loaded sample, by name.
    pub(crate) fn list(&self) -> Vec<SampleInfo> {
        self.entries.values().map(|(i, _)| i.clone()).collect()
    }

    /// Bytes of sample memory held (the freed ones still kept included).
    pub(crate) fn bytes(&self) -> u64 {
        self.entries.values().map(|(_, s)| s.bytes()).sum::<u64>()
            + self.freed.iter().map(|(_, s)| s.bytes()).sum::<u64>()
    }

    /// The lowest slot no sample holds, other than those in `taken`.
    pub(crate) fn free_slot_but(&self, taken: &[u16]) -> Option<u16> {
        (0..MAX_SAMPLES as u16)
            .find(|s| !taken.contains(s) && !self.entries.values().any(|(i, _)| i.slot == *s))
    }

    /// Adds a sample (replacing one of the same name, whose memory is kept as freed by
    /// command `seq`).
    pub(crate) fn insert(&mut self, info: SampleInfo, memory: Sealed, seq: u64) {
        if let Some((_, old)) = self.entries.insert(info.name.clone(), (info, memory)) {
            self.freed.push((seq, old));
        }
    }

    /// Removes a sample; its memory is kept until a checkpoint past `seq`.
    pub(crate) fn remove(&mut self, name: &str, seq: u64) -> Option<SampleInfo> {
        let (info, memory) = self.entries.remove(name)?;
        self.freed.push((seq, memory));
        Some(info)
    }

    /// Lets go of freed memory that no checkpoint from `cut` on can need.
    pub(crate) fn forget_before(&mut self, cut: u64) {
        self.freed.retain(|(seq, _)| *seq >= cut);
    }
}

/// Checks a sample's name: 1..=64 bytes of letters, digits, `_`, `-` and `.`.
pub(crate) fn check_name(name: &str) -> Result<(), EngineError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SAMPLE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::BadSampleName {
            name: name.chars().take(80).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_sample_maps_read_only_with_its_data_and_cannot_be_changed() {
        let data: Vec<f32> = (0..5000).map(|i| i as f32 * 0.25).collect();
        // Two onsets after the audio, as frame numbers in an f32's bits.
        let onsets = [f32::from_bits(10), f32::from_bits(2_000)];
        let sealed = Sealed::create("test", &[&data, &onsets]).expect("memfd");
        let desc = SampleDesc {
            slot: 7,
            frames: 2500,
            channels: 2,
            onsets: 2,
            origin: sealed.origin(),
        };
        let sample = map(&desc).expect("mapped");
        assert_eq!(sample.samples(), &data[..]);
        assert_eq!(
            (sample.onset(0), sample.onset(1), sample.onset(2)),
            (Some(10), Some(2_000), None)
        );
        // Sealed: no write through any descriptor, no writable mapping.
        let mut f = std::fs::File::from(sealed.fd.try_clone().expect("dup"));
        assert!(f.write_all(&[0u8; 4]).is_err());
        // A description naming more frames than there are, or another inode, is refused.
        assert!(map(&SampleDesc {
            frames: 2501,
            ..desc
        })
        .is_err());
        let other = SampleOrigin {
            ino: desc.origin.ino + 1,
            ..desc.origin
        };
        assert!(map(&SampleDesc {
            onsets: 0,
            origin: other,
            ..desc
        })
        .is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("kick").is_ok());
        assert!(check_name("808-kick_2.v1").is_ok());
        for bad in ["", "a b", "x/y", "é", &"k".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
