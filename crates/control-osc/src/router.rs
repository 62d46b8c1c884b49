//! Routing: one OSC packet in, typed engine actions and replies out.
//!
//! Every message is validated completely before anything is applied; a bundle is applied
//! whole (all its messages at one sample) or not at all. Replies go back to the sender.
//!
//! This file decodes and carries out; `plan.rs` reads a message into what it asks for,
//! `session.rs` holds what the router remembers of its senders, `reply.rs` builds the replies.

mod commit;
mod loads;
mod midi;
mod plan;
mod reply;
mod session;

use chronus_engine::address::presets::{self, Preset};
use chronus_engine::address::EditTiming;
pub use midi::MIDI_RATE_LIMIT;
use plan::{fail, Failure, Plan};
use reply::msg;
use session::State;

use crate::synth::Synth;
use chronus_dsp::DspError;
use chronus_engine::fault::FaultTarget;
use chronus_engine::{Action, Arg, Engine, EngineError, InjectedFault, PatchEdit, Sent, Timing};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Who sent a packet, so replies can go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A UDP sender.
    Udp(SocketAddr),
    /// A TCP connection (server-assigned id).
    Tcp(u64),
}

/// Control-plane counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages received (each message of a bundle counts).
    pub received: AtomicU64,
    /// Messages applied (a message quarantined later counts as an error instead).
    pub applied: AtomicU64,
    /// Messages answered with `/error`.
    pub errors: AtomicU64,
    /// `/error` replies not sent because the sender exceeded the reply rate.
    pub errors_unsent: AtomicU64,
    /// Bundles whose time had passed (applied at once).
    pub late_bundles: AtomicU64,
    /// Packets dropped because their source is not allowed.
    pub refused_sources: AtomicU64,
    /// Values clamped into range.
    pub clamped: AtomicU64,
    /// Packets dropped because their source went over the rate limit.
    pub rate_limited: AtomicU64,
    /// Bundles refused by a schedule limit: a timetag past the horizon, or too many commands
    /// already waiting for a later time.
    pub schedule_refused: AtomicU64,
    /// Patch edits refused because their sender had [`MAX_STAGED_EDITS`] staged already.
    pub staged_refused: AtomicU64,
    /// `/sync`s refused because their sender had [`MAX_PENDING_SYNCS`] waiting already.
    pub syncs_refused: AtomicU64,
    /// Commits refused because the patch would hold more than [`chronus_dsp::MAX_MODULES`].
    pub modules_refused: AtomicU64,
    /// `/inst/new`s refused because the patch holds [`chronus_dsp::MAX_INSTRUMENTS`].
    pub instruments_refused: AtomicU64,
    /// Sample loads refused: a file outside the folder, unreadable or too large, a bad name,
    /// too many samples or too much sample memory.
    pub samples_refused: AtomicU64,
    /// TCP connections refused because [`crate::MAX_TCP_CONNECTIONS`] were open.
    pub tcp_refused: AtomicU64,
    /// TCP clients disconnected because they stopped reading their replies.
    pub tcp_stalled: AtomicU64,
    /// Commits refused because [`chronus_engine::EDIT_SLOTS`] were still on their way to
    /// the workers.
    pub commits_refused: AtomicU64,
    /// Faults injected by `/fault/inject` (with `chronus run --fault-injection`).
    pub faults_injected: AtomicU64,
    /// MIDI events received.
    pub midi_events: AtomicU64,
    /// MIDI messages that could not be read (truncated, stray bytes).
    pub midi_malformed: AtomicU64,
    /// MIDI events whose action could not be done (a map to a module that is gone, …).
    pub midi_refused: AtomicU64,
    /// MIDI events that reached the engine after the sample they were stamped for (played at
    /// once).
    pub midi_late: AtomicU64,
    /// MIDI events dropped past [`MIDI_RATE_LIMIT`] a second.
    pub midi_rate_limited: AtomicU64,
    /// MIDI events the input dropped before the router saw them (it fell behind).
    pub midi_dropped: AtomicU64,
}

/// Patch edits one sender may stage before `/patch/commit` (or `/patch/abort`).
pub const MAX_STAGED_EDITS: usize = 1024;
/// Senders that may have staged edits at once.
pub const MAX_STAGING_SENDERS: usize = 256;
/// `/sync` replies one sender may have waiting for their sample.
pub const MAX_PENDING_SYNCS: usize = 256;

