//! What can go wrong reading a sample file.

use std::path::PathBuf;

/// Why a sample file was not read. Each message ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The name leads out of the samples folder, or is not a plain relative path.
    #[error("'{name}' is not a file inside the samples folder: {reason} (give a path relative to it, like kicks/808.wav)")]
    OutsideFolder {
        /// The name as given.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// A part of the path is a symbolic link.
    #[error("'{name}' goes through a symbolic link ({link}); copy the file into the samples folder instead")]
    Symlink {
        /// The name as given.
        name: String,
        /// The link.
        link: String,
    },
    /// No such file.
    #[error("no sample file '{name}' in {folder} (/sample/files lists those there are)")]
    NotFound {
        /// The name as given.
        name: String,
        /// The folder.
        folder: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read '{name}': {source}")]
    Io {
        /// The name as given.
        name: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is larger than the limit for one file.
    #[error("'{name}' is {size} bytes; one sample file may have at most {limit} (chronus run --sample-file-limit)")]
    FileTooLarge {
        /// The name.
        name: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The decoded audio would be larger than the limit.
    #[error("'{name}' decodes to more than {limit} bytes of audio; trim it or raise the limit (chronus run --sample-memory)")]
    DecodedTooLarge {
        /// The name.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// Not a format chronus reads, or a damaged file.
    #[error(
        "'{name}' is not audio chronus can read ({reason}); WAV, FLAC, Ogg Vorbis and MP3 are"
    )]
    Unreadable {
        /// The name.
        name: String,
        /// The decoder's words.
        reason: String,
    },
    /// More channels than a sample may have.
    #[error("'{name}' has {channels} channels; a sample has one or two (mix it down first)")]
    TooManyChannels {
        /// The name.
        name: String,
        /// Its channels.
        channels: usize,
    },
    /// No audio in it.
    #[error("'{name}' holds no audio frames")]
    Empty {
        /// The name.
        name: String,
    },
}
