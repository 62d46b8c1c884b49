//! The voice template and the notes played on it: which modules a voice copies (found by the
//! patch's shape), note on and off, how many voices.

use super::*;

impl Patch {
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

    /// The voice template: an oscillator, then each module that alone takes its audio while
    /// it is an envelope or filter with that one input; it must hold an envelope. The
    /// oscillator is `sine` when that chain holds one (the seed's patch), else the first
    /// oscillator in the patch whose chain does; none: empty.
    pub(super) fn find_template(&self) -> Vec<ModuleId> {
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
