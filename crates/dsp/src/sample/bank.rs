//! The table of samples a patch can play, and the handle to each one's memory.

use std::sync::Arc;

/// How many samples a patch holds at once (`/sample/load` refuses one more).
pub const MAX_SAMPLES: usize = 256;

/// Read-only audio memory: interleaved frames of one sample. Implemented by whoever owns the
/// memory (a shared mapping in chronus, a plain `Vec` in tests).
pub trait SampleMemory: Send + Sync {
    /// The interleaved samples (`frames × channels` of them). Called on the audio thread:
    /// must not allocate, lock or block.
    fn samples(&self) -> &[f32];
}

impl SampleMemory for Vec<f32> {
    fn samples(&self) -> &[f32] {
        self
    }
}

/// Where a sample's memory can be found again (by a process that did not map it yet, such as a
/// replacement worker): the process and descriptor it is reached through, and the inode that
/// descriptor must name. Plain data for whoever maps memory; the patch only carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SampleOrigin {
    /// The process holding the descriptor.
    pub pid: u32,
    /// The descriptor, in that process.
    pub fd: i32,
    /// The inode the descriptor must refer to (a reused descriptor number is caught).
    pub ino: u64,
}

/// A sample's description, without its data: what a snapshot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SampleDesc {
    /// Its entry in the bank, `0..MAX_SAMPLES`.
    pub slot: u16,
    /// Frames (samples per channel).
    pub frames: u64,
    /// Channels, 1 or 2.
    pub channels: u16,
    /// Onsets found in it (at most [`MAX_ONSETS`]): their frames follow the audio in its
    /// memory ([`onset_frames`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub onsets: u16,
    /// Where the memory is.
    pub origin: SampleOrigin,
}

/// The most onsets a sample keeps (the most slices a sampler cuts).
pub const MAX_ONSETS: usize = 64;

/// Where notes start in interleaved audio of `channels` at `sample_rate`: the first frame of
/// each onset ([`crate::analysis::onsets`], on the mix of the channels), moved to where that
/// 10 ms frame first reaches a tenth of its peak; at most [`MAX_ONSETS`]. A sample's memory
/// carries them after its audio, each a frame index in an `f32`'s bits. Allocates: at load.
pub fn onset_frames(interleaved: &[f32], channels: u16, sample_rate: f64) -> Vec<u32> {
    let ch = usize::from(channels.max(1));
    let mixed: Vec<f32>;
    let mono: &[f32] = if ch == 1 {
        interleaved
    } else {
        mixed = interleaved
            .chunks(ch)
            .map(|f| f.iter().sum::<f32>() / ch as f32)
            .collect();
        &mixed
    };
    let window = ((sample_rate * 0.01) as usize).max(1);
    crate::analysis::onsets(mono, sample_rate)
        .into_iter()
        .take(MAX_ONSETS)
        .map(|t| {
            let start = ((t * sample_rate).round() as usize).min(mono.len());
            let end = (start + window).min(mono.len());
            let peak = mono[start..end].iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let first = mono[start..end]
                .iter()
                .position(|x| x.abs() >= 0.1 * peak)
                .unwrap_or(0);
            (start + first) as u32
        })
        .collect()
}

/// A sample: its description and a handle to its memory.
#[derive(Clone)]
pub struct Sample {
    desc: SampleDesc,
    memory: Arc<dyn SampleMemory>,
}

impl std::fmt::Debug for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sample").field("desc", &self.desc).finish()
    }
}

impl Sample {
    /// A sample over `memory`, which must hold `desc.frames × desc.channels` values (1 or 2
    /// channels), then its `desc.onsets` onset frames.
    pub fn new(desc: SampleDesc, memory: Arc<dyn SampleMemory>) -> Result<Sample, crate::DspError> {
        let len = memory.samples().len() as u64;
        if !(1..=2).contains(&desc.channels)
            || desc
                .frames
                .checked_mul(u64::from(desc.channels))
                .map(|n| n + u64::from(desc.onsets))
                != Some(len)
            || usize::from(desc.onsets) > MAX_ONSETS
            || usize::from(desc.slot) >= MAX_SAMPLES
        {
            return Err(crate::DspError::BadSample {
                slot: desc.slot,
                frames: desc.frames,
                channels: desc.channels,
                len,
            });
        }
        Ok(Sample { desc, memory })
    }

