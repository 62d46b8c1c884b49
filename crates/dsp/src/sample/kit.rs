//! The built-in drum kit (`/kit/load basic`): kick, snare, closed and open hat and clap,
//! synthesised at start from chronus's own parts (its noise generator and its RBJ biquads), so
//! that a beat plays with no sample file at all. Deterministic: the same sounds every time.

use crate::modules::filter::{Coefs, Mode};
use crate::modules::noise::white;

/// One sound of a kit: its name (the sample's name once loaded) and its mono frames.
#[derive(Debug, Clone, PartialEq)]
pub struct KitSound {
    /// `kick`, `snare`, `hat`, `openhat` or `clap`.
    pub name: &'static str,
    /// Mono frames at the rate asked for, peaking below 1.
    pub frames: Vec<f32>,
}

/// The basic kit at `sample_rate`. Allocates (call it off the audio path).
pub fn basic_kit(sample_rate: f64) -> Vec<KitSound> {
    let sr = sample_rate;
    let len = |secs: f64| (secs * sr).round() as usize;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    // Kick: a sine swept from 160 Hz down to 48 Hz, with a short click on top.
    let kick = {
        let mut phase = 0.0f64;
        (0..len(0.45))
            .map(|i| {
                let t = i as f64 / sr;
                let f = 48.0 + 112.0 * (-t / 0.035).exp();
                phase += f / sr;
                let body = (std::f64::consts::TAU * phase).sin() * (-t / 0.16).exp();
                let click = if i < len(0.002) {
                    0.3 * (1.0 - t / 0.002)
                } else {
                    0.0
                };
                (0.9 * body + click) as f32
            })
            .collect()
    };
    // Snare: a 185 Hz body under band-passed noise.
    let snare = {
        let mut bp = Biquad::new(Coefs::rbj(Mode::Bandpass, 3500.0, 0.7, 0.0, sr));
        let mut phase = 0.0f64;
        (0..len(0.25))
            .map(|i| {
                let t = i as f64 / sr;
                phase += 185.0 / sr;
                let body = (std::f64::consts::TAU * phase).sin() * (-t / 0.05).exp();
                let noise = bp.run(white(&mut rng)) * (-t / 0.07).exp();
                (0.45 * body + 0.9 * noise) as f32
            })
            .collect()
    };
    // Hats: high-passed noise, closed short and open long.
    let hat = |secs: f64, decay: f64, rng: &mut u64| -> Vec<f32> {
        let mut hp = Biquad::new(Coefs::rbj(Mode::Highpass, 7000.0, 0.8, 0.0, sr));
        (0..len(secs))
            .map(|i| (0.6 * hp.run(white(rng)) * (-(i as f64 / sr) / decay).exp()) as f32)
            .collect()
    };
    let closed = hat(0.08, 0.018, &mut rng);
    let open = hat(0.5, 0.14, &mut rng);
    // Clap: three quick bursts of band-passed noise and a tail.
    let clap = {
        let mut bp = Biquad::new(Coefs::rbj(Mode::Bandpass, 1200.0, 1.2, 0.0, sr));
        (0..len(0.3))
            .map(|i| {
                let t = i as f64 / sr;
                let burst = (0..3)
                    .map(|k| {
                        let start = k as f64 * 0.011;
                        if t >= start {
                            (-(t - start) / 0.004).exp()
                        } else {
                            0.0
                        }
                    })
                    .fold(0.0f64, f64::max);
                let env =
                    burst.max(0.5 * (-(t - 0.022).max(0.0) / 0.06).exp() * f64::from(t >= 0.022));
                (1.4 * bp.run(white(&mut rng)) * env) as f32
            })
            .collect()
    };
    let mut kit = vec![
        KitSound {
            name: "kick",
            frames: kick,
        },
        KitSound {
            name: "snare",
            frames: snare,
        },
        KitSound {
            name: "hat",
            frames: closed,
        },
        KitSound {
            name: "openhat",
            frames: open,
        },
        KitSound {
            name: "clap",
            frames: clap,
        },
    ];
    // Every sound peaks at -1 dBFS: one level for all, loud, and under the limiter's knee
    // when one plays alone.
    for s in &mut kit {
        let peak = s.frames.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if peak > 0.0 {
            let g = PEAK / peak;
            s.frames.iter_mut().for_each(|x| *x *= g);
        }
    }
    kit
}

/// Where every kit sound peaks (-1 dBFS).
const PEAK: f32 = 0.891;

/// A direct-form-I biquad over [`Coefs`], one sample at a time (the kit is rendered once, off
/// the audio path).
struct Biquad {
    c: Coefs,
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn new(c: Coefs) -> Self {
        Biquad {
            c,
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn run(&mut self, x: f32) -> f64 {
        let x = f64::from(x);
        let c = &self.c;
        let y =
            c.b0 * x + c.b1 * self.x[0] + c.b2 * self.x[1] - c.a1 * self.y[0] - c.a2 * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sound_is_there_loud_enough_and_never_clips() {
        let kit = basic_kit(48_000.0);
        let names: Vec<_> = kit.iter().map(|s| s.name).collect();
        assert_eq!(names, ["kick", "snare", "hat", "openhat", "clap"]);
        for s in &kit {
            let peak = s.frames.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(peak > 0.2 && peak < 1.0, "{}: peak {peak}", s.name);
            assert!(s.frames.iter().all(|x| x.is_finite()));
        }
        assert_eq!(basic_kit(48_000.0), kit, "the same kit every time");
    }

    #[test]
    fn the_kick_is_low_and_the_hat_is_high() {
        let kit = basic_kit(48_000.0);
        let zero_crossings = |x: &[f32]| {
            x.windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count()
        };
        let kick = &kit[0].frames[..4800];
        let hat = &kit[2].frames[..2400];
        // Crossings per second: the kick's body under 200 Hz, the hat's noise above 5 kHz.
        assert!(
            zero_crossings(kick) * 10 / 2 < 200,
            "kick {}",
            zero_crossings(kick)
        );
        assert!(
            zero_crossings(hat) * 20 / 2 > 5000,
            "hat {}",
            zero_crossings(hat)
        );
    }
}
