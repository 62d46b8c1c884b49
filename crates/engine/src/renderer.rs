//! The [`Renderer`]: a patch plus a schedule of stamped commands, rendered sample-accurately.

use crate::{Action, Command, EngineError};
use chronus_dsp::Patch;
use std::collections::VecDeque;

/// How many commands can wait in a renderer's schedule.
pub const SCHEDULE_CAPACITY: usize = 4096;

/// Whether a scheduled command arrived in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// It will take effect at its stamp.
    OnTime,
    /// Its stamp had passed; it takes effect at the next sample rendered.
    Late,
}

/// A renderer's complete state: patch, position and pending commands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RendererState {
    /// The patch's state.
    pub patch: chronus_dsp::PatchState,
    /// The next sample to render.
    pub now: u64,
    /// Commands waiting for their sample, in order.
    pub pending: Vec<Command>,
    /// Commands that failed when applied.
    pub errors: u64,
    /// The step sequencer.
    pub seq: crate::sequencer::Sequencer,
}

impl RendererState {
    /// Encodes the state as bytes: postcard, compressed with LZ4 (its block format, the
    /// decoded length first). A snapshot is mostly free voices and still lines, which are
    /// mostly zeros: compressed, a replacement is sent a few times fewer bytes. Not on a
    /// real-time thread (it allocates).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let plain = postcard::to_stdvec(self).map_err(|e| EngineError::Snapshot {
            reason: e.to_string(),
        })?;
        // The limit a snapshot had before it was compressed, kept: what decodes must fit it.
        if plain.len() > crate::slot::SNAPSHOT_CAPACITY {
            return Err(EngineError::Snapshot {
                reason: format!(
                    "{} bytes, more than the {} a snapshot may hold; free delay memory or instruments",
                    plain.len(),
                    crate::slot::SNAPSHOT_CAPACITY
                ),
            });
        }
        Ok(lz4_flex::compress_prepend_size(&plain))
    }

    /// Decodes a state from bytes made by [`RendererState::to_bytes`]. A decoded length past
    /// what a snapshot may hold (16 MiB) is refused before anything is allocated for it (the
    /// bytes come from another process).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        let bad = |reason: String| EngineError::Snapshot { reason };
        let (len, packed) = lz4_flex::block::uncompressed_size(bytes)
            .map_err(|e| bad(format!("{e}; the snapshot is cut short")))?;
        let most = crate::slot::SNAPSHOT_CAPACITY;
        if len > most {
            return Err(bad(format!(
                "it claims {len} bytes decoded, more than the {most} a snapshot can hold"
            )));
        }
        let plain = lz4_flex::block::decompress(packed, len).map_err(|e| bad(e.to_string()))?;
        postcard::from_bytes(&plain).map_err(|e| bad(e.to_string()))
    }
}

/// Renders a [`Patch`] block by block, applying each scheduled [`Command`] at its exact sample
/// (a block is split at command boundaries).
///
/// Thread contract: [`Renderer::schedule`] and [`Renderer::render`] never allocate (the schedule
/// has a fixed capacity) and may run on a real-time thread.
pub struct Renderer {
    patch: Patch,
    now: u64,
    pending: VecDeque<Command>,
    errors: u64,
    seq: crate::sequencer::Sequencer,
    /// The tempo last told to the patch (`None`: tell it before the next block, as after an
    /// edit, which may have added a module that follows the tempo).
    tempo_told: Option<f32>,
}

impl Renderer {
    /// A renderer at sample 0.
    pub fn new(patch: Patch) -> Self {
        let seq = crate::sequencer::Sequencer::new(patch.sample_rate());
        Renderer {
            patch,
            now: 0,
            pending: VecDeque::with_capacity(SCHEDULE_CAPACITY),
            errors: 0,
            seq,
            tempo_told: None,
        }
    }

    /// A renderer continuing at sample `now` (for a patch restored from a state).
    pub fn resume(patch: Patch, now: u64) -> Self {
        let mut r = Renderer::new(patch);
        r.now = now;
        r
    }

    /// A copy of the complete state (allocates: not for the audio path).
    pub fn state(&self) -> RendererState {
        RendererState {
            patch: self.patch.state(),
            now: self.now,
            pending: self.pending.iter().copied().collect(),
            errors: self.errors,
            seq: self.seq,
        }
    }

