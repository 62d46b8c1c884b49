//! The patch's complete state as plain data, and a patch restored from it (bit-exact: a
//! respawned worker continues from it).

use super::*;

impl Patch {
    /// A copy of the complete state: layout and every module's state.
    pub fn state(&self) -> PatchState {
        PatchState {
            sample_rate: self.sample_rate,
            block: self.block,
            stereo: self.stereo,
            nodes: self
                .nodes
                .iter()
                .flatten()
                .map(|n| (NodeDesc::clone(&n.desc), n.module.state()))
                .collect(),
            instruments: self.instruments_state(),
            samples: self.samples.descs(),
            players: self.players.state(),
        }
    }

    /// Restores module states into this patch, whose layout must equal the state's.
    pub fn restore(&mut self, state: &PatchState) -> Result<(), DspError> {
        if state.sample_rate != self.sample_rate
            || state.block != self.block
            || state.stereo != self.stereo
        {
            return Err(DspError::StateMismatch {
                reason: "sample rate, block size or channels differ",
            });
        }
        if self.describe()
            != state
                .nodes
                .iter()
                .map(|(d, _)| d.clone())
                .collect::<Vec<_>>()
        {
            return Err(DspError::StateMismatch {
                reason: "patch layout differs",
            });
        }
        for (desc, ms) in &state.nodes {
            self.node_mut(desc.id)?.module.restore(ms)?;
        }
        self.restore_instruments(&state.instruments)?;
        self.players = state.players.clone();
        self.players_idle = false;
        self.attach_samples();
        Ok(())
    }

    /// Builds a patch with the state's layout and restores every module's state into it.
    /// The new patch renders exactly what the original would have rendered next.
    pub fn from_state(state: &PatchState) -> Result<Patch, DspError> {
        let mut p = Patch::with_stereo(state.sample_rate, state.block, state.stereo)?;
        for (desc, ms) in &state.nodes {
            if ms.kind() != desc.kind {
                return Err(DspError::StateMismatch {
                    reason: "module state of another kind",
                });
            }
            let slot = desc.id.0 as usize;
            if p.nodes.len() <= slot {
                p.nodes.resize_with(slot + 1, || None);
            }
            if p.nodes[slot].is_some() {
                return Err(DspError::StateMismatch {
                    reason: "two modules share an id",
                });
            }
            let mut module = desc
                .kind
                .build_held(state.sample_rate, state.block, state.stereo)?;
            module.restore(ms)?;
            p.nodes[slot] = Some(Node::new(desc.clone(), module));
        }
        for (desc, _) in &state.nodes {
            for id in desc
                .inputs
                .iter()
                .map(|i| i.from)
                .chain(desc.routes.iter().filter_map(|r| r.from.module()))
            {
                p.node(id)?;
            }
        }
        let instruments: Vec<(String, Option<ModuleId>)> = state
            .instruments
            .iter()
            .map(|i| (i.name.clone(), i.head))
            .collect();
        p.set_instruments(&instruments);
        p.rebuild()?;
        p.restore_instruments(&state.instruments)?;
        // The samples' memory is not in the state: whoever restores maps it and puts each one
        // back (`Patch::put_sample`) before the next block; until then their players are
        // silent.
        p.players = state.players.clone();
        p.players_idle = false;
        // Previous blocks' outputs matter only for modulation, which each block re-reads after
        // its source has processed, so fresh buffers are exact.
        Ok(p)
    }

    /// A copy of the layout (the same ids, names, kinds, wiring and parameter values) with
    /// fresh modules: what an edit is checked against. Cheap: no audio memory is copied (a
    /// fresh line is untouched zero pages), unlike [`Patch::from_state`].
    pub fn layout_copy(&self) -> Result<Patch, DspError> {
        let mut p = Patch::with_stereo(self.sample_rate, self.block, self.stereo)?;
        p.nodes.resize_with(self.nodes.len(), || None);
        for (slot, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let mut module =
                node.desc
                    .kind
                    .build_held(self.sample_rate, self.block, self.stereo)?;
            for i in 0..node.desc.kind.params().len() {
                let i = i as ParamId;
                if let Some(v) = node.module.param(i) {
                    module.set_param(i, v)?;
                }
            }
            p.nodes[slot] = Some(Node::new(NodeDesc::clone(&node.desc), module));
        }
        let instruments: Vec<(String, Option<ModuleId>)> = self
            .instruments
            .iter()
            .map(|i| (i.name.clone(), i.head))
            .collect();
        p.set_instruments(&instruments);
        p.rebuild()?;
        Ok(p)
    }
}
