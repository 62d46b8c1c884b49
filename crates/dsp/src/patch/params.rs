//! Parameters and gates of the modules, by id (the audio thread's setters: no allocation) or by
//! name (for tools and tests).

use super::*;

impl Patch {
    /// Sets a parameter (clamped; non-finite values rejected). Never allocates.
    pub fn set_param(
        &mut self,
        id: ModuleId,
        param: ParamId,
        value: f32,
    ) -> Result<SetOutcome, DspError> {
        let node = self.node_mut(id)?;
        let kind = node.desc.kind;
        let out = node.module.set_param(param, value)?;
        for inst in &mut self.instruments {
            if let Some(k) = inst.pool.position(id) {
                inst.pool.set_param(k, kind, param, out.value);
            }
        }
        if kind == ModuleKind::Sampler && param == crate::modules::sampler::SAMPLE {
            self.attach_samples();
        }
        Ok(out)
    }

    /// Sets a parameter by names, e.g. `("sine", "freq", 440.0)`. For tools and tests; the
    /// engine resolves names once and uses [`Patch::set_param`].
    pub fn set(&mut self, module: &str, param: &str, value: f32) -> Result<SetOutcome, DspError> {
        let id = self.lookup(module)?;
        let p = self.kind(id)?.param_id(param)?;
        self.set_param(id, p, value)
    }

    /// A parameter's base value.
    pub fn param(&self, id: ModuleId, param: ParamId) -> Result<f32, DspError> {
        let node = self.node(id)?;
        node.module.param(param).ok_or(DspError::NoParamIndex {
            module: node.desc.kind.name(),
            index: param,
        })
    }

    /// A parameter's value in effect now (smoothed and modulated).
    pub fn effective(&self, id: ModuleId, param: ParamId) -> Result<f32, DspError> {
        let node = self.node(id)?;
        node.module.effective(param).ok_or(DspError::NoParamIndex {
            module: node.desc.kind.name(),
            index: param,
        })
    }

    /// Opens or closes a module's gate (the module itself: a template's envelope gates the
    /// template, not the voices playing notes). Never allocates.
    pub fn gate(&mut self, id: ModuleId, on: bool) -> Result<(), DspError> {
        self.node_mut(id)?.module.gate(on)
    }

    /// Tells every module the tempo (BPM) for tempo-synced parameters. Never allocates.
    pub fn set_tempo(&mut self, bpm: f32) {
        for node in self.nodes.iter_mut().flatten() {
            node.module.set_tempo(bpm);
            node.resting = false;
        }
        for inst in &mut self.instruments {
            inst.pool.set_tempo(bpm);
        }
    }
}
