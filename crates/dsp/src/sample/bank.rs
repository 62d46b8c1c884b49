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
    /// Where the memory is.
    pub origin: SampleOrigin,
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
    /// A sample over `memory`, which must hold `desc.frames × desc.channels` values and have 1
    /// or 2 channels.
    pub fn new(desc: SampleDesc, memory: Arc<dyn SampleMemory>) -> Result<Sample, crate::DspError> {
        let len = memory.samples().len() as u64;
        if !(1..=2).contains(&desc.channels)
            || desc.frames.checked_mul(u64::from(desc.channels)) != Some(len)
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
        self.memory
            .samples()
            .get(i * ch + c.min(ch - 1))
            .copied()
            .unwrap_or(0.0)
    }

    /// The interleaved data. Real-time thread.
    pub fn samples(&self) -> &[f32] {
        self.memory.samples()
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
