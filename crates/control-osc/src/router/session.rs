//! What the router remembers of its senders: subscribers, `/sync`s waiting for their
//! sample, staged patch edits, last stamps, error budgets and rate buckets, pruned as senders
//! go quiet; and the delayed replies that come of it ([`Router::poll`]).

use super::*;

/// What the router keeps between packets, under one lock.
pub(super) struct State {
    pub(super) subscribers: Vec<Peer>,
    /// Per sender: the last sample one of its commands takes effect at.
    pub(super) last_stamp: HashMap<Peer, u64>,
    /// `/sync` requests waiting for their sample: (peer, id, sample).
    pub(super) syncs: Vec<(Peer, OscType, u64)>,
    /// Per sender: (window start, error replies sent in it).
    pub(super) error_budget: HashMap<Peer, (Instant, u32)>,
    /// Per error kind: when it was last logged.
    pub(super) logged: HashMap<&'static str, Instant>,
    /// Metrics already announced to subscribers: (failovers, respawns, underruns).
    pub(super) announced: (u64, u64, u64),
    /// Per sender: patch edits staged until `/patch/commit`.
    pub(super) staged: HashMap<Peer, Vec<PatchEdit>>,
    /// Per source: packets per second.
    pub(super) limiter: crate::ratelimit::RateLimiter<Source>,
    /// The host of each open TCP connection: the rate limit is per host, so many connections
    /// (or source ports) from one address share it.
    pub(super) tcp_hosts: HashMap<u64, std::net::IpAddr>,
    /// When the per-sender maps were last pruned ([`Router::poll`] does it once a second).
    pub(super) pruned: Instant,
    /// A fault armed by `/fault/inject <kind> command`: it goes with the next command.
    pub(super) poison: Option<InjectedFault>,
}

impl<S: Synth> Router<S> {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
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

    pub(super) fn played_samples(&self) -> u64 {
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
        let events: Vec<OscMessage> = [
            ("failover", m.failovers, f),
            ("respawn", m.respawns, r),
            ("underrun", m.underruns, u),
        ]
        .into_iter()
        .filter(|&(_, now, announced)| now > announced)
        .map(|(kind, now, _)| {
            msg(
                "/event",
                vec![OscType::String(kind.into()), OscType::Long(now as i64)],
            )
        })
        .collect();
        st.announced = (m.failovers, m.respawns, m.underruns);
        for e in events {
            for p in &st.subscribers {
                out.push((*p, e.clone()));
            }
        }
        out
    }
}
