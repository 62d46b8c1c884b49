//! chronus-midi: MIDI in, made into what chronus plays.
//!
//! Three pure parts, no I/O (the ports are the backends'; the engine is the host's):
//! - [`event`]: bytes to [`MidiEvent`]s — one complete message at a time (a JACK MIDI event),
//!   or a raw byte stream with running status, system real-time bytes inside other messages,
//!   sysex of any length, truncated and stray bytes ([`RawStream`]); what cannot be read is
//!   counted, never a panic.
//! - [`map`]: the [`Mapper`] turns events into [`Control`]s — notes with velocity (a note on
//!   at velocity 0 is a note off), the sustain pedal (CC 64), pitch bend (±2 semitones unless
//!   told), the mod wheel (CC 1, to the LFO's depth unless mapped), all notes / all sound off
//!   (CC 123 / 120), controller maps with a range and a curve, MIDI learn, an instrument per
//!   channel. Its settings ([`MapperState`]) go into sessions.
//! - [`clock`]: the [`ClockFollower`] reads MIDI clock (24 ticks a quarter note) into a tempo,
//!   smoothed so that a jittery clock does not wobble it; start, stop and continue drive the
//!   sequencer.

pub mod clock;
mod error;
pub mod event;
pub mod map;

pub use clock::ClockFollower;
pub use error::MidiError;
pub use event::{decode, Decoded, MidiEvent, RawStream};
pub use map::{CcMap, Control, Curve, Mapper, MapperState, Transport};
