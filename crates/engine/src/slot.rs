//! A render slot: the fixed shared-memory region between one worker and the engine.
//!
//! ```text
//! header      config (written once before the worker starts), counters, flags
//! commands    SPSC ring of WireCommand      engine (under its control lock) → worker
//! blocks      ring of AUDIO_SLOTS blocks    worker → output, each stamped with its index
//! snapshot    the worker's serialized state, written on request
//! ```
//!
//! Zero bytes are a valid initial state for every field. Each ring has exactly one writer and
//! one reader, which may live in different processes; all cross-process communication goes
//! through atomics with acquire/release ordering on this mapping.

use crate::shm::SharedMemory;
use crate::wire::WireCommand;
use crate::MAX_CHANNELS;
use chronus_dsp::MAX_BLOCK;
use std::cell::UnsafeCell;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::sync::Arc;

/// Blocks in each slot's audio ring.
pub const AUDIO_SLOTS: usize = 64;
/// The largest lookahead a slot supports (the ring keeps two spare cells).
pub const MAX_LOOKAHEAD: usize = AUDIO_SLOTS - 2;
/// Commands the ring between the engine and one worker can hold.
pub const COMMAND_CAPACITY: usize = 4096;
/// Blocks whose seal a slot remembers (about 1.4 s at 48 kHz / 64): a replacement worker
/// finds the seals of every block since its snapshot.
pub const SEAL_SLOTS: usize = 1024;
/// Patch edits a slot's mailbox holds at once.
pub const EDIT_SLOTS: usize = 8;
/// Bytes of one encoded patch edit list.
pub const EDIT_BYTES: usize = 16 * 1024;
/// Bytes available for a state snapshot (delay and reverb lines included: a 2 s delay at
/// 192 kHz is 1.5 MB). The memfd is sparse: only the pages a snapshot writes are backed.
pub const SNAPSHOT_CAPACITY: usize = 16 << 20;

/// `waiting`: the worker sleeps until the output makes room for its next block.
const WAITS_FOR_ROOM: u32 = 1;
/// `waiting`: the worker sleeps until its next block is sealed.
const WAITS_FOR_SEAL: u32 = 2;
const MAGIC: u64 = 0x6368_726f_6e75_7331; // "chronus1"

/// This build of the engine (a hash of the sources that shape a slot, the wire and the
/// snapshots; see build.rs): a host stamps it into each slot, and a worker of another build
/// refuses the slot rather than misread it.
pub(crate) const BUILD_ID: u64 = match u64::from_str_radix(env!("CHRONUS_BUILD_ID"), 16) {
    Ok(id) => id,
    Err(_) => 0,
};

/// What a worker is doing, as it reports in its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum WorkerStatus {
    /// Not started, or starting up.
    Starting = 0,
    /// Rendering.
    Running = 1,
    /// Panicked (thread workers report this; a process simply dies).
    Panicked = 2,
    /// Stopped on request.
    Exited = 3,
}

impl WorkerStatus {
    fn from_u32(v: u32) -> Self {
        match v {
            1 => WorkerStatus::Running,
            2 => WorkerStatus::Panicked,
            3 => WorkerStatus::Exited,
            _ => WorkerStatus::Starting,
        }
    }
}

#[repr(C)]
struct SealCell {
    /// Block index plus one (0: empty).
    stamp: AtomicU64,
    /// The highest command sequence number that belongs to blocks up to this one.
    seq: AtomicU64,
}

#[repr(C)]
struct BlockCell {
    /// Index of the block held, plus one (0: empty).
    stamp: AtomicU64,
    /// What the worker tells about the block ([`crate::meter::BlockInfo`], packed).
    info: AtomicU64,
    /// The block, planar: channel `c` at `[c * block..(c + 1) * block]`.
    samples: UnsafeCell<[f32; MAX_BLOCK * MAX_CHANNELS]>,
}

