//! Titip: sealed bundles that another tablet, or a file, carries to the district server, and
//! the sealed answers it carries back (`docs/sync-protocol.md`, section 10).
//!
//! A bundle is a device's undelivered outbox, compressed as a push is (zstd level 3 of the
//! compact JSON), encrypted to the recipient's X25519 key and signed with the sender's
//! Ed25519 key. The carrier can read who it is for (the plaintext header) and nothing else;
//! it cannot alter it (the signature and the AEAD tag both fail) nor forge one (it has no
//! enrolled device's signing key).
//!
//! Algorithms, all from maintained crates, composed as HPKE's base mode does (RFC 9180):
//! - key agreement: X25519 (`x25519-dalek`) between a fresh ephemeral key and the
//!   recipient's static key; an all-zero shared secret is refused;
//! - key derivation: HKDF-SHA256 (`hkdf`, `sha2`), salt = ephemeral public key ‖ recipient
//!   public key, info = `jangkau titip v1` ‖ kind byte, 32 bytes of output;
//! - encryption: ChaCha20-Poly1305 (`chacha20poly1305`), nonce of 12 zero bytes (the key is
//!   new for every message), associated data = every byte before the ciphertext;
//! - signature: Ed25519 (`ed25519-dalek`, strict verification) over every byte before it.
//!
//! This module does no IO and reads no clock or random source: callers pass the ephemeral
//! seed and the time in, so the examples of the specification are reproducible.

use crate::change::Change;
use crate::codec::{CodecError, Encoding, Limits, compress, decode_json_version, decompress};
use crate::ids::{DeviceId, UserId};
use crate::wire::{Outcome, WireMessage};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use zeroize::Zeroize;

/// The first four bytes of every sealed file.
pub const MAGIC: [u8; 4] = *b"JKTP";
/// The format version this module writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Magic, version, kind, header length.
pub const PREFIX_LEN: usize = 8;
/// An Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// The Poly1305 tag.
pub const TAG_LEN: usize = 16;
/// The longest header accepted (its fields are a few ids and numbers).
pub const MAX_HEADER_LEN: usize = 1024;
/// The HKDF info prefix; the kind byte follows it.
pub const KDF_INFO: &[u8] = b"jangkau titip v1";

/// What a sealed file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedKind {
    /// A device's changes, to the district server ([`RelayBundle`]).
    Bundle,
    /// The server's acknowledgements and pull page, to one device ([`RelayAnswer`]).
    Answer,
}

impl SealedKind {
    pub fn byte(self) -> u8 {
        match self {
            SealedKind::Bundle => 1,
            SealedKind::Answer => 2,
        }
    }

    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(SealedKind::Bundle),
            2 => Some(SealedKind::Answer),
            _ => None,
        }
    }
}

/// Why a sealed file could not be made or opened.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RelayError {
    #[error("the file is truncated or too short to be a titip bundle")]
    Truncated,
    #[error("the file is not a titip bundle (wrong magic bytes)")]
    NotABundle,
    #[error("titip format version {0} is not supported (this app reads version 1)")]
    UnsupportedVersion(u8),
    #[error("unknown titip kind {0}")]
    UnknownKind(u8),
    #[error("expected a {expected:?}, found a {found:?}")]
    WrongKind {
        expected: SealedKind,
        found: SealedKind,
    },
    #[error("the header is not valid: {0}")]
    Header(String),
    #[error("a key is not valid: {0}")]
    Key(String),
    #[error("the signature does not match: the file was altered or not made by its sender")]
    BadSignature,
    #[error("the content cannot be decrypted with this key: altered, or meant for another")]
    Decrypt,
    #[error("the content names device {inner}, the header {outer}")]
    DeviceMismatch { inner: DeviceId, outer: DeviceId },
    /// The content does not decompress or parse (a [`CodecError`], as text).
    #[error("the content: {0}")]
    Codec(String),
}

impl From<CodecError> for RelayError {
    fn from(e: CodecError) -> Self {
        RelayError::Codec(e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Keys.

/// A 32-byte public key, written as unpadded URL-safe base64 (43 characters).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key32(pub [u8; 32]);

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key32({})", self.to_b64())
    }
}

impl Key32 {
    pub fn to_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn from_b64(s: &str) -> Result<Self, RelayError> {
        let v = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|e| RelayError::Key(e.to_string()))?;
        let a: [u8; 32] = v
            .try_into()
            .map_err(|_| RelayError::Key("a key is 32 bytes".into()))?;
        Ok(Key32(a))
    }
}