/// A rate-limited source: a UDP sender's address, or a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Ip(std::net::IpAddr),
    Tcp(u64),
}

impl From<Peer> for Source {
    /// A TCP connection the server has not named the host of counts on its own.
    fn from(p: Peer) -> Self {
        match p {
            Peer::Udp(a) => Source::Ip(a.ip()),
            Peer::Tcp(id) => Source::Tcp(id),
        }
    }
}

/// Packets per second each source may send unless told otherwise.
pub const DEFAULT_RATE_LIMIT: u32 = 20_000;

/// Error replies allowed per sender per second.
const ERROR_REPLIES_PER_SECOND: u32 = 100;

/// Turns OSC into engine actions and replies. Shared by every transport.
pub struct Router<S: Synth = Engine> {
    engine: Arc<S>,
    stats: Arc<Stats>,
    state: Mutex<State>,
    started: Instant,
    /// When on: for each applied message, ns from its arrival to the output playing it.
    latencies: Mutex<Option<Vec<u64>>>,
    /// Where `/record/start` may write (`None`: recording over OSC is off).
    recordings: Option<PathBuf>,
    /// The folder `/inst/save` and `/inst/load` use for preset files.
    presets: Option<PathBuf>,
    /// The folder `/state/save`, `/state/load` and `/state/list` use.
    sessions: Option<PathBuf>,
    /// Where `/sample/load` reads files (`None`: only built-in kits).
    samples: Option<crate::SampleFiles>,
    /// Sample loads under way in the background, and those done, waiting to be answered.
    loads: Arc<loads::Loads>,
    /// Whether `/fault/inject` is on.
    fault_injection: bool,
    /// MIDI: the mapper, the clock follower, the flood guard.
    midi: Mutex<midi::MidiSide>,
}

/// Converts an OSC timetag to monotonic nanoseconds (`None`: "immediately").
fn timetag_to_monotonic(tt: OscTime) -> Option<u64> {
    if (tt.seconds, tt.fractional) == (0, 1) {
        return None;
    }
    // NTP seconds count from 1900. Done by hand: a timetag before 1970 (any 32-bit value is a
    // valid packet) must mean "already late", not a panic in a conversion that assumes it.
    const NTP_TO_UNIX: i128 = 2_208_988_800;
    let at_ns = (i128::from(tt.seconds) - NTP_TO_UNIX) * 1_000_000_000
        + ((i128::from(tt.fractional) * 1_000_000_000) >> 32);
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let now_mono = chronus_engine::rt::monotonic_ns() as i128;
    Some((now_mono + (at_ns - now_ns)).max(0) as u64)
}

impl<S: Synth> Router<S> {
    /// A router driving `engine`.
    pub fn new(engine: Arc<S>) -> Self {
        let m = engine.metrics();
        Router {
            engine,
            stats: Arc::new(Stats::default()),
            state: Mutex::new(State {
                subscribers: Vec::new(),
                last_stamp: HashMap::new(),
                syncs: Vec::new(),
                error_budget: HashMap::new(),
                logged: HashMap::new(),
                announced: (m.failovers, m.respawns, m.underruns),
                staged: HashMap::new(),
                limiter: crate::ratelimit::RateLimiter::new(DEFAULT_RATE_LIMIT),
                tcp_hosts: HashMap::new(),
                pruned: Instant::now(),
                poison: None,
                sent: std::collections::VecDeque::new(),
            }),
            started: Instant::now(),
            latencies: Mutex::new(None),
            recordings: None,
            presets: None,
            sessions: None,
            samples: None,
            loads: Arc::default(),
            fault_injection: false,
            midi: Mutex::default(),
        }
    }

    /// Limits each source to `per_second` packets a second (0: no limit); the excess is dropped
    /// and counted (`rate_limited`), and the sender told with an `/error` once a second.
    pub fn with_rate_limit(self, per_second: u32) -> Self {
        self.state().limiter = crate::ratelimit::RateLimiter::new(per_second);
        self
    }

    /// Turns `/fault/inject` on (for tests and demonstrations; off by default).
    pub fn with_fault_injection(mut self, on: bool) -> Self {
        self.fault_injection = on;
        self
    }

    /// The folder sessions are saved into and loaded from (`None`: `/state/*` are off).
    pub fn with_sessions(mut self, dir: Option<PathBuf>) -> Self {
        self.sessions = dir;
        self
    }