#[repr(C, align(64))]
struct Header {
    magic: AtomicU64,
    /// The host's [`BUILD_ID`].
    build: AtomicU64,
    sample_rate_bits: AtomicU64,
    block: AtomicU32,
    channels: AtomicU32,
    lookahead: AtomicU32,
    generation: AtomicU32,
    // worker → engine
    status: AtomicU32,
    next_block: AtomicU64,
    heartbeat_ns: AtomicU64,
    /// The block the worker is rendering, plus one (0: between blocks, waiting for room or
    /// a seal): which commands a worker that fails was applying.
    rendering: AtomicU64,
    /// The first block the worker rendered that was not finite, plus one (0: none).
    not_finite: AtomicU64,
    /// The block the worker was rendering when it crashed or panicked, plus one (0: none),
    /// marked by the worker itself on its way down (a signal handler, the panic hook).
    failing: AtomicU64,
    /// engine → worker: a block whose commands the worker must pass over, plus one (0:
    /// none): its twin failed applying them (see [`Slot::skip_commands_of`]).
    skip_block: AtomicU64,
    /// worker → engine: the last block whose commands the worker did pass over, plus one.
    skipped_block: AtomicU64,
    /// worker → engine, cleared by the engine: a block whose commands the worker, following,
    /// put off because its leader had not rendered it in time, plus one (0: none pending; see
    /// [`Slot::note_deferred`]).
    deferred_block: AtomicU64,
    /// engine → worker: 1 while the worker follows its twin (see [`Slot::set_follows`]).
    follows: AtomicU32,
    /// Until then (monotonic ns) the worker is on a long job between blocks (a snapshot, a
    /// patch edit): silent, but not stalled.
    busy_until_ns: AtomicU64,
    late: AtomicU64,
    dropped: AtomicU64,
    /// worker → engine: its DSP load, smoothed (render time / block time), as f32 bits.
    load: AtomicU32,
    /// The last patch edit id the worker has taken from the mailbox (or that its starting
    /// state already holds): the engine reuses a mailbox cell only once it is read.
    edits_read: AtomicU64,
    // engine → worker
    consumed: AtomicU64,
    wake: AtomicU32,
    waiting: AtomicU32,
    stop: AtomicU32,
    // output / supervisor flags
    online: AtomicU32,
    fault: AtomicU32,
    // snapshot
    snap_ready: AtomicU32,
    snap_block: AtomicU64,
    snap_len: AtomicU64,
}

#[repr(C, align(64))]
struct CommandRing {
    head: AtomicU64,
    tail: AtomicU64,
    cells: [UnsafeCell<WireCommand>; COMMAND_CAPACITY],
}

#[repr(C)]
struct EditCell {
    /// Edit id plus one (0: empty).
    stamp: AtomicU64,
    len: AtomicU64,
    bytes: UnsafeCell<[u8; EDIT_BYTES]>,
}

#[repr(C)]
struct Layout {
    header: Header,
    seals: [SealCell; SEAL_SLOTS],
    edits: [EditCell; EDIT_SLOTS],
    commands: CommandRing,
    blocks: [BlockCell; AUDIO_SLOTS],
    snapshot: UnsafeCell<[u8; SNAPSHOT_CAPACITY]>,
}

/// Marks the block being rendered (`rendering`, plus one) as the one the worker failed in
/// (`failing`), if it was inside one. Async-signal-safe: two lock-free atomic operations.
pub(crate) fn mark_failing(rendering: &AtomicU64, failing: &AtomicU64) {
    let b = rendering.load(Relaxed);
    if b != 0 {
        failing.store(b, Release);
    }
}

/// A worker's read-only view of its twin's slot header: how far the twin has rendered and
/// whether it failed in a block (poison containment). Mapped read only, so a worker gone
/// wrong cannot write into its twin's slot through it.
pub(crate) struct Twin {
    mem: SharedMemory,
}

impl Twin {
    /// Maps the header of the slot behind `fd` (the twin's memfd) read only.
    pub(crate) fn open(fd: std::os::fd::OwnedFd) -> io::Result<Twin> {
        let mem = SharedMemory::open_read_only(fd, std::mem::size_of::<Header>())?;
        let twin = Twin { mem };
        let h = twin.header();
        if h.magic.load(Acquire) != MAGIC || h.build.load(Relaxed) != BUILD_ID {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the twin's slot is not one of this build",
            ));
        }
        Ok(twin)
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping holds at least size_of::<Header>() bytes (checked when opened),
        // page-aligned (the header is the layout's first field, at offset 0), and all-zero
        // bytes are a valid Header (atomics). It is read only: only loads are made through it,
        // which plain shared memory allows.
        unsafe { &*self.mem.as_ptr().cast::<Header>() }
    }

    /// Real-time thread: the blocks the twin has rendered (its next block). One load.
    pub(crate) fn next_block(&self) -> u64 {
        self.header().next_block.load(Acquire)
    }

    /// Real-time thread: the block the twin crashed or panicked in, as it marked it.
    pub(crate) fn failing(&self) -> Option<u64> {
        self.header().failing.load(Acquire).checked_sub(1)
    }

    /// Real-time thread: the first block the twin rendered not finite.
    pub(crate) fn first_not_finite(&self) -> Option<u64> {
        self.header().not_finite.load(Acquire).checked_sub(1)
    }

    /// Real-time thread: the block the twin is inside now (`None`: between blocks). One load.
    pub(crate) fn rendering(&self) -> Option<u64> {
        self.header().rendering.load(Acquire).checked_sub(1)
    }

    /// Real-time thread: until when (monotonic ns) the twin is on a long job it announced
    /// (a patch edit, a snapshot). One load.
    pub(crate) fn busy_until(&self) -> u64 {
        self.header().busy_until_ns.load(Relaxed)
    }
}

/// Faults the output flags on a slot.
pub(crate) mod fault {
    pub const NONE: u32 = 0;
    pub const NAN: u32 = 1;
    pub const DIVERGED: u32 = 2;
}

