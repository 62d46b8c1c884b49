//! Instruments: the default one (the voice template found by the patch's shape) and the named
//! ones [`Patch::add_instrument`] makes from a chain (`osc > adsr > filter`), each a voice
//! template with a pool of voices of its own. An instrument is known inside the engine by its
//! head module's id (stable while it lives); by its name at the edges.

use super::*;
use crate::voices::{VoiceRoute, VoiceSource, MAX_OWN_SOURCES};

/// The longest instrument name (its modules are `<name>.<module>`, at most 32 characters).
const MAX_NAME: usize = 20;

/// One instrument: its name, its head (the default one has none: found by the patch's shape)
/// and its voices.
pub(super) struct Instrument {
    pub(super) name: String,
    pub(super) head: Option<ModuleId>,
    pub(super) pool: VoicePool,
}

impl Instrument {
    /// The default instrument of a fresh patch (no template yet).
    pub(super) fn default_one(block: usize) -> Self {
        Instrument {
            name: DEFAULT_INSTRUMENT.to_owned(),
            head: None,
            pool: VoicePool::new(block),
        }
    }
}

/// An instrument's complete state: which it is, and its voices.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InstrumentState {
    /// Its name ([`DEFAULT_INSTRUMENT`] for the default one).
    pub name: String,
    /// Its head module (the default one: none, found by the patch's shape).
    pub head: Option<ModuleId>,
    /// Its voices.
    pub voices: VoicesState,
}

/// What an instrument is, as `/inst/list` tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentInfo {
    /// Its name ([`DEFAULT_INSTRUMENT`] for the default one).
    pub name: String,
    /// Its head module (none for the default one).
    pub head: Option<ModuleId>,
    /// The modules each voice copies, head first (empty: it plays no notes).
    pub template: Vec<ModuleId>,
    /// How many notes may sound at once.
    pub voices: usize,
    /// Poly or mono.
    pub mode: VoiceMode,
    /// How many voices sound now (held, or in their release).
    pub sounding: usize,
}

impl Patch {
    /// Makes the instrument `name` from `chain`, module kinds joined by `>` (`"osc > adsr >
    /// filter"`): a source (`osc` or `noise`), then envelopes, filters and at most one pan (last);
    /// one envelope at least. Its modules are named `<name>.<word>` (`bass.osc`, a word used
    /// twice numbered: `bass.filter2`), chained, the last sent into `to` (`None`: the patch
    /// output). Its voices ([`crate::MAX_VOICES`] of them, [`crate::DEFAULT_VOICES`] sounding)
    /// are built now, never on a note. Returns its head module. Edits (allocates): between
    /// blocks. All or nothing: on an error the patch is as it was.
    pub fn add_instrument(
        &mut self,
        name: &str,
        chain: &str,
        to: Option<ModuleId>,
    ) -> Result<ModuleId, DspError> {
        self.check_instrument_name(name)?;
        if self.instruments.len() >= MAX_INSTRUMENTS {
            return Err(DspError::TooManyInstruments {
                limit: MAX_INSTRUMENTS,
            });
        }
        if let Some(to) = to {
            self.node(to)?;
        }
        let modules = parse_chain(name, chain)?;
        let named: Vec<(&str, ModuleKind)> =
            modules.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        let ids = self.add_many_named(&named, true)?;
        for pair in ids.windows(2) {
            self.node_mut(pair[1])?.desc.inputs.push(Input {
                from: pair[0],
                level: 1.0,
            });
        }
        let last = *ids.last().unwrap_or(&ids[0]);
        match to {
            Some(to) => self.node_mut(to)?.desc.inputs.push(Input {
                from: last,
                level: 1.0,
            }),
            None => self.node_mut(last)?.desc.to_out = true,
        }
        self.instruments.push(Instrument {
            name: name.to_owned(),
            head: Some(ids[0]),
            pool: VoicePool::new(self.block),
        });
        if let Err(e) = self.rebuild() {
            // Not reachable (new modules make no cycle), but leave the patch as it was.
            self.instruments.pop();
            if let Some(to) = to {
                self.node_mut(to)?.desc.inputs.retain(|i| i.from != last);
            }
            for id in &ids {
                self.nodes[id.0 as usize] = None;
            }
            self.rebuild()?;
            return Err(e);
        }
        Ok(ids[0])
    }

    /// Removes the named instrument and its modules (every module named `<name>.…`), with
    /// every connection to or from them. The default instrument cannot be removed (remove its
    /// modules instead). Edits (allocates): between blocks.
    pub fn remove_instrument(&mut self, name: &str) -> Result<(), DspError> {
        let k = self.instrument_index(name)?;
        if k == 0 {
            return Err(DspError::BadInstrumentName {
                name: name.to_owned(),
                reason: "the default instrument is the patch's own voice template; remove its \
                         modules (/patch/remove) instead",
            });
        }
        self.instruments.remove(k);
        let prefix = format!("{name}.");
        let ids: Vec<ModuleId> = self
            .nodes
            .iter()
            .flatten()
            .filter(|n| n.desc.name.starts_with(&prefix))
            .map(|n| n.desc.id)
            .collect();
        for id in ids {
            self.detach(id);
        }
        self.rebuild()
    }