    /// A renderer that continues exactly where the one that produced `state` was.
    pub fn from_state(state: &RendererState) -> Result<Self, EngineError> {
        let mut patch = Patch::from_state(&state.patch)?;
        // The samples' memory is not in the state: mapped again from where it is.
        for desc in &state.patch.samples {
            patch.put_sample(crate::samples::map(desc)?);
        }
        let mut r = Renderer::resume(patch, state.now);
        if state.pending.len() > SCHEDULE_CAPACITY {
            return Err(EngineError::ScheduleFull {
                capacity: SCHEDULE_CAPACITY,
            });
        }
        r.pending.extend(state.pending.iter().copied());
        r.errors = state.errors;
        r.seq = state.seq;
        Ok(r)
    }

    /// The index of the next sample to render.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The patch.
    pub fn patch(&self) -> &Patch {
        &self.patch
    }

    /// The patch, for edits between blocks.
    pub fn patch_mut(&mut self) -> &mut Patch {
        self.tempo_told = None;
        &mut self.patch
    }

    /// Commands that failed when applied (e.g. a module removed since they were parsed).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Commands waiting for their sample.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queues a command. Commands with equal stamps apply in the order they were queued.
    /// Never allocates: a full schedule is an error.
    pub fn schedule(&mut self, cmd: Command) -> Result<Timing, EngineError> {
        if self.pending.len() == SCHEDULE_CAPACITY {
            return Err(EngineError::ScheduleFull {
                capacity: SCHEDULE_CAPACITY,
            });
        }
        let (cmd, timing) = if cmd.at < self.now {
            (
                Command {
                    at: self.now,
                    ..cmd
                },
                Timing::Late,
            )
        } else {
            (cmd, Timing::OnTime)
        };
        // Usually appended at the back; search from there.
        let mut i = self.pending.len();
        while i > 0 && self.pending[i - 1].at > cmd.at {
            i -= 1;
        }
        self.pending.insert(i, cmd);
        Ok(timing)
    }

    /// The step sequencer.
    pub fn sequencer(&self) -> &crate::sequencer::Sequencer {
        &self.seq
    }

    /// Applies an action at sample `at` (the sequencer needs to know when it starts).
    fn apply_at(&mut self, action: Action, at: u64) -> Result<(), EngineError> {
        match action {
            Action::Seq(a) => {
                let (patch, errors) = (&mut self.patch, &mut self.errors);
                self.seq.apply(a, at, |e| {
                    if apply_to(patch, e).is_err() {
                        *errors += 1;
                    }
                });
            }
            other => apply_to(&mut self.patch, other)?,
        }
        Ok(())
    }

    /// Applies an action now.
    pub fn apply(&mut self, action: Action) -> Result<(), EngineError> {
        self.apply_at(action, self.now)
    }

    /// Renders the next `out.len()` samples (at most the patch's block size) of one channel
    /// (a stereo patch's downmix), applying scheduled commands at their samples. Never
    /// allocates. Real-time thread (a worker's render loop).
    pub fn render(&mut self, out: &mut [f32]) {
        let n = out.len().min(self.patch.block_size());
        self.render_planar(&mut out[..n], 1);
    }

