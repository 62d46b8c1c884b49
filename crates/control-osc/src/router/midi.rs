//! MIDI through the router: events from a MIDI input become the same actions OSC's addresses
//! do (one address table), stamped at the sample they arrived with plus a fixed latency; the
//! `/midi/*` addresses set the mapper (maps, learn, bend range, channels).

use super::*;
use chronus_midi::{CcMap, ClockFollower, Control, Curve, Decoded, Mapper, MidiEvent, Transport};

/// MIDI events a second the router takes (a flood past it is dropped and counted:
/// `midi_rate_limited`). A controller swept by hand sends a few hundred.
pub const MIDI_RATE_LIMIT: u32 = 20_000;

/// The router's MIDI side: the mapper, the clock follower and the flood guard.
pub(crate) struct MidiSide {
    mapper: Mapper,
    clock: Option<ClockFollower>,
    limiter: crate::ratelimit::RateLimiter<()>,
}

impl Default for MidiSide {
    fn default() -> Self {
        MidiSide {
            mapper: Mapper::new(),
            clock: None,
            limiter: crate::ratelimit::RateLimiter::new(MIDI_RATE_LIMIT),
        }
    }
}

impl<S: Synth> Router<S> {
    fn midi_side(&self) -> std::sync::MutexGuard<'_, MidiSide> {
        self.midi.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One MIDI message's bytes, arrived with output sample `at` (`None`: as soon as
    /// possible): decoded, mapped and carried out at `at`. What cannot be read or done is
    /// counted (`midi_malformed`, `midi_refused`, `midi_rate_limited`), never a panic.
    pub fn midi_bytes(&self, bytes: &[u8], at: Option<u64>) {
        match chronus_midi::decode(bytes) {
            Decoded::Event(e) => self.midi_event(e, at),
            Decoded::Malformed => {
                self.stats.midi_malformed.fetch_add(1, Relaxed);
            }
        }
    }

    /// One MIDI event, arrived with output sample `at`: see [`Router::midi_bytes`].
    pub fn midi_event(&self, event: MidiEvent, at: Option<u64>) {
        self.stats.midi_events.fetch_add(1, Relaxed);
        let control = {
            let mut side = self.midi_side();
            if !matches!(
                side.limiter.admit((), Instant::now()),
                crate::ratelimit::Admit::Yes
            ) {
                drop(side);
                self.stats.midi_rate_limited.fetch_add(1, Relaxed);
                return;
            }
            if event == MidiEvent::Clock {
                let sr = self.engine.config().sample_rate;
                let tick_at = at.unwrap_or_else(|| {
                    self.engine
                        .sample_at(chronus_engine::rt::monotonic_ns())
                        .unwrap_or(0)
                });
                match side
                    .clock
                    .get_or_insert_with(|| ClockFollower::new(sr))
                    .tick(tick_at)
                {
                    Some(bpm) => Control::Tempo(bpm),
                    None => return,
                }
            } else {
                match side.mapper.translate(event) {
                    Some(c) => c,
                    None => return,
                }
            }
        };
        if let Err(reason) = self.carry_out_midi(&control, at) {
            self.stats.midi_refused.fetch_add(1, Relaxed);
            tracing::warn!("MIDI: {control:?} not done: {reason}");
        }
    }

