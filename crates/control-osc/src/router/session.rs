//! What the router remembers of its senders: subscribers, `/sync`s waiting for their
//! sample, staged patch edits, last stamps, error budgets and rate buckets, pruned as senders
//! go quiet; and the delayed replies that come of it ([`Router::poll`]).

use super::*;
use std::collections::VecDeque;

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
    /// The last [`SENT_REMEMBERED`] groups of commands sent: their first sequence number, the
    /// sender, and each message's address with its number of commands. A quarantined command
    /// is found here, so its sender hears of it.
    pub(super) sent: VecDeque<SentGroup>,
}

/// A group of commands sent together: the first one's sequence number, the sender, and each
/// message's address with how many of the commands are its.
pub(super) type SentGroup = (u64, Peer, Vec<(String, usize)>);

/// How many groups of commands the router remembers the senders of.
pub(super) const SENT_REMEMBERED: usize = 1024;

impl State {
    /// Remembers who sent the commands numbered from `first_seq` on.
    pub(super) fn remember_sent(
        &mut self,
        first_seq: u64,
        peer: Peer,
        origins: Vec<(String, usize)>,
    ) {
        if self.sent.len() >= SENT_REMEMBERED {
            self.sent.pop_front();
        }
        self.sent.push_back((first_seq, peer, origins));
    }

    /// The sender and address of command `seq`, and the number of its message's first
    /// command (the same for every command of one message), if it is remembered.
    fn sender_of(&self, seq: u64) -> Option<(Peer, String, u64)> {
        sender_of(&self.sent, seq)
    }
}

/// The sender and address of command `seq` among the groups `sent`, and its message's first
/// command.
fn sender_of(sent: &VecDeque<SentGroup>, seq: u64) -> Option<(Peer, String, u64)> {
    sent.iter().rev().find_map(|(first, peer, origins)| {
        let mut at = *first;
        for (addr, n) in origins {
            if (at..at + *n as u64).contains(&seq) {
                return Some((*peer, addr.clone(), at));
            }
            at += *n as u64;
        }
        None
    })
}

impl<S: Synth> Router<S> {
    /// `/error <address> quarantined: …` to the sender of each command both workers failed
    /// on (when the router still remembers who sent it; the count is in `/status` anyway).
    fn quarantine_errors(&self) -> Vec<(Peer, OscMessage)> {
        let seqs = self.engine.take_quarantined();
        if seqs.is_empty() {
            return Vec::new();
        }
        let mut senders: Vec<(Peer, String, u64)> = {
            let st = self.state();
            seqs.iter().filter_map(|&seq| st.sender_of(seq)).collect()
        };
        // One error per message (its commands are quarantined together), which then counts
        // as an error, no longer as applied.
        senders.sort_by_key(|s| s.2);
        senders.dedup_by_key(|s| s.2);
        let mut out = Vec::new();
        for (peer, addr, _) in senders {
            let _ = self
                .stats
                .applied
                .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
            let f = super::plan::fail(
                "quarantined",
                "quarantined: a worker failed in the block that applied it, so it was \
                 taken out and never applied (the sound plays on without it); check its \
                 values, or report it as a bug",
            );
            out.extend(self.error(peer, &addr, f).into_iter().map(|m| (peer, m)));
        }
        out
    }

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
        let mut out = self.quarantine_errors();
        out.extend(self.finished_loads());
        let played = self.played_samples();
        let m = self.engine.metrics();
        let mut st = self.state();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_number_finds_its_sender_and_address() {
        let (a, b) = (Peer::Tcp(1), Peer::Tcp(2));
        let sent: VecDeque<SentGroup> = [
            (10, a, vec![("/mod/sine/freq".to_string(), 1)]),
            // A bundle: a pattern of 3 actions, then a gate.
            (
                11,
                b,
                vec![
                    ("/seq/pattern".to_string(), 3),
                    ("/gate/adsr".to_string(), 1),
                ],
            ),
        ]
        .into();
        let at = |seq| sender_of(&sent, seq);
        assert_eq!(at(10), Some((a, "/mod/sine/freq".into(), 10)));
        assert_eq!(at(12), Some((b, "/seq/pattern".into(), 11)));
        assert_eq!(at(13), Some((b, "/seq/pattern".into(), 11)));
        assert_eq!(at(14), Some((b, "/gate/adsr".into(), 14)));
        assert_eq!(at(9), None);
        assert_eq!(at(15), None);
    }
}