/// One render slot, mapped in this process.
#[derive(Debug, Clone)]
pub struct Slot {
    mem: Arc<SharedMemory>,
}

impl Slot {
    /// Creates a fresh slot region for a patch at `sample_rate` / `block`, rendering
    /// `channels` channels.
    pub(crate) fn create(
        sample_rate: f64,
        block: usize,
        channels: usize,
        lookahead: usize,
    ) -> io::Result<Slot> {
        let mem = SharedMemory::create("chronus-slot", std::mem::size_of::<Layout>())?;
        let slot = Slot { mem: Arc::new(mem) };
        let h = &slot.layout().header;
        h.sample_rate_bits.store(sample_rate.to_bits(), Relaxed);
        h.block.store(block as u32, Relaxed);
        h.channels
            .store(channels.clamp(1, MAX_CHANNELS) as u32, Relaxed);
        h.lookahead.store(lookahead as u32, Relaxed);
        h.build.store(BUILD_ID, Relaxed);
        h.magic.store(MAGIC, Release);
        Ok(slot)
    }

    /// Maps a slot inherited from the engine (in a worker process).
    pub(crate) fn open(fd: std::os::fd::OwnedFd) -> io::Result<Slot> {
        let mem = SharedMemory::open(fd, std::mem::size_of::<Layout>())?;
        let slot = Slot { mem: Arc::new(mem) };
        if slot.layout().header.magic.load(Acquire) != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a chronus slot",
            ));
        }
        let build = slot.layout().header.build.load(Relaxed);
        if build != BUILD_ID {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the host is another build of chronus ({build:016x}; this worker is \
                     {BUILD_ID:016x}): start chronus run again so that host and workers are \
                     one build"
                ),
            ));
        }
        Ok(slot)
    }

    fn layout(&self) -> &Layout {
        // SAFETY: the mapping is at least size_of::<Layout>() bytes (checked when created or
        // opened), page-aligned (stricter than Layout's 64-byte alignment), and all-zero bytes
        // are a valid Layout (atomics, plain numbers). Shared mutation happens only through
        // atomics or UnsafeCells under the protocols below.
        unsafe { &*self.mem.as_ptr().cast::<Layout>() }
    }

    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        self.mem.raw_fd()
    }

    /// A new descriptor of this slot's memory (for a worker thread's view of its twin).
    pub(crate) fn dup_fd(&self) -> io::Result<std::os::fd::OwnedFd> {
        self.mem.dup_fd()
    }

    // ---------------------------------------------------------------- configuration

    /// Sample rate of the patch rendered here.
    pub fn sample_rate(&self) -> f64 {
        f64::from_bits(self.layout().header.sample_rate_bits.load(Relaxed))
    }

    /// Block size.
    pub fn block(&self) -> usize {
        self.layout().header.block.load(Relaxed) as usize
    }

    /// Channels per block (1..=[`MAX_CHANNELS`]).
    pub fn channels(&self) -> usize {
        (self.layout().header.channels.load(Relaxed) as usize).clamp(1, MAX_CHANNELS)
    }

    /// Blocks the worker may render ahead of the output.
    pub fn lookahead(&self) -> u64 {
        u64::from(self.layout().header.lookahead.load(Relaxed))
    }

    /// Incremented each time the slot is reset for a new worker.
    pub(crate) fn generation(&self) -> u32 {
        self.layout().header.generation.load(Acquire)
    }

    // ---------------------------------------------------------------- worker side

    /// The worker's status.
    pub fn status(&self) -> WorkerStatus {
        WorkerStatus::from_u32(self.layout().header.status.load(Acquire))
    }

    pub(crate) fn set_status(&self, s: WorkerStatus) {
        self.layout().header.status.store(s as u32, Release);
    }

    /// The next block the worker will render (its frontier).
    pub fn next_block(&self) -> u64 {
        self.layout().header.next_block.load(Acquire)
    }

    pub(crate) fn set_next_block(&self, b: u64) {
        self.layout().header.next_block.store(b, Release);
    }

    /// Monotonic time (ns) of the worker's last rendered block.
    pub fn heartbeat_ns(&self) -> u64 {
        self.layout().header.heartbeat_ns.load(Relaxed)
    }

    /// Worker side: the worker starts a long job between blocks (0: it is done).
    pub(crate) fn set_busy_until(&self, ns: u64) {
        self.layout().header.busy_until_ns.store(ns, Relaxed);
    }

    /// Until when the worker said it is on a long job (monotonic ns; 0: none).
    pub(crate) fn busy_until(&self) -> u64 {
        self.layout().header.busy_until_ns.load(Relaxed)
    }

    /// Worker side, real-time thread: the block it starts rendering (`None`: it is done with
    /// it). One relaxed store.
    pub(crate) fn set_rendering(&self, block: Option<u64>) {
        let v = block.map_or(0, |b| b + 1);
        self.layout().header.rendering.store(v, Relaxed);
    }

    /// Worker side, real-time thread: block `b` came out not finite (the first such block is
    /// kept). One relaxed load, and a store the first time.
    pub(crate) fn note_not_finite(&self, b: u64) {
        let h = &self.layout().header;
        if h.not_finite.load(Relaxed) == 0 {
            h.not_finite.store(b + 1, Relaxed);
        }
    }

    /// The first block the worker rendered that was not finite.
    pub(crate) fn first_not_finite(&self) -> Option<u64> {
        self.layout().header.not_finite.load(Relaxed).checked_sub(1)
    }

    /// Engine side (the output, or the supervisor): the worker is to pass over the commands
    /// first applied in block `b` (those its seal of `b` takes from the ring), bar snapshot
    /// requests, because its twin failed on them. A worker that reads this before it starts
    /// `b` obeys, and says so ([`Slot::skipped_block`]). One store.
    pub(crate) fn skip_commands_of(&self, b: u64) {
        self.layout().header.skip_block.store(b + 1, SeqCst);
    }

    /// Worker side, real-time thread: whether the commands of block `b` are to be passed
    /// over. One load.
    pub(crate) fn skips(&self, b: u64) -> bool {
        self.layout().header.skip_block.load(SeqCst) == b + 1
    }

    /// Worker side, real-time thread: the commands of block `b` were passed over. One store,
    /// before the block is published.
    pub(crate) fn note_skipped(&self, b: u64) {
        self.layout().header.skipped_block.store(b + 1, Release);
    }

    /// Worker side, real-time thread: the commands of block `b` were put off (passed over,
    /// as [`Slot::note_skipped`] says too) because the leader had not rendered `b` when the
    /// follower had to. The engine settles it: if the leader hung or failed in `b`, they are
    /// quarantined; if it rendered `b` after all, this worker has diverged from it and is
    /// resynced. Two stores, before the block is published.
    pub(crate) fn note_deferred(&self, b: u64) {
        let h = &self.layout().header;
        h.skipped_block.store(b + 1, Release);
        h.deferred_block.store(b + 1, SeqCst);
    }

    /// The block whose commands the worker put off and the engine has not settled yet. One
    /// load (the worker reads it on its real-time thread: while one is pending, it does not
    /// wait for its leader again).
    pub(crate) fn deferred_block(&self) -> Option<u64> {
        self.layout()
            .header
            .deferred_block
            .load(SeqCst)
            .checked_sub(1)
    }

    /// Engine side: the deferral is settled (its commands quarantined, or the worker is to be
    /// replaced). One store.
    pub(crate) fn clear_deferred(&self) {
        self.layout().header.deferred_block.store(0, SeqCst);
    }

    /// Output side: whether this slot's worker follows its twin (the leader): before it
    /// takes a block's commands it waits until its twin has rendered that block, and passes
    /// over them if the twin failed there (see `worker::leader_failed_in`). One store, on the
    /// output's real-time thread.
    pub(crate) fn set_follows(&self, on: bool) {
        self.layout().header.follows.store(u32::from(on), Release);
    }

    /// Worker side, real-time thread: whether it follows its twin. One load.
    pub(crate) fn follows(&self) -> bool {
        self.layout().header.follows.load(Acquire) != 0
    }

    /// Worker side, real-time thread: whether the ring holds a command for a block sealed at
    /// `max_seq` (one that [`Slot::pop_command_upto`] would return). Two loads.
    pub(crate) fn has_command_upto(&self, max_seq: u64) -> bool {
        let ring = &self.layout().commands;
        let tail = ring.tail.load(Relaxed);
        if tail == ring.head.load(Acquire) {
            return false;
        }
        // SAFETY: as in `pop_command_upto`: the cell at tail was fully written before head
        // was released past it, and only this reader moves tail.
        let cmd = unsafe { *ring.cells[(tail % COMMAND_CAPACITY as u64) as usize].get() };
        cmd.seq <= max_seq
    }

    /// The last block whose commands the worker passed over.
    pub(crate) fn skipped_block(&self) -> Option<u64> {
        self.layout()
            .header
            .skipped_block
            .load(Acquire)
            .checked_sub(1)
    }

    /// The block the worker was rendering when it crashed or panicked, as it marked it.
    pub(crate) fn failing(&self) -> Option<u64> {
        self.layout().header.failing.load(Acquire).checked_sub(1)
    }

    /// Worker side, on its way down (a caught panic): marks the block it was rendering as
    /// the one it failed in. Two atomic operations.
    pub(crate) fn mark_failing(&self) {
        let h = &self.layout().header;
        mark_failing(&h.rendering, &h.failing);
    }

    /// The words a crash handler marks with [`mark_failing`]: (rendering, failing). They stay
    /// valid as long as this slot's mapping does.
    pub(crate) fn failure_words(&self) -> (&AtomicU64, &AtomicU64) {
        let h = &self.layout().header;
        (&h.rendering, &h.failing)
    }

    /// The block the worker was rendering when last seen (`None`: between blocks).
    pub(crate) fn rendering(&self) -> Option<u64> {
        self.layout().header.rendering.load(Relaxed).checked_sub(1)
    }

    pub(crate) fn beat(&self, now_ns: u64) {
        self.layout().header.heartbeat_ns.store(now_ns, Relaxed);
    }

    /// Commands that reached the worker after their sample had been rendered.
    pub fn late_commands(&self) -> u64 {
        self.layout().header.late.load(Relaxed)
    }

    /// Worker side, real-time thread: its DSP load (render time / block time, smoothed). One
    /// store.
    pub(crate) fn set_load(&self, load: f32) {
        self.layout().header.load.store(load.to_bits(), Relaxed);
    }

    /// The worker's DSP load: the time it takes to render a block over the block's time
    /// (smoothed over about 16 blocks; 1 is all of it).
    pub fn load(&self) -> f32 {
        f32::from_bits(self.layout().header.load.load(Relaxed))
    }

    pub(crate) fn count_late(&self) {
        self.layout().header.late.fetch_add(1, Relaxed);
    }

    /// Commands the worker could not schedule (its schedule was full).
    pub fn dropped_commands(&self) -> u64 {
        self.layout().header.dropped.load(Relaxed)
    }

    pub(crate) fn count_dropped(&self) {
        self.layout().header.dropped.fetch_add(1, Relaxed);
    }

    /// True once the engine asked the worker to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.layout().header.stop.load(Acquire) != 0
    }

    /// Worker side: takes the next command if its sequence number is at most `max_seq`.
    /// Wait-free.
    pub(crate) fn pop_command_upto(&self, max_seq: u64) -> Option<WireCommand> {
        let ring = &self.layout().commands;
        let tail = ring.tail.load(Relaxed);
        if tail == ring.head.load(Acquire) {
            return None;
        }
        // SAFETY: cells in tail..head were fully written before head was released, and the
        // writer does not touch them until tail moves past them (single reader: this worker).
        let cmd = unsafe { *ring.cells[(tail % COMMAND_CAPACITY as u64) as usize].get() };
        if cmd.seq > max_seq {
            return None;
        }
        ring.tail.store(tail + 1, Release);
        Some(cmd)
    }

    /// Worker side: the seal of block `block` (the last command sequence number that belongs
    /// to it), once the output has written it.
    pub(crate) fn seal(&self, block: u64) -> Option<u64> {
        let cell = &self.layout().seals[(block % SEAL_SLOTS as u64) as usize];
        if cell.stamp.load(Acquire) != block + 1 {
            return None;
        }
        let seq = cell.seq.load(Acquire);
        (cell.stamp.load(Acquire) == block + 1).then_some(seq)
    }

    /// Output side: seals block `block`: commands up to `seq` take effect no later than it.
    /// Wait-free, no syscall.
    pub(crate) fn write_seal(&self, block: u64, seq: u64) {
        let cell = &self.layout().seals[(block % SEAL_SLOTS as u64) as usize];
        cell.stamp.store(0, Release);
        cell.seq.store(seq, Release);
        cell.stamp.store(block + 1, Release);
    }

    /// Worker side: blocks until block `b` fits the ring (b ≤ consumed + lookahead), the engine
    /// asks to stop, or `generation` changes. Sleeps on a futex; never spins.
    pub(crate) fn wait_for_room(&self, b: u64, generation: u32) -> bool {
        let h = &self.layout().header;
        let lookahead = self.lookahead();
        loop {
            if h.stop.load(Acquire) != 0 || self.generation() != generation {
                return false;
            }
            if b <= h.consumed.load(Acquire) + lookahead {
                return true;
            }
            let seen = h.wake.load(Acquire);
            h.waiting.store(WAITS_FOR_ROOM, SeqCst);
            if b > h.consumed.load(SeqCst) + lookahead && h.stop.load(SeqCst) == 0 {
                crate::futex::wait(&h.wake, seen, std::time::Duration::from_millis(100));
            }
            h.waiting.store(0, Relaxed);
        }
    }

    /// The last patch edit id the worker has taken from the mailbox.
    pub(crate) fn edits_read(&self) -> u64 {
        self.layout().header.edits_read.load(Acquire)
    }

    /// Worker side: edit `id` has been taken (applied or not); engine side, as a worker
    /// starts: every edit up to `id` is in the state it starts from.
    pub(crate) fn set_edits_read(&self, id: u64) {
        self.layout().header.edits_read.store(id, Release);
    }

    /// Engine side: stores encoded edit list `id` in the mailbox (before the PATCH command
    /// that names it is pushed). `false` when it does not fit.
    pub(crate) fn write_edit(&self, id: u64, bytes: &[u8]) -> bool {
        if bytes.len() > EDIT_BYTES {
            return false;
        }
        let cell = &self.layout().edits[(id % EDIT_SLOTS as u64) as usize];
        cell.stamp.store(0, Release);
        // SAFETY: the engine writes a cell only for a new id, EDIT_SLOTS ids after the last
        // one that used it (the worker has long applied that one); the worker reads it only
        // while the stamp names the id it wants and re-checks the stamp after copying.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                cell.bytes.get().cast::<u8>(),
                bytes.len(),
            );
        }
        cell.len.store(bytes.len() as u64, Release);
        cell.stamp.store(id + 1, Release);
        true
    }

    /// Worker side: the encoded edit list `id`, if the mailbox still holds it.
    pub(crate) fn read_edit(&self, id: u64) -> Option<Vec<u8>> {
        let cell = &self.layout().edits[(id % EDIT_SLOTS as u64) as usize];
        if cell.stamp.load(Acquire) != id + 1 {
            return None;
        }
        let len = (cell.len.load(Acquire) as usize).min(EDIT_BYTES);
        let mut out = vec![0u8; len];
        // SAFETY: the stamp names `id`, `len` bytes were written before it was released, and
        // `out` has room for them; a concurrent rewrite is caught by the re-check below.
        unsafe {
            std::ptr::copy_nonoverlapping(cell.bytes.get().cast::<u8>(), out.as_mut_ptr(), len);
        }
        (cell.stamp.load(Acquire) == id + 1).then_some(out)
    }

    /// Worker side: waits (futex) until block `b` is sealed; `None` when asked to stop or the
    /// slot changed hands. The worker waits for this first: the seal comes with the room for
    /// the block or after it, so [`Slot::wait_for_room`] then normally returns at once.
    pub(crate) fn wait_for_seal(&self, b: u64, generation: u32) -> Option<u64> {
        let h = &self.layout().header;
        loop {
            if let Some(seq) = self.seal(b) {
                return Some(seq);
            }
            if h.stop.load(Acquire) != 0 || self.generation() != generation {
                return None;
            }
            let seen = h.wake.load(Acquire);
            h.waiting.store(WAITS_FOR_SEAL, SeqCst);
            if self.seal(b).is_none() {
                crate::futex::wait(&h.wake, seen, std::time::Duration::from_millis(10));
            }
            h.waiting.store(0, Relaxed);
        }
    }

    /// Worker side: publishes block `index`. The cell is free: the worker never runs more
    /// than `lookahead` < AUDIO_SLOTS - 1 blocks ahead of the output.
    pub(crate) fn write_block(&self, index: u64, samples: &[f32], info: u64) {
        let cell = &self.layout().blocks[(index % AUDIO_SLOTS as u64) as usize];
        cell.stamp.store(0, Release);
        cell.info.store(info, Relaxed);
        let n = samples.len().min(MAX_BLOCK * MAX_CHANNELS);
        // SAFETY: only this worker writes the cell; the output reads it only while the stamp
        // names the index it wants, and re-checks the stamp after copying (seqlock). `n` is
        // within the cell.
        unsafe {
            std::ptr::copy_nonoverlapping(samples.as_ptr(), cell.samples.get().cast::<f32>(), n);
        }
        cell.stamp.store(index + 1, Release);
    }

    /// Worker side: stores a serialized snapshot taken before rendering block `block`.
    pub(crate) fn write_snapshot(&self, block: u64, bytes: &[u8]) -> bool {
        if bytes.len() > SNAPSHOT_CAPACITY {
            return false;
        }
        let h = &self.layout().header;
        // SAFETY: the snapshot area is written by the worker only while snap_ready is 0, and
        // read by the supervisor only after snap_ready is 1 (released below).
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.layout().snapshot.get().cast::<u8>(),
                bytes.len(),
            );
        }
        h.snap_block.store(block, Relaxed);
        h.snap_len.store(bytes.len() as u64, Relaxed);
        h.snap_ready.store(1, Release);
        crate::futex::wake_all(&h.snap_ready);
        true
    }

    /// Copies the snapshot out, if one is ready: `(block, bytes)`.
    pub(crate) fn read_snapshot(&self) -> Option<(u64, Vec<u8>)> {
        let mut bytes = Vec::new();
        self.read_snapshot_into(&mut bytes)
            .map(|block| (block, bytes))
    }

    /// Copies the snapshot out into `bytes` (its capacity reused; its old contents gone), if
    /// one is ready, and returns its block. A supervisor that keeps checkpoints this way holds
    /// the same memory from one to the next instead of a new allocation each time (a wet
    /// delay's snapshot does not compress: 1.4 MB, every second under heavy traffic).
    pub(crate) fn read_snapshot_into(&self, bytes: &mut Vec<u8>) -> Option<u64> {
        let h = &self.layout().header;
        if h.snap_ready.load(Acquire) != 1 {
            return None;
        }
        let len = (h.snap_len.load(Relaxed) as usize).min(SNAPSHOT_CAPACITY);
        bytes.clear();
        bytes.resize(len, 0);
        // SAFETY: snap_ready == 1 (acquired) means the first `len` bytes are written and stay
        // unchanged until the supervisor clears snap_ready; `bytes` holds `len` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.layout().snapshot.get().cast::<u8>(),
                bytes.as_mut_ptr(),
                len,
            );
        }
        Some(h.snap_block.load(Relaxed))
    }

    /// Waits (futex) up to `timeout` for a snapshot to be ready.
    pub(crate) fn wait_snapshot(&self, timeout: std::time::Duration) -> Option<(u64, Vec<u8>)> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(s) = self.read_snapshot() {
                return Some(s);
            }
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            if self.status() != WorkerStatus::Running && self.status() != WorkerStatus::Starting {
                return None;
            }
            crate::futex::wait(
                &self.layout().header.snap_ready,
                0,
                left.min(std::time::Duration::from_millis(5)),
            );
        }
    }

    pub(crate) fn clear_snapshot(&self) {
        self.layout().header.snap_ready.store(0, Release);
    }

    // ---------------------------------------------------------------- engine side

    /// Engine side: appends a command. Wait-free; `false` when the ring is full. Callers
    /// serialize pushes (the engine's control lock), so there is one writer.
    pub(crate) fn push_command(&self, cmd: WireCommand) -> bool {
        let ring = &self.layout().commands;
        let head = ring.head.load(Relaxed);
        if head - ring.tail.load(Acquire) >= COMMAND_CAPACITY as u64 {
            return false;
        }
        // SAFETY: the cell at head is outside tail..head, so the reader does not look at it
        // until head is released below; one writer at a time (the control lock).
        unsafe {
            *ring.cells[(head % COMMAND_CAPACITY as u64) as usize].get() = cmd;
        }
        ring.head.store(head + 1, Release);
        true
    }

    /// Commands waiting in the ring.
    pub fn queued_commands(&self) -> u64 {
        let ring = &self.layout().commands;
        ring.head.load(Acquire) - ring.tail.load(Acquire)
    }

    /// Engine side: asks the worker to stop and wakes it.
    pub(crate) fn request_stop(&self) {
        let h = &self.layout().header;
        h.stop.store(1, SeqCst);
        h.wake.fetch_add(1, SeqCst);
        crate::futex::wake_all(&h.wake);
    }

    /// Engine side: resets the slot for a new worker (the old one must be gone). Returns the
    /// new generation.
    pub(crate) fn reset(&self, start_block: u64) -> u32 {
        let l = self.layout();
        let h = &l.header;
        h.online.store(0, SeqCst);
        for cell in &l.blocks {
            cell.stamp.store(0, Release);
        }
        let head = l.commands.head.load(Acquire);
        l.commands.tail.store(head, Release);
        h.status.store(WorkerStatus::Starting as u32, Release);
        h.next_block.store(start_block, Release);
        h.rendering.store(0, Relaxed);
        h.not_finite.store(0, Relaxed);
        h.skip_block.store(0, Relaxed);
        h.failing.store(0, Relaxed);
        h.skipped_block.store(0, Relaxed);
        h.deferred_block.store(0, Relaxed);
        h.load.store(0, Relaxed);
        h.follows.store(0, Relaxed);
        h.fault.store(fault::NONE, Release);
        h.snap_ready.store(0, Release);
        h.stop.store(0, Release);
        h.generation.fetch_add(1, AcqRel) + 1
    }

    /// Whether the output may use this slot's blocks.
    pub fn online(&self) -> bool {
        self.layout().header.online.load(Acquire) != 0
    }

    pub(crate) fn set_online(&self, on: bool) {
        self.layout().header.online.store(u32::from(on), SeqCst);
    }

    /// A fault flagged by the output (see [`fault`]).
    pub(crate) fn fault(&self) -> u32 {
        self.layout().header.fault.load(Acquire)
    }

    // ---------------------------------------------------------------- output side

    /// Output side: copies block `index` into `out` if the slot holds it. Wait-free, no
    /// allocation, no syscall.
    /// Output side: copies block `index` into `out` and returns the worker's word about it
    /// ([`crate::meter::BlockInfo`], packed), or `None` when the cell does not hold it.
    pub(crate) fn read_block(&self, index: u64, out: &mut [f32]) -> Option<u64> {
        let cell = &self.layout().blocks[(index % AUDIO_SLOTS as u64) as usize];
        if cell.stamp.load(Acquire) != index + 1 {
            return None;
        }
        let n = out.len().min(MAX_BLOCK * MAX_CHANNELS);
        // SAFETY: the stamp says the cell holds `index`; a concurrent rewrite (only possible
        // after a reset) is caught by the second stamp check below, and the copy is of plain
        // floats, so a torn read is harmless once discarded. `n` is within both buffers.
        unsafe {
            std::ptr::copy_nonoverlapping(cell.samples.get().cast::<f32>(), out.as_mut_ptr(), n);
        }
        let info = cell.info.load(Relaxed);
        (cell.stamp.load(Acquire) == index + 1).then_some(info)
    }

    /// Sealer side: wakes the worker if it waits for a seal (one that waits for room is woken
    /// by [`Slot::mark_consumed`]: each wake-up is for what the worker waits for). At most one
    /// non-blocking futex wake. Real-time thread.
    pub(crate) fn wake_waiter(&self) {
        let h = &self.layout().header;
        h.wake.fetch_add(1, SeqCst);
        if h.waiting.load(SeqCst) == WAITS_FOR_SEAL {
            crate::futex::wake_all(&h.wake);
        }
    }

    /// Output side: records that every block before `next` has been played and wakes the
    /// worker if it waits for room (one non-blocking futex wake, only then). Real-time thread.
    pub(crate) fn mark_consumed(&self, next: u64) {
        let h = &self.layout().header;
        h.consumed.store(next, SeqCst);
        h.wake.fetch_add(1, SeqCst);
        if h.waiting.load(SeqCst) == WAITS_FOR_ROOM {
            crate::futex::wake_all(&h.wake);
        }
    }

    /// The next block the output will play.
    pub fn consumed(&self) -> u64 {
        self.layout().header.consumed.load(Acquire)
    }

    /// Output side: flags a fault for the supervisor.
    pub(crate) fn flag_fault(&self, kind: u32) {
        let _ = self
            .layout()
            .header
            .fault
            .compare_exchange(fault::NONE, kind, AcqRel, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_of_another_build_refuses_the_slot() {
        use std::os::fd::{FromRawFd, OwnedFd};
        let s = Slot::create(48_000.0, 64, 1, 2).unwrap();
        // SAFETY: dup of the slot's open memfd; the new descriptor is owned by the OwnedFd.
        let dup = || unsafe { OwnedFd::from_raw_fd(libc::dup(s.raw_fd())) };
        assert!(Slot::open(dup()).is_ok(), "the same build opens it");
        s.layout().header.build.store(BUILD_ID ^ 1, Relaxed);
        let err = Slot::open(dup()).unwrap_err();
        assert!(err.to_string().contains("another build"), "{err}");
    }

    #[test]
    fn command_ring_is_fifo_bounded_and_stops_at_the_seal() {
        let s = Slot::create(48_000.0, 64, 1, 2).unwrap();
        for i in 0..COMMAND_CAPACITY as u64 {
            assert!(s.push_command(WireCommand {
                seq: i,
                at: i,
                ..Default::default()
            }));
        }
        assert!(!s.push_command(WireCommand::default()), "full ring refuses");
        for i in 0..10 {
            assert_eq!(s.pop_command_upto(9).unwrap().at, i);
        }
        assert!(s.pop_command_upto(9).is_none(), "stops at the seal");
        for i in 10..COMMAND_CAPACITY as u64 {
            assert_eq!(s.pop_command_upto(u64::MAX).unwrap().at, i);
        }
        assert!(s.pop_command_upto(u64::MAX).is_none());
    }

    #[test]
    fn seals_are_found_only_under_their_block() {
        let s = Slot::create(48_000.0, 64, 1, 2).unwrap();
        assert_eq!(s.seal(3), None);
        s.write_seal(3, 77);
        assert_eq!(s.seal(3), Some(77));
        assert_eq!(s.seal(3 + SEAL_SLOTS as u64), None);
        s.write_seal(3 + SEAL_SLOTS as u64, 78);
        assert_eq!(s.seal(3), None, "overwritten by a later block");
    }

    #[test]
    fn blocks_are_found_only_under_their_index() {
        let s = Slot::create(48_000.0, 64, 1, 2).unwrap();
        let data: Vec<f32> = (0..64).map(|i| i as f32).collect();
        s.write_block(5, &data, 42);
        let mut out = vec![0.0; 64];
        assert!(s.read_block(4, &mut out).is_none());
        assert!(s.read_block(5 + AUDIO_SLOTS as u64, &mut out).is_none());
        assert_eq!(s.read_block(5, &mut out), Some(42));
        assert_eq!(out, data);
        s.reset(0);
        assert!(
            s.read_block(5, &mut out).is_none(),
            "reset empties the ring"
        );
    }

    #[test]
    fn two_thread_stress_keeps_order_and_content() {
        // One writer thread, one reader thread, a million commands through the 4096-cell ring.
        let s = Slot::create(48_000.0, 64, 1, 2).unwrap();
        let writer = s.clone();
        const N: u64 = 1_000_000;
        let t = std::thread::spawn(move || {
            let mut i = 0;
            while i < N {
                if writer.push_command(WireCommand {
                    at: i,
                    value: i as f32,
                    ..Default::default()
                }) {
                    i += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        });
        let mut expect = 0;
        while expect < N {
            match s.pop_command_upto(u64::MAX) {
                Some(c) => {
                    assert_eq!((c.at, c.value), (expect, expect as f32));
                    expect += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        t.join().unwrap();
    }
}
