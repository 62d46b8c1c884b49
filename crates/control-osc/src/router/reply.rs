//! Replies: `/status.reply`, `/meter.reply`, and `/error` (short, never echoing a long
//! address, at most [`ERROR_REPLIES_PER_SECOND`] a second to one sender, logged once a second
//! per kind).

use super::*;

pub(super) fn msg(addr: &str, args: Vec<OscType>) -> OscMessage {
    OscMessage {
        addr: addr.to_owned(),
        args,
    }
}

/// At most the first 64 bytes of `s` (on a character boundary), with `…` when cut.
pub(super) fn shorten(s: &str) -> String {
    if s.len() <= 64 {
        return s.to_owned();
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl<S: Synth> Router<S> {
    /// Counts an error, logs its kind at most once a second, and returns the `/error` reply
    /// unless the sender is over its reply budget.
    pub(super) fn error(&self, peer: Peer, addr: &str, f: Failure) -> Vec<OscMessage> {
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

    /// `/meter.reply`: key/value pairs (channel `n`'s `peak.n` and `rms.n`, linear; notes
    /// held and sounding; the pattern's step, -1 when stopped; failovers and underruns so
    /// far), then `scope` and a blob of the last 1024 samples played (f32, little-endian).
    pub(super) fn meter(&self) -> OscMessage {
        let metrics = self.engine.metrics_handle();
        let r = metrics.meter();
        let m = metrics.snapshot();
        let mut scope = vec![0.0f32; chronus_engine::meter::SCOPE];
        metrics.scope(&mut scope);
        let (step, steps) = r
            .info
            .step
            .map_or((-1, 0), |(s, l)| (i32::from(s), i32::from(l)));
        let mut pairs: Vec<(String, OscType)> =
            vec![("channels".into(), OscType::Int(r.channels as i32))];
        for c in 0..r.channels {
            pairs.push((
                format!("peak.{}", c + 1),
                OscType::Float(r.channel_peaks[c]),
            ));
            pairs.push((format!("rms.{}", c + 1), OscType::Float(r.channel_rms[c])));
        }
        let rest: Vec<(&str, OscType)> = vec![
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
        pairs.extend(rest.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let mut args = Vec::new();
        for (k, v) in pairs {
            args.push(OscType::String(k));
            args.push(v);
        }
        msg("/meter.reply", args)
    }

    pub(super) fn status(&self) -> OscMessage {
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
        let (load, (bpm, running)) = (self.engine.dsp_load(), self.engine.tempo());
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
            ("deferred", OscType::Long(m.deferred as i64)),
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
            ("instruments_refused", count(&s.instruments_refused)),
            ("tcp_refused", count(&s.tcp_refused)),
            ("samples", OscType::Int(self.engine.samples().len() as i32)),
            (
                "sample_bytes",
                OscType::Long(self.engine.sample_bytes() as i64),
            ),
            ("samples_refused", count(&s.samples_refused)),
            ("tcp_stalled", count(&s.tcp_stalled)),
            ("commits_refused", count(&s.commits_refused)),
            (
                "dropped_commands",
                OscType::Long(self.engine.dropped_commands() as i64),
            ),
            ("faults_injected", count(&s.faults_injected)),
            ("dsp_load.0", OscType::Float(load[0])),
            ("dsp_load.1", OscType::Float(load[1])),
            ("tempo", OscType::Float(bpm)),
            ("seq_running", OscType::Int(i32::from(running))),
            ("midi_events", count(&s.midi_events)),
            ("midi_malformed", count(&s.midi_malformed)),
            ("midi_refused", count(&s.midi_refused)),
            ("midi_late", count(&s.midi_late)),
            ("midi_rate_limited", count(&s.midi_rate_limited)),
            ("midi_dropped", count(&s.midi_dropped)),
            ("replayed", OscType::Long(m.replayed as i64)),
            ("quarantined", OscType::Long(m.quarantined as i64)),
            ("origin_unix", OscType::Double(origin_unix)),
            ("channels", OscType::Int(c.channels as i32)),
        ];
        let mut args = Vec::new();
        for (k, v) in pairs {
            args.push(OscType::String(k.into()));
            args.push(v);
        }
        // Each channel's peak level (linear, falling 20 dB/s), as the meter reads it.
        let r = self.engine.metrics_handle().meter();
        for (c, peak) in r.channel_peaks.iter().take(c.channels).enumerate() {
            args.push(OscType::String(format!("peak.{}", c + 1)));
            args.push(OscType::Float(*peak));
        }
        msg("/status.reply", args)
    }
}
