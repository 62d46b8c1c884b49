//! Per-source rate limiting: a token bucket per sender (a UDP source address, or a TCP
//! connection), refilled at the limit per second and holding at most one second's worth.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How many sources are remembered before idle ones are forgotten.
const PRUNE_AT: usize = 4096;

struct Bucket {
    tokens: f64,
    last: Instant,
    /// When this source was last told it is over the limit.
    told: Option<Instant>,
}

/// What [`RateLimiter::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Within the limit.
    Yes,
    /// Over it: drop the packet, and tell the sender (once a second).
    NoTell,
    /// Over it: drop the packet silently (told less than a second ago).
    No,
}

/// Token buckets by source.
pub(crate) struct RateLimiter<K> {
    per_second: u32,
    buckets: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
    /// `per_second` packets per source per second (0: no limit).
    pub(crate) fn new(per_second: u32) -> Self {
        RateLimiter {
            per_second,
            buckets: HashMap::new(),
        }
    }

    /// Forgets the sources quiet for a second: their buckets are full again anyway.
    pub(crate) fn forget_quiet(&mut self, now: Instant) {
        self.buckets
            .retain(|_, b| now.duration_since(b.last) < Duration::from_secs(1));
    }

    /// Takes a token for one packet from `source` at `now`.
    pub(crate) fn admit(&mut self, source: K, now: Instant) -> Admit {
        if self.per_second == 0 {
            return Admit::Yes;
        }
        if self.buckets.len() >= PRUNE_AT {
            self.forget_quiet(now);
        }
        let rate = f64::from(self.per_second);
        let b = self.buckets.entry(source).or_insert(Bucket {
            tokens: rate,
            last: now,
            told: None,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(rate);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Admit::Yes;
        }
        match b.told {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => Admit::No,
            _ => {
                b.told = Some(now);
                Admit::NoTell
            }
        }
    }

    /// Sources being tracked.
    #[cfg(test)]
    fn sources(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_one_second_passes_then_the_rate_holds() {
        let mut r = RateLimiter::new(100);
        let t0 = Instant::now();
        let passed = (0..150).filter(|_| r.admit(1u8, t0) == Admit::Yes).count();
        assert_eq!(passed, 100);
        // Told once, then silent.
        assert_eq!(r.admit(1, t0), Admit::No);
        // 50 ms later: 5 more tokens.
        let t1 = t0 + Duration::from_millis(50);
        let passed = (0..20).filter(|_| r.admit(1, t1) == Admit::Yes).count();
        assert_eq!(passed, 5);
        // Another source has its own bucket.
        assert_eq!(r.admit(2, t1), Admit::Yes);
        // A second later the sender is told again.
        let t2 = t0 + Duration::from_millis(1001);
        let _ = (0..200).map(|_| r.admit(1, t2)).count();
        let mut r2 = RateLimiter::new(1);
        assert_eq!(r2.admit(1u8, t2), Admit::Yes);
        assert_eq!(r2.admit(1, t2), Admit::NoTell);
        assert_eq!(r2.admit(1, t2), Admit::No);
    }

    #[test]
    fn zero_means_no_limit_and_idle_sources_are_forgotten() {
        let mut off = RateLimiter::new(0);
        let now = Instant::now();
        assert!((0..100_000).all(|_| off.admit(1u32, now) == Admit::Yes));
        let mut r = RateLimiter::new(10);
        for s in 0..PRUNE_AT as u32 {
            r.admit(s, now);
        }
        r.admit(u32::MAX, now + Duration::from_secs(2));
        assert_eq!(r.sources(), 1, "only the new source is left");
    }
}
