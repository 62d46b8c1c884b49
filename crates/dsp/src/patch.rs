//! The [`Patch`]: named module instances wired as a graph and rendered block by block.

use crate::limiter::soft_limit_block;
use crate::module::{check_config, Module, ModuleKind, ModuleState};
use crate::voices::{VoiceMode, VoicePhase, VoicePool, VoicesState};
use crate::{DspError, ParamId, SetOutcome};

/// The name of the oscillator a voice template starts at first (the seed's patch).
const TEMPLATE_HEAD: &str = "sine";
/// The longest voice template (oscillator, envelopes, filters).
const MAX_TEMPLATE: usize = 8;

/// Identifies a module instance within one patch. Ids are stable: removing a module never
/// changes the ids of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModuleId(pub u16);

/// A modulation route into a parameter: the LFO `from` drives `param` of the module holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Route {
    /// The LFO.
    pub from: ModuleId,
    /// The parameter of the destination.
    pub param: ParamId,
}

/// The description of one instance: what it is and how it is wired.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeDesc {
    /// Its id.
    pub id: ModuleId,
    /// Its name (`sine`, `filter`, …).
    pub name: String,
    /// Its kind.
    pub kind: ModuleKind,
    /// Modules whose audio is summed into its input.
    pub inputs: Vec<ModuleId>,
    /// LFOs modulating its parameters.
    pub routes: Vec<Route>,
    /// Whether its output goes to the patch output.
    pub to_out: bool,
}

/// A patch's complete state: its layout and every module's state.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatchState {
    /// Sample rate the patch runs at.
    pub sample_rate: f64,
    /// Block size.
    pub block: usize,
    /// Each instance (in id order) with its state.
    pub nodes: Vec<(NodeDesc, ModuleState)>,
    /// The voices playing notes.
    pub voices: VoicesState,
}

struct Node {
    desc: NodeDesc,
    module: Box<dyn Module>,
    /// True when some module or the output reads this one's audio (not only its first
    /// sample, as modulation does).
    audio_used: bool,
}

/// Named module instances wired as a graph, rendered one block at a time into a mono output
/// with a final soft limiter.
///
/// Editing (add, remove, connect, …) allocates and must happen between blocks; [`Patch::process`]
/// and the parameter and gate setters never allocate.
pub struct Patch {
    sample_rate: f64,
    block: usize,
    nodes: Vec<Option<Node>>,
    order: Vec<usize>,
    buffers: Vec<f32>,
    voices: VoicePool,
}

impl std::fmt::Debug for Patch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patch")
            .field("sample_rate", &self.sample_rate)
            .field("block", &self.block)
            .field("nodes", &self.describe())
            .finish()
    }
}

impl Patch {
    /// An empty patch (renders silence).
    pub fn new(sample_rate: f64, block: usize) -> Result<Self, DspError> {
        check_config(sample_rate, block)?;
        Ok(Patch {
            sample_rate,
            block,
            nodes: Vec::new(),
            order: Vec::new(),
            buffers: Vec::new(),
            voices: VoicePool::new(block),
        })
    }

