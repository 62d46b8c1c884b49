//! The step sequencer: patterns of hits, accents and notes played on the sample clock, inside
//! the workers (no timer thread, no drift). Step `k` of a run falls on sample
//! `origin + round(k · samples_per_step)`, computed from the run's origin each time, so step
//! times are exact to the sample for as long as it plays; a tempo change takes effect at the
//! next step, which becomes the new origin. Odd steps are delayed by `swing` of a step.
//!
//! Everything here is plain data and allocation-free: it is part of a worker's state, and two
//! workers fed the same commands fire the same events on the same samples.

use crate::{Action, EngineError};
use chronus_dsp::ModuleId;

/// Tracks of the sequencer.
pub const TRACKS: usize = 4;
/// Most steps in a pattern.
pub const MAX_STEPS: usize = 32;
/// Step codes: a rest.
pub const REST: u8 = 0;
/// Step codes: a hit (the gate opens for half a step).
pub const HIT: u8 = 1;
/// Step codes: an accent (the gate opens for nine tenths of a step).
pub const ACCENT: u8 = 2;
/// Step codes: `NOTE + midi` plays that note (the oscillator's pitch, then a hit).
pub const NOTE: u8 = 128;

/// What a track plays.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SeqTarget {
    /// Nothing.
    Off,
    /// Opens and closes this module's gate.
    Gate(ModuleId),
    /// Sets `osc`'s pitch for note steps and opens and closes `gate`.
    Note {
        /// The oscillator.
        osc: ModuleId,
        /// The envelope.
        gate: ModuleId,
    },
    /// Plays notes on an instrument's voices, by its head module (`None`: the default one): a
    /// note step its note, a hit the track's last note (C4 at first); accents at velocity 1,
    /// the rest at 0.8.
    Inst(Option<ModuleId>),
    /// Plays the sample in this bank slot once per hit (an accent at gain 1, the rest at 0.7);
    /// a note step plays it pitched, its note over C4 (C5: an octave up).
    Sample(u16),
}

/// The note a hit plays on an instrument before the track played a note step.
const HIT_NOTE: u8 = 60;

/// A change to the sequencer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SeqAction {
    /// Tempo in beats (quarter notes) per minute, 20..300; a step is a sixteenth.
    Bpm(f32),
    /// Delay of every odd step, in steps, 0..0.5.
    Swing(f32),
    /// Start (from step 0, now) or stop (open gates close now).
    Run(bool),
    /// One step of a track's pattern.
    Step {
        /// The track.
        track: u8,
        /// The step.
        step: u8,
        /// [`REST`], [`HIT`], [`ACCENT`] or `NOTE + midi`.
        code: u8,
    },
    /// A track's pattern length in steps (1..=32).
    Length {
        /// The track.
        track: u8,
        /// Steps.
        len: u8,
    },
    /// What a track plays.
    Target {
        /// The track.
        track: u8,
        /// The target.
        target: SeqTarget,
    },
}

/// The sequencer's complete state.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sequencer {
    bpm: f32,
    swing: f32,
    running: bool,
    steps: [[u8; MAX_STEPS]; TRACKS],
    lens: [u8; TRACKS],
    targets: [SeqTarget; TRACKS],
    /// Sample of step `base` (the run's start, or the last tempo change).
    origin: u64,
    base: u64,
    /// The next step to fire.
    next: u64,
    /// Samples per step from `origin` on.
    per_step: f64,
    /// A tempo that takes effect at the next step.
    pending_bpm: Option<f32>,
    /// When each track's open gate closes (`u64::MAX`: closed).
    off_at: [u64; TRACKS],
    /// The note each track last played on an instrument (released when its gate closes).
    notes: [u8; TRACKS],
    sample_rate: f64,
}

/// Samples per sixteenth at `bpm`.
fn per_step(bpm: f32, sample_rate: f64) -> f64 {
    sample_rate * 60.0 / f64::from(bpm) / 4.0
}

impl Sequencer {
    /// A stopped sequencer at 120 BPM, every track off and 16 steps of rest.
    pub fn new(sample_rate: f64) -> Self {
        Sequencer {
            bpm: 120.0,
            swing: 0.0,
            running: false,
            steps: [[REST; MAX_STEPS]; TRACKS],
            lens: [16; TRACKS],
            targets: [SeqTarget::Off; TRACKS],
            origin: 0,
            base: 0,
            next: 0,
            per_step: per_step(120.0, sample_rate),
            pending_bpm: None,
            off_at: [u64::MAX; TRACKS],
            notes: [HIT_NOTE; TRACKS],
            sample_rate,
        }
    }

