//! The patch's samples and one-shot players: putting samples in and out of the bank, starting
//! one-shots.

use super::*;
use crate::sample::{Sample, SampleBank, SampleDesc};

impl Patch {
    /// Puts a sample in its slot (replacing, and returning, what was there; the players of the
    /// old one stop). Swaps a handle: no allocation, but the caller drops what it gets back,
    /// which may free memory: between blocks.
    pub fn put_sample(&mut self, sample: Sample) -> Option<Sample> {
        let slot = sample.desc().slot;
        let old = self.samples.put(sample);
        if old.is_some() {
            self.players.stop_slot(slot);
        }
        self.attach_samples();
        old
    }

    /// Takes the sample out of `slot` (its players and samplers stop), returning it.
    pub fn take_sample(&mut self, slot: u16) -> Option<Sample> {
        self.players.stop_slot(slot);
        let old = self.samples.take(slot);
        self.attach_samples();
        old
    }

    /// Gives every sampler (and every voice's copy) the sample it names, or none. No
    /// allocation (handles are cloned).
    pub(super) fn attach_samples(&mut self) {
        let bank = &self.samples;
        for node in self.nodes.iter_mut().flatten() {
            node.module.attach_samples(bank);
            node.resting = false;
        }
        for inst in &mut self.instruments {
            inst.pool.attach_samples(bank);
        }
    }

    /// Takes every sample out (for a patch made anew that keeps them, as a reset does).
    pub fn take_samples(&mut self) -> SampleBank {
        std::mem::take(&mut self.samples)
    }

    /// Puts a bank back (see [`Patch::take_samples`]).
    pub fn set_samples(&mut self, bank: SampleBank) {
        self.samples = bank;
        self.attach_samples();
    }

    /// The samples held.
    pub fn sample_descs(&self) -> Vec<SampleDesc> {
        self.samples.descs()
    }

    /// Starts a one-shot of the sample in `slot` at the next sample rendered. No allocation.
    /// Real-time thread.
    pub fn play_sample(&mut self, slot: u16, gain: f32, rate: f32) -> Result<(), DspError> {
        let sample = self.samples.get(slot).ok_or(DspError::NoSample { slot })?;
        self.players.play(sample, gain, rate);
        self.players_idle = false;
        Ok(())
    }

    /// How many one-shots play now.
    pub fn samples_playing(&self) -> usize {
        self.players.playing()
    }

    /// Renders the players' next `n` samples into `played`. Real-time thread.
    pub(super) fn render_players(&mut self, n: usize) {
        self.playing = !self.players_idle && self.players.playing() > 0;
        if !self.playing {
            self.players_idle = true;
            return;
        }
        let (left, right) = self.played.split_at_mut(self.block);
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        let right = if self.stereo {
            Some(&mut right[..n])
        } else {
            None
        };
        self.players.render(&self.samples, &mut left[..n], right);
    }
}