    fn carry_out_midi(&self, control: &Control, at: Option<u64>) -> Result<(), String> {
        fn inst(i: &Option<String>) -> Option<Arg<'_>> {
            i.as_deref().map(Arg::Str)
        }
        let (address, args): (String, Vec<Arg<'_>>) = match control {
            Control::NoteOn {
                note,
                velocity,
                instrument,
            } => (
                "/note/on".into(),
                [
                    Some(Arg::Int(i32::from(*note))),
                    Some(Arg::Float(*velocity)),
                    inst(instrument),
                ]
                .into_iter()
                .flatten()
                .collect(),
            ),
            Control::NoteOff { note, instrument } => (
                "/note/off".into(),
                [Some(Arg::Int(i32::from(*note))), inst(instrument)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Control::AllNotesOff { instrument } => {
                ("/note/off".into(), inst(instrument).into_iter().collect())
            }
            Control::Sustain { on, instrument } => (
                "/note/sustain".into(),
                [Some(Arg::Int(i32::from(*on))), inst(instrument)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Control::Bend {
                semitones,
                instrument,
            } => (
                "/note/bend".into(),
                [Some(Arg::Float(*semitones)), inst(instrument)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Control::Set { map, position } => {
                let Some((module, param)) = map.target.split_once('.') else {
                    return Err(format!("'{}' is not module.param", map.target));
                };
                let dir = self.engine.directory();
                let entry = dir.lookup(module).map_err(|e| e.to_string())?;
                let spec = entry
                    .kind
                    .params()
                    .iter()
                    .find(|p| p.name == param)
                    .ok_or_else(|| format!("{module} has no parameter '{param}'"))?;
                let value = map.value(*position, spec.range(dir.sample_rate()));
                (format!("/mod/{module}/{param}"), vec![Arg::Float(value)])
            }
            Control::Tempo(bpm) => ("/seq/bpm".into(), vec![Arg::Float(*bpm)]),
            Control::Transport(t) => (
                match t {
                    Transport::Start | Transport::Continue => "/seq/start",
                    Transport::Stop => "/seq/stop",
                }
                .into(),
                Vec::new(),
            ),
            Control::Learned { cc, map } => {
                tracing::info!("MIDI learn: controller {cc} now moves {}", map.target);
                return Ok(());
            }
        };
        let resolved = self
            .engine
            .resolve_address(&address, &args)
            .map_err(|e| format!("{address}: {e}"))?;
        let (_, timing) = self
            .engine
            .send_together(at, &resolved.actions)
            .map_err(|e| e.to_string())?;
        if timing == Timing::Late {
            // Played at once, later than its stamp: counted, it keeps no exact place.
            self.stats.midi_late.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    /// `/midi/map`, `/midi/unmap`, `/midi/learn`, `/midi/maps`, `/midi/bend`,
    /// `/midi/channel`.
    pub(super) fn plan_midi(&self, verb: &str, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        let mut side = self.midi_side();
        self.set_midi(&mut side.mapper, verb, args, true)
    }

    /// Carries out a `/midi/<verb>` on `mapper`; `live`: the instrument a channel names must
    /// exist now (a session's may be made by the session itself).
    fn set_midi(
        &self,
        mapper: &mut Mapper,
        verb: &str,
        args: &[Arg<'_>],
        live: bool,
    ) -> Result<Plan, Failure> {
        let bad = |e: chronus_midi::MidiError| fail("arguments", e.to_string());
        let reply = |addr: &str, args: Vec<OscType>| Ok(Plan::Reply(vec![msg(addr, args)]));
        let side = &mut *mapper;
        match (verb, args) {
            ("map", [cc, Arg::Str(target), rest @ ..]) => {
                let cc = int_arg(cc).ok_or_else(|| fail("arguments", MAP_USAGE))?;
                let map = cc_map(target, rest)?;
                side.map(cc, map).map_err(bad)?;
                reply("/midi/mapped", vec![OscType::Int(cc as i32), OscType::String((*target).into())])
            }
            ("map", _) => Err(fail("arguments", MAP_USAGE)),
            ("unmap", [cc]) => {
                let cc = int_arg(cc).ok_or_else(|| fail("arguments", "expects <cc 0..127>"))?;
                let was = side.unmap(cc).map_err(bad)?;
                reply("/midi/unmapped", vec![OscType::Int(cc as i32), OscType::String(was.target)])
            }
            ("learn", [Arg::Str(target), rest @ ..]) => {
                let map = cc_map(target, rest)?;
                side.learn(map);
                reply("/midi/learning", vec![OscType::String((*target).into())])
            }
            ("learn", _) => Err(fail(
                "arguments",
                "expects <module.param> [min max [lin|exp]]: the next controller moved is bound to it",
            )),
            ("maps", []) => {
                let mut out = Vec::new();
                for (cc, m) in &side.state().maps {
                    out.push(OscType::Int(i32::from(*cc)));
                    out.push(OscType::String(m.target.clone()));
                    let (lo, hi) = m.range.unwrap_or((f32::NAN, f32::NAN));
                    out.push(OscType::Float(lo));
                    out.push(OscType::Float(hi));
                    out.push(OscType::String(m.curve.name().into()));
                }
                reply("/midi/maps.reply", out)
            }
            ("bend", [v]) => {
                let v = v
                    .as_f32()
                    .ok_or_else(|| fail("arguments", "expects <semitones 0..48>"))?;
                side.set_bend_range(v).map_err(bad)?;
                reply("/midi/bend", vec![OscType::Float(v)])
            }
            ("channel", [ch, Arg::Str(inst)]) => {
                let ch = int_arg(ch)
                    .ok_or_else(|| fail("arguments", "expects <channel 1..16> <instrument|default>"))?;
                let inst = (*inst != "default").then_some(*inst);
                if let Some(i) = inst.filter(|_| live) {
                    self.engine
                        .directory()
                        .instrument(i)
                        .map_err(|e| fail("unknown", e.to_string()))?;
                }
                side.set_channel(ch, inst).map_err(bad)?;
                reply(
                    "/midi/channel",
                    vec![OscType::Int(ch as i32), OscType::String(inst.unwrap_or("default").into())],
                )
            }
            _ => Err(fail(
                "unknown",
                "MIDI addresses: /midi/map, /midi/unmap, /midi/learn, /midi/maps, /midi/bend, /midi/channel (docs/midi.md)",
            )),
        }
    }

    /// The MIDI mapper's settings.
    pub fn midi_state(&self) -> chronus_midi::MapperState {
        self.midi_side().mapper.state().clone()
    }

    /// The MIDI settings as a session's lines (`0 /midi/…`, what differs from the defaults).
    pub fn midi_session_lines(&self) -> String {
        let state = self.midi_state();
        let defaults = chronus_midi::MapperState::default();
        let mut out = String::new();
        for cc in defaults.maps.keys() {
            if !state.maps.contains_key(cc) {
                out.push_str(&format!("0 /midi/unmap {cc}\n"));
            }
        }
        for (cc, m) in &state.maps {
            if defaults.maps.get(cc) == Some(m) {
                continue;
            }
            let range = m
                .range
                .map(|(lo, hi)| format!(" {lo} {hi}"))
                .unwrap_or_default();
            let curve = match m.curve {
                Curve::Lin => "",
                Curve::Exp => " exp",
            };
            out.push_str(&format!("0 /midi/map {cc} {}{range}{curve}\n", m.target));
        }
        if state.bend_range != defaults.bend_range {
            out.push_str(&format!("0 /midi/bend {}\n", state.bend_range));
        }
        for (ch, inst) in &state.channels {
            out.push_str(&format!("0 /midi/channel {ch} \"{inst}\"\n"));
        }
        out
    }

    /// The MIDI settings of a session's lines (`Score::host`): the defaults, then each line.
    /// Checked whole before anything changes; applied with [`Router::take_midi`].
    pub fn midi_from_lines(
        &self,
        lines: &[chronus_engine::score::ScoreEvent],
    ) -> Result<Mapper, String> {
        let mut mapper = Mapper::new();
        for l in lines {
            let verb = l.address.strip_prefix("/midi/").unwrap_or("");
            if !matches!(verb, "map" | "unmap" | "bend" | "channel") {
                return Err(format!(
                    "line {}: {} is no MIDI setting a session keeps (map, unmap, bend, channel)",
                    l.line(),
                    l.address
                ));
            }
            self.set_midi(&mut mapper, verb, &l.args(), false)
                .map_err(|f| format!("line {}: {}: {}", l.line(), l.address, f.reason))?;
        }
        Ok(mapper)
    }

    /// Takes MIDI settings made by [`Router::midi_from_lines`].
    pub fn take_midi(&self, mapper: Mapper) {
        self.midi_side().mapper = mapper;
    }

    /// Takes a session's MIDI settings.
    pub fn restore_midi(
        &self,
        state: chronus_midi::MapperState,
    ) -> Result<(), chronus_midi::MidiError> {
        self.midi_side().mapper.restore(state)
    }
}

const MAP_USAGE: &str =
    "expects <cc 0..127> <module.param> [min max [lin|exp]], e.g. /midi/map 74 filter.cutoff 200 8000 exp";

fn int_arg(a: &Arg<'_>) -> Option<i64> {
    a.as_f32()
        .filter(|v| v.fract() == 0.0 && v.is_finite())
        .map(|v| v as i64)
}

/// `<module.param> [min max [curve]]`.
fn cc_map(target: &str, rest: &[Arg<'_>]) -> Result<CcMap, Failure> {
    let num = |a: &Arg<'_>| a.as_f32().ok_or_else(|| fail("arguments", MAP_USAGE));
    let (range, curve) = match rest {
        [] => (None, Curve::Lin),
        [Arg::Str(c)] => (
            None,
            Curve::parse(c).map_err(|e| fail("arguments", e.to_string()))?,
        ),
        [lo, hi] => (Some((num(lo)?, num(hi)?)), Curve::Lin),
        [lo, hi, Arg::Str(c)] => (
            Some((num(lo)?, num(hi)?)),
            Curve::parse(c).map_err(|e| fail("arguments", e.to_string()))?,
        ),
        _ => return Err(fail("arguments", MAP_USAGE)),
    };
    CcMap::new(target, range, curve).map_err(|e| fail("arguments", e.to_string()))
}