impl Serialize for Key32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_b64())
    }
}

impl<'de> Deserialize<'de> for Key32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Key32::from_b64(&s).map_err(serde::de::Error::custom)
    }
}

/// The public half of a titip key pair: `box` receives sealed content (X25519), `sign`
/// checks what its owner signed (Ed25519). Sent at enrolment, both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeys {
    #[serde(rename = "box")]
    pub box_key: Key32,
    pub sign: Key32,
}

impl PublicKeys {
    /// Checks that `sign` is a valid Ed25519 point and `box` not a low-order X25519 key.
    pub fn validate(&self) -> Result<(), RelayError> {
        VerifyingKey::from_bytes(&self.sign.0)
            .map_err(|e| RelayError::Key(format!("sign: {e}")))?;
        if self.box_key.0 == [0u8; 32] {
            return Err(RelayError::Key("box: the all-zero key".into()));
        }
        Ok(())
    }
}

/// A titip key pair: an X25519 secret for opening and an Ed25519 seed for signing. Kept in
/// the encrypted store on a device, in an owner-only file on the server.
#[derive(Clone)]
pub struct KeyPair {
    box_secret: [u8; 32],
    sign_seed: [u8; 32],
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

impl Drop for KeyPair {
    fn drop(&mut self) {
        self.box_secret.zeroize();
        self.sign_seed.zeroize();
    }
}

impl KeyPair {
    /// The pair from 64 random bytes (the caller's random source): 32 for the X25519
    /// secret, 32 for the Ed25519 seed.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        let mut box_secret = [0u8; 32];
        let mut sign_seed = [0u8; 32];
        box_secret.copy_from_slice(&bytes[..32]);
        sign_seed.copy_from_slice(&bytes[32..]);
        Self {
            box_secret,
            sign_seed,
        }
    }

    /// The 64 secret bytes, to store.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.box_secret);
        out[32..].copy_from_slice(&self.sign_seed);
        out
    }

    pub fn public(&self) -> PublicKeys {
        let box_pub =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(self.box_secret));
        PublicKeys {
            box_key: Key32(box_pub.to_bytes()),
            sign: Key32(
                SigningKey::from_bytes(&self.sign_seed)
                    .verifying_key()
                    .to_bytes(),
            ),
        }
    }

    fn shared_with(&self, eph: &Key32) -> Result<[u8; 32], RelayError> {
        let secret = x25519_dalek::StaticSecret::from(self.box_secret);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(eph.0));
        if !shared.was_contributory() {
            return Err(RelayError::Key("a low-order ephemeral key".into()));
        }
        Ok(shared.to_bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// The plaintext header: enough for a carrier to say whose bundle it holds, and for the
/// server to find the sender's key. Authenticated (AEAD associated data and signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedHeader {
    pub v: u16,
    /// A bundle: the sending device. An answer: the device it is for.
    pub device: DeviceId,
    /// The ephemeral X25519 public key of this message.
    pub eph: Key32,
    /// When it was sealed, milliseconds since the epoch (the sealer's clock).
    pub created: u64,
    /// A bundle: the first and last sequence numbers it carries and how many changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The sealed content of a bundle: what a push would carry, plus who sealed it and where
/// the device's pull stands, so the server can answer with the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayBundle {
    pub v: u16,
    pub device: DeviceId,
    /// The user logged in when it was sealed: the session a direct push would have had.
    pub user: UserId,
    /// The device's pull cursor, or none before its first pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The outbox from a sequence number, in sequence order (may be empty: a bundle that
    /// only asks for the device's news).
    pub changes: Vec<Change>,
}

impl WireMessage for RelayBundle {
    fn version(&self) -> u16 {
        self.v
    }
    fn batch_len(&self) -> usize {
        self.changes.len()
    }
}