    /// Whether it plays.
    pub fn running(&self) -> bool {
        self.running
    }

    /// While it runs: the step of track 0's pattern that played last, and the pattern's
    /// length (for a meter: "step 5/16"). Never allocates.
    pub fn position(&self) -> Option<(u8, u8)> {
        let len = self.lens[0];
        (self.running && self.next > 0).then(|| (((self.next - 1) % u64::from(len)) as u8, len))
    }

    /// The tempo.
    pub fn bpm(&self) -> f32 {
        self.pending_bpm.unwrap_or(self.bpm)
    }

    /// The swing: how late every odd step is, in steps.
    pub fn swing(&self) -> f32 {
        self.swing
    }

    /// Track `track`'s pattern (its steps' codes, as long as the pattern); empty for a track
    /// that does not exist.
    pub fn pattern(&self, track: usize) -> &[u8] {
        match (self.steps.get(track), self.lens.get(track)) {
            (Some(s), Some(&len)) => &s[..usize::from(len).min(MAX_STEPS)],
            _ => &[],
        }
    }

    /// What track `track` plays.
    pub fn target(&self, track: usize) -> SeqTarget {
        self.targets.get(track).copied().unwrap_or(SeqTarget::Off)
    }

    /// The sample at which step `k` of this run falls.
    fn step_time(&self, k: u64) -> u64 {
        let straight = self.origin + ((k - self.base) as f64 * self.per_step).round() as u64;
        if k % 2 == 1 {
            straight + (f64::from(self.swing) * self.per_step).round() as u64
        } else {
            straight
        }
    }

