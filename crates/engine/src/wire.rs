//! The one codec for commands through shared memory: the fixed-size [`WireCommand`], what each
//! `kind` means, [`encode`] for every sender and [`decode`] (to a typed [`Wire`]) for the
//! worker. Round trips are tested below.

use crate::sequencer::{SeqAction, SeqTarget};
use crate::{Action, InjectedFault};
use chronus_dsp::ModuleId;

/// What a [`WireCommand`] holds (its `kind` field).
pub(crate) mod kind {
    pub const SET: u32 = 1;
    pub const GATE: u32 = 2;
    pub const SNAPSHOT: u32 = 3;
    pub const PATCH: u32 = 4;
    pub const SEQ: u32 = 5;
    pub const NOTE: u32 = 6;
    pub const VOICES: u32 = 7;
    pub const SAMPLE: u32 = 8;
    pub const EXPRESSION: u32 = 9;
    pub const INJECT_PANIC: u32 = 10;
    pub const INJECT_NAN: u32 = 11;
    pub const INJECT_HANG: u32 = 12;
    pub const INJECT_SLOW: u32 = 13;
    pub const INJECT_SEGV: u32 = 14;
    pub const INJECT_ABORT: u32 = 15;
    pub const INJECT_SPIN: u32 = 16;
    pub const INJECT_LATE: u32 = 17;
}

/// The sequencer's operations (the `flag` of a [`kind::SEQ`] command).
mod seq_op {
    pub const BPM: u8 = 0;
    pub const SWING: u8 = 1;
    pub const RUN: u8 = 2;
    pub const STEP: u8 = 3;
    pub const LENGTH: u8 = 4;
    pub const TARGET_OFF: u8 = 5;
    pub const TARGET_GATE: u8 = 6;
    pub const TARGET_NOTE: u8 = 7;
    pub const TARGET_INST: u8 = 8;
    pub const TARGET_SAMPLE: u8 = 9;
}

/// A command as it travels through shared memory: fixed size, plain data.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub(crate) struct WireCommand {
    /// Engine-wide sequence number (the seals refer to it).
    pub seq: u64,
    /// Sample to take effect at, unless `asap`; the edit id of a [`kind::PATCH`].
    pub at: u64,
    /// One of [`kind`].
    pub kind: u32,
    /// A parameter value, velocity, tempo, swing, or an injected slowness factor.
    pub value: f32,
    /// A module, a step or a length.
    pub module: u16,
    /// A parameter, note, voice count or track.
    pub param: u8,
    /// A gate's state, note on, mono, or the sequencer's operation.
    pub flag: u8,
    /// Take effect at the start of the block whose seal first covers it.
    pub asap: u8,
    pub _pad: u8,
    /// A second module (the envelope of a note track).
    pub module2: u16,
}

/// A decoded [`WireCommand`]: what a worker does with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Wire {
    /// Change the sound, at sample `at` (`None`: at the start of the block it is sealed in).
    Action { at: Option<u64>, action: Action },
    /// Write the renderer's state into the slot's snapshot area.
    Snapshot,
    /// Apply the patch edit with this id (its bytes are in the slot's edit area).
    Patch { id: u64 },
    /// A fault, for tests and demonstrations.
    Inject(InjectedFault),
}

/// Encodes a command; the engine gives it its sequence number when it pushes it.
pub(crate) fn encode(w: Wire) -> WireCommand {
    let mut c = WireCommand::default();
    match w {
        Wire::Action { at, action } => {
            match at {
                Some(a) => c.at = a,
                None => c.asap = 1,
            }
            encode_action(&mut c, action);
        }
        Wire::Snapshot => c.kind = kind::SNAPSHOT,
        Wire::Patch { id } => {
            c.kind = kind::PATCH;
            c.at = id;
        }
        Wire::Inject(f) => {
            c.kind = match f {
                InjectedFault::Panic => kind::INJECT_PANIC,
                InjectedFault::Nan => kind::INJECT_NAN,
                InjectedFault::Hang => kind::INJECT_HANG,
                InjectedFault::Spin => kind::INJECT_SPIN,
                InjectedFault::Slow(n) => {
                    c.value = n as f32;
                    kind::INJECT_SLOW
                }
                InjectedFault::Late(n) => {
                    c.value = n as f32;
                    kind::INJECT_LATE
                }
                InjectedFault::Segv => kind::INJECT_SEGV,
                InjectedFault::Abort => kind::INJECT_ABORT,
            }
        }
    }
    c
}

