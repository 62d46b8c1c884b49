//! The meter block: what the output plays, measured for people (peak, RMS, a scope of the
//! last samples) and what sounds (notes, the pattern's step), filled by the output stage
//! with relaxed atomic stores — no allocation, no lock — and read by anyone (`/meter`).

use crate::MAX_CHANNELS;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Samples the scope keeps (the last ones played).
pub const SCOPE: usize = 1024;
/// The RMS window's time constant, in seconds.
const RMS_SECONDS: f64 = 0.05;
/// How fast the peak reading falls, in dB per second.
const PEAK_FALL_DB_PER_S: f64 = 20.0;

/// What a worker tells about a block besides its samples (packed in one word of its cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockInfo {
    /// Notes held on the voice pool.
    pub notes_held: u16,
    /// Notes sounding (held, or in their release).
    pub notes_sounding: u16,
    /// The sequencer's last step on track 0 and the pattern's length, while it runs.
    pub step: Option<(u8, u8)>,
}

impl BlockInfo {
    /// As one word.
    pub fn pack(self) -> u64 {
        let (step, len) = self
            .step
            .map_or((0, 0), |(s, l)| (u64::from(s) + 1, u64::from(l)));
        u64::from(self.notes_held) | u64::from(self.notes_sounding) << 16 | step << 32 | len << 40
    }

    /// From one word.
    pub fn unpack(w: u64) -> Self {
        let step = (w >> 32) as u8;
        BlockInfo {
            notes_held: w as u16,
            notes_sounding: (w >> 16) as u16,
            step: (step > 0).then(|| (step - 1, (w >> 40) as u8)),
        }
    }
}

/// A reading of the meter.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterReading {
    /// Peak level, linear (falls by 20 dB/s after a peak).
    pub peak: f32,
    /// RMS level over about the last 50 ms, linear.
    pub rms: f32,
    /// What sounds, from the block last played.
    pub info: BlockInfo,
    /// Channels the output plays.
    pub channels: usize,
    /// Peak level of each channel (the first `channels` count), linear, falling like `peak`.
    pub channel_peaks: [f32; MAX_CHANNELS],
    /// RMS level of each channel, like `rms`.
    pub channel_rms: [f32; MAX_CHANNELS],
}

/// The shared meter block (in [`crate::Metrics`]).
#[derive(Debug)]
pub(crate) struct Meter {
    peak: AtomicU32,
    rms: AtomicU32,
    info: AtomicU64,
    channels: AtomicU32,
    channel_peaks: [AtomicU32; MAX_CHANNELS],
    channel_rms: [AtomicU32; MAX_CHANNELS],
    scope: [AtomicU32; SCOPE],
    /// Samples written to the scope so far.
    scope_pos: AtomicU64,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            peak: AtomicU32::new(0),
            rms: AtomicU32::new(0),
            info: AtomicU64::new(0),
            channels: AtomicU32::new(1),
            channel_peaks: std::array::from_fn(|_| AtomicU32::new(0)),
            channel_rms: std::array::from_fn(|_| AtomicU32::new(0)),
            scope: std::array::from_fn(|_| AtomicU32::new(0)),
            scope_pos: AtomicU64::new(0),
        }
    }
}

impl Meter {
    /// The current reading.
    pub(crate) fn read(&self) -> MeterReading {
        MeterReading {
            peak: f32::from_bits(self.peak.load(Relaxed)),
            rms: f32::from_bits(self.rms.load(Relaxed)),
            info: BlockInfo::unpack(self.info.load(Relaxed)),
            channels: (self.channels.load(Relaxed) as usize).clamp(1, MAX_CHANNELS),
            channel_peaks: std::array::from_fn(|c| {
                f32::from_bits(self.channel_peaks[c].load(Relaxed))
            }),
            channel_rms: std::array::from_fn(|c| f32::from_bits(self.channel_rms[c].load(Relaxed))),
        }
    }

    /// The last `out.len()` (at most [`SCOPE`]) samples played, oldest first. A block written
    /// meanwhile may show half old, half new: it is a picture, not a recording.
    pub(crate) fn scope(&self, out: &mut [f32]) {
        let n = out.len().min(SCOPE);
        let end = self.scope_pos.load(Relaxed);
        for (i, x) in out[..n].iter_mut().enumerate() {
            let at = (end + SCOPE as u64 - n as u64 + i as u64) % SCOPE as u64;
            *x = f32::from_bits(self.scope[at as usize].load(Relaxed));
        }
    }
}

/// The output stage's side of the meter: its running levels. Real-time thread only.
#[derive(Debug)]
pub(crate) struct MeterWriter {
    mean_square: f64,
    peak: f64,
    channel_peaks: [f64; MAX_CHANNELS],
    channel_ms: [f64; MAX_CHANNELS],
    /// Per-block coefficients of the RMS window and the peak's fall.
    smooth: f64,
    fall: f64,
}

