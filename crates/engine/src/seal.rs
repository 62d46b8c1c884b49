//! Sealing blocks: the one decision, per block, of which commands belong to it.
//!
//! A block's seal is the last command sequence number it takes; both workers read the same
//! seal, so they apply the same commands at the same sample whatever their timing. A block
//! is sealed once, with the same value in both slots, and seals never go backwards.
//!
//! Two threads seal. The output, at its tick, seals up to the block the workers may start
//! next (its fallback: that block is never left unsealed when they get room for it). With a
//! seal point past the tick ([`SealAt::Late`], what `chronus run` takes, or
//! [`SealAt::MidPeriod`]) the *sealer* thread seals the following block later in the period:
//! a command sent before that point makes it into that block instead of the next one, which
//! takes that much of a block off the median latency, for as much of the workers' margin
//! (they have `lookahead + 1 - point` periods to render a block instead of `lookahead + 1`).
//! The engine's default is [`SealAt::Tick`], which needs nothing of whoever drives the
//! output; a seal past the tick needs the output driven in real time, a period apart (a
//! backend). See `docs/design.md`, "Seals".
//!
//! The protocol: a sealer reads the published sequence number, then claims the next block
//! with one compare-and-swap on [`Metrics`]' `sealed_through`, and the winner writes that
//! block's seal in both slots. Reading before claiming keeps the seals monotonic (whoever
//! sealed the block before read earlier); the compare-and-swap keeps each block's seal
//! single. No lock, no allocation, no syscall but the wake of a waiting worker.

use crate::metrics::{Metrics, BLOCK_TIMES};
use crate::slot::Slot;
use std::sync::atomic::{AtomicBool, Ordering::*};

/// When the block the workers may start next is sealed: how far into the period after the
/// output's tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SealAt {
    /// At the output's tick, a whole lookahead ahead (the workers' margin: `lookahead + 1`
    /// periods; a command waits for the next tick). The engine's default: it works however
    /// the output is driven (a test calling it in a loop, a real-time backend).
    #[default]
    Tick,
    /// Half a period after the tick, by the sealer thread (margin `lookahead + ½` periods;
    /// the median latency is half a block lower).
    MidPeriod,
    /// Three quarters of a period after the tick, by the sealer thread (margin `lookahead +
    /// ¼` periods; the median latency three quarters of a block lower): `chronus run`'s
    /// default. The workers still have the whole lookahead and a quarter period for a block
    /// (a block of 256 voices renders in a few hundredths of a period), and their burst of
    /// work ends well before the next tick.
    Late,
}

impl SealAt {
    /// Where in the period the block is sealed, in eighths of a period after the tick.
    pub fn eighths(self) -> u64 {
        match self {
            SealAt::Tick => 0,
            SealAt::MidPeriod => 4,
            SealAt::Late => 6,
        }
    }

    /// The lowest latency a command can have, in blocks, besides the device's buffer: the
    /// lookahead and, sealed at the tick, the block the output seals it into; less the part
    /// of that block before a later seal point.
    pub fn least_latency_blocks(self, lookahead: usize) -> f64 {
        lookahead as f64 + 1.0 - self.eighths() as f64 / 8.0
    }

    /// Whether a sealer thread seals (the point is past the tick).
    pub fn has_sealer(self) -> bool {
        self.eighths() > 0
    }
}

/// Seals every block up to `through` not sealed yet, each with the published sequence
/// number as its claimer read it, and wakes a worker waiting for one. Called by the output
/// (its real-time callback) and the sealer thread. Never allocates, never blocks.
pub(crate) fn seal_through(slots: &[Slot; 2], metrics: &Metrics, through: u64) {
    loop {
        let cur = metrics.sealed_through.load(Acquire);
        if cur >= through {
            return;
        }
        // Read first: whoever sealed `cur` read earlier, so seals never go backwards.
        let seq = metrics.published_seq.load(Acquire);
        if metrics
            .sealed_through
            .compare_exchange(cur, cur + 1, AcqRel, Acquire)
            .is_ok()
        {
            for slot in slots {
                slot.write_seal(cur + 1, seq);
                slot.wake_waiter();
            }
        }
    }
}