/// The sealed content of an answer: the push outcomes and one pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayAnswer {
    pub v: u16,
    pub device: DeviceId,
    /// When the bundle it answers was sealed (its header's `created`).
    pub bundle_created: u64,
    pub outcomes: Vec<Outcome>,
    pub acked_seq: u64,
    /// The pull page after the bundle's cursor, as `POST /v1/sync/pull` answers it.
    pub changes: Vec<Change>,
    pub cursor: String,
    pub has_more: bool,
    pub server_time: u64,
}

impl WireMessage for RelayAnswer {
    fn version(&self) -> u16 {
        self.v
    }
    fn batch_len(&self) -> usize {
        self.changes.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Sealing and opening.

fn derive_key(shared: &[u8; 32], eph: &Key32, recipient: &Key32, kind: SealedKind) -> [u8; 32] {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(&eph.0);
    salt[32..].copy_from_slice(&recipient.0);
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&salt[..]), shared);
    let mut info = KDF_INFO.to_vec();
    info.push(kind.byte());
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 * 32.
    if hk.expand(&info, &mut key).is_err() {
        unreachable!("HKDF-SHA256 gives 32 bytes");
    }
    key
}

/// Seals `json` (compact JSON of a [`RelayBundle`] or [`RelayAnswer`]) to `recipient`,
/// signed by `sender`. `eph_seed` must be 32 fresh random bytes; `header.eph` is set here.
pub fn seal_json(
    kind: SealedKind,
    mut header: SealedHeader,
    json: &[u8],
    recipient: &PublicKeys,
    sender: &KeyPair,
    eph_seed: [u8; 32],
) -> Result<Vec<u8>, RelayError> {
    let eph = x25519_dalek::StaticSecret::from(eph_seed);
    header.eph = Key32(x25519_dalek::PublicKey::from(&eph).to_bytes());
    let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(recipient.box_key.0));
    if !shared.was_contributory() {
        return Err(RelayError::Key(
            "the recipient's key is of low order".into(),
        ));
    }
    let mut key = derive_key(shared.as_bytes(), &header.eph, &recipient.box_key, kind);
    let header_json = serde_json::to_vec(&header).map_err(|e| RelayError::Header(e.to_string()))?;
    if header_json.len() > MAX_HEADER_LEN {
        return Err(RelayError::Header("over 1024 bytes".into()));
    }
    let mut out = Vec::with_capacity(PREFIX_LEN + header_json.len() + json.len() / 3 + 96);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.push(kind.byte());
    out.extend_from_slice(
        &u16::try_from(header_json.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&header_json);
    let compressed = compress(json, Encoding::Zstd)?;
    let cipher = ChaCha20Poly1305::new((&key).into());
    key.zeroize();
    let ct = cipher
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: &compressed,
                aad: &out,
            },
        )
        .map_err(|_| RelayError::Decrypt)?;
    out.extend_from_slice(&ct);
    let sig = SigningKey::from_bytes(&sender.sign_seed).sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    Ok(out)
}

/// An Ed25519 signature of `msg` by the key of `seed` (what [`seal_json`] appends).
pub fn sign_detached(seed: &[u8; 32], msg: &[u8]) -> [u8; SIGNATURE_LEN] {
    SigningKey::from_bytes(seed).sign(msg).to_bytes()
}

/// A sealed file, parsed but not yet verified or decrypted: what a carrier may look at.
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed<'a> {
    pub kind: SealedKind,
    pub header: SealedHeader,
    /// Magic to the end of the ciphertext: what is signed.
    signed: &'a [u8],
    /// Magic to the end of the header: the AEAD's associated data.
    aad: &'a [u8],
    ciphertext: &'a [u8],
    signature: [u8; SIGNATURE_LEN],
}

