//! The wire codec: compact JSON, compressed with zstd (gzip and identity accepted), with hard
//! limits on compressed size, decompressed size and batch length. Malformed, truncated or
//! oversized input gives a [`CodecError`], never a panic.

use crate::version::PROTOCOL_VERSION;
use crate::wire::WireMessage;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The largest zstd window a decoder accepts: 2^23 bytes (8 MiB). Encoders at
/// [`ZSTD_LEVEL`] use far smaller windows; a frame that asks for more is refused instead of
/// making the decoder reserve its memory.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// The largest zstd window a decoder with these limits accepts: no larger than the body may
/// be once decompressed (at least 2^10, at most [`ZSTD_WINDOW_LOG_MAX`]). A frame of a small
/// request that asks for a large window is refused before any of it is reserved.
pub fn window_log_for(max_decompressed: usize) -> u32 {
    let need = usize::BITS - max_decompressed.saturating_sub(1).leading_zeros();
    need.clamp(10, ZSTD_WINDOW_LOG_MAX)
}

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

/// A server cuts a pull page before its JSON passes this many bytes (1 MiB): half of the
/// default `max_compressed`, so that even an incompressible page is within what every client
/// accepts. A page holds at least one change unless that change alone is larger: such a
/// change (stored before the limits of one change existed) is skipped, never served.
pub const PULL_PAGE_BYTES: usize = 1024 * 1024;

/// The largest body of the small requests (enrol, login, status, pull), compressed or not
/// (8 KiB): their fields are a few short strings. A server checks it before decoding.
pub const SMALL_BODY_BYTES: usize = 8 * 1024;

impl Limits {
    /// The limits of a small request: `bytes` on the wire and once decompressed, no changes.
    pub fn small(bytes: usize) -> Self {
        Self {
            max_compressed: bytes,
            max_decompressed: bytes,
            max_batch: 0,
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
    /// Parses a `Content-Encoding` header value: `zstd`, `gzip`, `identity`, or absent.
    pub fn from_header(value: Option<&str>) -> Result<Self, CodecError> {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(Encoding::Identity),
            Some(v) if v == "identity" => Ok(Encoding::Identity),
            Some(v) if v == "zstd" => Ok(Encoding::Zstd),
            Some(v) if v == "gzip" => Ok(Encoding::Gzip),
            Some(v) => Err(CodecError::UnsupportedEncoding(
                v.chars().take(40).collect(),
            )),
        }
    }

    /// The encoding an `Accept-Encoding` header prefers: the highest quality among zstd and
    /// gzip (zstd on a tie), identity when neither is acceptable.
    pub fn negotiate_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Encoding::Identity;
        };
        let mut best: Option<(u16, Encoding)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let name = it.next().unwrap_or_default().trim().to_ascii_lowercase();
            let enc = match name.as_str() {
                "zstd" => Encoding::Zstd,
                "gzip" => Encoding::Gzip,
                _ => continue,
            };
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").map(parse_quality))
                .unwrap_or(Some(1000));
            let Some(q) = q.filter(|q| *q > 0) else {
                continue;
            };
            let better = match best {
                None => true,
                Some((bq, be)) => {
                    q > bq || (q == bq && enc == Encoding::Zstd && be != Encoding::Zstd)
                }
            };
            if better {
                best = Some((q, enc));
            }
        }
        best.map_or(Encoding::Identity, |(_, e)| e)
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
    VersionMismatch { found: u64, expected: u16 },
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

/// A quality value `0`…`1` with up to three decimals, in thousandths.
fn parse_quality(q: &str) -> Option<u16> {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_val: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac_val),
        "1" if frac_val == 0 => Some(1000),
        _ => None,
    }
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
            // A frame that says how large it is, and is larger than the limit, is refused
            // before any of it is decoded.
            if let Ok(Some(size)) = zstd::zstd_safe::get_frame_content_size(bytes)
                && size > u64::try_from(limits.max_decompressed).unwrap_or(u64::MAX)
            {
                return Err(CodecError::DecompressedTooLarge {
                    limit: limits.max_decompressed,
                });
            }
            let mut decoder = zstd::stream::read::Decoder::new(bytes)
                .map_err(|e| CodecError::Corrupt(e.to_string()))?;
            decoder
                .window_log_max(window_log_for(limits.max_decompressed))
                .map_err(|e| CodecError::Corrupt(e.to_string()))?;
            read_limited(decoder, limits.max_decompressed)
        }
        Encoding::Gzip => {
            // One gzip member, and nothing after it.
            let mut decoder = flate2::bufread::GzDecoder::new(bytes);
            let out = read_limited(&mut decoder, limits.max_decompressed)?;
            if !decoder.into_inner().is_empty() {
                return Err(CodecError::Corrupt(
                    "bytes after the end of the gzip stream".into(),
                ));
            }
            Ok(out)
        }
    }
}

