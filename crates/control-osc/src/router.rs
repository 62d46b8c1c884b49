//! Routing: one OSC packet in, typed engine actions and replies out.
//!
//! Every message is validated completely before anything is applied; a bundle is applied
//! whole (all its messages at one sample) or not at all. Replies go back to the sender.

use crate::synth::Synth;
use chronus_dsp::{DspError, ModuleKind};
use chronus_engine::fault::FaultTarget;
use chronus_engine::{Action, Arg, Engine, EngineError, InjectedFault, PatchEdit, Timing};
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
    /// Messages applied.
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
    /// TCP connections refused because [`crate::MAX_TCP_CONNECTIONS`] were open.
    pub tcp_refused: AtomicU64,
    /// TCP clients disconnected because they stopped reading their replies.
    pub tcp_stalled: AtomicU64,
    /// Commits refused because [`chronus_engine::EDIT_SLOTS`] were still on their way to
    /// the workers.
    pub commits_refused: AtomicU64,
    /// Faults injected by `/fault/inject` (with `chronus run --fault-injection`).
    pub faults_injected: AtomicU64,
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

struct State {
    subscribers: Vec<Peer>,
    /// Per sender: the last sample one of its commands takes effect at.
    last_stamp: HashMap<Peer, u64>,
    /// `/sync` requests waiting for their sample: (peer, id, sample).
    syncs: Vec<(Peer, OscType, u64)>,
    /// Per sender: (window start, error replies sent in it).
    error_budget: HashMap<Peer, (Instant, u32)>,
    /// Per error kind: when it was last logged.
    logged: HashMap<&'static str, Instant>,
    /// Metrics already announced to subscribers: (failovers, respawns, underruns).
    announced: (u64, u64, u64),
    /// Per sender: patch edits staged until `/patch/commit`.
    staged: HashMap<Peer, Vec<PatchEdit>>,
    /// Per source: packets per second.
    limiter: crate::ratelimit::RateLimiter<Source>,
    /// The host of each open TCP connection: the rate limit is per host, so many connections
    /// (or source ports) from one address share it.
    tcp_hosts: HashMap<u64, std::net::IpAddr>,
    /// When the per-sender maps were last pruned ([`Router::poll`] does it once a second).
    pruned: Instant,
    /// A fault armed by `/fault/inject <kind> command`: it goes with the next command.
    poison: Option<InjectedFault>,
}

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
    /// Whether `/fault/inject` is on.
    fault_injection: bool,
}

/// A failed message: the reply's address and reason, and a kind for logging.
struct Failure {
    kind: &'static str,
    reason: String,
}

fn fail(kind: &'static str, reason: impl Into<String>) -> Failure {
    Failure {
        kind,
        reason: reason.into(),
    }
}

/// What a valid message asks for.
enum Plan {
    /// Change the sound.
    Apply {
        actions: Vec<Action>,
        notices: Vec<OscMessage>,
    },
    /// Answer now.
    Reply(Vec<OscMessage>),
    /// Subscribe (true) or unsubscribe.
    Notify(bool),
    /// Answer `/synced id` once earlier commands took effect.
    Sync(OscType),
    /// Stage a patch edit until `/patch/commit`.
    Stage(PatchEdit),
    /// Apply the staged edits atomically.
    Commit,
    /// Drop the staged edits.
    Abort,
    /// Inject a fault (`/fault/inject <kind> <target>`).
    Fault {
        kind: &'static str,
        target: FaultTarget,
        fault: InjectedFault,
    },
}

fn msg(addr: &str, args: Vec<OscType>) -> OscMessage {
    OscMessage {
        addr: addr.to_owned(),
        args,
    }
}

fn to_arg(t: &OscType) -> Option<Arg<'_>> {
    Some(match t {
        OscType::Float(f) => Arg::Float(*f),
        OscType::Double(d) => Arg::Double(*d),
        OscType::Int(i) => Arg::Int(*i),
        OscType::Long(l) => Arg::Double(*l as f64),
        OscType::String(s) => Arg::Str(s),
        OscType::Bool(b) => Arg::Bool(*b),
        _ => return None,
    })
}

