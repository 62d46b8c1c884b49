//! Samples: recorded or synthesised audio that a patch plays back.
//!
//! The data itself is not the patch's: it lives in memory that someone else owns (in chronus,
//! sealed shared memory that both workers map read only), reached through a [`SampleMemory`]
//! handle. The patch holds a fixed table of them ([`SampleBank`], [`MAX_SAMPLES`] entries) and
//! a pool of one-shot players ([`SamplePlayers`]). Its state carries each sample's
//! [`SampleDesc`] (where the memory is, how long, how many channels), never the data.

mod bank;
mod kit;
mod player;

pub use bank::{
    onset_frames, Sample, SampleBank, SampleDesc, SampleMemory, SampleOrigin, MAX_ONSETS,
    MAX_SAMPLES,
};
pub use kit::{basic_kit, KitSound};
pub use player::{PlayerState, SamplePlayers, MAX_RATE, MAX_SAMPLE_VOICES};