fn read_limited(reader: impl Read, limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut out).map_err(|e| {
        // zstd refuses a frame whose window is larger than the limit allows: that body
        // would be too large once decompressed.
        let text = e.to_string();
        if text.contains("too much memory") {
            CodecError::DecompressedTooLarge { limit }
        } else {
            CodecError::Corrupt(text)
        }
    })?;
    if out.len() > limit {
        return Err(CodecError::DecompressedTooLarge { limit });
    }
    if out.is_empty() {
        return Err(CodecError::Corrupt("empty body".into()));
    }
    Ok(out)
}

/// The only field every version of every body has (any number, so that `"v": 70000` is
/// still recognised as another version).
#[derive(Deserialize)]
struct VersionProbe {
    v: serde_json::Value,
}

/// Decompresses and parses a body of the current protocol version, enforcing every limit.
pub fn decode<T: DeserializeOwned + WireMessage>(
    bytes: &[u8],
    encoding: Encoding,
    limits: &Limits,
) -> Result<T, CodecError> {
    decode_version(bytes, encoding, limits, PROTOCOL_VERSION)
}

/// As [`decode`], for the version negotiated with the peer.
pub fn decode_version<T: DeserializeOwned + WireMessage>(
    bytes: &[u8],
    encoding: Encoding,
    limits: &Limits,
    expected: u16,
) -> Result<T, CodecError> {
    let json = decompress(bytes, encoding, limits)?;
    decode_json_version(&json, limits, expected)
}

/// Parses a body of the current version that is already decompressed.
pub fn decode_json<T: DeserializeOwned + WireMessage>(
    json: &[u8],
    limits: &Limits,
) -> Result<T, CodecError> {
    decode_json_version(json, limits, PROTOCOL_VERSION)
}

/// Parses a body of version `expected` that is already decompressed.
pub fn decode_json_version<T: DeserializeOwned + WireMessage>(
    json: &[u8],
    limits: &Limits,
    expected: u16,
) -> Result<T, CodecError> {
    if json.len() > limits.max_decompressed {
        return Err(CodecError::DecompressedTooLarge {
            limit: limits.max_decompressed,
        });
    }
    let msg: T = match serde_json::from_slice(json) {
        Ok(msg) => msg,
        Err(e) => {
            // A body of another version may fail to parse: say so rather than "malformed".
            if let Ok(probe) = serde_json::from_slice::<VersionProbe>(json) {
                let found = probe.v.as_u64();
                if found != Some(u64::from(expected)) {
                    return Err(CodecError::VersionMismatch {
                        found: found.unwrap_or(u64::MAX),
                        expected,
                    });
                }
            }
            return Err(CodecError::Malformed(e.to_string()));
        }
    };
    if msg.version() != expected {
        return Err(CodecError::VersionMismatch {
            found: u64::from(msg.version()),
            expected,
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

/// Reads the error body of any answer, of any protocol version: unknown fields are ignored
/// and `v` is not checked, so that an old app can still read a newer server's "update the
/// app" answer. `None` when the body is not an error body at all.
pub fn decode_error_body(
    bytes: &[u8],
    encoding: Encoding,
    limits: &Limits,
) -> Option<crate::ErrorBody> {
    #[derive(Deserialize)]
    struct AnyErrorBody {
        #[serde(default)]
        v: u16,
        code: crate::ErrorCode,
        #[serde(default)]
        key: Option<String>,
        #[serde(default)]
        message: String,
        #[serde(default)]
        retry_after_s: Option<u32>,
        #[serde(default)]
        supported: Option<crate::VersionRange>,
    }
    let json = decompress(bytes, encoding, limits).ok()?;
    let any: AnyErrorBody = serde_json::from_slice(&json).ok()?;
    Some(crate::ErrorBody {
        v: any.v,
        code: any.code,
        key: any
            .key
            .unwrap_or_else(|| any.code.message_key().to_string()),
        message: any.message,
        retry_after_s: any.retry_after_s,
        supported: any.supported,
    })
}

impl CodecError {
    /// For a body of another protocol version, what the decoding side should tell its user,
    /// seen from a server decoding a request: the app is older (update the app) or newer
    /// (update the server). A client decoding a response swaps the two.
    pub fn version_error(&self) -> Option<crate::VersionError> {
        let CodecError::VersionMismatch { found, expected } = *self else {
            return None;
        };
        let supported = crate::VersionRange {
            min: expected,
            max: expected,
        };
        let peer = u16::try_from(found).unwrap_or(u16::MAX);
        Some(if found < u64::from(expected) {
            crate::VersionError::PeerTooOld { peer, supported }
        } else {
            crate::VersionError::PeerTooNew { peer, supported }
        })
    }

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