/// A short stable identity of a sealed file: the first 16 bytes of its SHA-256, in hex.
pub fn file_id(bytes: &[u8]) -> String {
    use sha2::Digest;
    Sha256::digest(bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads the structure of a sealed file (no key needed): its kind and header.
pub fn parse(bytes: &[u8]) -> Result<Sealed<'_>, RelayError> {
    if bytes.len() < 4 {
        return Err(RelayError::Truncated);
    }
    if bytes[..4] != MAGIC {
        return Err(RelayError::NotABundle);
    }
    if bytes.len() < PREFIX_LEN + TAG_LEN + SIGNATURE_LEN {
        return Err(RelayError::Truncated);
    }
    if bytes[4] != FORMAT_VERSION {
        return Err(RelayError::UnsupportedVersion(bytes[4]));
    }
    let kind = SealedKind::from_byte(bytes[5]).ok_or(RelayError::UnknownKind(bytes[5]))?;
    let header_len = usize::from(u16::from_be_bytes([bytes[6], bytes[7]]));
    if header_len > MAX_HEADER_LEN {
        return Err(RelayError::Header("over 1024 bytes".into()));
    }
    let header_end = PREFIX_LEN + header_len;
    if bytes.len() < header_end + TAG_LEN + SIGNATURE_LEN {
        return Err(RelayError::Truncated);
    }
    let header: SealedHeader = serde_json::from_slice(&bytes[PREFIX_LEN..header_end])
        .map_err(|e| RelayError::Header(e.to_string()))?;
    let range = crate::VersionRange::CURRENT;
    if !(range.min..=range.max).contains(&header.v) {
        return Err(RelayError::Header(format!(
            "protocol version {}, expected {}–{}",
            header.v, range.min, range.max
        )));
    }
    let sig_at = bytes.len() - SIGNATURE_LEN;
    let mut signature = [0u8; SIGNATURE_LEN];
    signature.copy_from_slice(&bytes[sig_at..]);
    Ok(Sealed {
        kind,
        header,
        signed: &bytes[..sig_at],
        aad: &bytes[..header_end],
        ciphertext: &bytes[header_end..sig_at],
        signature,
    })
}

impl Sealed<'_> {
    /// Checks the signature against the sender's public keys (strict Ed25519).
    pub fn verify(&self, sender: &PublicKeys) -> Result<(), RelayError> {
        let key =
            VerifyingKey::from_bytes(&sender.sign.0).map_err(|e| RelayError::Key(e.to_string()))?;
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature);
        key.verify_strict(self.signed, &sig)
            .map_err(|_| RelayError::BadSignature)
    }

    /// Decrypts and decompresses the content with the recipient's key pair (call
    /// [`Sealed::verify`] first). `limits` bound the decompressed size.
    pub fn decrypt(&self, recipient: &KeyPair, limits: &Limits) -> Result<Vec<u8>, RelayError> {
        let shared = recipient.shared_with(&self.header.eph)?;
        let mut key = derive_key(
            &shared,
            &self.header.eph,
            &recipient.public().box_key,
            self.kind,
        );
        let cipher = ChaCha20Poly1305::new((&key).into());
        key.zeroize();
        let compressed = cipher
            .decrypt(
                &Nonce::default(),
                Payload {
                    msg: self.ciphertext,
                    aad: self.aad,
                },
            )
            .map_err(|_| RelayError::Decrypt)?;
        Ok(decompress(&compressed, Encoding::Zstd, limits)?)
    }
}

/// Seals a device's bundle to the server's keys, signed by the device.
pub fn seal_bundle(
    bundle: &RelayBundle,
    created_ms: u64,
    server: &PublicKeys,
    device_keys: &KeyPair,
    eph_seed: [u8; 32],
) -> Result<Vec<u8>, RelayError> {
    let json = serde_json::to_vec(bundle).map_err(|e| CodecError::Encode(e.to_string()))?;
    let header = SealedHeader {
        v: bundle.v,
        device: bundle.device,
        eph: Key32([0; 32]),
        created: created_ms,
        first_seq: bundle.changes.first().map(|c| c.seq),
        last_seq: bundle.changes.last().map(|c| c.seq),
        count: Some(bundle.changes.len() as u64),
    };
    seal_json(
        SealedKind::Bundle,
        header,
        &json,
        server,
        device_keys,
        eph_seed,
    )
}

/// Seals the server's answer to one device's keys, signed by the server.
pub fn seal_answer(
    answer: &RelayAnswer,
    created_ms: u64,
    device: &PublicKeys,
    server_keys: &KeyPair,
    eph_seed: [u8; 32],
) -> Result<Vec<u8>, RelayError> {
    let json = serde_json::to_vec(answer).map_err(|e| CodecError::Encode(e.to_string()))?;
    seal_answer_json(
        answer.v,
        answer.device,
        &json,
        created_ms,
        device,
        server_keys,
        eph_seed,
    )
}