/// Marks an injected fault as aimed at one worker (`Engine::inject`), not riding to both on
/// a command as a poison does: a worker that passes over a block's commands (its twin failed
/// in that block) still carries it out.
pub(crate) fn aimed(mut c: WireCommand) -> WireCommand {
    c.module = AIMED;
    c
}

/// Whether `c` is an injected fault aimed at one worker (see [`aimed`]).
pub(crate) fn is_aimed(c: &WireCommand) -> bool {
    c.kind >= kind::INJECT_PANIC && c.module == AIMED
}

/// The `module` field of an aimed fault (an injected fault has no module otherwise).
const AIMED: u16 = 1;

fn encode_action(c: &mut WireCommand, action: Action) {
    match action {
        Action::Set {
            module,
            param,
            value,
        } => {
            c.kind = kind::SET;
            c.module = module.0;
            c.param = param;
            c.value = value;
        }
        Action::Gate { module, on } => {
            c.kind = kind::GATE;
            c.module = module.0;
            c.flag = u8::from(on);
        }
        Action::NoteOn {
            note,
            velocity,
            inst,
        } => {
            c.kind = kind::NOTE;
            c.flag = 1;
            c.param = note;
            c.value = velocity;
            c.module2 = encode_inst(inst);
        }
        Action::NoteOff { note, inst } => {
            c.kind = kind::NOTE;
            c.param = note.unwrap_or(0);
            c.module = u16::from(note.is_none());
            c.module2 = encode_inst(inst);
        }
        Action::Voices { count, mono, inst } => {
            c.kind = kind::VOICES;
            c.param = count;
            c.flag = u8::from(mono);
            c.module2 = encode_inst(inst);
        }
        Action::Sustain { on, inst } => {
            c.kind = kind::EXPRESSION;
            c.flag = 0;
            c.param = u8::from(on);
            c.module2 = encode_inst(inst);
        }
        Action::Bend { semitones, inst } => {
            c.kind = kind::EXPRESSION;
            c.flag = 1;
            c.value = semitones;
            c.module2 = encode_inst(inst);
        }
        Action::PlaySample { slot, gain, rate } => {
            // The rate's 32 bits exactly: the high half in `module2`, the low in
            // `param`/`flag`.
            c.kind = kind::SAMPLE;
            c.module = slot;
            c.value = gain;
            let bits = rate.to_bits();
            c.module2 = (bits >> 16) as u16;
            c.param = (bits >> 8) as u8;
            c.flag = bits as u8;
        }
        Action::Seq(a) => {
            c.kind = kind::SEQ;
            let (op, param, module, module2, value) = match a {
                SeqAction::Bpm(b) => (seq_op::BPM, 0, 0, 0, b),
                SeqAction::Swing(s) => (seq_op::SWING, 0, 0, 0, s),
                SeqAction::Run(on) => (seq_op::RUN, u8::from(on), 0, 0, 0.0),
                SeqAction::Step { track, step, code } => {
                    (seq_op::STEP, track, u16::from(step), u16::from(code), 0.0)
                }
                SeqAction::Length { track, len } => (seq_op::LENGTH, track, u16::from(len), 0, 0.0),
                SeqAction::Target { track, target } => match target {
                    SeqTarget::Off => (seq_op::TARGET_OFF, track, 0, 0, 0.0),
                    SeqTarget::Gate(g) => (seq_op::TARGET_GATE, track, g.0, 0, 0.0),
                    SeqTarget::Note { osc, gate } => {
                        (seq_op::TARGET_NOTE, track, osc.0, gate.0, 0.0)
                    }
                    SeqTarget::Inst(inst) => {
                        (seq_op::TARGET_INST, track, encode_inst(inst), 0, 0.0)
                    }
                    SeqTarget::Sample(slot) => (seq_op::TARGET_SAMPLE, track, slot, 0, 0.0),
                },
            };
            c.flag = op;
            c.param = param;
            c.module = module;
            c.module2 = module2;
            c.value = value;
        }
    }
}

/// An instrument (its head module; `None`: the default one) in a command's `module2`: 0 for
/// the default one, the head's id + 1 otherwise.
fn encode_inst(inst: Option<ModuleId>) -> u16 {
    inst.map_or(0, |h| h.0.saturating_add(1))
}

/// The instrument in a command's `module2` (see [`encode_inst`]).
fn decode_inst(v: u16) -> Option<ModuleId> {
    v.checked_sub(1).map(ModuleId)
}