    /// A sample in plain memory of this process (an offline render, a test): `audio` is
    /// interleaved frames of `channels`, `onsets` its onset frames ([`onset_frames`]).
    pub fn in_memory(
        slot: u16,
        channels: u16,
        audio: Vec<f32>,
        onsets: &[u32],
    ) -> Result<Sample, crate::DspError> {
        let desc = SampleDesc {
            slot,
            frames: (audio.len() / usize::from(channels.max(1))) as u64,
            channels,
            onsets: onsets.len().min(usize::from(u16::MAX)) as u16,
            origin: SampleOrigin::default(),
        };
        let mut memory = audio;
        memory.extend(onsets.iter().map(|&o| f32::from_bits(o)));
        Sample::new(desc, Arc::new(memory))
    }

    /// Its description.
    pub fn desc(&self) -> SampleDesc {
        self.desc
    }

    /// Whether `other` is this very sample (the same description and memory). Real-time
    /// thread.
    pub fn same_memory(&self, other: &Sample) -> bool {
        self.desc == other.desc && Arc::ptr_eq(&self.memory, &other.memory)
    }

    /// Frame `i` of channel `c` (0 past the end). Real-time thread.
    #[inline]
    pub fn at(&self, i: usize, c: usize) -> f32 {
        let ch = self.desc.channels as usize;
        self.samples()
            .get(i * ch + c.min(ch - 1))
            .copied()
            .unwrap_or(0.0)
    }

    /// Channel `c` at fractional frame `pos`: the frame itself when `pos` is whole (bit-exact
    /// playback at rate 1), otherwise a four-point cubic (Catmull-Rom) through the
    /// neighbouring frames, the ends held. Real-time thread.
    #[inline]
    pub fn read(&self, pos: f64, c: usize) -> f32 {
        let i = pos.floor();
        let f = (pos - i) as f32;
        let i = i.max(0.0) as usize;
        let x1 = self.at(i, c);
        if f == 0.0 {
            return x1;
        }
        let last = (self.desc.frames as usize).saturating_sub(1);
        let x0 = self.at(i.saturating_sub(1), c);
        let x2 = self.at((i + 1).min(last), c);
        let x3 = self.at((i + 2).min(last), c);
        let c1 = 0.5 * (x2 - x0);
        let c2 = x0 - 2.5 * x1 + 2.0 * x2 - 0.5 * x3;
        let c3 = 0.5 * (x3 - x0) + 1.5 * (x1 - x2);
        ((c3 * f + c2) * f + c1) * f + x1
    }

    /// The interleaved audio. Real-time thread.
    pub fn samples(&self) -> &[f32] {
        let all = self.memory.samples();
        &all[..all.len() - usize::from(self.desc.onsets)]
    }

    /// Onset `k`'s first frame, if it has that many. Real-time thread.
    #[inline]
    pub fn onset(&self, k: usize) -> Option<u64> {
        let all = self.memory.samples();
        let n = usize::from(self.desc.onsets);
        (k < n).then(|| u64::from(all[all.len() - n + k].to_bits()))
    }

    /// How many onsets it has.
    pub fn onsets(&self) -> usize {
        usize::from(self.desc.onsets)
    }
}

/// The samples a patch holds, by slot. Putting a sample in or taking one out swaps a handle
/// (no allocation); dropping the last handle of a sample frees its memory, which the caller
/// does between blocks.
#[derive(Debug, Clone)]
pub struct SampleBank {
    slots: Vec<Option<Sample>>,
}

impl Default for SampleBank {
    fn default() -> Self {
        SampleBank {
            slots: vec![None; MAX_SAMPLES],
        }
    }
}

impl SampleBank {
    /// The sample in `slot`, if any. Real-time thread.
    #[inline]
    pub fn get(&self, slot: u16) -> Option<&Sample> {
        self.slots.get(usize::from(slot)).and_then(Option::as_ref)
    }

    /// Puts `sample` in its slot; returns what was there.
    pub fn put(&mut self, sample: Sample) -> Option<Sample> {
        let slot = usize::from(sample.desc.slot);
        self.slots[slot].replace(sample)
    }

    /// Takes the sample out of `slot`.
    pub fn take(&mut self, slot: u16) -> Option<Sample> {
        self.slots.get_mut(usize::from(slot)).and_then(Option::take)
    }

    /// The descriptions of every sample held, by slot.
    pub fn descs(&self) -> Vec<SampleDesc> {
        self.slots.iter().flatten().map(Sample::desc).collect()
    }
}