    /// The seed chain: `sine > adsr > filter > out`, with an unrouted `lfo`; with the
    /// `effects` feature, `filter > delay > reverb > out`, both dry (mix 0) until turned up.
    pub fn default_patch(sample_rate: f64, block: usize) -> Result<Self, DspError> {
        let mut p = Patch::new(sample_rate, block)?;
        let sine = p.add("sine", ModuleKind::Osc)?;
        let adsr = p.add("adsr", ModuleKind::Adsr)?;
        let filter = p.add("filter", ModuleKind::Filter)?;
        p.add("lfo", ModuleKind::Lfo)?;
        p.connect(sine, adsr)?;
        p.connect(adsr, filter)?;
        #[cfg(feature = "effects")]
        let filter = {
            let delay = p.add("delay", ModuleKind::Delay)?;
            let reverb = p.add("reverb", ModuleKind::Reverb)?;
            p.connect(filter, delay)?;
            p.connect(delay, reverb)?;
            reverb
        };
        p.connect_out(filter, true)?;
        Ok(p)
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Samples per block.
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// Adds an instance named `name` (letters, digits, `_`, `-`).
    pub fn add(&mut self, name: &str, kind: ModuleKind) -> Result<ModuleId, DspError> {
        let valid = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(DspError::BadName {
                name: name.to_owned(),
            });
        }
        if self.find(name).is_some() {
            return Err(DspError::DuplicateName {
                name: name.to_owned(),
            });
        }
        let module = kind.build(self.sample_rate, self.block)?;
        let slot = self
            .nodes
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.nodes.len());
        let id = ModuleId(slot as u16);
        let node = Node {
            desc: NodeDesc {
                id,
                name: name.to_owned(),
                kind,
                inputs: Vec::new(),
                routes: Vec::new(),
                to_out: false,
            },
            module,
            audio_used: false,
        };
        if slot == self.nodes.len() {
            self.nodes.push(Some(node));
        } else {
            self.nodes[slot] = Some(node);
        }
        self.rebuild()?;
        Ok(id)
    }

    /// Removes an instance and every connection to or from it.
    pub fn remove(&mut self, id: ModuleId) -> Result<(), DspError> {
        self.node(id)?;
        self.nodes[id.0 as usize] = None;
        for node in self.nodes.iter_mut().flatten() {
            node.desc.inputs.retain(|&i| i != id);
            let removed: Vec<ParamId> = node
                .desc
                .routes
                .iter()
                .filter(|r| r.from == id)
                .map(|r| r.param)
                .collect();
            node.desc.routes.retain(|r| r.from != id);
            for p in removed {
                node.module.set_modulation(p, 0.0);
            }
        }
        self.rebuild()
    }

    /// Sends `from`'s audio into `to`'s input. Fails (changing nothing) on a cycle.
    pub fn connect(&mut self, from: ModuleId, to: ModuleId) -> Result<(), DspError> {
        self.node(from)?;
        if self.node(to)?.desc.inputs.contains(&from) {
            return Ok(());
        }
        self.node_mut(to)?.desc.inputs.push(from);
        if self.rebuild().is_err() {
            self.node_mut(to)?.desc.inputs.retain(|&i| i != from);
            self.rebuild()?;
            return Err(self.cycle(from, to));
        }
        Ok(())
    }

    /// Removes the audio connection `from > to`, if there is one.
    pub fn disconnect(&mut self, from: ModuleId, to: ModuleId) -> Result<(), DspError> {
        self.node(from)?;
        self.node_mut(to)?.desc.inputs.retain(|&i| i != from);
        self.rebuild()
    }

    /// Routes (or un-routes) a module's output to the patch output.
    pub fn connect_out(&mut self, id: ModuleId, on: bool) -> Result<(), DspError> {
        self.node_mut(id)?.desc.to_out = on;
        self.rebuild()
    }

    /// Lets the LFO `lfo` modulate `param` of `to`. Fails (changing nothing) on a cycle or when
    /// `lfo` is not an LFO.
    pub fn modulate(
        &mut self,
        lfo: ModuleId,
        to: ModuleId,
        param: ParamId,
    ) -> Result<(), DspError> {
        let src = self.node(lfo)?;
        if src.desc.kind != ModuleKind::Lfo {
            return Err(DspError::NotAModulator {
                name: src.desc.name.clone(),
            });
        }
        let kind = self.node(to)?.desc.kind;
        if (param as usize) >= kind.params().len() {
            return Err(DspError::NoParamIndex {
                module: kind.name(),
                index: param,
            });
        }
        let route = Route { from: lfo, param };
        if self.node(to)?.desc.routes.contains(&route) {
            return Ok(());
        }
        self.node_mut(to)?.desc.routes.push(route);
        if self.rebuild().is_err() {
            self.node_mut(to)?.desc.routes.retain(|r| *r != route);
            self.rebuild()?;
            return Err(self.cycle(lfo, to));
        }
        Ok(())
    }

    /// Removes the modulation of `param` of `to` by `lfo`, if there is one.
    pub fn unmodulate(
        &mut self,
        lfo: ModuleId,
        to: ModuleId,
        param: ParamId,
    ) -> Result<(), DspError> {
        let node = self.node_mut(to)?;
        node.desc
            .routes
            .retain(|r| !(r.from == lfo && r.param == param));
        if !node.desc.routes.iter().any(|r| r.param == param) {
            node.module.set_modulation(param, 0.0);
        }
        self.rebuild()
    }

    /// The id of the instance named `name`.
    pub fn find(&self, name: &str) -> Option<ModuleId> {
        self.nodes
            .iter()
            .flatten()
            .find(|n| n.desc.name == name)
            .map(|n| n.desc.id)
    }

    /// The id of the instance named `name`, or an error naming it.
    pub fn lookup(&self, name: &str) -> Result<ModuleId, DspError> {
        self.find(name).ok_or_else(|| DspError::UnknownModule {
            name: name.to_owned(),
        })
    }

    /// The kind of an instance.
    pub fn kind(&self, id: ModuleId) -> Result<ModuleKind, DspError> {
        Ok(self.node(id)?.desc.kind)
    }

    /// The name of an instance.
    pub fn name(&self, id: ModuleId) -> Result<&str, DspError> {
        Ok(&self.node(id)?.desc.name)
    }

    /// Every instance, in id order.
    pub fn describe(&self) -> Vec<NodeDesc> {
        self.nodes
            .iter()
            .flatten()
            .map(|n| n.desc.clone())
            .collect()
    }

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
        if let Some(k) = self.voices.position(id) {
            self.voices.set_param(k, kind, param, out.value);
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
        }
    }

    /// Plays MIDI note `note` (0..=127) at `velocity` (0..1, a gain on the voice) on a voice
    /// of the pool (see [`VoiceMode`] for which). Never allocates.
    pub fn note_on(&mut self, note: u8, velocity: f32) -> Result<(), DspError> {
        self.voices.note_on(note, velocity)
    }

    /// Releases `note`, or every note for `None`. Never allocates.
    pub fn note_off(&mut self, note: Option<u8>) -> Result<(), DspError> {
        if self.voices.template().is_empty() {
            return Err(DspError::NoVoiceTemplate);
        }
        self.voices.note_off(note);
        Ok(())
    }

    /// Sets how many notes may sound at once (1..=[`crate::MAX_VOICES`]) and the
    /// [`VoiceMode`]. Never allocates.
    pub fn set_voices(&mut self, count: usize, mode: VoiceMode) -> Result<(), DspError> {
        self.voices.configure(count, mode)
    }

    /// How many notes may sound at once, and the mode.
    pub fn voices(&self) -> (usize, VoiceMode) {
        (self.voices.count(), self.voices.mode())
    }

    /// The voice template's modules, oscillator first (empty: this patch plays no notes).
    pub fn voice_template(&self) -> &[ModuleId] {
        self.voices.template()
    }

    /// How many notes are held and how many sound (held, or in their release) on the voice
    /// pool. Never allocates: a worker reports it with every block.
    pub fn note_counts(&self) -> (usize, usize) {
        self.voices.counts()
    }

    /// The notes sounding (held, or in their release), in voice order. Allocates.
    pub fn notes(&self) -> Vec<(u8, VoicePhase)> {
        self.voices.notes()
    }

    /// Renders one block into `out` (whose length must be the block size; a shorter slice
    /// renders that many samples of each module's next block). Never allocates.
    pub fn process(&mut self, out: &mut [f32]) {
        let n = out.len().min(self.block);
        let voices_end = self.voices.end().map(|id| id.0 as usize);
        for k in 0..self.order.len() {
            let i = self.order[k];
            self.process_node(i, n);
            if Some(i) == voices_end {
                self.process_voices(i, n);
            }
        }
        let block = self.block;
        let out = &mut out[..n];
        let mut first = true;
        for node in self.nodes.iter().flatten().filter(|n| n.desc.to_out) {
            let src = &self.buffers[node.desc.id.0 as usize * block..][..n];
            if first {
                out.copy_from_slice(src);
                first = false;
            } else {
                for (d, s) in out.iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
        if first {
            out.fill(0.0);
        }
        soft_limit_block(out);
    }

    /// Renders node `i`'s next `n` samples into its buffer.
    fn process_node(&mut self, i: usize, n: usize) {
        let block = self.block;
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        // Control-rate modulation: the first sample of each LFO's block.
        let (amounts, touched) = modulation(&node.desc.routes, |src| self.buffers[src * block]);
        for (p, &a) in amounts.iter().enumerate() {
            if touched & (1 << p) != 0 {
                node.module.set_modulation(p as ParamId, a);
            }
        }
        if !node.audio_used {
            // Only read at control rate (or not at all): skip the audio where the module can.
            if let Some(first) = node.module.skip(n) {
                self.buffers[i * block] = first;
                return;
            }
        }
        // The sum of the inputs, straight into this module's own buffer.
        match node.desc.inputs.split_first() {
            None => self.buffers[i * block..][..n].fill(0.0),
            Some((first, rest)) => {
                let src = first.0 as usize * block;
                self.buffers.copy_within(src..src + n, i * block);
                for input in rest {
                    let j = input.0 as usize;
                    // Distinct buffers (a module never feeds itself): split to borrow both.
                    let (dst, src) = if j < i {
                        let (a, b) = self.buffers.split_at_mut(i * block);
                        (&mut b[..n], &a[j * block..][..n])
                    } else {
                        let (a, b) = self.buffers.split_at_mut(j * block);
                        (&mut a[i * block..][..n], &b[..n])
                    };
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d += s;
                    }
                }
            }
        }
        node.module.process(&mut self.buffers[i * block..][..n]);
    }

    /// Renders the sounding voices into the template's last module's buffer (`end`).
    fn process_voices(&mut self, end: usize, n: usize) {
        if !self.voices.sounding() {
            return;
        }
        let block = self.block;
        let (nodes, buffers, voices) = (&self.nodes, &mut self.buffers, &mut self.voices);
        let (before, rest) = buffers.split_at_mut(end * block);
        let (dst, after) = rest.split_at_mut(block);
        let mut amounts = [([0.0f32; 8], 0u8); MAX_TEMPLATE];
        for (slot, id) in amounts.iter_mut().zip(voices.template()) {
            if let Some(Some(node)) = nodes.get(id.0 as usize) {
                // An LFO's first sample, from whichever side of the split holds it.
                *slot = modulation(&node.desc.routes, |src| {
                    if src < end {
                        before[src * block]
                    } else if src > end {
                        after[(src - end - 1) * block]
                    } else {
                        dst[0]
                    }
                });
            }
        }
        voices.render_into(&mut dst[..n], &amounts);
    }

    /// A copy of the complete state: layout and every module's state.
    pub fn state(&self) -> PatchState {
        PatchState {
            sample_rate: self.sample_rate,
            block: self.block,
            nodes: self
                .nodes
                .iter()
                .flatten()
                .map(|n| (n.desc.clone(), n.module.state()))
                .collect(),
            voices: self.voices.state(),
        }
    }

    /// Restores module states into this patch, whose layout must equal the state's.
    pub fn restore(&mut self, state: &PatchState) -> Result<(), DspError> {
        if state.sample_rate != self.sample_rate || state.block != self.block {
            return Err(DspError::StateMismatch {
                reason: "sample rate or block size differs",
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
        self.voices.restore(&state.voices)
    }

    /// Builds a patch with the state's layout and restores every module's state into it.
    /// The new patch renders exactly what the original would have rendered next.
    pub fn from_state(state: &PatchState) -> Result<Patch, DspError> {
        let mut p = Patch::new(state.sample_rate, state.block)?;
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
            let mut module = desc.kind.build(state.sample_rate, state.block)?;
            module.restore(ms)?;
            p.nodes[slot] = Some(Node {
                desc: desc.clone(),
                module,
                audio_used: false,
            });
        }
        for (desc, _) in &state.nodes {
            for id in desc
                .inputs
                .iter()
                .chain(desc.routes.iter().map(|r| &r.from))
            {
                p.node(*id)?;
            }
        }
        p.rebuild()?;
        p.voices.restore(&state.voices)?;
        // Previous blocks' outputs matter only for modulation, which each block re-reads after
        // its source has processed, so fresh buffers are exact.
        Ok(p)
    }

    fn node(&self, id: ModuleId) -> Result<&Node, DspError> {
        self.nodes
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(DspError::BadModuleId { id: id.0 })
    }

    fn node_mut(&mut self, id: ModuleId) -> Result<&mut Node, DspError> {
        self.nodes
            .get_mut(id.0 as usize)
            .and_then(Option::as_mut)
            .ok_or(DspError::BadModuleId { id: id.0 })
    }

    fn cycle(&self, from: ModuleId, to: ModuleId) -> DspError {
        let name = |id| self.name(id).unwrap_or("?").to_owned();
        DspError::Cycle {
            from: name(from),
            to: name(to),
        }
    }

    /// Recomputes the evaluation order (Kahn) and the buffers. Errors on a cycle.
    fn rebuild(&mut self) -> Result<(), DspError> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for node in self.nodes.iter().flatten() {
            let me = node.desc.id.0 as usize;
            let sources = node
                .desc
                .inputs
                .iter()
                .chain(node.desc.routes.iter().map(|r| &r.from));
            for src in sources {
                indegree[me] += 1;
                users[src.0 as usize].push(me);
            }
        }
        let mut ready: Vec<usize> = (0..n)
            .filter(|&i| self.nodes[i].is_some() && indegree[i] == 0)
            .rev()
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop() {
            order.push(i);
            for &u in users[i].iter().rev() {
                indegree[u] -= 1;
                if indegree[u] == 0 {
                    ready.push(u);
                }
            }
        }
        let live = self.nodes.iter().flatten().count();
        if order.len() != live {
            return Err(DspError::Cycle {
                from: String::new(),
                to: String::new(),
            });
        }
        self.order = order;
        let mut audio_used = vec![false; n];
        for node in self.nodes.iter().flatten() {
            audio_used[node.desc.id.0 as usize] |= node.desc.to_out;
            for src in &node.desc.inputs {
                audio_used[src.0 as usize] = true;
            }
        }
        for (node, used) in self.nodes.iter_mut().zip(audio_used) {
            if let Some(node) = node {
                node.audio_used = used;
            }
        }
        self.buffers.resize(n * self.block, 0.0);
        let template = self
            .find_template()
            .into_iter()
            .filter_map(|id| self.node(id).ok())
            .map(|node| {
                let params = (0..node.desc.kind.params().len())
                    .map(|p| node.module.param(p as ParamId).unwrap_or(0.0))
                    .collect();
                (node.desc.id, node.desc.kind, params)
            })
            .collect();
        self.voices
            .set_template(template, self.sample_rate, self.block)
    }

    /// The voice template: an oscillator, then each module that alone takes its audio while
    /// it is an envelope or filter with that one input; it must hold an envelope. The
    /// oscillator is `sine` when that chain holds one (the seed's patch), else the first
    /// oscillator in the patch whose chain does; none: empty.
    fn find_template(&self) -> Vec<ModuleId> {
        let oscillators = self
            .nodes
            .iter()
            .flatten()
            .filter(|n| n.desc.kind == ModuleKind::Osc);
        let (named, others): (Vec<&Node>, Vec<&Node>) =
            oscillators.partition(|n| n.desc.name == TEMPLATE_HEAD);
        named
            .into_iter()
            .chain(others)
            .map(|head| self.chain_from(head))
            .find(|chain| {
                chain
                    .iter()
                    .any(|&id| self.kind(id).is_ok_and(ModuleKind::gateable))
            })
            .unwrap_or_default()
    }

    /// `head`, then each module that alone takes the previous one's audio while it is an
    /// envelope or filter with that one input (at most [`MAX_TEMPLATE`] modules).
    fn chain_from(&self, head: &Node) -> Vec<ModuleId> {
        let mut chain = vec![head.desc.id];
        let mut cur = head;
        while chain.len() < MAX_TEMPLATE && !cur.desc.to_out {
            let mut users = self
                .nodes
                .iter()
                .flatten()
                .filter(|n| n.desc.inputs.contains(&cur.desc.id));
            let (Some(next), None) = (users.next(), users.next()) else {
                break;
            };
            let chainable = matches!(next.desc.kind, ModuleKind::Adsr | ModuleKind::Filter)
                && next.desc.inputs.len() == 1;
            if !chainable {
                break;
            }
            chain.push(next.desc.id);
            cur = next;
        }
        chain
    }
}

/// The modulation of a module's parameters this block: the sum of the first sample of each
/// routed LFO (`first(lfo index)`), per parameter, and a mask of the parameters routed.
fn modulation(routes: &[Route], first: impl Fn(usize) -> f32) -> ([f32; 8], u8) {
    let mut amounts = [0.0f32; 8];
    let mut touched = 0u8;
    for r in routes {
        if let Some(slot) = amounts.get_mut(r.param as usize) {
            *slot += first(r.from.0 as usize);
            touched |= 1 << r.param;
        }
    }
    (amounts, touched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_rejected_and_change_nothing() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let before = p.describe();
        let (sine, filter) = (p.find("sine").unwrap(), p.find("filter").unwrap());
        assert!(matches!(
            p.connect(filter, sine),
            Err(DspError::Cycle { .. })
        ));
        assert_eq!(p.describe(), before);
    }

    #[test]
    fn names_are_checked() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        assert!(matches!(
            p.add("sine", ModuleKind::Osc),
            Err(DspError::DuplicateName { .. })
        ));
        assert!(matches!(
            p.add("a b", ModuleKind::Osc),
            Err(DspError::BadName { .. })
        ));
        assert!(matches!(
            p.set("nope", "freq", 1.0),
            Err(DspError::UnknownModule { .. })
        ));
        assert!(matches!(
            p.set("sine", "nope", 1.0),
            Err(DspError::UnknownParam { .. })
        ));
        assert!(matches!(
            p.set("sine", "freq", f32::NAN),
            Err(DspError::NonFinite { .. })
        ));
        let clamped = p.set("sine", "freq", 1e9).unwrap();
        assert!(clamped.clamped && clamped.value == 23_990.0);
    }

    #[test]
    fn removing_keeps_other_ids() {
        let mut p = Patch::default_patch(48_000.0, 64).unwrap();
        let lfo = p.find("lfo").unwrap();
        let sine = p.find("sine").unwrap();
        p.modulate(lfo, sine, 0).unwrap();
        p.remove(lfo).unwrap();
        assert_eq!(p.find("sine"), Some(sine));
        assert!(p.describe().iter().all(|d| d.routes.is_empty()));
        let again = p.add("lfo2", ModuleKind::Lfo).unwrap();
        assert_eq!(again, lfo, "free slot reused");
    }

    #[test]
    fn the_voice_template_is_found_by_its_shape_not_only_by_the_name_sine() {
        // No `sine` at all: an oscillator called `lead` feeding an envelope plays notes.
        let mut p = Patch::new(48_000.0, 64).unwrap();
        let lead = p.add("lead", ModuleKind::Osc).unwrap();
        let env = p.add("env", ModuleKind::Adsr).unwrap();
        p.connect(lead, env).unwrap();
        p.connect_out(env, true).unwrap();
        assert_eq!(p.voice_template(), [lead, env]);
        p.note_on(69, 1.0).unwrap();
        let mut out = [0.0f32; 64];
        let mut peak = 0.0f32;
        for _ in 0..40 {
            p.process(&mut out);
            peak = out.iter().fold(peak, |m, x| m.max(x.abs()));
        }
        assert!(peak > 0.1, "the note sounds: {peak}");
        // A `sine` with no envelope after it does not stand in the way.
        let sine = p.add("sine", ModuleKind::Osc).unwrap();
        p.connect_out(sine, true).unwrap();
        assert_eq!(p.voice_template(), [lead, env]);
        // With an envelope after it, `sine` comes first (the seed's patch).
        let env2 = p.add("env2", ModuleKind::Adsr).unwrap();
        p.connect_out(sine, false).unwrap();
        p.connect(sine, env2).unwrap();
        p.connect_out(env2, true).unwrap();
        assert_eq!(p.voice_template(), [sine, env2]);
    }
}
