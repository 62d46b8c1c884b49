//! Faults injected on purpose, for tests and demonstrations: what can be injected, into which
//! worker, and their names as `/fault/inject <kind> <target>` spells them.

use crate::InjectedFault;

/// Which worker an injected fault goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// The worker the output plays from.
    Active,
    /// The other one.
    Standby,
    /// Both at once (each through its own ring): a double fault.
    Both,
    /// Like a poison command: the fault travels in lockstep with the next command, to every
    /// worker that takes commands, so whichever worker applies it faults.
    Command,
}

impl FaultTarget {
    /// Every target, in the order the docs list them.
    pub const ALL: [FaultTarget; 4] = [
        FaultTarget::Active,
        FaultTarget::Standby,
        FaultTarget::Both,
        FaultTarget::Command,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            FaultTarget::Active => "active",
            FaultTarget::Standby => "standby",
            FaultTarget::Both => "both",
            FaultTarget::Command => "command",
        }
    }

    /// The target called `name`.
    pub fn parse(name: &str) -> Option<FaultTarget> {
        FaultTarget::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// How many times slower a `slow` worker renders.
pub const SLOW_FACTOR: u32 = 3;

/// How many block periods late a `late` worker is with its block.
pub const LATE_BLOCKS: u32 = 3;

/// The fault kinds by name: `crash` (SIGSEGV, process workers only), `panic`, `hang` (spins
/// at normal priority: a stall), `nan` (a block of NaN), `slow` ([`SLOW_FACTOR`] times slower),
/// `late` (one block [`LATE_BLOCKS`] periods late). The last two must not be taken for a
/// fault.
pub const KINDS: [(&str, InjectedFault); 6] = [
    ("crash", InjectedFault::Segv),
    ("panic", InjectedFault::Panic),
    ("hang", InjectedFault::Hang),
    ("nan", InjectedFault::Nan),
    ("slow", InjectedFault::Slow(SLOW_FACTOR)),
    ("late", InjectedFault::Late(LATE_BLOCKS)),
];

/// The fault kind called `name`.
pub fn parse_kind(name: &str) -> Option<InjectedFault> {
    KINDS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in FaultTarget::ALL {
            assert_eq!(FaultTarget::parse(t.name()), Some(t));
        }
        for (n, f) in KINDS {
            assert_eq!(parse_kind(n), Some(f));
        }
        assert_eq!(parse_kind("explode"), None);
        assert_eq!(FaultTarget::parse("all"), None);
    }
}