fn type_name(t: &OscType) -> &'static str {
    match t {
        OscType::Int(_) => "int",
        OscType::Float(_) => "float",
        OscType::String(_) => "string",
        OscType::Blob(_) => "blob",
        OscType::Time(_) => "timetag",
        OscType::Long(_) => "int64",
        OscType::Double(_) => "double",
        OscType::Char(_) => "char",
        OscType::Color(_) => "color",
        OscType::Midi(_) => "midi",
        OscType::Bool(_) => "bool",
        OscType::Array(_) => "array",
        OscType::Nil => "nil",
        OscType::Inf => "infinitum",
    }
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
            }),
            started: Instant::now(),
            latencies: Mutex::new(None),
            recordings: None,
            fault_injection: false,
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

    /// Lets `/record/start` write new WAV files into `dir` (and nowhere else).
    pub fn with_recordings(mut self, dir: Option<PathBuf>) -> Self {
        self.recordings = dir;
        self
    }

    fn record(&self, start: bool, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        if !start {
            expect_args(args, 0)?;
            let report = self
                .engine
                .stop_recording()
                .map_err(|e| fail("record", e.to_string()))?
                .ok_or_else(|| fail("record", "nothing is being recorded"))?;
            let sr = self.engine.config().sample_rate;
            return Ok(Plan::Reply(vec![msg(
                "/record/stopped",
                vec![
                    OscType::String(report.path.display().to_string()),
                    OscType::Float((report.samples as f64 / sr) as f32),
                    OscType::Long(report.dropped as i64),
                ],
            )]));
        }
        let dir = self.recordings.as_ref().ok_or_else(|| {
            fail(
                "record",
                "recording over OSC is off (chronus run --recordings DIR turns it on)",
            )
        })?;
        if let Some(p) = self.engine.recording() {
            return Err(fail(
                "record",
                format!("already recording to {}; /record/stop first", p.display()),
            ));
        }
        let (file, path) = match args {
            [] => crate::recordings::create_dated(dir),
            [Arg::Str(name)] => crate::recordings::create(dir, name),
            _ => return Err(fail("arguments", "expects an optional file name")),
        }
        .map_err(|e| fail("record", e))?;
        self.engine
            .start_recording_into(file, &path, chronus_engine::offline::WavFormat::F32)
            .map_err(|e| fail("record", e.to_string()))?;
        Ok(Plan::Reply(vec![msg(
            "/record/started",
            vec![OscType::String(path.display().to_string())],
        )]))
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

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells the router which host a TCP connection comes from (it shares that host's rate
    /// limit); `None` when the connection closes.
    pub fn tcp_host(&self, id: u64, host: Option<std::net::IpAddr>) {
        let mut st = self.state();
        match host {
            Some(ip) => st.tcp_hosts.insert(id, ip),
            None => st.tcp_hosts.remove(&id),
        };
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
        let mut applied_msgs = 0u64;
        let mut syncs = Vec::new();
        for (_, plan) in plans {
            match plan {
                Plan::Apply {
                    actions: a,
                    notices,
                } => {
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
                    match self.engine.edit_patch(&edits) {
                        Ok(()) => {
                            replies.push(msg(
                                "/patch/committed",
                                vec![OscType::Int(edits.len() as i32)],
                            ));
                            applied_msgs += 1;
                        }
                        Err(e) => {
                            if matches!(e, EngineError::Dsp(DspError::TooManyModules { .. })) {
                                self.stats.modules_refused.fetch_add(1, Relaxed);
                            }
                            if matches!(e, EngineError::EditsInFlight { .. }) {
                                self.stats.commits_refused.fetch_add(1, Relaxed);
                            }
                            replies.extend(self.error(
                                peer,
                                "/patch/commit",
                                fail("patch", format!("{e}; nothing was changed")),
                            ));
                        }
                    }
                }
            }
        }
        if !actions.is_empty() {
            // A fault armed for the next command travels with it, like a poison command.
            let poison = self.state().poison.take();
            if let Some(fault) = poison {
                if let Err(e) = self.engine.inject_fault(FaultTarget::Command, fault) {
                    tracing::warn!("OSC: the armed fault did not go out: {e}");
                }
            }
            match self.engine.send_together(at, &actions) {
                Ok((sample, timing)) => {
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

    fn played_samples(&self) -> u64 {
        self.engine.metrics().played_blocks * self.engine.config().block as u64
    }

    /// Replies that became due: `/synced` for syncs whose sample has been played, and
    /// `/event` messages for subscribers. Call every few milliseconds.
    pub fn poll(&self) -> Vec<(Peer, OscMessage)> {
        let played = self.played_samples();
        let m = self.engine.metrics();
        let mut st = self.state();
        let mut out = Vec::new();
        // A command told sample S may land one block later (if the output ticked while it was
        // sent): wait for that block to have played too.
        let block = self.engine.config().block as u64;
        st.syncs.retain(|(peer, id, sample)| {
            if played > *sample + block {
                out.push((*peer, msg("/synced", vec![id.clone()])));
                false
            } else {
                true
            }
        });
        // Once a second, the per-sender maps forget senders that no longer matter, so they
        // hold the senders of the last second or so, not every port ever seen (up to the
        // 4,096 at which the packet path prunes them itself).
        let now = Instant::now();
        if now.duration_since(st.pruned) >= Duration::from_secs(1) {
            st.pruned = now;
            st.last_stamp.retain(|_, s| *s > played);
            st.error_budget
                .retain(|_, b| now.duration_since(b.0) < Duration::from_secs(1));
            st.limiter.forget_quiet(now);
        }
        let (f, r, u) = st.announced;
        let mut events = Vec::new();
        if m.failovers > f {
            events.push(msg(
                "/event",
                vec![
                    OscType::String("failover".into()),
                    OscType::Long(m.failovers as i64),
                ],
            ));
        }
        if m.respawns > r {
            events.push(msg(
                "/event",
                vec![
                    OscType::String("respawn".into()),
                    OscType::Long(m.respawns as i64),
                ],
            ));
        }
        if m.underruns > u {
            events.push(msg(
                "/event",
                vec![
                    OscType::String("underrun".into()),
                    OscType::Long(m.underruns as i64),
                ],
            ));
        }
        st.announced = (m.failovers, m.respawns, m.underruns);
        for e in events {
            for p in &st.subscribers {
                out.push((*p, e.clone()));
            }
        }
        out
    }

    /// Counts an error, logs its kind at most once a second, and returns the `/error` reply
    /// unless the sender is over its reply budget.
    fn error(&self, peer: Peer, addr: &str, f: Failure) -> Vec<OscMessage> {
        self.stats.errors.fetch_add(1, Relaxed);
        // A long address is not echoed back (or logged) whole.
        let addr = shorten(addr);
        let reason = if f.reason.len() > 200 {
            format!("{}…", shorten(&f.reason))
        } else {
            f.reason
        };
        let f = Failure { reason, ..f };
        let mut st = self.state();
        let now = Instant::now();
        let log = st
            .logged
            .get(f.kind)
            .is_none_or(|t| now.duration_since(*t) >= Duration::from_secs(1));
        if log {
            st.logged.insert(f.kind, now);
            tracing::warn!(
                "OSC {addr}: {} (further '{}' errors this second are not logged)",
                f.reason,
                f.kind
            );
        }
        if st.error_budget.len() >= 4096 {
            // Senders quiet for a second have a fresh budget anyway: forget them.
            st.error_budget
                .retain(|_, b| now.duration_since(b.0) < Duration::from_secs(1));
        }
        let budget = st.error_budget.entry(peer).or_insert((now, 0));
        if now.duration_since(budget.0) >= Duration::from_secs(1) {
            *budget = (now, 0);
        }
        if budget.1 >= ERROR_REPLIES_PER_SECOND {
            self.stats.errors_unsent.fetch_add(1, Relaxed);
            return Vec::new();
        }
        budget.1 += 1;
        vec![msg(
            "/error",
            vec![OscType::String(addr.to_owned()), OscType::String(f.reason)],
        )]
    }

    /// Validates a message and works out what it asks for. Changes nothing.
    fn plan(&self, m: &OscMessage) -> Result<Plan, Failure> {
        let parts: Vec<&str> = m.addr.strip_prefix('/').unwrap_or("").split('/').collect();
        let args: Option<Vec<Arg<'_>>> = m.args.iter().map(to_arg).collect();
        let Some(args) = args else {
            let t = m
                .args
                .iter()
                .find(|a| to_arg(a).is_none())
                .map_or("?", type_name);
            return Err(fail(
                "type",
                format!("arguments of type {t} are not understood"),
            ));
        };
        match parts.as_slice() {
            ["mod", _, _] | ["gate", _] | ["engine", _] | ["seq", _] | ["note", _] | ["voices"] => {
                self.plan_actions(&m.addr, &args)
            }
            ["status"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Reply(vec![self.status()]))
            }
            ["meter"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Reply(vec![self.meter()]))
            }
            ["get"] => match args.as_slice() {
                [Arg::Str(module), Arg::Str(param)] => {
                    let v = self.engine.get(module, param).map_err(|e| fail("unknown", e.to_string()))?;
                    Ok(Plan::Reply(vec![msg(
                        "/value",
                        vec![OscType::String((*module).into()), OscType::String((*param).into()), OscType::Float(v)],
                    )]))
                }
                _ => Err(fail("arguments", "expects two strings: <module> <param>")),
            },
            ["modules"] => {
                expect_args(&args, 0)?;
                let mut out = Vec::new();
                for e in self.engine.directory().modules() {
                    out.push(OscType::String(e.name.clone()));
                    out.push(OscType::String(e.kind.name().into()));
                }
                Ok(Plan::Reply(vec![msg("/modules.reply", out)]))
            }
            ["notify"] => match args.as_slice() {
                [a] => a.as_gate().map(Plan::Notify).ok_or_else(|| fail("arguments", "expects 1 or 0")),
                _ => Err(fail("arguments", "expects 1 or 0")),
            },
            ["patch", "create"] => match args.as_slice() {
                [Arg::Str(name), Arg::Str(kind)] => {
                    let kind = chronus_dsp::ModuleKind::parse(kind).map_err(|e| fail("patch", e.to_string()))?;
                    Ok(Plan::Stage(PatchEdit::Create { name: (*name).into(), kind }))
                }
                _ => Err(fail(
                    "arguments",
                    format!(
                        "expects <id> <type> (types: {})",
                        ModuleKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
                    ),
                )),
            },
            ["patch", verb @ ("connect" | "disconnect")] => match args.as_slice() {
                [Arg::Str(from), Arg::Str(to)] => Ok(Plan::Stage(PatchEdit::connection(from, to, *verb == "connect"))),
                _ => Err(fail("arguments", "expects <src> <dst> (dst: a module, out, or module.param)")),
            },
            ["patch", "remove"] => match args.as_slice() {
                [Arg::Str(name)] => Ok(Plan::Stage(PatchEdit::Remove { name: (*name).into() })),
                _ => Err(fail("arguments", "expects <id>")),
            },
            ["patch", "commit"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Commit)
            }
            ["patch", "abort"] => {
                expect_args(&args, 0)?;
                Ok(Plan::Abort)
            }
            ["fault", "inject"] => self.plan_fault(&args),
            ["record", "start"] => self.record(true, &args),
            ["record", "stop"] => self.record(false, &args),
            ["sync"] => match m.args.as_slice() {
                [id] => Ok(Plan::Sync(id.clone())),
                _ => Err(fail("arguments", "expects one id")),
            },
            _ => Err(fail(
                "address",
                format!("unknown address '{}' (see docs/osc.md: /mod, /gate, /note, /voices, /engine, /seq, /patch, /record, /status, /get, /modules, /notify, /sync, /fault)", m.addr),
            )),
        }
    }

    /// `/fault/inject <kind> <target>`, when fault injection is on.
    fn plan_fault(&self, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        if !self.fault_injection {
            return Err(fail(
                "disabled",
                "fault injection is off: start chronus run with --fault-injection (loopback only)",
            ));
        }
        let kinds = || {
            chronus_engine::fault::KINDS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join("|")
        };
        let targets = || {
            FaultTarget::ALL
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join("|")
        };
        let [Arg::Str(kind), Arg::Str(target)] = args else {
            return Err(fail(
                "arguments",
                format!(
                    "expects <kind> <target>: kind {}, target {}",
                    kinds(),
                    targets()
                ),
            ));
        };
        let Some(&(kind, fault)) = chronus_engine::fault::KINDS.iter().find(|(n, _)| n == kind)
        else {
            return Err(fail(
                "arguments",
                format!("no fault kind '{kind}': one of {}", kinds()),
            ));
        };
        let target = FaultTarget::parse(target).ok_or_else(|| {
            fail(
                "arguments",
                format!("no target '{target}': one of {}", targets()),
            )
        })?;
        Ok(Plan::Fault {
            kind,
            target,
            fault,
        })
    }

    /// Everything that changes the sound goes through the engine's one address table.
    fn plan_actions(&self, addr: &str, args: &[Arg<'_>]) -> Result<Plan, Failure> {
        let resolved = self.engine.resolve_address(addr, args).map_err(|e| {
            let kind = match &e {
                EngineError::Dsp(
                    DspError::UnknownModule { .. }
                    | DspError::UnknownParam { .. }
                    | DspError::NotGateable { .. },
                ) => "unknown",
                EngineError::Dsp(DspError::NonFinite { .. }) => "value",
                _ => "arguments",
            };
            fail(kind, e.to_string())
        })?;
        let notices = resolved
            .clamped
            .into_iter()
            .map(|c| {
                self.stats.clamped.fetch_add(1, Relaxed);
                msg(
                    "/clamped",
                    vec![
                        OscType::String(c.module),
                        OscType::String(c.param.into()),
                        OscType::Float(c.value),
                    ],
                )
            })
            .collect();
        Ok(Plan::Apply {
            actions: resolved.actions,
            notices,
        })
    }

    /// `/meter.reply`: key/value pairs (channel `n`'s `peak.n` and `rms.n`, linear; notes
    /// held and sounding; the pattern's step, -1 when stopped; failovers and underruns so
    /// far), then `scope` and a blob of the last 1024 samples played (f32, little-endian).
    fn meter(&self) -> OscMessage {
        let metrics = self.engine.metrics_handle();
        let r = metrics.meter();
        let m = metrics.snapshot();
        let mut scope = vec![0.0f32; chronus_engine::meter::SCOPE];
        metrics.scope(&mut scope);
        let (step, steps) = r
            .info
            .step
            .map_or((-1, 0), |(s, l)| (i32::from(s), i32::from(l)));
        let pairs: Vec<(&str, OscType)> = vec![
            ("channels", OscType::Int(1)),
            ("peak.1", OscType::Float(r.peak)),
            ("rms.1", OscType::Float(r.rms)),
            ("notes_held", OscType::Int(i32::from(r.info.notes_held))),
            (
                "notes_sounding",
                OscType::Int(i32::from(r.info.notes_sounding)),
            ),
            ("step", OscType::Int(step)),
            ("steps", OscType::Int(steps)),
            ("failovers", OscType::Long(m.failovers as i64)),
            ("underruns", OscType::Long(m.underruns as i64)),
            (
                "scope",
                OscType::Blob(scope.iter().flat_map(|x| x.to_le_bytes()).collect()),
            ),
        ];
        let mut args = Vec::new();
        for (k, v) in pairs {
            args.push(OscType::String(k.into()));
            args.push(v);
        }
        msg("/meter.reply", args)
    }

    fn status(&self) -> OscMessage {
        let m = self.engine.metrics();
        let c = self.engine.config();
        let origin_unix = {
            // Wall-clock time of sample 0, so clients can schedule by sample.
            let since_origin =
                chronus_engine::rt::monotonic_ns().saturating_sub(self.engine.origin_ns());
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            now.as_secs_f64() - since_origin as f64 / 1e9
        };
        let s = &self.stats;
        let count = |c: &AtomicU64| OscType::Long(c.load(Relaxed) as i64);
        let pairs: Vec<(&str, OscType)> = vec![
            ("sample_rate", OscType::Float(c.sample_rate as f32)),
            ("block", OscType::Int(c.block as i32)),
            ("lookahead", OscType::Int(c.lookahead as i32)),
            ("played_blocks", OscType::Long(m.played_blocks as i64)),
            ("underruns", OscType::Long(m.underruns as i64)),
            ("lost_samples", OscType::Long(m.lost_samples as i64)),
            ("failovers", OscType::Long(m.failovers as i64)),
            ("respawns", OscType::Long(m.respawns as i64)),
            ("diverged", OscType::Long(m.faults_diverged as i64)),
            ("workers_alive", OscType::Int(m.workers_alive as i32)),
            ("active", OscType::Int(m.active as i32)),
            (
                "uptime",
                OscType::Double(self.started.elapsed().as_secs_f64()),
            ),
            ("messages", count(&s.received)),
            ("applied", count(&s.applied)),
            ("errors", count(&s.errors)),
            ("late_bundles", count(&s.late_bundles)),
            ("xruns", OscType::Long(m.xruns as i64)),
            ("errors_unsent", count(&s.errors_unsent)),
            ("rate_limited", count(&s.rate_limited)),
            ("refused_sources", count(&s.refused_sources)),
            ("clamped", count(&s.clamped)),
            ("schedule_refused", count(&s.schedule_refused)),
            ("staged_refused", count(&s.staged_refused)),
            ("syncs_refused", count(&s.syncs_refused)),
            ("modules_refused", count(&s.modules_refused)),
            ("tcp_refused", count(&s.tcp_refused)),
            ("tcp_stalled", count(&s.tcp_stalled)),
            ("commits_refused", count(&s.commits_refused)),
            (
                "dropped_commands",
                OscType::Long(self.engine.dropped_commands() as i64),
            ),
            ("faults_injected", count(&s.faults_injected)),
            ("origin_unix", OscType::Double(origin_unix)),
        ];
        let mut args = Vec::new();
        for (k, v) in pairs {
            args.push(OscType::String(k.into()));
            args.push(v);
        }
        msg("/status.reply", args)
    }
}

/// At most the first 64 bytes of `s` (on a character boundary), with `…` when cut.
fn shorten(s: &str) -> String {
    if s.len() <= 64 {
        return s.to_owned();
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn expect_args(args: &[Arg<'_>], n: usize) -> Result<(), Failure> {
    if args.len() == n {
        Ok(())
    } else {
        Err(fail(
            "arguments",
            format!("expects {n} arguments, got {}", args.len()),
        ))
    }
}