    /// Renders the next `out.len() / channels` frames into `out`, planar: channel `c` at
    /// `out[c * n..(c + 1) * n]` (at most the patch's block size each). One channel: the
    /// patch's mono output (a stereo patch's downmix); two or more: left and right, and
    /// silence in the channels after them. Applies scheduled commands at their samples.
    /// Never allocates. Real-time thread (a worker's render loop).
    pub fn render_planar(&mut self, out: &mut [f32], channels: usize) {
        let channels = channels.max(1);
        let n = (out.len() / channels).min(self.patch.block_size());
        let out = &mut out[..n * channels];
        if channels > 2 {
            out[2 * n..].fill(0.0);
        }
        let end = self.now + n as u64;
        // Tempo-synced parameters (the delay's `sync`) follow the sequencer's tempo: told when
        // it changes, not every block.
        let bpm = self.seq.bpm();
        if self.tempo_told != Some(bpm) {
            self.patch.set_tempo(bpm);
            self.tempo_told = Some(bpm);
        }
        let mut pos = 0usize;
        loop {
            // The next thing to happen: a command, or a sequencer step or gate (commands first
            // on a tie, so a pattern loaded for a sample plays on it).
            let cmd_at = self.pending.front().map(|c| c.at.max(self.now));
            let seq_at = self.seq.next_event().map(|t| t.max(self.now));
            let at = match (cmd_at, seq_at) {
                (Some(c), Some(s)) => c.min(s),
                (c, s) => match c.or(s) {
                    Some(t) => t,
                    None => break,
                },
            };
            if at >= end {
                break;
            }
            let offset = (at - self.now) as usize;
            if offset > pos {
                self.process_span(out, n, channels, pos..offset);
                pos = offset;
            }
            if cmd_at == Some(at) {
                if let Some(cmd) = self.pending.pop_front() {
                    if self.apply_at(cmd.action, at).is_err() {
                        self.errors += 1;
                    }
                }
            } else {
                let (patch, errors) = (&mut self.patch, &mut self.errors);
                self.seq.fire(at, |e| {
                    if apply_to(patch, e).is_err() {
                        *errors += 1;
                    }
                });
                // Progress: whatever was due at `at` has fired (see `Sequencer::fire`).
                debug_assert!(self.seq.next_event().is_none_or(|t| t > at));
            }
        }
        if pos < n {
            self.process_span(out, n, channels, pos..n);
        }
        self.now = end;
    }

    /// Renders the frames `span` of a planar block of `n` frames.
    fn process_span(
        &mut self,
        out: &mut [f32],
        n: usize,
        channels: usize,
        span: std::ops::Range<usize>,
    ) {
        if channels == 1 {
            self.patch.process(&mut out[span]);
        } else {
            let (left, rest) = out.split_at_mut(n);
            self.patch
                .process_stereo(&mut left[span.clone()], &mut rest[span]);
        }
    }
}