/// The sealer thread's side of a seal point past the tick ([`SealAt::Late`],
/// [`SealAt::MidPeriod`]): each period, that far after the output's tick, seals the block
/// the output's next tick would have.
pub(crate) struct Sealer<'a> {
    slots: &'a [Slot; 2],
    metrics: &'a Metrics,
    period_ns: u64,
    /// From the tick to the seal point, ns.
    point_ns: u64,
}

impl<'a> Sealer<'a> {
    /// A sealer for `slots`, whose blocks last `period_ns`, sealing at `at`.
    pub(crate) fn new(
        slots: &'a [Slot; 2],
        metrics: &'a Metrics,
        period_ns: u64,
        at: SealAt,
    ) -> Self {
        Sealer {
            slots,
            metrics,
            period_ns,
            point_ns: period_ns * at.eighths() / 8,
        }
    }

    /// One look at the clock at `now` (monotonic ns): seals if this period's seal point has
    /// passed, and says until when to sleep. Real-time thread: no allocation, no syscall but
    /// a worker's wake.
    pub(crate) fn step(&self, now: u64) -> u64 {
        let next = self.metrics.played_blocks.load(Acquire);
        // How long to wait before another look when there is nothing to do before a tick.
        let look = self.period_ns / 2;
        if next == 0 {
            // Not playing yet: the first blocks were sealed at the start.
            return now + look;
        }
        // When the output was asked for its latest block (written before `played_blocks`).
        let tick = self.metrics.block_ns[((next - 1) % BLOCK_TIMES) as usize].load(Relaxed);
        let point = tick + self.point_ns;
        // The block the output's next tick would seal (its lookahead, as it reads it).
        let target = next + self.slots[0].lookahead();
        if self.metrics.sealed_through.load(Acquire) >= target {
            // Sealed for this period: until the next one's seal point (or, if the output's
            // next tick is late, another look half a period on).
            return (point + self.period_ns).max(now + look);
        }
        if now < point {
            return point;
        }
        seal_through(self.slots, self.metrics, target);
        (point + self.period_ns).max(now + look)
    }