    /// The head module of the instrument called `name` (`None` for the default one).
    pub fn instrument(&self, name: &str) -> Result<Option<ModuleId>, DspError> {
        Ok(self.instruments[self.instrument_index(name)?].head)
    }

    /// Every instrument, the default one first.
    pub fn instruments(&self) -> Vec<InstrumentInfo> {
        self.instruments
            .iter()
            .map(|i| InstrumentInfo {
                name: i.name.clone(),
                head: i.head,
                template: i.pool.template().to_vec(),
                voices: i.pool.count(),
                mode: i.pool.mode(),
                sounding: i.pool.counts().1,
            })
            .collect()
    }

    /// The instrument with head `head` (`None`: the default one). Never allocates.
    pub(super) fn instrument_mut(
        &mut self,
        head: Option<ModuleId>,
    ) -> Result<&mut Instrument, DspError> {
        let k = self.instrument_at(head)?;
        Ok(&mut self.instruments[k])
    }

    /// The instrument with head `head` (`None`: the default one). Never allocates.
    pub(super) fn instrument_ref(&self, head: Option<ModuleId>) -> Result<&Instrument, DspError> {
        Ok(&self.instruments[self.instrument_at(head)?])
    }

    /// Where the instrument with head `head` (`None`: the default one) is. Never allocates.
    pub(super) fn instrument_at(&self, head: Option<ModuleId>) -> Result<usize, DspError> {
        match head {
            None => Ok(0),
            Some(h) => self
                .instruments
                .iter()
                .position(|i| i.head == Some(h))
                .ok_or(DspError::NoInstrumentAt { id: h.0 }),
        }
    }

    fn instrument_index(&self, name: &str) -> Result<usize, DspError> {
        self.instruments
            .iter()
            .position(|i| i.name == name)
            .ok_or_else(|| DspError::UnknownInstrument {
                name: name.to_owned(),
            })
    }

    fn check_instrument_name(&self, name: &str) -> Result<(), DspError> {
        let bad = |reason| {
            Err(DspError::BadInstrumentName {
                name: name.to_owned(),
                reason,
            })
        };
        if name.is_empty() || name.len() > MAX_NAME {
            return bad("a name is 1 to 20 characters");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad("use letters, digits, '_' or '-'");
        }
        if self.instruments.iter().any(|i| i.name == name) {
            return bad("an instrument of that name exists (/inst/remove it first)");
        }
        let prefix = format!("{name}.");
        if self
            .nodes
            .iter()
            .flatten()
            .any(|n| n.desc.name.starts_with(&prefix))
        {
            return bad("modules of that name exist");
        }
        Ok(())
    }

    /// The templates of every instrument, re-derived after an edit: the default one's by the
    /// patch's shape, a named one's from its head (an instrument whose head was removed is
    /// gone). Allocates the voices of a template that changed.
    pub(super) fn rebuild_instruments(&mut self) -> Result<(), DspError> {
        let nodes = &self.nodes;
        self.instruments.retain(|i| {
            i.head
                .is_none_or(|h| nodes.get(h.0 as usize).is_some_and(Option::is_some))
        });
        for k in 0..self.instruments.len() {
            let ids = match self.instruments[k].head {
                None => self.find_template(),
                Some(h) => {
                    let chain = self.node(h).map(|n| self.chain_from(n)).unwrap_or_default();
                    let voiced = chain
                        .iter()
                        .any(|&id| self.kind(id).is_ok_and(ModuleKind::gateable));
                    if voiced {
                        chain
                    } else {
                        Vec::new()
                    }
                }
            };
            let (sources, routes) = self.voice_sources(&ids);
            let chain_len = ids.len();
            let template = ids
                .into_iter()
                .chain(sources)
                .filter_map(|id| self.node(id).ok())
                .map(|node| {
                    let params = (0..node.desc.kind.params().len())
                        .map(|p| node.module.param(p as ParamId).unwrap_or(0.0))
                        .collect();
                    (node.desc.id, node.desc.kind, params)
                })
                .collect();
            let (sr, block) = (self.sample_rate, self.block);
            let pool = &mut self.instruments[k].pool;
            pool.set_template(template, chain_len, routes, sr, block)?;
            // New voices' samplers take their sample.
            pool.attach_samples(&self.samples);
            // The notes sounding: their LFO copies (new ones among them) in step.
            let sounding: Vec<usize> = pool.sounding_voices().collect();
            let nodes = &self.nodes;
            for v in sounding {
                pool.start_lfos(v, false, |id| super::template::lfo_state(nodes, id));
            }
        }
        Ok(())
    }