/// As [`seal_answer`], for an answer already serialised (the server splices stored JSON):
/// `v` is the protocol version of that JSON (the bundle's, which the answer repeats).
pub fn seal_answer_json(
    v: u16,
    device_id: DeviceId,
    json: &[u8],
    created_ms: u64,
    device: &PublicKeys,
    server_keys: &KeyPair,
    eph_seed: [u8; 32],
) -> Result<Vec<u8>, RelayError> {
    let header = SealedHeader {
        v,
        device: device_id,
        eph: Key32([0; 32]),
        created: created_ms,
        first_seq: None,
        last_seq: None,
        count: None,
    };
    seal_json(
        SealedKind::Answer,
        header,
        json,
        device,
        server_keys,
        eph_seed,
    )
}

fn expect_kind(s: &Sealed<'_>, kind: SealedKind) -> Result<(), RelayError> {
    if s.kind == kind {
        Ok(())
    } else {
        Err(RelayError::WrongKind {
            expected: kind,
            found: s.kind,
        })
    }
}

/// Opens a bundle on the server: `sender` is the enrolled key of the device its header
/// names (look it up with [`parse`] first). The content must name the same device.
pub fn open_bundle(
    bytes: &[u8],
    sender: &PublicKeys,
    server_keys: &KeyPair,
    limits: &Limits,
) -> Result<(SealedHeader, RelayBundle), RelayError> {
    let sealed = parse(bytes)?;
    expect_kind(&sealed, SealedKind::Bundle)?;
    sealed.verify(sender)?;
    let json = sealed.decrypt(server_keys, limits)?;
    // The content speaks the header's version (1 or 2: a tablet of either app).
    let bundle: RelayBundle = decode_json_version(&json, limits, sealed.header.v)?;
    if bundle.device != sealed.header.device {
        return Err(RelayError::DeviceMismatch {
            inner: bundle.device,
            outer: sealed.header.device,
        });
    }
    Ok((sealed.header, bundle))
}

/// Opens an answer on the device it is for: `server` are the keys given at enrolment.
pub fn open_answer(
    bytes: &[u8],
    server: &PublicKeys,
    device_keys: &KeyPair,
    limits: &Limits,
) -> Result<(SealedHeader, RelayAnswer), RelayError> {
    let sealed = parse(bytes)?;
    expect_kind(&sealed, SealedKind::Answer)?;
    sealed.verify(server)?;
    let json = sealed.decrypt(device_keys, limits)?;
    let answer: RelayAnswer = decode_json_version(&json, limits, sealed.header.v)?;
    if answer.device != sealed.header.device {
        return Err(RelayError::DeviceMismatch {
            inner: answer.device,
            outer: sealed.header.device,
        });
    }
    Ok((sealed.header, answer))
}

// ---------------------------------------------------------------------------------------------
// Several sealed files in one (a carrier's `collect` for many tablets).

/// The first four bytes of a titip pack: several sealed files in one file.
pub const PACK_MAGIC: [u8; 4] = *b"JKTL";

