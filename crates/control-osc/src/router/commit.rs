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

    /// Applies `preset` to instrument `inst` (made from the preset's chain first when `create`
    /// and it is not there): its routes are committed, its settings returned as actions to send
    /// with the message's others. Not atomic: an instrument made stays when a later step fails.
    pub(super) fn load_preset(
        &self,
        peer: Peer,
        inst: &str,
        preset: &Preset,
        create: bool,
        addr: &str,
    ) -> Result<Vec<Action>, Vec<OscMessage>> {
        let quiet = || msg("/inst/created", vec![]);
        if create && self.engine.directory().instrument(inst).is_err() {
            let make = PatchEdit::Instrument {
                name: inst.to_owned(),
                chain: preset.chain.clone(),
                to: None,
            };
            self.commit(peer, &[make], quiet(), addr)?;
        }
        let (edits, actions) = presets::apply(&self.engine.directory(), inst, preset)
            .map_err(|e| self.error(peer, addr, fail("preset", e.to_string())))?;
        if !edits.is_empty() {
            self.commit(peer, &edits, quiet(), addr)?;
        }
        Ok(actions)
    }
}