/// Decodes a command; `None` for one no sender makes (an unknown kind or field). Called on a
/// worker's render thread: no allocation.
pub(crate) fn decode(c: &WireCommand) -> Option<Wire> {
    let action = match c.kind {
        kind::SNAPSHOT => return Some(Wire::Snapshot),
        kind::PATCH => return Some(Wire::Patch { id: c.at }),
        kind::INJECT_PANIC => return Some(Wire::Inject(InjectedFault::Panic)),
        kind::INJECT_NAN => return Some(Wire::Inject(InjectedFault::Nan)),
        kind::INJECT_HANG => return Some(Wire::Inject(InjectedFault::Hang)),
        kind::INJECT_SPIN => return Some(Wire::Inject(InjectedFault::Spin)),
        kind::INJECT_SLOW => return Some(Wire::Inject(InjectedFault::Slow(c.value as u32))),
        kind::INJECT_LATE => return Some(Wire::Inject(InjectedFault::Late(c.value as u32))),
        kind::INJECT_SEGV => return Some(Wire::Inject(InjectedFault::Segv)),
        kind::INJECT_ABORT => return Some(Wire::Inject(InjectedFault::Abort)),
        kind::SET => Action::Set {
            module: ModuleId(c.module),
            param: c.param,
            value: c.value,
        },
        kind::GATE => Action::Gate {
            module: ModuleId(c.module),
            on: c.flag != 0,
        },
        kind::NOTE if c.flag != 0 => Action::NoteOn {
            note: c.param,
            velocity: c.value,
            inst: decode_inst(c.module2),
        },
        kind::NOTE => Action::NoteOff {
            note: (c.module == 0).then_some(c.param),
            inst: decode_inst(c.module2),
        },
        kind::VOICES => Action::Voices {
            count: c.param,
            mono: c.flag != 0,
            inst: decode_inst(c.module2),
        },
        kind::EXPRESSION if c.flag == 0 => Action::Sustain {
            on: c.param != 0,
            inst: decode_inst(c.module2),
        },
        kind::EXPRESSION if c.flag == 1 => Action::Bend {
            semitones: c.value,
            inst: decode_inst(c.module2),
        },
        kind::SEQ => Action::Seq(decode_seq(c)?),
        kind::SAMPLE => Action::PlaySample {
            slot: c.module,
            gain: c.value,
            rate: f32::from_bits(
                u32::from(c.module2) << 16 | u32::from(c.param) << 8 | u32::from(c.flag),
            ),
        },
        _ => return None,
    };
    let at = (c.asap == 0).then_some(c.at);
    Some(Wire::Action { at, action })
}

