//! What MIDI events do: the [`Mapper`].

use crate::{MidiError, MidiEvent};
use std::collections::BTreeMap;

/// Controller maps a mapper holds at most.
pub const MAX_MAPS: usize = 128;
/// The pitch wheel's reach, in semitones either way, unless told otherwise.
pub const DEFAULT_BEND_RANGE: f32 = 2.0;
/// The widest bend range.
pub const MAX_BEND_RANGE: f32 = 48.0;
/// The sustain pedal's controller.
pub const CC_SUSTAIN: u8 = 64;
/// The mod wheel's controller.
pub const CC_MOD_WHEEL: u8 = 1;
/// All sound off.
pub const CC_ALL_SOUND_OFF: u8 = 120;
/// All notes off.
pub const CC_ALL_NOTES_OFF: u8 = 123;
/// Where the mod wheel goes unless mapped elsewhere.
pub const MOD_WHEEL_TARGET: &str = "lfo.depth";

/// How a controller's 0..127 is spread over its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Curve {
    /// Evenly.
    #[default]
    Lin,
    /// Evenly in ratio (for frequencies and times: each step the same musical interval).
    Exp,
}

impl Curve {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::Lin => "lin",
            Curve::Exp => "exp",
        }
    }

    /// The curve called `name`.
    pub fn parse(name: &str) -> Result<Curve, MidiError> {
        match name {
            "lin" | "linear" => Ok(Curve::Lin),
            "exp" | "log" => Ok(Curve::Exp),
            _ => Err(MidiError::BadCurve { name: name.into() }),
        }
    }
}

/// A controller bound to a parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CcMap {
    /// `module.param`.
    pub target: String,
    /// The range the controller sweeps (`None`: the parameter's whole range).
    pub range: Option<(f32, f32)>,
    /// How.
    pub curve: Curve,
}

impl CcMap {
    /// A map to `target` (`module.param`) over `range` along `curve`, checked.
    pub fn new(target: &str, range: Option<(f32, f32)>, curve: Curve) -> Result<CcMap, MidiError> {
        let ok_target = target
            .split_once('.')
            .is_some_and(|(m, p)| !m.is_empty() && !p.is_empty() && !p.contains('.'));
        if !ok_target {
            return Err(MidiError::BadTarget {
                target: target.into(),
            });
        }
        if let Some((min, max)) = range {
            let fits = min.is_finite()
                && max.is_finite()
                && (curve == Curve::Lin || (min > 0.0 && max > 0.0));
            if !fits {
                return Err(MidiError::BadRange {
                    min,
                    max,
                    curve: curve.name(),
                });
            }
        }
        Ok(CcMap {
            target: target.into(),
            range,
            curve,
        })
    }

    /// The value for a controller at `position` (0..=1), within this map's range or else
    /// `whole` (the parameter's). An exponential curve over a range that touches 0 or below
    /// is taken as linear.
    pub fn value(&self, position: f32, whole: (f32, f32)) -> f32 {
        let (lo, hi) = self.range.unwrap_or(whole);
        let x = position.clamp(0.0, 1.0);
        match self.curve {
            Curve::Exp if lo > 0.0 && hi > 0.0 => lo * (hi / lo).powf(x),
            _ => lo + (hi - lo) * x,
        }
    }
}

/// The sequencer's transport, from MIDI's real-time messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// From the beginning.
    Start,
    /// On from where it stopped.
    Continue,
    /// Stop.
    Stop,
}

/// What a MIDI event does in chronus.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Play a note (velocity 0..1) on an instrument (`None`: the default one).
    NoteOn {
        /// 0..=127.
        note: u8,
        /// 0..=1.
        velocity: f32,
        /// The channel's instrument.
        instrument: Option<String>,
    },
    /// Let a note go.
    NoteOff {
        /// 0..=127.
        note: u8,
        /// The channel's instrument.
        instrument: Option<String>,
    },
    /// Every note of the instrument let go (all notes off, all sound off).
    AllNotesOff {
        /// The channel's instrument.
        instrument: Option<String>,
    },
    /// The sustain pedal.
    Sustain {
        /// Down.
        on: bool,
        /// The channel's instrument.
        instrument: Option<String>,
    },
    /// Pitch bend in semitones.
    Bend {
        /// Semitones.
        semitones: f32,
        /// The channel's instrument.
        instrument: Option<String>,
    },
    /// A mapped controller moved: the parameter's value is `map.value(position, …)`.
    Set {
        /// The map.
        map: CcMap,
        /// 0..=1.
        position: f32,
    },
    /// The sequencer's transport.
    Transport(Transport),
    /// The tempo a MIDI clock keeps (BPM).
    Tempo(f32),
    /// MIDI learn bound a controller.
    Learned {
        /// The controller moved.
        cc: u8,
        /// What it now moves.
        map: CcMap,
    },
}

/// A mapper's settings: what a session keeps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MapperState {
    /// The pitch wheel's reach, in semitones either way.
    pub bend_range: f32,
    /// Controller maps.
    pub maps: BTreeMap<u8, CcMap>,
    /// An instrument per channel (1..=16); the default one for the others.
    pub channels: BTreeMap<u8, String>,
}

impl Default for MapperState {
    fn default() -> Self {
        let mut maps = BTreeMap::new();
        maps.insert(
            CC_MOD_WHEEL,
            CcMap {
                target: MOD_WHEEL_TARGET.into(),
                range: None,
                curve: Curve::Lin,
            },
        );
        MapperState {
            bend_range: DEFAULT_BEND_RANGE,
            maps,
            channels: BTreeMap::new(),
        }
    }
}

