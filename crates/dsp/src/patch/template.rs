//! The voice template and the notes played on it: which modules a voice copies (found by the
//! patch's shape), note on and off, how many voices.

use super::*;

impl Patch {
    /// Plays MIDI note `note` (0..=127) at `velocity` (0..1, a gain on the voice) on a voice
    /// of the default instrument (see [`VoiceMode`] for which). Never allocates.
    pub fn note_on(&mut self, note: u8, velocity: f32) -> Result<(), DspError> {
        self.note_on_in(None, note, velocity)
    }

    /// Plays `note` on the instrument whose head is `inst` (`None`: the default one). Never
    /// allocates. Real-time thread.
    pub fn note_on_in(
        &mut self,
        inst: Option<ModuleId>,
        note: u8,
        velocity: f32,
    ) -> Result<(), DspError> {
        let k = self.instrument_at(inst)?;
        let started = self.instruments[k].pool.note_on(note, velocity)?;
        if let Some(voice) = started {
            let nodes = &self.nodes;
            self.instruments[k]
                .pool
                .start_lfos(voice, true, |id| lfo_state(nodes, id));
        }
        Ok(())
    }

    /// The notes held now on the instrument whose head is `inst` (`None`: the default one) and
    /// their velocities, in the order they were played (for a session to play them again).
    pub fn held_notes_in(&self, inst: Option<ModuleId>) -> Result<Vec<(u8, f32)>, DspError> {
        Ok(self.instrument_ref(inst)?.pool.held())
    }

    /// Releases `note`, or every note for `None`, on the default instrument. Never allocates.
    pub fn note_off(&mut self, note: Option<u8>) -> Result<(), DspError> {
        self.note_off_in(None, note)
    }

    /// Releases `note` (every note for `None`) on the instrument whose head is `inst` (`None`:
    /// the default one). Never allocates. Real-time thread.
    pub fn note_off_in(
        &mut self,
        inst: Option<ModuleId>,
        note: Option<u8>,
    ) -> Result<(), DspError> {
        self.playable_pool(inst)?.note_off(note);
        Ok(())
    }

    /// The sustain pedal of the instrument whose head is `inst` (`None`: the default one):
    /// down (`on`), notes let go keep sounding until it lifts. Never allocates. Real-time
    /// thread.
    pub fn sustain_in(&mut self, inst: Option<ModuleId>, on: bool) -> Result<(), DspError> {
        self.playable_pool(inst)?.set_sustain(on);
        Ok(())
    }

    /// Bends the pitch of every voice of the instrument whose head is `inst` (`None`: the
    /// default one) by `semitones` (clamped to ±[`crate::MAX_BEND`]), sounding or to
    /// come. Never allocates. Real-time thread.
    pub fn bend_in(&mut self, inst: Option<ModuleId>, semitones: f32) -> Result<(), DspError> {
        self.playable_pool(inst)?.set_bend(semitones)
    }

    /// The voice pool of the instrument whose head is `inst` (`None`: the default one), if it
    /// has a voice template to play.
    fn playable_pool(&mut self, inst: Option<ModuleId>) -> Result<&mut VoicePool, DspError> {
        let pool = &mut self.instrument_mut(inst)?.pool;
        if pool.template().is_empty() {
            return Err(DspError::NoVoiceTemplate);
        }
        Ok(pool)
    }

    /// The instrument's sustain pedal (down?) and pitch bend in semitones.
    pub fn expression_in(&self, inst: Option<ModuleId>) -> Result<(bool, f32), DspError> {
        Ok(self.instrument_ref(inst)?.pool.expression())
    }

    /// Sets how many notes may sound at once on the default instrument (1..=
    /// [`crate::MAX_VOICES`]) and the [`VoiceMode`]. Never allocates.
    pub fn set_voices(&mut self, count: usize, mode: VoiceMode) -> Result<(), DspError> {
        self.set_voices_in(None, count, mode)
    }

    /// [`Patch::set_voices`] for the instrument whose head is `inst` (`None`: the default
    /// one). Never allocates. Real-time thread.
    pub fn set_voices_in(
        &mut self,
        inst: Option<ModuleId>,
        count: usize,
        mode: VoiceMode,
    ) -> Result<(), DspError> {
        self.instrument_mut(inst)?.pool.configure(count, mode)
    }

    /// Renders notes in lanes where it can (`true`, the default: [`crate::lanes`]) or every
    /// voice one by one (`false`). The sound is the same to the bit either way; one by one is
    /// the reference the lanes are checked against, and the "before" of the voice benchmark.
    pub fn set_voice_lanes(&mut self, on: bool) {
        self.voice_lanes = on;
    }