/// Applies an action (other than the sequencer's own) to the patch.
fn apply_to(patch: &mut Patch, action: Action) -> Result<(), EngineError> {
    match action {
        Action::Set {
            module,
            param,
            value,
        } => {
            patch.set_param(module, param, value)?;
        }
        Action::Gate { module, on } => patch.gate(module, on)?,
        Action::NoteOn {
            note,
            velocity,
            inst,
        } => patch.note_on_in(inst, note, velocity)?,
        Action::NoteOff { note, inst } => patch.note_off_in(inst, note)?,
        Action::Voices { count, mono, inst } => {
            let mode = if mono {
                chronus_dsp::VoiceMode::Mono
            } else {
                chronus_dsp::VoiceMode::Poly
            };
            patch.set_voices_in(inst, usize::from(count), mode)?;
        }
        Action::Sustain { on, inst } => patch.sustain_in(inst, on)?,
        Action::Bend { semitones, inst } => patch.bend_in(inst, semitones)?,
        Action::PlaySample { slot, gain, rate } => patch.play_sample(slot, gain, rate)?,
        Action::Seq(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_comes_back_whole_and_bad_bytes_are_refused_not_allocated_for() {
        let mut r = Renderer::new(Patch::default_patch(48_000.0, 64).unwrap());
        let mut out = vec![0.0f32; 64];
        for _ in 0..10 {
            r.render(&mut out);
        }
        let state = r.state();
        let bytes = state.to_bytes().unwrap();
        assert_eq!(RendererState::from_bytes(&bytes).unwrap(), state);
        let plain = postcard::to_stdvec(&state).unwrap().len();
        println!("snapshot: {plain} bytes plain, {} compressed", bytes.len());
        assert!(bytes.len() * 2 < plain, "compression halves it at least");
        // Cut short, at every length: refused, never a panic.
        for cut in 0..bytes.len() {
            assert!(
                RendererState::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        // A decoded length of 4 GiB is refused before it is allocated.
        let mut huge = bytes.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = RendererState::from_bytes(&huge).unwrap_err().to_string();
        assert!(err.contains("more than the"), "{err}");
        // Garbage after a plausible length: refused.
        let mut garbage = bytes.clone();
        for (i, b) in garbage[4..].iter_mut().enumerate() {
            *b = (i * 131 + 7) as u8;
        }
        assert!(RendererState::from_bytes(&garbage).is_err());
    }

    #[test]
    fn a_gate_starts_sound_at_its_exact_sample() {
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let adsr = patch.find("adsr").unwrap();
        let mut r = Renderer::new(patch);
        r.schedule(Command::new(
            1000,
            Action::Gate {
                module: adsr,
                on: true,
            },
        ))
        .unwrap();
        let mut out = vec![0.0f32; 64 * 20];
        for b in out.chunks_mut(64) {
            r.render(b);
        }
        let first = out.iter().position(|&x| x != 0.0).unwrap();
        // The oscillator runs free; the envelope opens at sample 1000 exactly.
        assert_eq!(first, 1000);
        assert_eq!(r.now(), 1280);
    }

    #[test]
    fn a_note_starts_at_its_exact_sample() {
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let mut r = Renderer::new(patch);
        let on = |at, note| {
            Command::new(
                at,
                Action::NoteOn {
                    note,
                    velocity: 1.0,
                    inst: None,
                },
            )
        };
        r.schedule(on(1_003, 60)).unwrap();
        r.schedule(on(1_500, 64)).unwrap();
        r.schedule(Command::new(
            1_700,
            Action::NoteOff {
                note: None,
                inst: None,
            },
        ))
        .unwrap();
        let mut out = vec![0.0f32; 64 * 30];
        for b in out.chunks_mut(64) {
            r.render(b);
        }
        // Silence before the note; the voice's sine starts at phase 0 on sample 1003, so its
        // first non-zero sample is the next one.
        assert!(out[..1_004].iter().all(|&x| x == 0.0));
        assert!(out[1_004] != 0.0);
        assert_eq!(r.errors(), 0);
        assert_eq!(
            r.patch().notes(),
            [
                (60, chronus_dsp::VoicePhase::Released),
                (64, chronus_dsp::VoicePhase::Released)
            ]
        );
    }

    #[cfg(feature = "effects")]
    #[test]
    fn a_synced_delay_follows_the_sequencer_tempo() {
        use crate::sequencer::SeqAction;
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let delay = patch.find("delay").unwrap();
        let time = chronus_dsp::modules::delay::TIME;
        let mut r = Renderer::new(patch);
        r.apply(Action::Set {
            module: delay,
            param: chronus_dsp::modules::delay::SYNC,
            value: 0.25,
        })
        .unwrap();
        r.apply(Action::Set {
            module: delay,
            param: chronus_dsp::modules::delay::MIX,
            value: 0.5,
        })
        .unwrap();
        let mut out = [0.0f32; 64];
        for _ in 0..200 {
            r.render(&mut out);
        }
        assert_eq!(r.patch().effective(delay, time).unwrap(), 500.0);
        r.apply(Action::Seq(SeqAction::Bpm(150.0))).unwrap();
        for _ in 0..200 {
            r.render(&mut out);
        }
        assert_eq!(r.patch().effective(delay, time).unwrap(), 400.0);
        // A respawned worker restores the tempo with the rest.
        let again = Renderer::from_state(&r.state()).unwrap();
        assert_eq!(again.patch().effective(delay, time).unwrap(), 400.0);
    }

    #[test]
    fn late_commands_apply_at_once_and_full_schedule_is_an_error() {
        let patch = Patch::default_patch(48_000.0, 64).unwrap();
        let sine = patch.find("sine").unwrap();
        let mut r = Renderer::new(patch);
        let mut out = [0.0f32; 64];
        r.render(&mut out);
        let set = Action::Set {
            module: sine,
            param: 0,
            value: 220.0,
        };
        assert_eq!(r.schedule(Command::new(3, set)).unwrap(), Timing::Late);
        for i in 0..SCHEDULE_CAPACITY - 1 {
            r.schedule(Command::new(10_000 + i as u64, set)).unwrap();
        }
        assert!(matches!(
            r.schedule(Command::new(1, set)),
            Err(EngineError::ScheduleFull { .. })
        ));
        r.render(&mut out);
        assert_eq!(r.patch().param(sine, 0).unwrap(), 220.0);
    }
}
