//! What changed the sound since the last checkpoint: every command (and patch edit) the
//! workers were sent after it, kept in order so that a restart after a double fault replays
//! them on top of the checkpoint and loses nothing but time.
//!
//! Held under the engine's control lock (never touched by a real-time thread). Bounded: past
//! [`JOURNAL_LIMIT`] commands or [`crate::slot::EDIT_SLOTS`] edits since the last checkpoint
//! it stops recording and says so ([`Journal::complete`] is false until the next checkpoint);
//! long before that, [`Journal::wants_checkpoint`] asks the supervisor for an early one.

use crate::wire::{kind, WireCommand};
use std::collections::VecDeque;
use std::sync::Arc;

/// The most commands kept since the last checkpoint. Below the command ring's capacity: a
/// replay goes into a fresh worker's ring in one go.
pub(crate) const JOURNAL_LIMIT: usize = crate::slot::COMMAND_CAPACITY / 2;

/// One recorded command; a patch edit's command carries the edit's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) cmd: WireCommand,
    pub(crate) edit: Option<Arc<[u8]>>,
}

/// The commands since the last checkpoint's cut (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<Entry>,
    /// The newest sequence number that could not be recorded (0: none).
    lost_upto: u64,
    /// The last checkpoint's cut: it holds everything numbered below.
    cut_at: u64,
    /// How many entries carry an edit.
    edits: usize,
}

impl Journal {
    /// Records a command the workers were sent (snapshot requests and injected faults change
    /// no sound and are not kept).
    pub(crate) fn record(&mut self, cmd: WireCommand) {
        if cmd.kind == kind::SNAPSHOT || cmd.kind >= kind::INJECT_PANIC {
            return;
        }
        if self.entries.len() >= JOURNAL_LIMIT {
            self.lost_upto = cmd.seq;
            return;
        }
        self.entries.push_back(Entry { cmd, edit: None });
    }

    /// Attaches a patch edit's bytes to the command `seq` that applies it.
    pub(crate) fn attach_edit(&mut self, seq: u64, bytes: Arc<[u8]>) {
        match self.entries.back_mut() {
            Some(e) if e.cmd.seq == seq && self.edits < crate::slot::EDIT_SLOTS => {
                e.edit = Some(bytes);
                self.edits += 1;
            }
            // More edits than the mailbox holds since the checkpoint: they could not all be
            // replayed (the cells would overwrite each other).
            _ => self.lost_upto = self.lost_upto.max(seq),
        }
    }

    /// A checkpoint holds everything sent before `seq` (its snapshot request's number):
    /// forgets those.
    pub(crate) fn cut(&mut self, seq: u64) {
        self.cut_at = self.cut_at.max(seq);
        while self.entries.front().is_some_and(|e| e.cmd.seq < seq) {
            if self.entries.pop_front().is_some_and(|e| e.edit.is_some()) {
                self.edits -= 1;
            }
        }
    }

    /// Whether every command since the last checkpoint is here.
    pub(crate) fn complete(&self) -> bool {
        self.lost_upto == 0 || self.lost_upto < self.cut_at
    }

    /// Whether an early checkpoint would keep the journal complete: half of its room used, or
    /// a patch edit in it (edits are rare, and the mailbox replays only a few).
    pub(crate) fn wants_checkpoint(&self) -> bool {
        self.entries.len() >= JOURNAL_LIMIT / 2 || self.edits > 0
    }

    /// The recorded commands, oldest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// How many commands are recorded.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Takes the commands numbered `from..=to` out for good, returning them.
    pub(crate) fn quarantine(&mut self, from: u64, to: u64) -> Vec<Entry> {
        let (out, keep): (Vec<Entry>, Vec<Entry>) = self
            .entries
            .drain(..)
            .partition(|e| (from..=to).contains(&e.cmd.seq));
        self.entries = keep.into();
        self.edits -= out.iter().filter(|e| e.edit.is_some()).count();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(seq: u64, kind: u32) -> WireCommand {
        WireCommand {
            seq,
            kind,
            ..WireCommand::default()
        }
    }

    #[test]
    fn keeps_what_changes_the_sound_and_forgets_what_a_checkpoint_holds() {
        let mut j = Journal::default();
        j.record(cmd(1, kind::SET));
        j.record(cmd(2, kind::SNAPSHOT));
        j.record(cmd(3, kind::INJECT_PANIC));
        j.record(cmd(4, kind::NOTE));
        j.record(cmd(5, kind::PATCH));
        j.attach_edit(5, Arc::from(&b"edit"[..]));
        let seqs = |j: &Journal| j.entries().map(|e| e.cmd.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&j), [1, 4, 5]);
        assert!(j.complete() && j.wants_checkpoint());
        j.cut(4);
        assert_eq!(seqs(&j), [4, 5]);
        j.cut(6);
        assert_eq!(j.len(), 0);
        assert!(j.complete() && !j.wants_checkpoint());
    }

    #[test]
    fn past_its_limit_it_says_it_is_incomplete_until_a_checkpoint_cuts_past_the_loss() {
        let mut j = Journal::default();
        for seq in 1..=JOURNAL_LIMIT as u64 + 10 {
            j.record(cmd(seq, kind::SET));
        }
        assert_eq!(j.len(), JOURNAL_LIMIT);
        assert!(!j.complete());
        j.cut(JOURNAL_LIMIT as u64 + 5);
        assert!(!j.complete(), "commands after the cut were lost");
        j.cut(JOURNAL_LIMIT as u64 + 11);
        j.record(cmd(JOURNAL_LIMIT as u64 + 11, kind::SET));
        assert!(j.complete());
    }

    #[test]
    fn more_edits_than_the_mailbox_holds_make_it_incomplete() {
        let mut j = Journal::default();
        for seq in 1..=crate::slot::EDIT_SLOTS as u64 + 1 {
            j.record(cmd(seq, kind::PATCH));
            j.attach_edit(seq, Arc::from(&b"e"[..]));
        }
        assert!(!j.complete());
    }

    #[test]
    fn quarantined_commands_are_gone_for_good() {
        let mut j = Journal::default();
        for seq in 1..=5 {
            j.record(cmd(seq, kind::SET));
        }
        let out = j.quarantine(2, 3);
        assert_eq!(out.len(), 2);
        assert_eq!(
            j.entries().map(|e| e.cmd.seq).collect::<Vec<_>>(),
            [1, 4, 5]
        );
    }
}
