//! The wire codec: compact JSON, compressed with zstd (gzip and identity accepted), with hard
//! limits on compressed size, decompressed size and batch length. Malformed, truncated or
//! oversized input gives a [`CodecError`], never a panic.

use crate::version::PROTOCOL_VERSION;
use crate::wire::WireMessage;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The zstd level used when encoding. Level 3 is zstd's default: on this project's batches
/// higher levels save a few percent of bytes for several times the CPU.
pub const ZSTD_LEVEL: i32 = 3;

/// Hard limits every decoder enforces. The server advertises its own in the status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest body on the wire, in bytes.
    pub max_compressed: usize,
    /// Largest body after decompression, in bytes (stops decompression bombs).
    pub max_decompressed: usize,
    /// Most changes in one push or pull page.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_compressed: 2 * 1024 * 1024,
            max_decompressed: 16 * 1024 * 1024,
            max_batch: 2_000,
        }
    }
}

/// A `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Zstd,
    Gzip,
}

impl Encoding {
    /// Parses a `Content-Encoding` header value (absent means identity).
    pub fn from_header(value: Option<&str>) -> Result<Self, CodecError> {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(Encoding::Identity),
            Some(v) if v.is_empty() || v == "identity" => Ok(Encoding::Identity),
            Some(v) if v == "zstd" => Ok(Encoding::Zstd),
            Some(v) if v == "gzip" || v == "x-gzip" => Ok(Encoding::Gzip),
            Some(v) => Err(CodecError::UnsupportedEncoding(
                v.chars().take(40).collect(),
            )),
        }
    }

    /// The best encoding an `Accept-Encoding` header allows (zstd, then gzip, then identity).
    pub fn negotiate_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Encoding::Identity;
        };
        let offered: Vec<String> = accept
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let name = it.next()?.trim().to_ascii_lowercase();
                let refused = it.any(|p| {
                    let p = p.trim().replace(' ', "");
                    p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
                });
                (!refused).then_some(name)
            })
            .collect();
        if offered.iter().any(|n| n == "zstd") {
            Encoding::Zstd
        } else if offered.iter().any(|n| n == "gzip" || n == "x-gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// The header value; `None` for identity.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Zstd => Some("zstd"),
            Encoding::Gzip => Some("gzip"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("content encoding {0:?} is not supported; use zstd, gzip or identity")]
    UnsupportedEncoding(String),
    #[error("the body is {size} bytes on the wire; the limit is {limit}")]
    CompressedTooLarge { size: usize, limit: usize },
    #[error("the body is over {limit} bytes once decompressed")]
    DecompressedTooLarge { limit: usize },
    #[error("the body could not be decompressed (truncated or corrupt): {0}")]
    Corrupt(String),
    #[error("the body is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("the body says protocol version {found}, expected {expected}")]
    VersionMismatch { found: u16, expected: u16 },
    #[error("the batch holds {len} changes; the limit is {limit}")]
    BatchTooLong { len: usize, limit: usize },
    #[error("could not encode the body: {0}")]
    Encode(String),
}

/// Serialises `msg` as compact JSON and compresses it.
pub fn encode<T: Serialize>(msg: &T, encoding: Encoding) -> Result<Vec<u8>, CodecError> {
    let json = serde_json::to_vec(msg).map_err(|e| CodecError::Encode(e.to_string()))?;
    compress(&json, encoding)
}

/// Compresses bytes that are already JSON.
pub fn compress(json: &[u8], encoding: Encoding) -> Result<Vec<u8>, CodecError> {
    match encoding {
        Encoding::Identity => Ok(json.to_vec()),
        Encoding::Zstd => {
            zstd::bulk::compress(json, ZSTD_LEVEL).map_err(|e| CodecError::Encode(e.to_string()))
        }
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(json.len() / 4),
                flate2::Compression::default(),
            );
            enc.write_all(json)
                .and_then(|()| enc.finish())
                .map_err(|e| CodecError::Encode(e.to_string()))
        }
    }
}

/// Decompresses with every limit enforced.
pub fn decompress(
    bytes: &[u8],
    encoding: Encoding,
    limits: &Limits,
) -> Result<Vec<u8>, CodecError> {
    if bytes.len() > limits.max_compressed {
        return Err(CodecError::CompressedTooLarge {
            size: bytes.len(),
            limit: limits.max_compressed,
        });
    }
    match encoding {
        Encoding::Identity => {
            if bytes.len() > limits.max_decompressed {
                return Err(CodecError::DecompressedTooLarge {
                    limit: limits.max_decompressed,
                });
            }
            Ok(bytes.to_vec())
        }
        Encoding::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(bytes)
                .map_err(|e| CodecError::Corrupt(e.to_string()))?;
            read_limited(decoder, limits.max_decompressed)
        }
        Encoding::Gzip => {
            read_limited(flate2::read::GzDecoder::new(bytes), limits.max_decompressed)
        }
    }
}

fn read_limited(reader: impl Read, limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CodecError::DecompressedTooLarge { limit });
    }
    if out.is_empty() {
        return Err(CodecError::Corrupt("empty body".into()));
    }
    Ok(out)
}

/// The only field every version of every body has.
#[derive(Deserialize)]
struct VersionProbe {
    v: u16,
}

/// Decompresses and parses a body, enforcing every limit and the protocol version.
pub fn decode<T: DeserializeOwned + WireMessage>(
    bytes: &[u8],
    encoding: Encoding,
    limits: &Limits,
) -> Result<T, CodecError> {
    let json = decompress(bytes, encoding, limits)?;
    decode_json(&json, limits)
}

/// Parses a body that is already decompressed.
pub fn decode_json<T: DeserializeOwned + WireMessage>(
    json: &[u8],
    limits: &Limits,
) -> Result<T, CodecError> {
    let msg: T = match serde_json::from_slice(json) {
        Ok(msg) => msg,
        Err(e) => {
            // A body of another version may fail to parse: say so rather than "malformed".
            if let Ok(probe) = serde_json::from_slice::<VersionProbe>(json)
                && probe.v != PROTOCOL_VERSION
            {
                return Err(CodecError::VersionMismatch {
                    found: probe.v,
                    expected: PROTOCOL_VERSION,
                });
            }
            return Err(CodecError::Malformed(e.to_string()));
        }
    };
    if msg.version() != PROTOCOL_VERSION {
        return Err(CodecError::VersionMismatch {
            found: msg.version(),
            expected: PROTOCOL_VERSION,
        });
    }
    if msg.batch_len() > limits.max_batch {
        return Err(CodecError::BatchTooLong {
            len: msg.batch_len(),
            limit: limits.max_batch,
        });
    }
    Ok(msg)
}

impl CodecError {
    /// The request-level error a server answers with.
    pub fn error_code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            CodecError::UnsupportedEncoding(_) => ErrorCode::UnsupportedEncoding,
            CodecError::CompressedTooLarge { .. } | CodecError::DecompressedTooLarge { .. } => {
                ErrorCode::BodyTooLarge
            }
            CodecError::BatchTooLong { .. } => ErrorCode::TooManyChanges,
            CodecError::VersionMismatch { .. } => ErrorCode::ProtocolUnsupported,
            CodecError::Corrupt(_) | CodecError::Malformed(_) => ErrorCode::MalformedBody,
            CodecError::Encode(_) => ErrorCode::Internal,
        }
    }
}