impl MeterWriter {
    pub(crate) fn new(sample_rate: f64, block: usize) -> Self {
        let blocks_per_s = sample_rate / block as f64;
        MeterWriter {
            mean_square: 0.0,
            peak: 0.0,
            channel_peaks: [0.0; MAX_CHANNELS],
            channel_ms: [0.0; MAX_CHANNELS],
            smooth: 1.0 - (-1.0 / (RMS_SECONDS * blocks_per_s)).exp(),
            fall: 10f64.powf(-PEAK_FALL_DB_PER_S / 20.0 / blocks_per_s),
        }
    }

    /// Measures the block just played. Called on the output's real-time thread: plain
    /// arithmetic and relaxed atomic stores, no allocation, no lock.
    /// Measures one played block of `channels` channels, planar (`block.len()` is a
    /// multiple of it): the levels over all of them, each channel's peak, the scope of their
    /// mean. Real-time thread: no allocation, relaxed stores only.
    pub(crate) fn publish(&mut self, meter: &Meter, block: &[f32], channels: usize, info: u64) {
        let channels = channels.clamp(1, MAX_CHANNELS);
        let n = block.len() / channels;
        let mut sum = 0.0f64;
        let mut peak = 0.0f32;
        for (c, side) in block.chunks_exact(n.max(1)).take(channels).enumerate() {
            let (mut side_peak, mut side_sum) = (0.0f32, 0.0f64);
            for &x in side {
                side_sum += f64::from(x) * f64::from(x);
                side_peak = side_peak.max(x.abs());
            }
            sum += side_sum;
            peak = peak.max(side_peak);
            let p = &mut self.channel_peaks[c];
            *p = (*p * self.fall).max(f64::from(side_peak));
            meter.channel_peaks[c].store((*p as f32).to_bits(), Relaxed);
            if !side.is_empty() {
                let ms = &mut self.channel_ms[c];
                *ms += (side_sum / side.len() as f64 - *ms) * self.smooth;
                meter.channel_rms[c].store((ms.sqrt() as f32).to_bits(), Relaxed);
            }
        }
        if !block.is_empty() {
            self.mean_square += (sum / block.len() as f64 - self.mean_square) * self.smooth;
        }
        self.peak = (self.peak * self.fall).max(f64::from(peak));
        meter.peak.store((self.peak as f32).to_bits(), Relaxed);
        meter
            .rms
            .store((self.mean_square.sqrt() as f32).to_bits(), Relaxed);
        meter.info.store(info, Relaxed);
        meter.channels.store(channels as u32, Relaxed);
        let start = meter.scope_pos.load(Relaxed);
        let scale = 1.0 / channels as f32;
        for i in 0..n {
            let x = (0..channels).map(|c| block[c * n + i]).sum::<f32>() * scale;
            meter.scope[((start + i as u64) % SCOPE as u64) as usize].store(x.to_bits(), Relaxed);
        }
        meter.scope_pos.store(start + n as u64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_sine_reads_its_peak_and_rms() {
        let meter = Meter::default();
        let mut w = MeterWriter::new(48_000.0, 64);
        let amp = 0.35f32;
        let mut phase = 0.0f64;
        for _ in 0..1_000 {
            let block: Vec<f32> = (0..64)
                .map(|_| {
                    phase += 2.0 * std::f64::consts::PI * 440.0 / 48_000.0;
                    amp * phase.sin() as f32
                })
                .collect();
            w.publish(&meter, &block, 1, 7);
        }
        let r = meter.read();
        assert!((r.peak - amp).abs() < 1e-3, "{r:?}");
        assert!((r.rms - amp / 2f32.sqrt()).abs() < 2e-3, "{r:?}");
        let mut scope = [0.0f32; SCOPE];
        meter.scope(&mut scope);
        assert!(scope.iter().all(|x| x.abs() <= amp) && scope.iter().any(|x| x.abs() > 0.3));
        // Silence after: the RMS window empties within a few time constants, the peak falls
        // 20 dB a second.
        for _ in 0..750 {
            w.publish(&meter, &[0.0; 64], 1, 0);
        }
        let r = meter.read();
        assert!(r.rms < 1e-3, "{r:?}");
        let fallen = 20.0 * (r.peak / amp).log10();
        assert!((fallen + 20.0).abs() < 0.1, "fell {fallen} dB in 1 s");
    }

    #[test]
    fn block_info_round_trips() {
        for info in [
            BlockInfo::default(),
            BlockInfo {
                notes_held: 3,
                notes_sounding: 5,
                step: Some((0, 16)),
            },
            BlockInfo {
                notes_held: 32,
                notes_sounding: 32,
                step: Some((31, 32)),
            },
        ] {
            assert_eq!(BlockInfo::unpack(info.pack()), info);
        }
    }
}
