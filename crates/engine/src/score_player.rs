//! Plays a score against a running engine's clock: what falls in its first seconds goes in
//! before the first block renders (exact samples, even sample 0), the rest is fed a second
//! ahead of the output as it plays, so a long score never fills the workers' schedules.

use crate::{Command, Engine};
use std::collections::VecDeque;

/// The part of a score given to [`Engine::start_with`]: its first two seconds…
pub const OPENING_SECONDS: f64 = 2.0;
/// …and at most this many commands of them.
pub const OPENING_MAX: usize = 2_000;
/// How far ahead of the output the rest is fed, in seconds.
pub const LEAD_SECONDS: f64 = 1.0;

/// The commands of a score not yet sent to the engine.
#[derive(Debug, Clone, Default)]
pub struct ScorePlayer {
    pending: VecDeque<Command>,
    lead: u64,
}

impl ScorePlayer {
    /// Splits a score's commands (sorted by sample, as [`crate::Score::resolve`] gives them)
    /// into the opening, for [`Engine::start_with`], and the player of the rest.
    pub fn split(commands: &[Command], sample_rate: f64) -> (Vec<Command>, ScorePlayer) {
        let opening_end = (OPENING_SECONDS * sample_rate) as u64;
        let split = commands
            .iter()
            .position(|c| c.at >= opening_end)
            .unwrap_or(commands.len())
            .min(OPENING_MAX);
        let (opening, rest) = commands.split_at(split);
        let player = ScorePlayer {
            pending: rest.iter().copied().collect(),
            lead: (LEAD_SECONDS * sample_rate) as u64,
        };
        (opening.to_vec(), player)
    }

    /// Sends the engine every command due within `LEAD_SECONDS` (1 s) of the output; one the
    /// engine cannot take now (its rings are full) waits for the next call, with the rest.
    /// Returns how many were sent. Call it a few times a second (not on an audio thread).
    pub fn feed(&mut self, engine: &Engine) -> usize {
        let played = engine.metrics().played_blocks * engine.config().block as u64;
        let horizon = played + self.lead;
        let mut sent = 0;
        while let Some(c) = self.pending.front().copied() {
            if c.at > horizon || engine.schedule(c.at, c.action).is_err() {
                break;
            }
            self.pending.pop_front();
            sent += 1;
        }
        sent
    }

    /// Commands not yet sent.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;

    #[test]
    fn the_opening_is_the_first_two_seconds_and_the_rest_waits() {
        let at = |s: f64| {
            Command::new(
                (s * 48_000.0) as u64,
                Action::NoteOff {
                    note: None,
                    inst: None,
                },
            )
        };
        let score = [at(0.0), at(1.9), at(2.0), at(30.0)];
        let (opening, player) = ScorePlayer::split(&score, 48_000.0);
        assert_eq!(opening, score[..2]);
        assert_eq!(player.pending(), 2);
        // A dense opening is cut at its limit; what is cut plays later, in order.
        let dense: Vec<Command> = (0..OPENING_MAX as u64 + 10)
            .map(|i| {
                Command::new(
                    i,
                    Action::NoteOff {
                        note: None,
                        inst: None,
                    },
                )
            })
            .collect();
        let (opening, player) = ScorePlayer::split(&dense, 48_000.0);
        assert_eq!((opening.len(), player.pending()), (OPENING_MAX, 10));
        assert_eq!(
            player.pending.front().map(|c| c.at),
            Some(OPENING_MAX as u64)
        );
    }
}