    /// Voices rendered in lanes in the last block, over every instrument. Never allocates.
    pub fn laned_voices(&self) -> usize {
        self.instruments.iter().map(|i| i.pool.laned()).sum()
    }

    /// How many notes may sound at once on the default instrument, and the mode.
    pub fn voices(&self) -> (usize, VoiceMode) {
        let pool = &self.instruments[0].pool;
        (pool.count(), pool.mode())
    }

    /// The default instrument's voice template, oscillator first (empty: it plays no notes).
    pub fn voice_template(&self) -> &[ModuleId] {
        self.instruments[0].pool.template()
    }

    /// How many notes are held and how many sound (held, or in their release), over every
    /// instrument. Never allocates: a worker reports it with every block.
    pub fn note_counts(&self) -> (usize, usize) {
        self.instruments.iter().fold((0, 0), |(h, s), i| {
            let (ih, is) = i.pool.counts();
            (h + ih, s + is)
        })
    }

    /// The notes sounding (held, or in their release) on the instrument whose head is `inst`
    /// (`None`: the default one), in voice order. Allocates.
    pub fn notes_in(&self, inst: Option<ModuleId>) -> Result<Vec<(u8, VoicePhase)>, DspError> {
        Ok(self.instrument_ref(inst)?.pool.notes())
    }

    /// The notes sounding (held, or in their release) on every instrument, the default one's
    /// first, each in voice order. Allocates.
    pub fn notes(&self) -> Vec<(u8, VoicePhase)> {
        self.instruments
            .iter()
            .flat_map(|i| i.pool.notes())
            .collect()
    }

    /// The value in effect now (smoothed and modulated by the voice's own sources too) of
    /// `param` of the template module `module` in the voice sounding `note` on instrument
    /// `inst` (`None`: the default one); `None` when no voice sounds that note or the module is
    /// not in its template. For tools and tests.
    pub fn voice_effective(
        &self,
        inst: Option<ModuleId>,
        note: u8,
        module: ModuleId,
        param: ParamId,
    ) -> Result<Option<f32>, DspError> {
        let pool = &self.instrument_ref(inst)?.pool;
        Ok(pool
            .position(module)
            .and_then(|k| pool.effective(note, k, param)))
    }

    /// The default instrument's voice template: the first oscillator (by id) whose chain
    /// holds an envelope — each module that alone takes the previous one's audio while it is
    /// an envelope, filter or pan with that one input. The named instruments' modules (their
    /// names hold a `.`) are not looked at. None: empty.
    pub(super) fn find_template(&self) -> Vec<ModuleId> {
        self.nodes
            .iter()
            .flatten()
            .filter(|n| n.desc.kind == ModuleKind::Osc && !n.desc.name.contains('.'))
            .map(|head| self.chain_from(head))
            .find(|chain| {
                chain
                    .iter()
                    .any(|&id| self.kind(id).is_ok_and(ModuleKind::gateable))
            })
            .unwrap_or_default()
    }

    /// `head`, then each module that alone takes the previous one's audio while it is an
    /// envelope, filter or pan with that one input (at most [`MAX_TEMPLATE`] modules; a pan
    /// ends the chain).
    pub(super) fn chain_from(&self, head: &Node) -> Vec<ModuleId> {
        let mut chain = vec![head.desc.id];
        let mut cur = head;
        while chain.len() < MAX_TEMPLATE && !cur.desc.to_out {
            let mut users = self
                .nodes
                .iter()
                .flatten()
                .filter(|n| n.desc.inputs.iter().any(|i| i.from == cur.desc.id));
            let (Some(next), None) = (users.next(), users.next()) else {
                break;
            };
            let chainable = matches!(
                next.desc.kind,
                ModuleKind::Adsr | ModuleKind::Filter | ModuleKind::Pan
            ) && next.desc.inputs.len() == 1
                && next.desc.inputs[0].level == 1.0;
            if !chainable {
                break;
            }
            chain.push(next.desc.id);
            if next.desc.kind == ModuleKind::Pan {
                break; // a pan ends a voice: after it, a note has two sides
            }
            cur = next;
        }
        chain
    }
}

/// The state of the LFO `id` (none for another kind: this is for an LFO's voice copies). A
/// copy: never allocates. Real-time thread.
pub(super) fn lfo_state(nodes: &[Option<Node>], id: ModuleId) -> Option<ModuleState> {
    match nodes.get(id.0 as usize) {
        Some(Some(n)) if n.desc.kind == ModuleKind::Lfo => Some(n.module.state()),
        _ => None,
    }
}
