//! The host process's heap: how many allocator arenas its threads may spread over.

/// Allocator arenas a chronus host keeps (glibc's default: eight per core). Each thread that
/// finds the arenas busy when it allocates (the OSC and TCP threads, the supervisor, a
/// respawn's helpers) may start one more, and what an arena once held stays resident: a host
/// that runs for hours grew its memory in steps of a megabyte or two, whenever a thread first
/// met a busy arena, long after warm-up (the soak saw one appear 40 s in). Two arenas keep
/// that bounded; the real-time threads never allocate, so no contention on them can delay a
/// block.
pub const HEAP_ARENAS: i32 = 2;

/// Bounds the process's allocator arenas to [`HEAP_ARENAS`]. Call it first thing in `main`:
/// arenas made before it stay. Does nothing where the C library is not glibc.
pub fn bound_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's allocator (an integer, under the
    // allocator's own lock); it touches no memory of ours.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, HEAP_ARENAS);
    }
}
