//! `--voices N` and `--mono`: the voice pool that `/note/on` plays, shared by `run` and `render`.

use chronus_engine::Action;

/// How many notes may sound at once, and how.
#[derive(Debug, Clone, clap::Args)]
pub struct VoiceArgs {
    /// Notes that may sound at once (1..=128); `/note/on` beyond that takes the oldest
    /// released voice, then the oldest held one.
    #[arg(long, default_value_t = chronus_dsp::DEFAULT_VOICES as u8,
          value_parser = clap::value_parser!(u8).range(1..=chronus_dsp::MAX_VOICES as i64))]
    pub voices: u8,
    /// One voice, legato: a note played while another is held glides there (at
    /// `sine.glide_time`) without restarting the envelope.
    #[arg(long)]
    pub mono: bool,
}

impl VoiceArgs {
    /// The action that sets the pool up, unless it is the default.
    pub fn action(&self) -> Option<Action> {
        let default = usize::from(self.voices) == chronus_dsp::DEFAULT_VOICES && !self.mono;
        (!default).then_some(Action::Voices {
            count: if self.mono { 1 } else { self.voices },
            mono: self.mono,
            inst: None,
        })
    }
}
