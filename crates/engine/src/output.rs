//! The output stage: runs inside the backend's real-time callback and picks, for each block
//! index, the active worker's block, or the other worker's when the active one's is missing,
//! late or not finite. No allocation, no lock, no blocking call.

use crate::metrics::{Metrics, BLOCK_TIMES};
use crate::slot::{fault, Slot};
use crate::MAX_CHANNELS;
use chronus_dsp::MAX_BLOCK;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;

/// Where a block came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSource {
    /// The active worker's block.
    Active,
    /// The other worker's block; it is now the active one.
    Failover,
    /// Neither worker had the block: silence was played (an underrun).
    Silence,
}

/// The engine's output, handed to a backend. Call [`Output::render`] once per block from the
/// real-time callback.
pub struct Output {
    slots: [Slot; 2],
    tap: crate::recorder::RecordTap,
    metrics: Arc<Metrics>,
    next: u64,
    block: usize,
    channels: usize,
    /// The standby's copy of the block, for the bit-exact comparison (every channel).
    other: Box<[f32; MAX_BLOCK * MAX_CHANNELS]>,
    meter: crate::meter::MeterWriter,
    /// How far past the next block the output seals at its tick: the lookahead, less one when
    /// the sealer thread seals the last block later in the period (see `seal.rs`).
    seal_lag: u64,
}

impl Output {
    pub(crate) fn new(
        slots: [Slot; 2],
        metrics: Arc<Metrics>,
        block: usize,
        tap: crate::recorder::RecordTap,
        seal: crate::SealAt,
    ) -> Self {
        Output {
            seal_lag: u64::from(seal.has_sealer()),
            tap,
            metrics,
            next: 0,
            meter: crate::meter::MeterWriter::new(slots[0].sample_rate(), block),
            channels: slots[0].channels(),
            slots,
            block,
            other: Box::new([0.0; MAX_BLOCK * MAX_CHANNELS]),
        }
    }

    /// Frames per block: `render` takes this many of every channel.
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// Channels per block (1..=[`crate::MAX_CHANNELS`]).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sample rate of the rendered audio.
    pub fn sample_rate(&self) -> f64 {
        self.slots[0].sample_rate()
    }

    /// Index of the next block to play.
    pub fn next_block(&self) -> u64 {
        self.next
    }

    /// Fills `out` with the next block: [`Output::channels`] channels, planar (channel `c`
    /// at `out[c * n..(c + 1) * n]`, `n` the block size; one channel: the whole of `out`).
    /// Real-time safe: no allocation, no lock; at most one non-blocking futex wake per worker
    /// that waits for room.
    pub fn render(&mut self, out: &mut [f32]) -> BlockSource {
        let n = (out.len() / self.channels).min(self.block);
        let out = &mut out[..n * self.channels];
        let k = self.next;
        // vDSO clock read, no syscall: when the backend asked for this block.
        let now = crate::rt::monotonic_ns();
        if k == 0 && self.metrics.origin_ns.load(Relaxed) == 0 {
            // The sample clock's origin: when the backend asked for the first block.
            self.metrics.origin_ns.store(now, Release);
        }
        self.metrics.block_ns[(k % BLOCK_TIMES) as usize].store(now, Relaxed);
        let active = self.metrics.active.load(Acquire) as usize & 1;
        let standby = active ^ 1;
        let mut info = 0;
        let have_active = self.take(active, k, out);
        let source = if let Some(i) = have_active {
            info = i;
            // Cross-check the standby when it has the block too: divergence is a fault.
            let other = &mut self.other[..out.len()];
            if take(&self.slots[standby], k, other).is_some() {
                let same = out
                    .iter()
                    .zip(other.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                if same {
                    self.metrics.verified_blocks.fetch_add(1, Relaxed);
                } else if self.slots[standby].deferred_block().is_none() {
                    // (A standby that put off commands differs for that reason: the
                    // supervisor settles it.)
                    self.slots[standby].flag_fault(fault::DIVERGED);
                }
            }
            BlockSource::Active
        } else if let Some(i) = self.take(standby, k, out) {
            info = i;
            self.metrics.active.store(standby as u32, Release);
            self.metrics.failovers.fetch_add(1, Relaxed);
            self.metrics
                .last_failover_ns
                .store(crate::rt::monotonic_ns(), Relaxed);
            BlockSource::Failover
        } else {
            out.fill(0.0);
            self.metrics.underruns.fetch_add(1, Relaxed);
            self.metrics.lost_samples.fetch_add(n as u64, Relaxed);
            BlockSource::Silence
        };
        // How far ahead of the output either worker is: the blocks it could fail over to.
        let lead = self
            .slots
            .iter()
            .filter(|s| s.online())
            .map(|s| s.next_block().saturating_sub(k + 1))
            .max();
        self.metrics.note_lead(lead.unwrap_or(0));
        // What is played is what is recorded (silence included), before the block counts as
        // played: a recording stopped after that has it.
        self.tap.push(out, self.channels);
        self.meter
            .publish(&self.metrics.meter, out, self.channels, info);
        self.next = k + 1;
        self.metrics.played_blocks.store(self.next, Release);
        // Make room for the block the workers may now render, and seal it (unless the sealer
        // does: see `seal.rs`): every command published so far belongs to it or an earlier
        // one.
        let through = self.next + self.slots[0].lookahead() - self.seal_lag;
        // Poison containment: while both are online, the standby follows the active worker
        // (it takes a block's commands once the active one has rendered the block with them,
        // and passes over them if it failed there: see `worker::leader_failed_in`).
        let active = self.metrics.active.load(Acquire) as usize & 1;
        let both = self.slots[0].online() && self.slots[1].online();
        self.slots[active].set_follows(false);
        self.slots[active ^ 1].set_follows(both);
        // Room first, then the seal the workers wait for (so that they wake once, at the
        // seal, and find the room there).
        for slot in &self.slots {
            slot.mark_consumed(self.next);
        }
        crate::seal::seal_through(&self.slots, &self.metrics, through);
        source
    }

    fn take(&self, i: usize, k: u64, out: &mut [f32]) -> Option<u64> {
        take(&self.slots[i], k, out)
    }
}

/// Copies the slot's block `k` into `out` if it is online, present and finite; returns the
/// worker's word about it.
fn take(slot: &Slot, k: u64, out: &mut [f32]) -> Option<u64> {
    if !slot.online() {
        return None;
    }
    let info = slot.read_block(k, out)?;
    if out.iter().all(|x| x.is_finite()) {
        Some(info)
    } else {
        slot.flag_fault(fault::NAN);
        None
    }
}
