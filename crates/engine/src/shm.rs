//! Anonymous shared memory (`memfd` + `mmap`) that survives in a child process across `exec`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

/// A `MAP_SHARED` mapping of a memfd. Dropping it unmaps the memory and closes the fd; the
/// memory itself is freed by the kernel when the last process holding it lets go.
#[derive(Debug)]
pub(crate) struct SharedMemory {
    fd: OwnedFd,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; all access to its contents goes through atomics
// or through the single-writer protocols documented in `slot.rs`.
unsafe impl Send for SharedMemory {}
// SAFETY: as above: `&SharedMemory` only hands out a raw pointer.
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// Creates a zero-filled region of `len` bytes. Only this user can open it (memfds have no
    /// path), and the fd is close-on-exec.
    pub(crate) fn create(name: &str, len: usize) -> io::Result<Self> {
        let cname = std::ffi::CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: `cname` is a valid NUL-terminated string; the flags are valid.
        let raw = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` is a valid memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Self::map(fd, len, libc::PROT_READ | libc::PROT_WRITE)
    }

    /// Maps an inherited memfd (in a worker process), checking its size.
    pub(crate) fn open(fd: OwnedFd, len: usize) -> io::Result<Self> {
        Self::map(
            Self::at_least(fd, len)?,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    }

    /// `fd`, if the memory behind it has at least `len` bytes.
    fn at_least(fd: OwnedFd, len: usize) -> io::Result<OwnedFd> {
        // SAFETY: `st` is written by fstat before it is read.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is a valid fd and `st` a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if (st.st_size as usize) < len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "shared region too small",
            ));
        }
        Ok(fd)
    }

    /// Maps the first `len` bytes of a memfd read only (a worker's view of its twin's slot:
    /// a worker gone wrong cannot write into its twin's memory through it).
    pub(crate) fn open_read_only(fd: OwnedFd, len: usize) -> io::Result<Self> {
        Self::map(Self::at_least(fd, len)?, len, libc::PROT_READ)
    }

    fn map(fd: OwnedFd, len: usize, prot: libc::c_int) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping of a valid fd; the kernel picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(SharedMemory { fd, ptr, len })
    }

    /// Start of the mapping (page-aligned).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The memfd, to hand to a child process.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// A new descriptor of the same memory (close-on-exec).
    pub(crate) fn dup_fd(&self) -> io::Result<OwnedFd> {
        self.fd.try_clone()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping created in `map`, unmapped once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_mapping_of_the_same_fd_sees_the_same_bytes() {
        let a = SharedMemory::create("chronus-test", 4096).unwrap();
        // SAFETY: dup of a valid fd.
        let dup = unsafe { OwnedFd::from_raw_fd(libc::dup(a.raw_fd())) };
        let b = SharedMemory::open(dup, 4096).unwrap();
        // SAFETY: both mappings are 4096 bytes long; single-threaded test.
        unsafe {
            a.as_ptr().add(100).write(42);
            assert_eq!(b.as_ptr().add(100).read(), 42);
        }
        // SAFETY: dup of a valid fd.
        let small = unsafe { OwnedFd::from_raw_fd(libc::dup(a.raw_fd())) };
        assert!(SharedMemory::open(small, 8192).is_err());
    }
}
