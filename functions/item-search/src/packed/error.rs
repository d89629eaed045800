//! Why a packed index was refused.

use shared::ApiError;
use std::fmt;

/// A packed index or chunk that cannot be used (never a panic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// Shorter than its header says.
    Truncated,
    /// Not a packed index (or not a chunk of one).
    BadMagic,
    /// Written by another format version.
    Format(u32),
    /// The bytes do not match their checksum.
    Checksum,
    /// Chunks missing, repeated, out of order or from different blobs.
    Chunks(String),
    /// Well-formed bytes with inconsistent contents.
    Corrupt(&'static str),
    /// An index this format cannot hold (said at build time).
    Unsupported(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::Truncated => write!(f, "packed index truncated"),
            PackError::BadMagic => write!(f, "not a packed index"),
            PackError::Format(v) => write!(f, "packed index format {v} not supported"),
            PackError::Checksum => write!(f, "packed index checksum mismatch"),
            PackError::Chunks(m) => write!(f, "packed index chunks: {m}"),
            PackError::Corrupt(m) => write!(f, "packed index corrupt: {m}"),
            PackError::Unsupported(m) => write!(f, "cannot pack index: {m}"),
        }
    }
}

impl std::error::Error for PackError {}

impl From<PackError> for ApiError {
    fn from(e: PackError) -> Self {
        ApiError::internal(e.to_string())
    }
}