    /// Runs until `stop`: a real-time thread (SCHED_FIFO between the output and the workers,
    /// when allowed) that sleeps until each seal point.
    pub(crate) fn run(&self, stop: &AtomicBool) {
        crate::rt::try_realtime(crate::rt::SEALER_PRIORITY);
        while !stop.load(Acquire) {
            let until = self.step(crate::rt::monotonic_ns());
            crate::rt::sleep_until(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots() -> [Slot; 2] {
        [
            Slot::create(48_000.0, 64, 1, 2).unwrap(),
            Slot::create(48_000.0, 64, 1, 2).unwrap(),
        ]
    }

    #[test]
    fn two_sealers_racing_seal_each_block_once_the_same_in_both_slots_never_backwards() {
        let (slots, metrics) = (&slots(), &Metrics::default());
        let done = &AtomicBool::new(false);
        // Fewer blocks than the seal ring holds, so every one can be read back.
        const BLOCKS: u64 = 1_000;
        // Each sealer starts once the publisher runs, and goes slowly enough that it
        // publishes between their seals.
        let pause = move || {
            while metrics.published_seq.load(Acquire) == 0 {
                std::hint::spin_loop();
            }
            for _ in 0..200 {
                std::hint::spin_loop();
            }
        };
        std::thread::scope(|s| {
            // The control thread, publishing all along.
            s.spawn(move || {
                let mut seq = 0;
                while !done.load(Relaxed) {
                    seq += 1;
                    metrics.published_seq.store(seq, Release);
                }
            });
            // The output, a block at a time, and the sealer, in strides.
            let output = s.spawn(move || {
                for b in 1..=BLOCKS {
                    pause();
                    seal_through(slots, metrics, b);
                }
            });
            let sealer = s.spawn(move || {
                for b in (3..=BLOCKS).step_by(3) {
                    pause();
                    seal_through(slots, metrics, b);
                }
            });
            output.join().unwrap();
            sealer.join().unwrap();
            done.store(true, Relaxed);
        });
        assert_eq!(metrics.sealed_through.load(Relaxed), BLOCKS);
        let mut last = 0;
        for b in 1..=BLOCKS {
            let (x, y) = (slots[0].seal(b), slots[1].seal(b));
            assert_eq!(x, y, "block {b}: both slots hold the same seal");
            let seq = x.unwrap_or_else(|| panic!("block {b} unsealed"));
            assert!(seq >= last, "block {b}: seal {seq} after {last}");
            last = seq;
        }
        assert!(last > 0, "the publisher ran");
    }

    #[test]
    fn the_sealer_seals_at_mid_period_and_catches_up_after_a_late_wake() {
        let (slots, metrics) = (slots(), Metrics::default());
        // Lookahead 2 (the slots'); blocks of 1,000 ns; 0..=2 sealed at the start.
        metrics.sealed_through.store(2, Relaxed);
        let sealer = Sealer::new(&slots, &metrics, 1_000, SealAt::MidPeriod);
        let tick = |k: u64, at: u64| {
            metrics.block_ns[(k % BLOCK_TIMES) as usize].store(at, Relaxed);
            metrics.played_blocks.store(k + 1, Release);
            // The output's own seal at its tick: the lookahead less one.
            seal_through(&slots, &metrics, k + 1 + 2 - 1);
        };
        let step = |now| assert_no_alloc::assert_no_alloc(|| sealer.step(now));
        assert_eq!(
            step(5),
            505,
            "not playing yet: another look in half a period"
        );
        tick(0, 10_000);
        assert_eq!(metrics.sealed_through.load(Relaxed), 2);
        assert_eq!(step(10_100), 10_500, "before the mid-point: sleep until it");
        assert_eq!(slots[0].seal(3), None);
        metrics.published_seq.store(7, Release);
        assert_eq!(step(10_600), 11_500, "sealed; until the next mid-point");
        assert_eq!((slots[0].seal(3), slots[1].seal(3)), (Some(7), Some(7)));
        assert_eq!(step(11_000), 11_500, "nothing more this period");
        tick(1, 11_000);
        assert_eq!(step(11_200), 11_500);
        metrics.published_seq.store(9, Release);
        assert_eq!(step(11_500), 12_500);
        assert_eq!(slots[1].seal(4), Some(9));
        // Woken late, two ticks on: the output sealed block 5 itself; the sealer seals 6.
        tick(2, 12_000);
        tick(3, 13_000);
        assert_eq!(slots[0].seal(5), Some(9));
        assert_eq!(step(13_900), 14_500);
        assert_eq!(metrics.sealed_through.load(Relaxed), 6);
        // The next tick late: the sealer looks again every half period.
        assert_eq!(step(14_600), 15_100);
        assert_eq!(metrics.sealed_through.load(Relaxed), 6);
        assert_eq!(
            assert_no_alloc::violation_count(),
            0,
            "the sealer allocated"
        );
    }

    #[test]
    fn a_late_sealer_seals_three_quarters_of_a_period_after_the_tick() {
        let (slots, metrics) = (slots(), Metrics::default());
        metrics.sealed_through.store(2, Relaxed);
        let sealer = Sealer::new(&slots, &metrics, 1_000, SealAt::Late);
        metrics.block_ns[0].store(10_000, Relaxed);
        metrics.played_blocks.store(1, Release);
        seal_through(&slots, &metrics, 2);
        let step = |now| assert_no_alloc::assert_no_alloc(|| sealer.step(now));
        assert_eq!(
            step(10_100),
            10_750,
            "before the seal point: sleep until it"
        );
        assert_eq!(step(10_700), 10_750, "not yet");
        assert_eq!(slots[0].seal(3), None);
        metrics.published_seq.store(4, Release);
        assert_eq!(step(10_750), 11_750, "sealed; until the next seal point");
        assert_eq!((slots[0].seal(3), slots[1].seal(3)), (Some(4), Some(4)));
        assert_eq!(
            [SealAt::Tick, SealAt::MidPeriod, SealAt::Late].map(|s| s.least_latency_blocks(2)),
            [3.0, 2.5, 2.25]
        );
        assert!(!SealAt::Tick.has_sealer() && SealAt::Late.has_sealer());
        assert_eq!(assert_no_alloc::violation_count(), 0);
    }
}