    /// Where `/sample/load` reads sample files (`None`: only the built-in kits load).
    pub fn with_samples(mut self, files: Option<crate::SampleFiles>) -> Self {
        self.samples = files;
        self
    }

    /// The folder preset files are saved into and loaded from (`None`: built-in presets only).
    pub fn with_presets(mut self, dir: Option<PathBuf>) -> Self {
        self.presets = dir;
        self
    }

    /// Lets `/record/start` write new WAV files into `dir` (and nowhere else; `None`: recording
    /// over OSC is off).
    pub fn with_recordings(mut self, dir: Option<PathBuf>) -> Self {
        self.recordings = dir;
        self
    }

    /// Starts (or stops and returns) recording control latency: for each message that changes
    /// the sound, the time from its packet's arrival to the output playing the first affected
    /// sample. For benchmarks.
    pub fn record_latency(&self, on: bool) -> Vec<u64> {
        let mut l = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
        let old = l.take().unwrap_or_default();
        if on {
            *l = Some(Vec::with_capacity(1 << 20));
        }
        old
    }

    /// The counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<S> {
        &self.engine
    }

    /// Decodes and handles one datagram (or one TCP frame). Returns the replies.
    pub fn handle_bytes(&self, bytes: &[u8], peer: Peer, max_packet: usize) -> Vec<OscMessage> {
        let admit = {
            let mut st = self.state();
            let source = match peer {
                Peer::Tcp(id) => st
                    .tcp_hosts
                    .get(&id)
                    .map_or(Source::from(peer), |ip| Source::Ip(*ip)),
                Peer::Udp(_) => Source::from(peer),
            };
            st.limiter.admit(source, Instant::now())
        };
        match admit {
            crate::ratelimit::Admit::Yes => {}
            crate::ratelimit::Admit::No => {
                self.stats.rate_limited.fetch_add(1, Relaxed);
                return Vec::new();
            }
            crate::ratelimit::Admit::NoTell => {
                self.stats.rate_limited.fetch_add(1, Relaxed);
                tracing::warn!("OSC: a source went over the rate limit; its excess is dropped");
                return vec![msg(
                    "/error",
                    vec![
                        OscType::String("/".into()),
                        OscType::String(
                            "rate limit: this source sends too fast; packets over the limit are dropped (chronus run --rate-limit)".into(),
                        ),
                    ],
                )];
            }
        }
        if bytes.len() > max_packet {
            self.stats.received.fetch_add(1, Relaxed);
            return self.error(
                peer,
                "/",
                fail(
                    "oversize",
                    format!(
                        "packet of {} bytes is over the {max_packet}-byte limit",
                        bytes.len()
                    ),
                ),
            );
        }
        match rosc::decoder::decode_udp(bytes) {
            Ok((rest, _)) if !rest.is_empty() => {
                // The decoder stops at what it understood (a bundle element longer than the
                // packet ends the bundle): the rest is a truncated or misaligned packet.
                self.stats.received.fetch_add(1, Relaxed);
                self.error(
                    peer,
                    "/",
                    fail(
                        "malformed",
                        format!(
                            "malformed packet: {} bytes not understood (truncated or misaligned)",
                            rest.len()
                        ),
                    ),
                )
            }
            Ok((_, packet)) => self.handle(&packet, peer),
            Err(e) => {
                self.stats.received.fetch_add(1, Relaxed);
                self.error(
                    peer,
                    "/",
                    fail("malformed", format!("malformed packet: {e}")),
                )
            }
        }
    }

    /// Handles a decoded packet. Returns the replies.
    pub fn handle(&self, packet: &OscPacket, peer: Peer) -> Vec<OscMessage> {
        let arrival_ns = chronus_engine::rt::monotonic_ns();
        self.handle_at(packet, peer, arrival_ns)
    }

    fn handle_at(&self, packet: &OscPacket, peer: Peer, arrival_ns: u64) -> Vec<OscMessage> {
        match packet {
            OscPacket::Message(m) => {
                self.stats.received.fetch_add(1, Relaxed);
                match self.plan(m) {
                    Ok(plan) => {
                        self.carry_out(vec![(m.addr.clone(), plan)], None, peer, arrival_ns)
                    }
                    Err(f) => self.error(peer, &m.addr, f),
                }
            }
            OscPacket::Bundle(b) => {
                let mut plans = Vec::new();
                let mut failures = Vec::new();
                self.collect(b, 0, &mut plans, &mut failures);
                if !failures.is_empty() {
                    // Nothing from a bundle with a bad message is applied: its good messages
                    // are refused too (counted as errors; the bad ones get the replies).
                    self.stats.errors.fetch_add(plans.len() as u64, Relaxed);
                    let mut replies = Vec::new();
                    for (addr, f) in failures {
                        replies.extend(self.error(peer, &addr, f));
                    }
                    return replies;
                }
                let at = timetag_to_monotonic(b.timetag).and_then(|ns| self.engine.sample_at(ns));
                self.carry_out(plans, at, peer, arrival_ns)
            }
        }
    }

    fn collect(
        &self,
        b: &OscBundle,
        depth: usize,
        plans: &mut Vec<(String, Plan)>,
        failures: &mut Vec<(String, Failure)>,
    ) {
        if depth > 8 {
            // Its messages are not read: it counts as one message received, and refused.
            self.stats.received.fetch_add(1, Relaxed);
            failures.push((
                "#bundle".into(),
                fail("nesting", "bundles nested deeper than 8 levels"),
            ));
            return;
        }
        for p in &b.content {
            match p {
                OscPacket::Message(m) => {
                    self.stats.received.fetch_add(1, Relaxed);
                    match self.plan(m) {
                        Ok(plan) => plans.push((m.addr.clone(), plan)),
                        Err(f) => failures.push((m.addr.clone(), f)),
                    }
                }
                // A nested bundle's messages take effect with the outer one's.
                OscPacket::Bundle(inner) => self.collect(inner, depth + 1, plans, failures),
            }
        }
    }

    fn carry_out(
        &self,
        plans: Vec<(String, Plan)>,
        at: Option<u64>,
        peer: Peer,
        arrival_ns: u64,
    ) -> Vec<OscMessage> {
        let mut replies = Vec::new();
        let mut actions = Vec::new();
        // Each message's address and how many of the actions are its (in order).
        let mut origins: Vec<(String, usize)> = Vec::new();
        let mut applied_msgs = 0u64;
        let mut syncs = Vec::new();
        for (addr, plan) in plans {
            match plan {
                Plan::Apply {
                    actions: a,
                    notices,
                } => {
                    origins.push((addr, a.len()));
                    actions.extend(a);
                    replies.extend(notices);
                    applied_msgs += 1;
                }
                Plan::Reply(r) => {
                    replies.extend(r);
                    applied_msgs += 1;
                }
                Plan::Notify(on) => {
                    let mut st = self.state();
                    st.subscribers.retain(|p| *p != peer);
                    if on {
                        st.subscribers.push(peer);
                    }
                    applied_msgs += 1;
                }
                Plan::Sync(id) => syncs.push(id),
                Plan::Stage(edit) => {
                    let mut st = self.state();
                    let senders = st.staged.len();
                    let refusal = match st.staged.get(&peer) {
                        Some(list) if list.len() >= MAX_STAGED_EDITS => Some(format!(
                            "limit: at most {MAX_STAGED_EDITS} staged edits per sender \
                             (staged edits); /patch/commit or /patch/abort first"
                        )),
                        None if senders >= MAX_STAGING_SENDERS => Some(format!(
                            "limit: at most {MAX_STAGING_SENDERS} senders with staged edits \
                             (staging senders); try again once others commit"
                        )),
                        _ => None,
                    };
                    match refusal {
                        Some(reason) => {
                            drop(st);
                            self.stats.staged_refused.fetch_add(1, Relaxed);
                            replies.extend(self.error(peer, "/patch", fail("limit", reason)));
                        }
                        None => {
                            st.staged.entry(peer).or_default().push(edit);
                            applied_msgs += 1;
                        }
                    }
                }
                Plan::Abort => {
                    let n = self.state().staged.remove(&peer).map_or(0, |v| v.len());
                    replies.push(msg("/patch/aborted", vec![OscType::Int(n as i32)]));
                    applied_msgs += 1;
                }
                Plan::Load(load) => match self.start_load(peer, &addr, load) {
                    Ok(()) => applied_msgs += 1,
                    Err(f) => replies.extend(self.error(peer, &addr, f)),
                },
                Plan::Fault {
                    kind,
                    target,
                    fault,
                } => {
                    let done = if target == FaultTarget::Command {
                        self.state().poison = Some(fault);
                        Ok(())
                    } else {
                        self.engine.inject_fault(target, fault)
                    };
                    match done {
                        Ok(()) => {
                            self.stats.faults_injected.fetch_add(1, Relaxed);
                            tracing::warn!("OSC: fault injected: {kind} into {}", target.name());
                            replies.push(msg(
                                "/fault/injected",
                                vec![
                                    OscType::String(kind.into()),
                                    OscType::String(target.name().into()),
                                ],
                            ));
                            applied_msgs += 1;
                        }
                        Err(e) => replies.extend(self.error(
                            peer,
                            "/fault/inject",
                            fail("fault", e.to_string()),
                        )),
                    }
                }
                Plan::Commit => {
                    let edits = self.state().staged.remove(&peer).unwrap_or_default();
                    let done = msg("/patch/committed", vec![OscType::Int(edits.len() as i32)]);
                    match self.commit(peer, &edits, done, "/patch/commit") {
                        Ok(reply) => {
                            replies.push(reply);
                            applied_msgs += 1;
                        }
                        Err(error) => replies.extend(error),
                    }
                }
                Plan::Preset {
                    inst,
                    preset,
                    create,
                    done,
                } => match self.load_preset(peer, &inst, &preset, create, &addr) {
                    Ok(a) => {
                        origins.push((addr, a.len()));
                        actions.extend(a);
                        replies.push(done);
                        applied_msgs += 1;
                    }
                    Err(error) => replies.extend(error),
                },
                Plan::EditNow { edits, done } => match self.commit(peer, &edits, done, &addr) {
                    Ok(reply) => {
                        replies.push(reply);
                        applied_msgs += 1;
                    }
                    Err(error) => replies.extend(error),
                },
            }
        }
        if !actions.is_empty() {
            // A fault armed for the next command travels with it, like a poison command.
            let poison = self.state().poison.take();
            match self.engine.send_with_fault(at, &actions, poison) {
                Ok(Sent {
                    sample,
                    timing,
                    first_seq,
                }) => {
                    if timing == Timing::Late {
                        self.stats.late_bundles.fetch_add(1, Relaxed);
                    }
                    if let Some(l) = self
                        .latencies
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .as_mut()
                    {
                        let sr = self.engine.config().sample_rate;
                        let plays_ns = self.engine.origin_ns() as f64 + sample as f64 * 1e9 / sr;
                        l.push((plays_ns - arrival_ns as f64).max(0.0) as u64);
                    }
                    let played = self.played_samples();
                    let mut st = self.state();
                    if st.last_stamp.len() >= 4096 {
                        // Stamps already played order nothing any more: forget them.
                        st.last_stamp.retain(|_, s| *s > played);
                    }
                    let last = st.last_stamp.entry(peer).or_insert(0);
                    *last = (*last).max(sample);
                    st.remember_sent(first_seq, peer, origins);
                }
                Err(e) => {
                    use chronus_engine::EngineError;
                    if matches!(
                        e,
                        EngineError::TooFarAhead { .. } | EngineError::FutureFull { .. }
                    ) {
                        // A limit, not a hiccup: answered, counted, nothing of the bundle applied.
                        self.stats.schedule_refused.fetch_add(1, Relaxed);
                        return self.error(peer, "/", fail("limit", format!("not applied: {e}")));
                    }
                    return self.error(peer, "/", fail("busy", format!("not applied: {e}")));
                }
            }
        }
        self.stats.applied.fetch_add(applied_msgs, Relaxed);
        for id in syncs {
            let sample = self.state().last_stamp.get(&peer).copied().unwrap_or(0);
            if self.played_samples() > sample + self.engine.config().block as u64 {
                self.stats.applied.fetch_add(1, Relaxed);
                replies.push(msg("/synced", vec![id]));
                continue;
            }
            let mut st = self.state();
            let waiting = st.syncs.iter().filter(|(p, ..)| *p == peer).count();
            if waiting >= MAX_PENDING_SYNCS {
                drop(st);
                self.stats.syncs_refused.fetch_add(1, Relaxed);
                replies.extend(self.error(
                    peer,
                    "/sync",
                    fail(
                        "limit",
                        format!(
                            "limit: at most {MAX_PENDING_SYNCS} /sync replies waiting per sender \
                             (pending syncs); wait for the /synced replies first"
                        ),
                    ),
                ));
                continue;
            }
            st.syncs.push((peer, id, sample));
            drop(st);
            self.stats.applied.fetch_add(1, Relaxed);
        }
        replies
    }
}
