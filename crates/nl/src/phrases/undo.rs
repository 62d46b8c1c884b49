//! "undo", "go back": the settings as they were before the latest phrase.

use super::*;
use crate::Context;

/// A setting that is one number: how to read it from a context, how to send it.
type Setting = (fn(&Context) -> f32, fn(&mut Out<'_>, f32));

/// The settings undo puts back one by one.
const SETTINGS: [Setting; 11] = [
    (|c| c.freq, |o, v| o.freq(v)),
    (|c| c.gain, |o, v| o.gain(v)),
    (|c| c.cutoff, |o, v| o.cutoff(v)),
    (|c| c.q, |o, v| o.q(v)),
    (|c| c.attack, |o, v| o.attack(v)),
    (|c| c.release, |o, v| o.release(v)),
    (|c| c.glide, |o, v| o.glide(v)),
    (|c| c.swing, |o, v| o.swing(v)),
    (|c| c.pan, |o, v| o.pan(v)),
    (|c| c.spread, |o, v| o.spread(v)),
    (|c| c.reverb_width, |o, v| o.reverb_width(v)),
];

/// Sends what takes the synth from the context now to `to`, and makes `to` the context
/// (keeping the history that is left). Notes and chords that sounded are not taken back, nor
/// the sequencer started or stopped: only settings.
pub(super) fn restore(o: &mut Out<'_>, to: &Context) {
    let from = o.ctx.clone();
    if from.a4 != to.a4 {
        o.ctx.a4 = to.a4;
    }
    if from.shape != to.shape {
        o.shape(to.shape);
    }
    for (get, put) in SETTINGS {
        if get(&from) != get(to) {
            put(o, get(to));
        }
    }
    let lfo_changed = from.lfo_target != to.lfo_target
        || from.lfo_rate != to.lfo_rate
        || from.lfo_depth != to.lfo_depth;
    if lfo_changed {
        match &to.lfo_target {
            Some(t) => o.lfo(t, to.lfo_rate, to.lfo_depth),
            None if from.lfo_target.is_some() => o.lfo_off(),
            None => {}
        }
    }
    if (from.reverb_mix, from.reverb_size) != (to.reverb_mix, to.reverb_size) {
        o.reverb(to.reverb_mix, to.reverb_size);
    }
    if (from.delay_mix, from.delay_feedback) != (to.delay_mix, to.delay_feedback) {
        o.echo(to.delay_mix, to.delay_feedback);
    }
    if from.pingpong != to.pingpong {
        o.pingpong(to.pingpong);
    }
    if from.bpm != to.bpm {
        o.push(set("/seq/bpm", to.bpm));
    }
    let history = std::mem::take(&mut o.ctx.history);
    *o.ctx = Context {
        history,
        // What sounds is not undone: the oscillators and chord notes stay as they are.
        oscillators: o.ctx.oscillators,
        voices: o.ctx.voices,
        chord_notes: o.ctx.chord_notes,
        notes: o.ctx.notes,
        ..to.clone()
    };
}
