//! The names the address table resolves: the patch's modules (name, id, kind), whether it has
//! a voice template, its sample rate. The engine publishes a new one after each patch edit,
//! so resolving a message takes no lock.

use chronus_dsp::{DspError, ModuleId, ModuleKind, Patch};

/// One module of the patch, as the address table sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its id in the patch.
    pub id: ModuleId,
    /// Its name (`sine`, `filter`, …).
    pub name: String,
    /// Its kind.
    pub kind: ModuleKind,
}

/// One instrument of the patch, as the address table sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// Its name (`default` for the patch's own voice template).
    pub name: String,
    /// Its head module (`None`: the default one).
    pub head: Option<ModuleId>,
    /// Its voice template's modules' names, head first (empty: it plays no notes).
    pub chain: Vec<String>,
}

/// The patch's module names, ids and kinds (not its parameter values), and its instruments.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    modules: Vec<Entry>,
    instruments: Vec<Instrument>,
    sample_rate: f64,
    /// Loaded samples' names and bank slots.
    samples: Vec<(String, u16)>,
}

impl Directory {
    /// The directory of `patch`.
    pub fn of(patch: &Patch) -> Directory {
        Directory {
            modules: patch
                .describe()
                .into_iter()
                .map(|d| Entry {
                    id: d.id,
                    name: d.name,
                    kind: d.kind,
                })
                .collect(),
            instruments: patch
                .instruments()
                .into_iter()
                .map(|i| Instrument {
                    chain: i
                        .template
                        .iter()
                        .map(|&id| patch.name(id).unwrap_or("?").to_owned())
                        .collect(),
                    name: i.name,
                    head: i.head,
                })
                .collect(),
            sample_rate: patch.sample_rate(),
            samples: Vec::new(),
        }
    }

    /// The same, with the samples loaded (names and bank slots).
    pub fn with_samples(mut self, samples: Vec<(String, u16)>) -> Directory {
        self.samples = samples;
        self
    }

    /// The bank slot of the sample named `name`.
    pub fn sample(&self, name: &str) -> Option<u16> {
        self.samples
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, slot)| slot)
    }

    /// Every module, in the patch's order.
    pub fn modules(&self) -> &[Entry] {
        &self.modules
    }

    /// The module named `name`.
    pub fn lookup(&self, name: &str) -> Result<&Entry, DspError> {
        self.modules
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| DspError::UnknownModule {
                name: name.to_owned(),
            })
    }

    /// Whether the default instrument has a voice template (notes can play).
    pub fn has_voices(&self) -> bool {
        self.instruments
            .first()
            .is_some_and(|i| !i.chain.is_empty())
    }

    /// Every instrument, the default one first.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The instrument named `name`.
    pub fn instrument(&self, name: &str) -> Result<&Instrument, DspError> {
        self.instruments
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| DspError::UnknownInstrument {
                name: name.to_owned(),
            })
    }

    /// The patch's sample rate (parameter ranges that depend on it).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }
}