/// Packs sealed files: `JKTL`, the version byte, then each file as a 4-byte big-endian
/// length and its bytes.
pub fn pack(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + items.iter().map(|i| i.len() + 4).sum::<usize>());
    out.extend_from_slice(&PACK_MAGIC);
    out.push(FORMAT_VERSION);
    for item in items {
        out.extend_from_slice(&u32::try_from(item.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

/// The sealed files of a pack, or the one sealed file `bytes` is. Structure only: each
/// file is still to be parsed and verified.
pub fn unpack(bytes: &[u8]) -> Result<Vec<&[u8]>, RelayError> {
    if bytes.len() >= 4 && bytes[..4] == MAGIC {
        return Ok(vec![bytes]);
    }
    if bytes.len() < 5 {
        return Err(RelayError::Truncated);
    }
    if bytes[..4] != PACK_MAGIC {
        return Err(RelayError::NotABundle);
    }
    if bytes[4] != FORMAT_VERSION {
        return Err(RelayError::UnsupportedVersion(bytes[4]));
    }
    let mut rest = &bytes[5..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RelayError::Truncated);
        }
        let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        rest = &rest[4..];
        if rest.len() < n {
            return Err(RelayError::Truncated);
        }
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::posyandu_day;

    fn pair(n: u8) -> KeyPair {
        KeyPair::from_bytes(&[n; 64])
    }

    fn bundle(n: usize) -> RelayBundle {
        let device = DeviceId(uuid::Uuid::from_u128(0xd001));
        let user = UserId(uuid::Uuid::from_u128(0xe001));
        RelayBundle {
            v: 1,
            device,
            user,
            cursor: Some("s12.0a1b2c3d".into()),
            changes: posyandu_day(7, device, user, 1, n),
        }
    }

    #[test]
    fn round_trip_and_every_refusal() -> Result<(), RelayError> {
        let (server, device, carrier) = (pair(1), pair(2), pair(3));
        let b = bundle(40);
        let sealed = seal_bundle(&b, 1_000, &server.public(), &device, [9; 32])?;
        let limits = Limits::default();
        let (h, opened) = open_bundle(&sealed, &device.public(), &server, &limits)?;
        assert_eq!(opened, b);
        assert_eq!(
            (h.first_seq, h.last_seq, h.count),
            (Some(1), Some(40), Some(40))
        );

        // The carrier can read the header, not the content.
        let p = parse(&sealed)?;
        assert_eq!(p.header.device, b.device);
        assert_eq!(p.decrypt(&carrier, &limits), Err(RelayError::Decrypt));
        // Another device's signing key does not verify.
        assert_eq!(
            open_bundle(&sealed, &carrier.public(), &server, &limits).map(|_| ()),
            Err(RelayError::BadSignature)
        );
        // Every single flipped byte is refused.
        for i in (0..sealed.len()).step_by(7) {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert!(
                open_bundle(&bad, &device.public(), &server, &limits).is_err(),
                "byte {i}"
            );
        }
        // Every truncation is refused.
        for n in [0, 3, 8, 50, sealed.len() / 2, sealed.len() - 1] {
            assert!(open_bundle(&sealed[..n], &device.public(), &server, &limits).is_err());
        }
        // A bundle is not an answer.
        assert!(matches!(
            open_answer(&sealed, &device.public(), &server, &limits),
            Err(RelayError::WrongKind { .. })
        ));
        Ok(())
    }

    #[test]
    fn a_carrier_cannot_re_sign_anothers_content() -> Result<(), RelayError> {
        // A carrier that re-signs the bytes with its own key: the server checks the
        // signature against the device the header names, so it fails.
        let (server, device, carrier) = (pair(1), pair(2), pair(3));
        let sealed = seal_bundle(&bundle(3), 1, &server.public(), &device, [5; 32])?;
        let mut forged = sealed[..sealed.len() - SIGNATURE_LEN].to_vec();
        let sig = SigningKey::from_bytes(&carrier.sign_seed).sign(&forged);
        forged.extend_from_slice(&sig.to_bytes());
        assert_eq!(
            open_bundle(&forged, &device.public(), &server, &Limits::default()).map(|_| ()),
            Err(RelayError::BadSignature)
        );
        Ok(())
    }

    #[test]
    fn packs_hold_several_and_refuse_truncation() -> Result<(), RelayError> {
        let items = vec![b"JKTPone".to_vec(), b"JKTPtwo!".to_vec()];
        let p = pack(&items);
        assert_eq!(unpack(&p)?, vec![&items[0][..], &items[1][..]]);
        assert_eq!(unpack(&items[0])?, vec![&items[0][..]]);
        assert_eq!(unpack(&p[..p.len() - 1]), Err(RelayError::Truncated));
        assert_eq!(unpack(b"nope!"), Err(RelayError::NotABundle));
        Ok(())
    }

    #[test]
    fn keys_round_trip() -> Result<(), RelayError> {
        let k = pair(4);
        let again = KeyPair::from_bytes(&k.to_bytes());
        assert_eq!(k.public(), again.public());
        let json =
            serde_json::to_string(&k.public()).map_err(|e| RelayError::Key(e.to_string()))?;
        let back: PublicKeys =
            serde_json::from_str(&json).map_err(|e| RelayError::Key(e.to_string()))?;
        assert_eq!(back, k.public());
        back.validate()?;
        assert!(Key32::from_b64("short").is_err());
        Ok(())
    }
}