fn decode_seq(c: &WireCommand) -> Option<SeqAction> {
    let track = c.param;
    Some(match c.flag {
        seq_op::BPM => SeqAction::Bpm(c.value),
        seq_op::SWING => SeqAction::Swing(c.value),
        seq_op::RUN => SeqAction::Run(c.param != 0),
        seq_op::STEP => SeqAction::Step {
            track,
            step: u8::try_from(c.module).ok()?,
            code: u8::try_from(c.module2).ok()?,
        },
        seq_op::LENGTH => SeqAction::Length {
            track,
            len: u8::try_from(c.module).ok()?,
        },
        seq_op::TARGET_OFF => SeqAction::Target {
            track,
            target: SeqTarget::Off,
        },
        seq_op::TARGET_GATE => SeqAction::Target {
            track,
            target: SeqTarget::Gate(ModuleId(c.module)),
        },
        seq_op::TARGET_NOTE => SeqAction::Target {
            track,
            target: SeqTarget::Note {
                osc: ModuleId(c.module),
                gate: ModuleId(c.module2),
            },
        },
        seq_op::TARGET_INST => SeqAction::Target {
            track,
            target: SeqTarget::Inst(decode_inst(c.module)),
        },
        seq_op::TARGET_SAMPLE => SeqAction::Target {
            track,
            target: SeqTarget::Sample(c.module),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn module() -> impl Strategy<Value = ModuleId> {
        any::<u16>().prop_map(ModuleId)
    }

    fn seq_action() -> impl Strategy<Value = SeqAction> {
        let target = prop_oneof![
            Just(SeqTarget::Off),
            module().prop_map(SeqTarget::Gate),
            (module(), module()).prop_map(|(osc, gate)| SeqTarget::Note { osc, gate }),
            inst().prop_map(SeqTarget::Inst),
            any::<u16>().prop_map(SeqTarget::Sample),
        ];
        prop_oneof![
            any::<f32>().prop_map(SeqAction::Bpm),
            any::<f32>().prop_map(SeqAction::Swing),
            any::<bool>().prop_map(SeqAction::Run),
            (any::<u8>(), any::<u8>(), any::<u8>())
                .prop_map(|(track, step, code)| SeqAction::Step { track, step, code }),
            (any::<u8>(), any::<u8>()).prop_map(|(track, len)| SeqAction::Length { track, len }),
            (any::<u8>(), target).prop_map(|(track, target)| SeqAction::Target { track, target }),
        ]
    }

    /// An instrument: the default one, or a head module (any id a patch can have).
    fn inst() -> impl Strategy<Value = Option<ModuleId>> {
        proptest::option::of((0u16..1024).prop_map(ModuleId))
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (module(), any::<u8>(), any::<f32>()).prop_map(|(module, param, value)| {
                Action::Set {
                    module,
                    param,
                    value,
                }
            }),
            (module(), any::<bool>()).prop_map(|(module, on)| Action::Gate { module, on }),
            seq_action().prop_map(Action::Seq),
            (any::<u8>(), any::<f32>(), inst()).prop_map(|(note, velocity, inst)| Action::NoteOn {
                note,
                velocity,
                inst
            }),
            (any::<Option<u8>>(), inst()).prop_map(|(note, inst)| Action::NoteOff { note, inst }),
            (any::<u8>(), any::<bool>(), inst()).prop_map(|(count, mono, inst)| Action::Voices {
                count,
                mono,
                inst
            }),
            (any::<u16>(), any::<f32>(), any::<f32>())
                .prop_map(|(slot, gain, rate)| { Action::PlaySample { slot, gain, rate } }),
            (any::<bool>(), inst()).prop_map(|(on, inst)| Action::Sustain { on, inst }),
            (any::<f32>(), inst()).prop_map(|(semitones, inst)| Action::Bend { semitones, inst }),
        ]
    }

    fn wire() -> impl Strategy<Value = Wire> {
        prop_oneof![
            (any::<Option<u64>>(), action()).prop_map(|(at, action)| Wire::Action { at, action }),
            Just(Wire::Snapshot),
            any::<u64>().prop_map(|id| Wire::Patch { id }),
            prop_oneof![
                Just(InjectedFault::Panic),
                Just(InjectedFault::Nan),
                Just(InjectedFault::Hang),
                Just(InjectedFault::Spin),
                (0u32..=1_000_000).prop_map(InjectedFault::Slow),
                (0u32..=1_000_000).prop_map(InjectedFault::Late),
                Just(InjectedFault::Segv),
                Just(InjectedFault::Abort),
            ]
            .prop_map(Wire::Inject),
        ]
    }

    /// Equality that holds NaN payloads equal bit for bit (a NaN value must survive as is).
    fn same(a: &Wire, b: &Wire) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    proptest! {
        #[test]
        fn every_command_survives_the_wire(w in wire()) {
            let back = decode(&encode(w));
            prop_assert!(back.is_some_and(|b| same(&b, &w)), "{w:?} came back as {back:?}");
        }

        #[test]
        fn decoding_any_bytes_never_panics(
            kind in 0u32..20, value in any::<f32>(), module in any::<u16>(),
            module2 in any::<u16>(), param in any::<u8>(), flag in any::<u8>(),
            asap in any::<u8>(), at in any::<u64>(),
        ) {
            let c = WireCommand { kind, value, module, module2, param, flag, asap, at,
                                  ..Default::default() };
            if let Some(w) = decode(&c) {
                // What decodes, encodes back to a command that decodes the same.
                prop_assert!(decode(&encode(w)).is_some_and(|b| same(&b, &w)));
            }
        }
    }

    #[test]
    fn the_layout_is_32_bytes() {
        assert_eq!(std::mem::size_of::<WireCommand>(), 32);
    }

    #[test]
    fn unknown_kinds_and_operations_decode_to_nothing() {
        for kind in [0, 18, u32::MAX] {
            let c = WireCommand {
                kind,
                ..Default::default()
            };
            assert_eq!(decode(&c), None, "kind {kind}");
        }
        let c = WireCommand {
            kind: kind::SEQ,
            flag: seq_op::TARGET_SAMPLE + 1,
            ..Default::default()
        };
        assert_eq!(decode(&c), None);
    }
}