/// Turns MIDI events into [`Control`]s; holds the maps, the bend range, the channels'
/// instruments and a pending learn.
#[derive(Debug, Clone, Default)]
pub struct Mapper {
    state: MapperState,
    learn: Option<CcMap>,
}

impl Mapper {
    /// The defaults: bend ±2 semitones, the mod wheel on `lfo.depth`, every channel on the
    /// default instrument.
    pub fn new() -> Self {
        Mapper::default()
    }

    /// Its settings.
    pub fn state(&self) -> &MapperState {
        &self.state
    }

    /// Takes `state`'s settings (a session's), checked.
    pub fn restore(&mut self, state: MapperState) -> Result<(), MidiError> {
        check_bend_range(state.bend_range)?;
        if state.maps.len() > MAX_MAPS {
            return Err(MidiError::TooManyMaps { max: MAX_MAPS });
        }
        for (&cc, m) in &state.maps {
            check_cc(i64::from(cc))?;
            CcMap::new(&m.target, m.range, m.curve)?;
        }
        for &ch in state.channels.keys() {
            check_channel(i64::from(ch))?;
        }
        self.state = state;
        self.learn = None;
        Ok(())
    }

    /// Binds controller `cc` (0..=127) to a parameter (replacing what it was bound to).
    pub fn map(&mut self, cc: i64, map: CcMap) -> Result<(), MidiError> {
        let cc = check_cc(cc)?;
        if !self.state.maps.contains_key(&cc) && self.state.maps.len() >= MAX_MAPS {
            return Err(MidiError::TooManyMaps { max: MAX_MAPS });
        }
        self.state.maps.insert(cc, map);
        Ok(())
    }

    /// Unbinds controller `cc`.
    pub fn unmap(&mut self, cc: i64) -> Result<CcMap, MidiError> {
        let cc = check_cc(cc)?;
        self.state
            .maps
            .remove(&cc)
            .ok_or(MidiError::NotMapped { cc })
    }

    /// The next controller moved (other than the pedal and the all-off ones) is bound to
    /// `map`.
    pub fn learn(&mut self, map: CcMap) {
        self.learn = Some(map);
    }

    /// The map waiting for a controller to move, if any.
    pub fn learning(&self) -> Option<&CcMap> {
        self.learn.as_ref()
    }

    /// How far the pitch wheel bends, in semitones either way (0..=48).
    pub fn set_bend_range(&mut self, semitones: f32) -> Result<(), MidiError> {
        self.state.bend_range = check_bend_range(semitones)?;
        Ok(())
    }

    /// Plays channel `channel` (1..=16) on `instrument` (`None`: the default one).
    pub fn set_channel(&mut self, channel: i64, instrument: Option<&str>) -> Result<(), MidiError> {
        let ch = check_channel(channel)?;
        match instrument {
            Some(i) => self.state.channels.insert(ch, i.into()),
            None => self.state.channels.remove(&ch),
        };
        Ok(())
    }

    /// What `event` does (nothing, for one chronus passes over).
    pub fn translate(&mut self, event: MidiEvent) -> Option<Control> {
        let inst = |s: &MapperState, ch: u8| s.channels.get(&ch).cloned();
        Some(match event {
            MidiEvent::NoteOn {
                channel,
                note,
                velocity,
            } => Control::NoteOn {
                note,
                velocity: f32::from(velocity) / 127.0,
                instrument: inst(&self.state, channel),
            },
            MidiEvent::NoteOff { channel, note } => Control::NoteOff {
                note,
                instrument: inst(&self.state, channel),
            },
            MidiEvent::PitchBend { channel, value } => {
                // The wheel's ends reach the range exactly either way.
                let reach = if value < 0 { 8192.0 } else { 8191.0 };
                Control::Bend {
                    semitones: f32::from(value) / reach * self.state.bend_range,
                    instrument: inst(&self.state, channel),
                }
            }
            MidiEvent::Control { channel, cc, value } => match cc {
                CC_ALL_SOUND_OFF | CC_ALL_NOTES_OFF => Control::AllNotesOff {
                    instrument: inst(&self.state, channel),
                },
                _ if self.learn.is_some() && cc != CC_SUSTAIN => {
                    let map = self.learn.take()?;
                    if !self.state.maps.contains_key(&cc) && self.state.maps.len() >= MAX_MAPS {
                        return None;
                    }
                    self.state.maps.insert(cc, map.clone());
                    Control::Learned { cc, map }
                }
                _ if self.state.maps.contains_key(&cc) => Control::Set {
                    map: self.state.maps[&cc].clone(),
                    position: f32::from(value) / 127.0,
                },
                CC_SUSTAIN => Control::Sustain {
                    on: value >= 64,
                    instrument: inst(&self.state, channel),
                },
                _ => return None,
            },
            MidiEvent::Start => Control::Transport(Transport::Start),
            MidiEvent::Continue => Control::Transport(Transport::Continue),
            MidiEvent::Stop => Control::Transport(Transport::Stop),
            MidiEvent::Clock | MidiEvent::Ignored => return None,
        })
    }
}

fn check_cc(cc: i64) -> Result<u8, MidiError> {
    u8::try_from(cc)
        .ok()
        .filter(|&c| c <= 127)
        .ok_or(MidiError::BadController { cc })
}

fn check_channel(channel: i64) -> Result<u8, MidiError> {
    u8::try_from(channel)
        .ok()
        .filter(|c| (1..=16).contains(c))
        .ok_or(MidiError::BadChannel { channel })
}

fn check_bend_range(semitones: f32) -> Result<f32, MidiError> {
    if semitones.is_finite() && (0.0..=MAX_BEND_RANGE).contains(&semitones) {
        Ok(semitones)
    } else {
        Err(MidiError::BadBendRange { semitones })
    }
}
