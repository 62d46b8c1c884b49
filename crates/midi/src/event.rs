//! MIDI bytes to typed events.

use midly::live::{LiveEvent, SystemCommon, SystemRealtime};
use midly::MidiMessage;

/// One MIDI event chronus acts on, or knows to pass over. Channels are 1..=16.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MidiEvent {
    /// A key pressed (velocity 1..=127; a note on at 0 is decoded as [`MidiEvent::NoteOff`]).
    NoteOn {
        /// 1..=16.
        channel: u8,
        /// 0..=127.
        note: u8,
        /// 1..=127.
        velocity: u8,
    },
    /// A key let go.
    NoteOff {
        /// 1..=16.
        channel: u8,
        /// 0..=127.
        note: u8,
    },
    /// A controller moved.
    Control {
        /// 1..=16.
        channel: u8,
        /// 0..=127.
        cc: u8,
        /// 0..=127.
        value: u8,
    },
    /// The pitch wheel, −8192..=8191 (0: centred).
    PitchBend {
        /// 1..=16.
        channel: u8,
        /// −8192..=8191.
        value: i16,
    },
    /// MIDI clock: 24 a quarter note.
    Clock,
    /// Start from the beginning.
    Start,
    /// Go on from where it stopped.
    Continue,
    /// Stop.
    Stop,
    /// A message chronus does not act on (program change, aftertouch, sysex, active
    /// sensing, …): read, and passed over.
    Ignored,
}

/// What one message's bytes were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoded {
    /// A message.
    Event(MidiEvent),
    /// Bytes that are no MIDI message (truncated, a stray data byte, an undefined status).
    Malformed,
}

/// Decodes one complete message (as JACK delivers them: one event, one message). Never
/// panics; allocates nothing.
pub fn decode(bytes: &[u8]) -> Decoded {
    match LiveEvent::parse(bytes) {
        Ok(ev) => Decoded::Event(from_live(ev)),
        Err(_) => Decoded::Malformed,
    }
}

fn from_live(ev: LiveEvent<'_>) -> MidiEvent {
    match ev {
        LiveEvent::Midi { channel, message } => {
            let channel = channel.as_int() + 1;
            match message {
                MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => MidiEvent::NoteOn {
                    channel,
                    note: key.as_int(),
                    velocity: vel.as_int(),
                },
                MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                    MidiEvent::NoteOff {
                        channel,
                        note: key.as_int(),
                    }
                }
                MidiMessage::Controller { controller, value } => MidiEvent::Control {
                    channel,
                    cc: controller.as_int(),
                    value: value.as_int(),
                },
                MidiMessage::PitchBend { bend } => MidiEvent::PitchBend {
                    channel,
                    value: bend.as_int(),
                },
                _ => MidiEvent::Ignored,
            }
        }
        LiveEvent::Realtime(r) => match r {
            SystemRealtime::TimingClock => MidiEvent::Clock,
            SystemRealtime::Start => MidiEvent::Start,
            SystemRealtime::Continue => MidiEvent::Continue,
            SystemRealtime::Stop => MidiEvent::Stop,
            _ => MidiEvent::Ignored,
        },
        LiveEvent::Common(c) => match c {
            SystemCommon::SysEx(_) | SystemCommon::Undefined(..) => MidiEvent::Ignored,
            _ => MidiEvent::Ignored,
        },
    }
}

/// A raw MIDI byte stream (a serial port, ALSA raw MIDI) read into events: running status,
/// system real-time bytes in the middle of other messages, sysex of any length; data bytes
/// with no status before them are counted as stray and passed over.
#[derive(Debug, Default)]
pub struct RawStream {
    stream: midly::stream::MidiStream,
    /// A channel message's status is in effect (running status).
    running: bool,
    /// Inside a sysex (until its end byte, or any other status).
    in_sysex: bool,
    /// Data bytes a system common message still takes.
    common_left: u8,
    stray: u64,
}

impl RawStream {
    /// A stream that has read nothing yet.
    pub fn new() -> Self {
        RawStream::default()
    }

    /// Reads `bytes` (any slicing of the stream gives the same events), calling `each` for
    /// every event completed. Never panics; allocates nothing past the first sysex.
    pub fn feed(&mut self, bytes: &[u8], mut each: impl FnMut(MidiEvent)) {
        for &b in bytes {
            match b {
                // System real-time: anywhere, even inside another message.
                0xF8..=0xFF => {}
                0x80..=0xEF => {
                    (self.running, self.in_sysex, self.common_left) = (true, false, 0);
                }
                0xF0 => (self.running, self.in_sysex, self.common_left) = (false, true, 0),
                0xF1 | 0xF3 => (self.running, self.in_sysex, self.common_left) = (false, false, 1),
                0xF2 => (self.running, self.in_sysex, self.common_left) = (false, false, 2),
                0xF4..=0xF7 => (self.running, self.in_sysex, self.common_left) = (false, false, 0),
                _ if self.running || self.in_sysex => {}
                _ if self.common_left > 0 => self.common_left -= 1,
                _ => {
                    self.stray += 1;
                    continue;
                }
            }
            self.stream.feed(&[b], |ev| each(from_live(ev)));
        }
    }

    /// Data bytes that came with no status to belong to (passed over).
    pub fn stray_bytes(&self) -> u64 {
        self.stray
    }
}