    /// The next sample at which something happens, if anything will.
    pub fn next_event(&self) -> Option<u64> {
        let gates = self.off_at.iter().copied().min().filter(|&t| t != u64::MAX);
        let step = self.running.then(|| self.step_time(self.next));
        match (gates, step) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Applies a change at sample `now`; `emit` receives the actions it causes right away
    /// (stopping closes open gates).
    pub fn apply(&mut self, action: SeqAction, now: u64, mut emit: impl FnMut(Action)) {
        match action {
            SeqAction::Bpm(b) => {
                let b = b.clamp(20.0, 300.0);
                if self.running {
                    self.pending_bpm = Some(b);
                } else {
                    self.bpm = b;
                    self.per_step = per_step(b, self.sample_rate);
                }
            }
            SeqAction::Swing(s) => self.swing = s.clamp(0.0, 0.5),
            SeqAction::Run(true) => {
                if let Some(b) = self.pending_bpm.take() {
                    self.bpm = b;
                }
                self.per_step = per_step(self.bpm, self.sample_rate);
                self.running = true;
                self.origin = now;
                self.base = 0;
                self.next = 0;
            }
            SeqAction::Run(false) => {
                self.running = false;
                for t in 0..TRACKS {
                    if self.off_at[t] != u64::MAX {
                        self.off_at[t] = u64::MAX;
                        self.release(t, &mut emit);
                    }
                }
            }
            SeqAction::Step { track, step, code } => {
                if let Some(s) = self
                    .steps
                    .get_mut(track as usize)
                    .and_then(|t| t.get_mut(step as usize))
                {
                    *s = code;
                }
            }
            SeqAction::Length { track, len } => {
                if let Some(l) = self.lens.get_mut(track as usize) {
                    *l = len.clamp(1, MAX_STEPS as u8);
                }
            }
            SeqAction::Target { track, target } => {
                if let Some(t) = self.targets.get_mut(track as usize) {
                    *t = target;
                }
            }
        }
    }

    /// Fires what is due at sample `now` (at or after [`Sequencer::next_event`]): gates that
    /// close, then the step's hits and notes. `emit` receives the actions in order.
    ///
    /// Anything due in the past fires now: a step that a swing or tempo change moved before
    /// `now`, or that a clock moved on (a restart from a checkpoint) left behind, plays at
    /// once, and steps missed in between are skipped, so the next step to fire is always
    /// after `now` and a caller looping on [`Sequencer::next_event`] always progresses.
    /// Called on a worker's real-time thread: never allocates.
    pub fn fire(&mut self, now: u64, mut emit: impl FnMut(Action)) {
        for t in 0..TRACKS {
            if self.off_at[t] <= now {
                self.off_at[t] = u64::MAX;
                self.release(t, &mut emit);
            }
        }
        if !self.running || self.step_time(self.next) > now {
            return;
        }
        if let Some(b) = self.pending_bpm.take() {
            // The new tempo counts from this step.
            self.origin = now;
            self.base = self.next;
            self.bpm = b;
            self.per_step = per_step(b, self.sample_rate);
        }
        let k = self.next;
        for t in 0..TRACKS {
            let code = self.steps[t][(k % u64::from(self.lens[t])) as usize];
            if code == REST || self.targets[t] == SeqTarget::Off {
                continue;
            }
            if self.off_at[t] != u64::MAX {
                // Still open from a long step: close it to strike again.
                self.release(t, &mut emit);
            }
            match self.targets[t] {
                SeqTarget::Off => {}
                SeqTarget::Gate(g) | SeqTarget::Note { gate: g, .. } => {
                    if let (SeqTarget::Note { osc, .. }, true) = (self.targets[t], code >= NOTE) {
                        let midi = i32::from(code - NOTE);
                        emit(Action::Set {
                            module: osc,
                            param: 0,
                            value: 440.0 * 2f32.powf((midi - 69) as f32 / 12.0),
                        });
                    }
                    emit(Action::Gate {
                        module: g,
                        on: true,
                    });
                }
                SeqTarget::Sample(slot) => {
                    let rate = if code >= NOTE {
                        2f32.powf((f32::from(code - NOTE) - f32::from(HIT_NOTE)) / 12.0)
                    } else {
                        1.0
                    };
                    let gain = if code == ACCENT { 1.0 } else { 0.7 };
                    emit(Action::PlaySample { slot, gain, rate });
                    // A one-shot has nothing to close.
                    continue;
                }
                SeqTarget::Inst(inst) => {
                    if code >= NOTE {
                        self.notes[t] = code - NOTE;
                    }
                    let velocity = if code == ACCENT { 1.0 } else { 0.8 };
                    emit(Action::NoteOn {
                        note: self.notes[t],
                        velocity,
                        inst,
                    });
                }
            }
            let share = if code == ACCENT { 0.9 } else { 0.5 };
            let len = ((self.per_step * share).round() as u64).max(1);
            self.off_at[t] = now + len;
        }
        self.next += 1;
        self.skip_missed(now);
    }

    /// Ends what track `t` plays: closes its gate, or releases its note on its instrument.
    fn release(&self, t: usize, emit: &mut impl FnMut(Action)) {
        match self.targets[t] {
            SeqTarget::Off => {}
            SeqTarget::Gate(g) | SeqTarget::Note { gate: g, .. } => emit(Action::Gate {
                module: g,
                on: false,
            }),
            SeqTarget::Inst(inst) => emit(Action::NoteOff {
                note: Some(self.notes[t]),
                inst,
            }),
            SeqTarget::Sample(_) => {}
        }
    }

    /// Moves `next` past every step that falls at or before `now` (steps missed while the
    /// clock jumped), keeping the pattern in phase with the clock. Constant time.
    fn skip_missed(&mut self, now: u64) {
        if self.step_time(self.next) > now {
            return;
        }
        // The straight step at or before `now`, then at most a few steps on (swing delays odd
        // steps by at most half a step).
        let since = (now - self.origin) as f64 / self.per_step;
        let straight = self.base + since.floor() as u64;
        self.next = self.next.max(straight);
        while self.step_time(self.next) <= now {
            self.next += 1;
        }
    }
}

/// Parses a pattern: 1..32 steps, either a step string (`x.x.X...`: `x` hit, `X` accent, `.`
/// or `-` rest; spaces ignored) or a note list (`C3 . E3 . G3 . C4 .`: notes, `.` rests).
pub fn parse_pattern(text: &str) -> Result<Vec<u8>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_step_string = words
        .iter()
        .all(|w| w.chars().all(|c| matches!(c, 'x' | 'X' | '.' | '-')));
    let steps: Vec<u8> = if is_step_string {
        words
            .concat()
            .chars()
            .map(|c| match c {
                'x' => HIT,
                'X' => ACCENT,
                _ => REST,
            })
            .collect()
    } else {
        words
            .iter()
            .map(|w| match *w {
                "." | "-" | "~" => Ok(REST),
                "x" => Ok(HIT),
                "X" => Ok(ACCENT),
                note => parse_note(note)
                    .map(|m| NOTE + m)
                    .ok_or_else(|| format!("'{note}' is not a note (C3, F#4, Bb2), x, X or .")),
            })
            .collect::<Result<_, _>>()?
    };
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(format!(
            "a pattern has 1..{MAX_STEPS} steps (this one has {})",
            steps.len()
        ));
    }
    Ok(steps)
}