    /// The modulation a voice of `chain` makes with sources of its own: the `env`s and `lfo`s
    /// routed into the chain's modules (each voice has its copies, after the chain: at most
    /// [`MAX_OWN_SOURCES`]) and the note's velocity and key.
    fn voice_sources(&self, chain: &[ModuleId]) -> (Vec<ModuleId>, Vec<VoiceRoute>) {
        let mut sources: Vec<ModuleId> = Vec::new();
        let mut routes = Vec::new();
        for (k, &id) in chain.iter().enumerate() {
            let Ok(node) = self.node(id) else { continue };
            for r in &node.desc.routes {
                let from = match r.from {
                    Source::Velocity => VoiceSource::Velocity,
                    Source::Key => VoiceSource::Key,
                    Source::Module(src) => {
                        // An env or an lfo at control rate: each voice has its copy (an
                        // audio-rate route reads the module itself).
                        let audio_rate = node
                            .desc
                            .kind
                            .params()
                            .get(r.param as usize)
                            .is_some_and(crate::ParamSpec::is_audio_rate);
                        let own = matches!(self.kind(src), Ok(ModuleKind::Env | ModuleKind::Lfo));
                        if !own || audio_rate {
                            continue;
                        }
                        let j = match sources.iter().position(|&s| s == src) {
                            Some(j) => j,
                            None if sources.len() < MAX_OWN_SOURCES => {
                                sources.push(src);
                                sources.len() - 1
                            }
                            // More envelopes than a voice holds: this one modulates the
                            // template only (documented with the limit).
                            None => continue,
                        };
                        VoiceSource::Module(chain.len() + j)
                    }
                };
                routes.push(VoiceRoute {
                    from,
                    to: k,
                    param: r.param,
                    depth: r.depth,
                });
            }
        }
        (sources, routes)
    }

    /// Every instrument's state, the default one first.
    pub(super) fn instruments_state(&self) -> Vec<InstrumentState> {
        self.instruments
            .iter()
            .map(|i| InstrumentState {
                name: i.name.clone(),
                head: i.head,
                voices: i.pool.state(),
            })
            .collect()
    }

    /// The instruments of `states` (names and heads, fresh voices), for a patch being built
    /// from a state or copied; their templates follow at the next rebuild.
    pub(super) fn set_instruments(&mut self, states: &[(String, Option<ModuleId>)]) {
        self.instruments = states
            .iter()
            .map(|(name, head)| Instrument {
                name: name.clone(),
                head: *head,
                pool: VoicePool::new(self.block),
            })
            .collect();
        if self.instruments.first().is_none_or(|i| i.head.is_some()) {
            self.instruments
                .insert(0, Instrument::default_one(self.block));
        }
    }

    /// Restores every instrument's voices; the instruments must be the state's.
    pub(super) fn restore_instruments(
        &mut self,
        states: &[InstrumentState],
    ) -> Result<(), DspError> {
        let same = self.instruments.len() == states.len()
            && self
                .instruments
                .iter()
                .zip(states)
                .all(|(i, s)| i.name == s.name && i.head == s.head);
        if !same {
            return Err(DspError::StateMismatch {
                reason: "instruments differ",
            });
        }
        for (i, s) in self.instruments.iter_mut().zip(states) {
            i.pool.restore(&s.voices)?;
        }
        Ok(())
    }
}

/// Reads `chain` into the modules of instrument `name`: (module name, kind), head first.
fn parse_chain(name: &str, chain: &str) -> Result<Vec<(String, ModuleKind)>, DspError> {
    let bad = |reason: String| DspError::BadChain {
        chain: chain.to_owned(),
        reason,
    };
    let words: Vec<String> = chain
        .split('>')
        .map(|w| w.trim().to_ascii_lowercase())
        .collect();
    if words.iter().any(String::is_empty) {
        return Err(bad(
            "modules are joined by '>', e.g. \"osc > adsr > filter\"".into(),
        ));
    }
    if words.len() > MAX_TEMPLATE {
        return Err(bad(format!(
            "a voice has at most {MAX_TEMPLATE} modules, this has {}",
            words.len()
        )));
    }
    let mut out: Vec<(String, ModuleKind)> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let kind = ModuleKind::parse(word).map_err(|_| {
            bad(format!(
                "'{word}' is not a module kind (a source: osc, noise, sampler; then adsr, filter, pan)"
            ))
        })?;
        let allowed = if i == 0 {
            matches!(
                kind,
                ModuleKind::Osc | ModuleKind::Noise | ModuleKind::Sampler
            )
        } else {
            matches!(
                kind,
                ModuleKind::Adsr | ModuleKind::Filter | ModuleKind::Pan
            )
        };
        if !allowed {
            return Err(bad(if i == 0 {
                format!("it starts with a source (osc, noise or sampler), not '{word}'")
            } else {
                format!("after the source come adsr, filter and pan, not '{word}'")
            }));
        }
        if kind == ModuleKind::Pan && i + 1 != words.len() {
            return Err(bad("a pan ends a voice: put it last".into()));
        }
        let uses = words[..i].iter().filter(|w| *w == word).count();
        let module = if uses == 0 {
            format!("{name}.{word}")
        } else {
            format!("{name}.{word}{}", uses + 1)
        };
        out.push((module, kind));
    }
    if !out.iter().any(|(_, k)| k.gateable()) {
        return Err(bad(
            "a voice needs an envelope to end its notes: add '> adsr'".into(),
        ));
    }
    Ok(out)
}
