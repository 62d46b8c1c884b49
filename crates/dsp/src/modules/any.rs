//! [`AnyModule`]: a module of any kind held by value, so that a patch keeps its modules in its
//! own memory, next to the nodes that render them (a `Box<dyn Module>` each would be one more
//! allocation anywhere in the heap, and one more cache miss a block for each module of each
//! patch when many patches render).

use super::{adsr::Adsr, bus::Bus, env::Env, filter::Filter, lfo::Lfo};
#[cfg(feature = "effects")]
use super::{delay::Delay, reverb::Reverb};
use super::{noise::Noise, osc::Osc, pan::Pan, sampler::Sampler};
use crate::lanes::{LaneEnd, LaneStage};
use crate::module::{AudioMod, Module, ModuleKind, ModuleState};
use crate::sample::SampleBank;
use crate::{DspError, ParamId, SetOutcome};

/// A module of any kind, by value. It is a [`Module`]: every method is the held module's.
#[expect(
    clippy::large_enum_variant,
    reason = "by value on purpose: a smaller kind leaves part of its place unused, which nothing reads"
)]
pub enum AnyModule {
    /// An oscillator.
    Osc(Osc),
    /// An ADSR envelope.
    Adsr(Adsr),
    /// A biquad filter.
    Filter(Filter),
    /// An LFO.
    Lfo(Lfo),
    /// A panner.
    Pan(Pan),
    /// A bus.
    Bus(Bus),
    /// A noise source.
    Noise(Noise),
    /// A modulation envelope.
    Env(Env),
    /// A sampler.
    Sampler(Sampler),
    /// A delay.
    #[cfg(feature = "effects")]
    Delay(Delay),
    /// A reverb.
    #[cfg(feature = "effects")]
    Reverb(Reverb),
}

/// `$body` with `$m` bound to the held module, whatever its kind.
macro_rules! each {
    ($self:expr, $m:ident => $body:expr) => {
        match $self {
            AnyModule::Osc($m) => $body,
            AnyModule::Adsr($m) => $body,
            AnyModule::Filter($m) => $body,
            AnyModule::Lfo($m) => $body,
            AnyModule::Pan($m) => $body,
            AnyModule::Bus($m) => $body,
            AnyModule::Noise($m) => $body,
            AnyModule::Env($m) => $body,
            AnyModule::Sampler($m) => $body,
            #[cfg(feature = "effects")]
            AnyModule::Delay($m) => $body,
            #[cfg(feature = "effects")]
            AnyModule::Reverb($m) => $body,
        }
    };
}

/// Every method of [`Module`], the provided ones too: each is the held module's own.
impl Module for AnyModule {
    fn kind(&self) -> ModuleKind {
        each!(self, m => m.kind())
    }

    fn set_param(&mut self, param: ParamId, value: f32) -> Result<SetOutcome, DspError> {
        each!(self, m => m.set_param(param, value))
    }

    fn param(&self, param: ParamId) -> Option<f32> {
        each!(self, m => m.param(param))
    }

    fn effective(&self, param: ParamId) -> Option<f32> {
        each!(self, m => m.effective(param))
    }

    fn set_modulation(&mut self, param: ParamId, amount: f32) {
        each!(self, m => m.set_modulation(param, amount))
    }

    fn gate(&mut self, on: bool) -> Result<(), DspError> {
        each!(self, m => m.gate(on))
    }

    fn set_tempo(&mut self, bpm: f32) {
        each!(self, m => m.set_tempo(bpm))
    }

    fn is_idle(&self) -> bool {
        each!(self, m => m.is_idle())
    }

    fn process(&mut self, block: &mut [f32]) {
        each!(self, m => render(m, block))
    }

    fn process_audio(
        &mut self,
        block: &mut [f32],
        right: Option<&mut [f32]>,
        audio: &AudioMod<'_>,
    ) {
        each!(self, m => render_driven(m, block, right, audio))
    }

    fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32], input_stereo: bool) {
        each!(self, m => render_stereo(m, left, right, input_stereo))
    }

    fn skip(&mut self, samples: usize) -> Option<f32> {
        each!(self, m => m.skip(samples))
    }

    fn ignores_input(&self) -> bool {
        each!(self, m => m.ignores_input())
    }

    fn can_ignore_input(&self) -> bool {
        each!(self, m => m.can_ignore_input())
    }

    fn resting(&self, stereo: bool) -> bool {
        each!(self, m => m.resting(stereo))
    }

    fn may_rest(&self) -> bool {
        each!(self, m => m.may_rest())
    }

    fn pass(&mut self, samples: usize) -> bool {
        each!(self, m => m.pass(samples))
    }

    fn begin_lane(&mut self) -> Option<LaneStage<'_>> {
        each!(self, m => m.begin_lane())
    }

    fn end_lane(&mut self, end: LaneEnd) {
        each!(self, m => m.end_lane(end))
    }

    fn state(&self) -> ModuleState {
        each!(self, m => m.state())
    }

    fn restore(&mut self, state: &ModuleState) -> Result<(), DspError> {
        each!(self, m => m.restore(state))
    }

    fn reset(&mut self) {
        each!(self, m => m.reset())
    }

    fn attach_samples(&mut self, bank: &SampleBank) {
        each!(self, m => m.attach_samples(bank))
    }

    fn memory_bytes(&self) -> usize {
        each!(self, m => m.memory_bytes())
    }
}

