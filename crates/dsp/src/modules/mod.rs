//! The module implementations. Each file holds one module, its parameter table and its state.

/// `state` and `restore` for a module whose state (`self.s`) is plain data kept in
/// `ModuleState::$variant`: a snapshot is a copy, and restoring one allocates nothing.
macro_rules! plain_state {
    ($variant:ident, $what:literal) => {
        fn state(&self) -> ModuleState {
            ModuleState::$variant(self.s)
        }

        fn restore(&mut self, state: &ModuleState) -> Result<(), DspError> {
            match state {
                ModuleState::$variant(s) => {
                    self.s = *s;
                    Ok(())
                }
                _ => Err(DspError::StateMismatch {
                    reason: concat!("not ", $what, " state"),
                }),
            }
        }
    };
}
pub(crate) use plain_state;

pub mod adsr;
pub mod any;
pub mod bus;
#[cfg(feature = "effects")]
pub mod delay;
pub mod env;
pub mod filter;
pub mod lfo;
pub mod noise;
pub mod osc;
pub mod pan;
#[cfg(feature = "effects")]
pub mod reverb;
pub mod sampler;
mod waves;
