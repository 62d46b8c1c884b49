//! Control addresses: the one table that turns `/mod/filter/cutoff 800` into typed
//! [`Action`]s ([`resolve`]), the arguments it reads ([`Arg`]), the patch's
//! names it resolves against ([`Directory`]) and OSC address patterns ([`pattern`]).
//! Parsed once, at the edge; the engine and its workers only see typed commands.

mod args;
mod directory;
mod edits;
pub mod pattern;
pub mod presets;
mod table;

pub use args::{note_value, Arg};
pub use directory::{Directory, Entry, Instrument};
pub use edits::{edit, is_edit, EditTiming};
pub use table::{resolve, Clamped, Resolved};

use crate::{Action, EngineError};
use chronus_dsp::Patch;

/// The actions `address` with `args` stands for on `patch` (several for `/seq/pattern` or an
/// OSC pattern). Builds the patch's [`Directory`] each call: to resolve many, build it once
/// and call [`resolve`].
pub fn parse_all(
    patch: &Patch,
    address: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Action>, EngineError> {
    resolve(&Directory::of(patch), address, args).map(|r| r.actions)
}

/// The one action `address` with `args` stands for on `patch`.
pub fn parse(patch: &Patch, address: &str, args: &[Arg<'_>]) -> Result<Action, EngineError> {
    one(parse_all(patch, address, args)?, address)
}

/// The single action of a resolution; an address that stands for several is refused.
pub(crate) fn one(actions: Vec<Action>, address: &str) -> Result<Action, EngineError> {
    match actions.as_slice() {
        [a] => Ok(*a),
        _ => Err(EngineError::BadArguments {
            address: address.to_owned(),
            reason: format!(
                "stands for {} actions here, one was expected (send it to the engine as a whole)",
                actions.len()
            ),
        }),
    }
}
