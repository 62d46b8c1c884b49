//! chronus-samples: sample files made ready to play.
//!
//! A [`SampleFolder`] resolves a name given over the network (`kicks/808.wav`) to a file inside
//! the samples folder, refusing whatever leads out of it (an absolute path, `..`, a symbolic
//! link) and files over the size limit; [`decode()`] reads WAV (every PCM and float format),
//! FLAC, Ogg Vorbis and MP3 through `symphonium` (Symphonia's decoders) and converts the audio
//! to the engine's rate with its band-limited resampler, so a 44.1 kHz file keeps its pitch at
//! 48 kHz. Nothing here touches the audio path: the engine puts the frames in shared memory.

#![warn(clippy::unwrap_used)]

mod decode;
mod error;
mod folder;

pub use decode::{decode, Decoded, Limits};
pub use error::SampleError;
pub use folder::SampleFolder;
