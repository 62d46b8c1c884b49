//! One-shot sample players: a fixed pool of voices, each playing a sample once from its first
//! frame (or its last, reversed) at a gain and a rate, summed into the patch's output.

use super::bank::{Sample, SampleBank};

/// How many one-shots play at once. One more replaces the one that has played longest (as a
/// voice pool steals its oldest voice).
pub const MAX_SAMPLE_VOICES: usize = 32;

/// The fastest a sample plays, as a rate (4: two octaves up; its negative plays it reversed).
pub const MAX_RATE: f32 = 4.0;

/// One player's state: plain data, restored bit-exactly.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PlayerState {
    /// Playing.
    pub active: bool,
    /// The bank slot played.
    pub slot: u16,
    /// Position in frames (fractional when the rate is not 1).
    pub pos: f64,
    /// Frames advanced per output sample (negative: reversed).
    pub rate: f64,
    /// Linear gain.
    pub gain: f32,
    /// When it started (a counter of starts, for replacing the oldest).
    pub started: u64,
}

/// The pool of one-shot players.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SamplePlayers {
    voices: Vec<PlayerState>,
    starts: u64,
}

impl Default for SamplePlayers {
    fn default() -> Self {
        SamplePlayers {
            voices: vec![PlayerState::default(); MAX_SAMPLE_VOICES],
            starts: 0,
        }
    }
}

impl SamplePlayers {
    /// Starts `sample` at the next sample rendered, at `gain` and `rate` (clamped to
    /// ±[`MAX_RATE`]; a negative rate starts at its last frame, playing backwards). No
    /// allocation. Real-time thread.
    pub fn play(&mut self, sample: &Sample, gain: f32, rate: f32) {
        let rate = f64::from(rate.clamp(-MAX_RATE, MAX_RATE));
        let frames = sample.desc().frames as f64;
        let i = self
            .voices
            .iter()
            .position(|v| !v.active)
            .or_else(|| (0..self.voices.len()).min_by_key(|&i| self.voices[i].started))
            .unwrap_or(0);
        self.starts += 1;
        self.voices[i] = PlayerState {
            active: rate != 0.0 && frames > 0.0,
            slot: sample.desc().slot,
            pos: if rate < 0.0 { frames - 1.0 } else { 0.0 },
            rate,
            gain: if gain.is_finite() { gain } else { 0.0 },
            started: self.starts,
        };
    }

    /// Stops every player of `slot` (its sample is about to go).
    pub fn stop_slot(&mut self, slot: u16) {
        for v in self.voices.iter_mut().filter(|v| v.slot == slot) {
            v.active = false;
        }
    }

    /// How many play now.
    pub fn playing(&self) -> usize {
        self.voices.iter().filter(|v| v.active).count()
    }

    /// Adds every player's next `left.len()` samples into `left` (and `right`, for a stereo
    /// output: a mono sample at √½ in each side, centred; a stereo one side by side; into a
    /// mono output a stereo sample goes as (L + R)·√½). A player whose sample is gone stops.
    /// No allocation. Real-time thread.
    pub fn render(&mut self, bank: &SampleBank, left: &mut [f32], mut right: Option<&mut [f32]>) {
        const HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
        for v in self.voices.iter_mut().filter(|v| v.active) {
            let Some(sample) = bank.get(v.slot) else {
                v.active = false;
                continue;
            };
            let frames = sample.desc().frames as f64;
            let stereo_in = sample.desc().channels == 2;
            for k in 0..left.len() {
                if v.pos < 0.0 || v.pos > frames - 1.0 {
                    v.active = false;
                    break;
                }
                let (l, r) = if stereo_in {
                    (sample.read(v.pos, 0), sample.read(v.pos, 1))
                } else {
                    let x = sample.read(v.pos, 0);
                    (x, x)
                };
                match right.as_deref_mut() {
                    Some(right) if stereo_in => {
                        left[k] += l * v.gain;
                        right[k] += r * v.gain;
                    }
                    Some(right) => {
                        left[k] += l * v.gain * HALF;
                        right[k] += l * v.gain * HALF;
                    }
                    None if stereo_in => left[k] += (l + r) * HALF * v.gain,
                    None => left[k] += l * v.gain,
                }
                v.pos += v.rate;
            }
        }
    }

    /// The players' state (plain data).
    pub fn state(&self) -> SamplePlayers {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank_with(data: Vec<f32>, channels: u16) -> SampleBank {
        let mut bank = SampleBank::default();
        bank.put(Sample::in_memory(3, channels, data, &[]).expect("a valid sample"));
        bank
    }

    #[test]
    fn at_rate_one_the_frames_come_out_exactly_and_then_silence() {
        let data: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let bank = bank_with(data.clone(), 1);
        let mut players = SamplePlayers::default();
        players.play(bank.get(3).expect("loaded"), 1.0, 1.0);
        let mut out = vec![0.0f32; 128];
        players.render(&bank, &mut out, None);
        assert_eq!(&out[..100], &data[..]);
        assert!(out[100..].iter().all(|&x| x == 0.0));
        assert_eq!(players.playing(), 0);
    }

    #[test]
    fn reversed_plays_the_last_frame_first() {
        let data: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let bank = bank_with(data, 1);
        let mut players = SamplePlayers::default();
        players.play(bank.get(3).expect("loaded"), 1.0, -1.0);
        let mut out = vec![0.0f32; 12];
        players.render(&bank, &mut out, None);
        assert_eq!(
            &out[..10],
            &[9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
        );
    }

    #[test]
    fn a_ramp_at_half_rate_is_interpolated_on_the_line() {
        let data: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let bank = bank_with(data, 1);
        let mut players = SamplePlayers::default();
        players.play(bank.get(3).expect("loaded"), 1.0, 0.5);
        let mut out = vec![0.0f32; 100];
        players.render(&bank, &mut out, None);
        for (k, &x) in out.iter().enumerate().skip(2).take(90) {
            assert!((x - k as f32 * 0.5).abs() < 1e-4, "{k}: {x}");
        }
    }

    #[test]
    fn a_mono_sample_is_centred_in_a_stereo_output_and_a_stereo_one_kept_apart() {
        let bank = bank_with(vec![1.0; 8], 1);
        let mut players = SamplePlayers::default();
        players.play(bank.get(3).expect("loaded"), 1.0, 1.0);
        let (mut l, mut r) = (vec![0.0f32; 4], vec![0.0f32; 4]);
        players.render(&bank, &mut l, Some(&mut r));
        assert_eq!(l[0], std::f32::consts::FRAC_1_SQRT_2);
        assert_eq!(l, r);
        let bank = bank_with(vec![1.0, -1.0, 1.0, -1.0], 2);
        let mut players = SamplePlayers::default();
        players.play(bank.get(3).expect("loaded"), 0.5, 1.0);
        let (mut l, mut r) = (vec![0.0f32; 2], vec![0.0f32; 2]);
        players.render(&bank, &mut l, Some(&mut r));
        assert_eq!((l, r), (vec![0.5, 0.5], vec![-0.5, -0.5]));
    }

    #[test]
    fn the_pool_replaces_its_oldest_player_and_a_freed_sample_stops() {
        let bank = bank_with(vec![0.1; 10_000], 1);
        let sample = bank.get(3).expect("loaded");
        let mut players = SamplePlayers::default();
        for _ in 0..MAX_SAMPLE_VOICES + 5 {
            players.play(sample, 1.0, 1.0);
        }
        assert_eq!(players.playing(), MAX_SAMPLE_VOICES);
        players.stop_slot(3);
        assert_eq!(players.playing(), 0);
    }
}