// A block's work: each kind's in a function of its own, as it was behind a `dyn Module`, not
// every kind's loops inlined into one large match.

/// `m.process(block)`, out of line. Real-time thread.
#[inline(never)]
fn render<M: Module>(m: &mut M, block: &mut [f32]) {
    m.process(block);
}

/// `m.process_audio(block, right, audio)`, out of line. Real-time thread.
#[inline(never)]
fn render_driven<M: Module>(
    m: &mut M,
    block: &mut [f32],
    right: Option<&mut [f32]>,
    audio: &AudioMod<'_>,
) {
    m.process_audio(block, right, audio);
}

/// `m.process_stereo(left, right, input_stereo)`, out of line. Real-time thread.
#[inline(never)]
fn render_stereo<M: Module>(m: &mut M, left: &mut [f32], right: &mut [f32], input_stereo: bool) {
    m.process_stereo(left, right, input_stereo);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind held by value answers and renders as the same kind in a box: each method
    /// reaches the held module (a provided method left out would answer the trait's default).
    #[test]
    fn a_held_module_is_the_boxed_one_to_the_bit() {
        let (sr, block) = (48_000.0, 64);
        let input: Vec<f32> = (0..block)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 9.0)
            .collect();
        for &kind in ModuleKind::ALL {
            for stereo in [false, true] {
                let mut boxed = kind.build_for(sr, block, stereo).unwrap();
                let mut held = kind.build_held(sr, block, stereo).unwrap();
                let same = |a: &dyn Module, b: &dyn Module, when: &str| {
                    assert_eq!(a.kind(), b.kind(), "{kind:?} {when}");
                    assert_eq!(a.state(), b.state(), "{kind:?} {when}: state");
                    assert_eq!(a.is_idle(), b.is_idle(), "{kind:?} {when}: is_idle");
                    assert_eq!(a.ignores_input(), b.ignores_input(), "{kind:?} {when}");
                    assert_eq!(
                        a.can_ignore_input(),
                        b.can_ignore_input(),
                        "{kind:?} {when}"
                    );
                    assert_eq!(a.resting(stereo), b.resting(stereo), "{kind:?} {when}");
                    assert_eq!(a.may_rest(), b.may_rest(), "{kind:?} {when}: may_rest");
                    assert_eq!(a.memory_bytes(), b.memory_bytes(), "{kind:?} {when}");
                    for p in 0..kind.params().len() as ParamId {
                        assert_eq!(a.param(p), b.param(p), "{kind:?} {when}: param {p}");
                        assert_eq!(a.effective(p), b.effective(p), "{kind:?} {when}: {p}");
                    }
                };
                same(&*boxed, &held, "built");
                for m in [&mut *boxed, &mut held as &mut dyn Module] {
                    m.set_tempo(97.0);
                    m.set_modulation(0, 0.25);
                    if kind.gateable() {
                        m.gate(true).unwrap();
                    }
                }
                let render = |m: &mut dyn Module, k: usize| {
                    let (mut l, mut r) = (input.clone(), input.clone());
                    match k % 3 {
                        0 => m.process(&mut l),
                        1 => m.process_stereo(&mut l, &mut r, stereo),
                        _ => m.process_audio(&mut l, Some(&mut r), &AudioMod::default()),
                    }
                    (l, r)
                };
                for k in 0..12 {
                    let (a, b) = (render(&mut *boxed, k), render(&mut held, k));
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&a.0), bits(&b.0), "{kind:?} block {k}: left");
                    assert_eq!(bits(&a.1), bits(&b.1), "{kind:?} block {k}: right");
                    assert_eq!(boxed.skip(8), held.skip(8), "{kind:?} block {k}: skip");
                    assert_eq!(boxed.pass(8), held.pass(8), "{kind:?} block {k}: pass");
                    same(&*boxed, &held, "rendering");
                }
                if kind.gateable() {
                    boxed.gate(false).unwrap();
                    held.gate(false).unwrap();
                }
                let state = boxed.state();
                boxed.reset();
                held.reset();
                same(&*boxed, &held, "reset");
                boxed.restore(&state).unwrap();
                held.restore(&state).unwrap();
                same(&*boxed, &held, "restored");
            }
        }
    }
}
