//! Editing the graph: adding and removing modules, audio connections, modulation routes; every
//! edit re-derives the processing order and the voice template (edits allocate: between blocks).

use super::*;

impl Patch {
    /// Adds an instance named `name` (letters, digits, `_`, `-`).
    pub fn add(&mut self, name: &str, kind: ModuleKind) -> Result<ModuleId, DspError> {
        Ok(self.add_many(&[(name, kind)])?[0])
    }

    /// Adds several instances at once, re-deriving the processing order once (the same order
    /// as adding them one by one: it depends only on the graph). All or none: on an error
    /// (a bad or taken name, too many modules, too much delay memory) nothing is added.
    pub fn add_many(&mut self, modules: &[(&str, ModuleKind)]) -> Result<Vec<ModuleId>, DspError> {
        self.add_many_named(modules, false)
    }

    /// [`Patch::add_many`]; `dotted` lets a name hold a `.` (an instrument's modules,
    /// `bass.osc`: only instruments make such names).
    pub(super) fn add_many_named(
        &mut self,
        modules: &[(&str, ModuleKind)],
        dotted: bool,
    ) -> Result<Vec<ModuleId>, DspError> {
        let live = self.nodes.iter().flatten().count();
        if live + modules.len() > MAX_MODULES {
            return Err(DspError::TooManyModules { limit: MAX_MODULES });
        }
        for (i, &(name, _)) in modules.iter().enumerate() {
            let valid = !name.is_empty()
                && name.len() <= 32
                && name.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dotted && c == '.')
                });
            if !valid {
                return Err(DspError::BadName {
                    name: name.to_owned(),
                });
            }
            if self.find(name).is_some() || modules[..i].iter().any(|(n, _)| *n == name) {
                return Err(DspError::DuplicateName {
                    name: name.to_owned(),
                });
            }
        }
        let built = modules
            .iter()
            .map(|&(_, kind)| kind.build_held(self.sample_rate, self.block, self.stereo))
            .collect::<Result<Vec<_>, _>>()?;
        let held: usize = self
            .nodes
            .iter()
            .flatten()
            .map(|n| n.module.memory_bytes())
            .sum();
        let more: usize = built.iter().map(|m| m.memory_bytes()).sum();
        if held + more > MAX_DELAY_MEMORY {
            return Err(DspError::TooMuchDelayMemory {
                limit_mib: MAX_DELAY_MEMORY >> 20,
                needed_kib: (held + more - MAX_DELAY_MEMORY).div_ceil(1024),
            });
        }
        let mut ids = Vec::with_capacity(modules.len());
        for (&(name, kind), module) in modules.iter().zip(built) {
            let slot = self
                .nodes
                .iter()
                .position(Option::is_none)
                .unwrap_or(self.nodes.len());
            let id = ModuleId(slot as u16);
            let desc = NodeDesc {
                id,
                name: name.to_owned(),
                kind,
                inputs: Vec::new(),
                routes: Vec::new(),
                to_out: false,
            };
            let node = Node::new(desc, module);
            if slot == self.nodes.len() {
                self.nodes.push(Some(node));
            } else {
                self.nodes[slot] = Some(node);
            }
            ids.push(id);
        }
        if let Err(e) = self.rebuild() {
            for id in &ids {
                self.nodes[id.0 as usize] = None;
            }
            let _ = self.rebuild();
            return Err(e);
        }
        Ok(ids)
    }

    /// Removes an instance and every connection to or from it.
    pub fn remove(&mut self, id: ModuleId) -> Result<(), DspError> {
        self.node(id)?;
        self.detach(id);
        self.rebuild()
    }

    /// Takes module `id` out with every connection to or from it (the caller rebuilds).
    pub(super) fn detach(&mut self, id: ModuleId) {
        self.nodes[id.0 as usize] = None;
        for node in self.nodes.iter_mut().flatten() {
            node.desc.inputs.retain(|i| i.from != id);
            let removed: Vec<ParamId> = node
                .desc
                .routes
                .iter()
                .filter(|r| r.from == Source::Module(id))
                .map(|r| r.param)
                .collect();
            node.desc.routes.retain(|r| r.from != Source::Module(id));
            node.resting = false;
            for p in removed {
                node.module.set_modulation(p, 0.0);
            }
        }
    }

    /// Sends `from`'s audio into `to`'s input. Fails (changing nothing) on a cycle.
    pub fn connect(&mut self, from: ModuleId, to: ModuleId) -> Result<(), DspError> {
        self.connect_at(from, to, 1.0)
    }

    /// Sends `from`'s audio into `to`'s input at `level` (0..=[`MAX_SEND_LEVEL`]; a send to a
    /// bus); an existing connection takes the new level. Fails (changing nothing) on a cycle
    /// or a level out of range.
    pub fn connect_at(&mut self, from: ModuleId, to: ModuleId, level: f32) -> Result<(), DspError> {
        if !(0.0..=MAX_SEND_LEVEL).contains(&level) {
            return Err(DspError::BadLevel { level });
        }
        self.node(from)?;
        if let Some(input) = self
            .node_mut(to)?
            .desc
            .inputs
            .iter_mut()
            .find(|i| i.from == from)
        {
            input.level = level;
            self.rebuild_feeds();
            return Ok(());
        }
        self.node_mut(to)?.desc.inputs.push(Input { from, level });
        if self.rebuild().is_err() {
            self.node_mut(to)?.desc.inputs.retain(|i| i.from != from);
            self.rebuild()?;
            return Err(self.cycle(from, to));
        }
        Ok(())
    }

    /// Removes the audio connection `from > to`, if there is one.
    pub fn disconnect(&mut self, from: ModuleId, to: ModuleId) -> Result<(), DspError> {
        self.node(from)?;
        self.node_mut(to)?.desc.inputs.retain(|i| i.from != from);
        self.rebuild()
    }

    /// Routes (or un-routes) a module's output to the patch output.
    pub fn connect_out(&mut self, id: ModuleId, on: bool) -> Result<(), DspError> {
        self.node_mut(id)?.desc.to_out = on;
        self.rebuild()
    }

    /// Lets the LFO (or `env`) `lfo` modulate `param` of `to`, at depth 1. Fails (changing
    /// nothing) on a cycle or when `lfo` is no modulation source.
    pub fn modulate(
        &mut self,
        lfo: ModuleId,
        to: ModuleId,
        param: ParamId,
    ) -> Result<(), DspError> {
        self.route(Source::Module(lfo), to, param, 1.0)
    }

    /// Routes `from` into `param` of `to` at `depth` (-[`MAX_DEPTH`]..=[`MAX_DEPTH`]); a route
    /// that exists takes the new depth. Fails (changing nothing) on a cycle, a depth out of
    /// range, or a source the parameter does not take: an `lfo` or an `env` (or velocity or
    /// key) at control rate; an `osc`, a `noise` or an `lfo` into an audio-rate parameter
    /// (an oscillator's `pm` and `fm`, sample by sample).
    pub fn route(
        &mut self,
        from: Source,
        to: ModuleId,
        param: ParamId,
        depth: f32,
    ) -> Result<(), DspError> {
        if !(depth.is_finite() && depth.abs() <= MAX_DEPTH) {
            return Err(DspError::BadDepth { depth });
        }
        let kind = self.node(to)?.desc.kind;
        let Some(spec) = kind.params().get(param as usize) else {
            return Err(DspError::NoParamIndex {
                module: kind.name(),
                index: param,
            });
        };
        let audio_rate = spec.is_audio_rate();
        match from {
            Source::Module(id) => {
                let src = self.node(id)?;
                let takes = if audio_rate {
                    matches!(
                        src.desc.kind,
                        ModuleKind::Osc | ModuleKind::Noise | ModuleKind::Lfo
                    )
                } else {
                    matches!(src.desc.kind, ModuleKind::Lfo | ModuleKind::Env)
                };
                if !takes {
                    return Err(if audio_rate {
                        DspError::NotAnAudioSource {
                            name: src.desc.name.clone(),
                            param: spec.name,
                        }
                    } else {
                        DspError::NotAModulator {
                            name: src.desc.name.clone(),
                        }
                    });
                }
            }
            Source::Velocity | Source::Key if audio_rate => {
                return Err(DspError::NotAnAudioSource {
                    name: if from == Source::Velocity {
                        "velocity".into()
                    } else {
                        "key".into()
                    },
                    param: spec.name,
                });
            }
            Source::Velocity | Source::Key => {}
        }
        if let Some(r) = self
            .node_mut(to)?
            .desc
            .routes
            .iter_mut()
            .find(|r| r.from == from && r.param == param)
        {
            r.depth = depth;
            return self.rebuild();
        }
        let route = Route { from, param, depth };
        self.node_mut(to)?.desc.routes.push(route);
        if self.rebuild().is_err() {
            self.node_mut(to)?
                .desc
                .routes
                .retain(|r| !(r.from == from && r.param == param));
            self.rebuild()?;
            return Err(match from {
                Source::Module(id) => self.cycle(id, to),
                _ => DspError::Cycle {
                    from: String::new(),
                    to: String::new(),
                },
            });
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
        self.unroute(Source::Module(lfo), to, param)
    }

    /// Removes the route from `from` into `param` of `to`, if there is one.
    pub fn unroute(&mut self, from: Source, to: ModuleId, param: ParamId) -> Result<(), DspError> {
        let node = self.node_mut(to)?;
        node.desc
            .routes
            .retain(|r| !(r.from == from && r.param == param));
        if !node.desc.routes.iter().any(|r| r.param == param) {
            node.module.set_modulation(param, 0.0);
        }
        self.rebuild()
    }

    pub(super) fn cycle(&self, from: ModuleId, to: ModuleId) -> DspError {
        let name = |id| self.name(id).unwrap_or("?").to_owned();
        DspError::Cycle {
            from: name(from),
            to: name(to),
        }
    }

    /// Takes rendering's shortcuts (`true`, the default): a module renders in its first
    /// input's slot where it is that input's one reader, and a module nobody hears this block
    /// (read by nothing, or only by modules that ignore their input, as an envelope at rest)
    /// only moves on ([`crate::Module::pass`]). `false`: every module renders every block,
    /// each in a slot of its own, with a copy of each input, as before the shortcuts. The
    /// sound is the same to the bit either way; `false` is the reference the shortcuts are
    /// checked against. Allocates (between blocks).
    pub fn set_shortcuts(&mut self, on: bool) -> Result<(), DspError> {
        self.shortcuts = on;
        self.rebuild()
    }

    /// Where each module renders ([`Patch::slots`]), from the processing order, each
    /// module's channels, and how many read each one's output (`read_by`, by id): a module
    /// takes its first input's slot when it is that input's one reader and as wide as it.
    fn share_slots(&self, read_by: &[usize]) -> SmallVec<[usize; INLINE]> {
        let mut slots: SmallVec<[usize; INLINE]> = (0..self.nodes.len()).collect();
        if !self.shortcuts {
            return slots;
        }
        for &i in &self.order {
            let Some(node) = self.nodes[i].as_ref() else {
                continue;
            };
            let Some(first) = node.desc.inputs.first() else {
                continue;
            };
            let j = first.from.0 as usize;
            let same_width = self.nodes[j].as_ref().is_some_and(|s| s.wide == node.wide);
            if read_by[j] == 1 && same_width {
                slots[i] = slots[j];
            }
        }
        slots
    }

    /// Recomputes the evaluation order (Kahn) and the buffers. Errors on a cycle.
    pub(super) fn rebuild(&mut self) -> Result<(), DspError> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
        for node in self.nodes.iter().flatten() {
            let me = node.desc.id.0 as usize;
            let sources = node
                .desc
                .inputs
                .iter()
                .map(|i| i.from)
                .chain(node.desc.routes.iter().filter_map(|r| r.from.module()));
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
        self.order = SmallVec::from_vec(order);
        let mut audio_used = vec![false; n];
        let mut read = vec![false; n];
        // How many read each module's output: inputs, routes, the output; a module that takes
        // it as an input (its only reader when it is read once and by no route or output);
        // whether an audio-rate route drives it.
        let mut read_by = vec![0usize; n];
        let mut taken_by: Vec<Option<usize>> = vec![None; n];
        let mut driven = vec![false; n];
        for node in self.nodes.iter().flatten() {
            audio_used[node.desc.id.0 as usize] |= node.desc.to_out;
            read_by[node.desc.id.0 as usize] += usize::from(node.desc.to_out);
            for src in &node.desc.inputs {
                audio_used[src.from.0 as usize] = true;
                read_by[src.from.0 as usize] += 1;
                taken_by[src.from.0 as usize] = Some(node.desc.id.0 as usize);
            }
            // An audio-rate route reads its source's every sample, any other its first.
            let params = node.desc.kind.params();
            for r in &node.desc.routes {
                if let Some(id) = r.from.module() {
                    read[id.0 as usize] = true;
                    read_by[id.0 as usize] += 1;
                    if let Some(spec) = params.get(r.param as usize) {
                        audio_used[id.0 as usize] |= spec.is_audio_rate();
                        driven[node.desc.id.0 as usize] |= spec.is_audio_rate();
                    }
                }
            }
        }
        // Who can ignore its input (an envelope), by id.
        let can_ignore: Vec<bool> = (self.nodes.iter())
            .map(|n| n.as_ref().is_some_and(|n| n.module.can_ignore_input()))
            .collect();
        for (i, ((node, used), read)) in self.nodes.iter_mut().zip(audio_used).zip(read).enumerate()
        {
            if let Some(node) = node {
                node.resting = false;
                node.routed = !node.desc.routes.is_empty();
                node.audio_used = used;
                node.read = used || read;
                // Read by one input only (a module takes another once).
                let one_input = !read && !node.desc.to_out && read_by[i] == 1;
                node.heard_only_by = match taken_by[i] {
                    Some(c) if one_input && !driven[i] && can_ignore[c] && self.shortcuts => {
                        u16::try_from(c).ok()
                    }
                    _ => None,
                };
            }
        }
        // Channels, in processing order: each module after its inputs.
        let mut wide = vec![false; n];
        for &i in &self.order {
            let Some(node) = self.nodes[i].as_mut() else {
                continue;
            };
            let input_wide = node.desc.inputs.iter().any(|s| wide[s.from.0 as usize]);
            node.input_wide = self.stereo && input_wide;
            node.wide = self.stereo
                && match node.desc.kind.stereo() {
                    Stereo::Never => false,
                    Stereo::FollowsInput => input_wide,
                    Stereo::Always => true,
                };
            wide[i] = node.wide;
        }
        self.slots = self.share_slots(&read_by);
        self.buffers.resize(n * self.channels() * self.block, 0.0);
        self.rebuild_feeds();
        self.rebuild_instruments()
    }

    /// Every module's inputs as rendering reads them ([`Feed`]), from the modules' lists of
    /// inputs, the slots and the widths. After every change of any of them (allocates only
    /// when the patch has more connections than it ever had): between blocks.
    fn rebuild_feeds(&mut self) {
        let block = self.block;
        let slot_len = self.channels() * block;
        let mut feeds = std::mem::take(&mut self.feeds);
        feeds.clear();
        for i in 0..self.nodes.len() {
            let start = feeds.len() as u16;
            let Some(node) = self.nodes[i].as_ref() else {
                continue;
            };
            for input in &node.desc.inputs {
                let j = input.from.0 as usize;
                let wide = self.nodes[j].as_ref().is_some_and(|s| s.wide);
                let left = self.slots[j] * slot_len;
                let right = if wide { left + block } else { left };
                feeds.push(Feed {
                    at: [left as u32, right as u32],
                    level: input.level,
                });
            }
            debug_assert!(
                feeds.len() <= usize::from(u16::MAX),
                "{} feeds",
                feeds.len()
            );
            let end = feeds.len() as u16;
            if let Some(node) = self.nodes[i].as_mut() {
                node.feeds = (start, end);
                let me = (self.slots[i] * slot_len) as u32;
                let sides = if node.wide { 2 } else { 1 };
                node.in_place = match &feeds[start as usize..end as usize] {
                    [one] => {
                        one.level == 1.0
                            && (0..sides).all(|side| one.at[side] == me + (side * block) as u32)
                    }
                    _ => false,
                };
            }
        }
        self.feeds = feeds;
        let mut outs = std::mem::take(&mut self.outs);
        outs.clear();
        outs.extend(
            (self.nodes.iter().flatten())
                .filter(|node| node.desc.to_out)
                .map(|node| {
                    let left = self.slots[node.desc.id.0 as usize] * slot_len;
                    let right = if node.wide { left + block } else { left };
                    Feed {
                        at: [left as u32, right as u32],
                        level: 1.0,
                    }
                }),
        );
        self.outs = outs;
    }
}
