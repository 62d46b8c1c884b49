//! Applying patch edits atomically (`/patch/commit`, `/bus/new`): the engine checks them on a
//! copy first, so a refused list changes nothing.

use super::*;

impl<S: Synth> Router<S> {
    /// Applies `edits` all or none: `done` on success, the error replies (answering `addr`)
    /// otherwise; refusals by a limit are counted in `/status`.
    pub(super) fn commit(
        &self,
        peer: Peer,
        edits: &[PatchEdit],
        done: OscMessage,
        addr: &str,
    ) -> Result<OscMessage, Vec<OscMessage>> {
        match self.engine.edit_patch(edits) {
            Ok(()) => Ok(done),
            Err(e) => {
                if matches!(e, EngineError::Dsp(DspError::TooManyModules { .. })) {
                    self.stats.modules_refused.fetch_add(1, Relaxed);
                }
                if matches!(e, EngineError::Dsp(DspError::TooManyInstruments { .. })) {
                    self.stats.instruments_refused.fetch_add(1, Relaxed);
                }
                if matches!(e, EngineError::EditsInFlight { .. }) {
                    self.stats.commits_refused.fetch_add(1, Relaxed);
                }
                Err(self.error(
                    peer,
                    addr,
                    fail("patch", format!("{e}; nothing was changed")),
                ))
            }
        }
    }
}