/// A note name (`C4` = 60, `A4` = 69, `F#3`, `Bb2`) as a MIDI number; the octave is needed.
pub(crate) fn parse_note(text: &str) -> Option<u8> {
    chronus_dsp::pitch::parse_note(text, None)
}

/// The actions that make a sequencer as a fresh one: stopped, at 120 BPM without swing, every
/// track silent (16 steps of rest) and playing nothing.
pub fn reset_actions() -> Vec<Action> {
    let fresh = Sequencer::new(48_000.0);
    let mut v = vec![
        Action::Seq(SeqAction::Run(false)),
        Action::Seq(SeqAction::Bpm(fresh.bpm())),
        Action::Seq(SeqAction::Swing(fresh.swing())),
    ];
    for t in 0..TRACKS as u8 {
        let pattern = fresh.pattern(usize::from(t));
        v.extend(pattern_actions(t, pattern).unwrap_or_default());
        v.push(Action::Seq(SeqAction::Target {
            track: t,
            target: SeqTarget::Off,
        }));
    }
    v
}

/// The actions that load `pattern` into `track`: its length, then every step.
pub fn pattern_actions(track: u8, pattern: &[u8]) -> Result<Vec<Action>, EngineError> {
    if usize::from(track) >= TRACKS {
        return Err(EngineError::BadArguments {
            address: "/seq/pattern".into(),
            reason: format!("track {track} does not exist (0..{})", TRACKS - 1),
        });
    }
    let mut v = vec![Action::Seq(SeqAction::Length {
        track,
        len: pattern.len() as u8,
    })];
    v.extend(pattern.iter().enumerate().map(|(i, &code)| {
        Action::Seq(SeqAction::Step {
            track,
            step: i as u8,
            code,
        })
    }));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse() {
        assert_eq!(
            parse_pattern("x.X. x-x.").unwrap(),
            vec![HIT, REST, ACCENT, REST, HIT, REST, HIT, REST]
        );
        assert_eq!(
            parse_pattern("C3 . E3 . G3 . C4 .").unwrap(),
            vec![
                NOTE + 48,
                REST,
                NOTE + 52,
                REST,
                NOTE + 55,
                REST,
                NOTE + 60,
                REST
            ]
        );
        assert!(parse_pattern("").is_err());
        assert!(parse_pattern("C3 H2").is_err());
        assert!(
            parse_pattern("C3000000000").is_err(),
            "an octave too large is no note"
        );
        assert!(parse_pattern(&"x".repeat(33)).is_err());
    }

    #[test]
    fn steps_fall_on_exact_samples_and_tempo_changes_at_the_next_step() {
        let mut s = Sequencer::new(48_000.0);
        let gate = ModuleId(1);
        s.apply(
            SeqAction::Target {
                track: 0,
                target: SeqTarget::Gate(gate),
            },
            0,
            |_| {},
        );
        for k in 0..16 {
            s.apply(
                SeqAction::Step {
                    track: 0,
                    step: k,
                    code: HIT,
                },
                0,
                |_| {},
            );
        }
        s.apply(SeqAction::Run(true), 1_000, |_| {});
        let mut ons = Vec::new();
        while ons.len() < 5 {
            let t = s.next_event().unwrap();
            s.fire(t, |a| {
                if a == (Action::Gate {
                    module: gate,
                    on: true,
                }) {
                    ons.push(t);
                }
            });
        }
        assert_eq!(ons, [1_000, 7_000, 13_000, 19_000, 25_000]);
        // 175 BPM from the next step: steps of 4114.2857 samples, counted from there.
        s.apply(SeqAction::Bpm(175.0), 26_000, |_| {});
        let mut ons = Vec::new();
        while ons.len() < 3 {
            let t = s.next_event().unwrap();
            s.fire(t, |a| {
                if a == (Action::Gate {
                    module: gate,
                    on: true,
                }) {
                    ons.push(t);
                }
            });
        }
        assert_eq!(ons, [31_000, 35_114, 39_229]);
    }
}
