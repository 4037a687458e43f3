//! The keyring: one random database key, wrapped for each user of the tablet by a key derived
//! from that user's PIN with Argon2id.
//!
//! The keyring is a small unencrypted JSON file beside the database (`<db>.keyring.json`). It
//! holds no secret in the clear: per user, the Argon2id salt and parameters, a nonce, and the
//! database key sealed with ChaCha20-Poly1305 under the PIN-derived key (the user id and name
//! are the associated data, so an entry cannot be moved to another user). A wrong PIN fails the
//! AEAD check, offline. A PIN change or a new user rewrites only the keyring, never the
//! database. The file is replaced atomically (temporary file, fsync, rename, fsync of the
//! directory), so a power cut leaves either the old or the new keyring.

use crate::error::{Result, StoreError};
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use sync_protocol::UserId;
use zeroize::{Zeroize, Zeroizing};

/// The 32-byte SQLCipher database key. Zeroed on drop; never printed.
#[derive(Clone)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    /// A new random key from the operating system's generator.
    pub fn random() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(k.as_mut());
        Self(k)
    }

    /// The SQL that hands the key to SQLCipher as a raw key (no SQLCipher key derivation:
    /// the key is already random). Zeroed when dropped.
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(80));
        s.push_str("PRAGMA key = \"x'");
        for b in self.0.iter() {
            s.push(hex_digit(b >> 4));
            s.push(hex_digit(b & 0xf));
        }
        s.push_str("'\";");
        s
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// For tablets: OWASP's Argon2id recommendation (19 MiB, 2 iterations, 1 lane), well
    /// under a quarter of a second on a cheap arm64 tablet in a release build.
    pub const TABLET: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// Cheap parameters for tests only: never for real data.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::TABLET
    }
}

/// The shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 4;

/// One user's sealed copy of the database key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyringEntry {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    /// `kader`, `bidan`, `perawat`, ... (as the server's directory says).
    pub role: String,
    pub kdf: KdfParams,
    salt: String,
    nonce: String,
    wrapped: String,
}

/// A user known to this tablet (without the secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalUser {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: String,
}

impl KeyringEntry {
    pub fn user(&self) -> LocalUser {
        LocalUser {
            user_id: self.user_id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role.clone(),
        }
    }

    fn seal(user: &LocalUser, pin: &str, key: &DbKey, kdf: KdfParams) -> Result<Self> {
        check_pin(pin)?;
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let kek = derive(pin, &salt, kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let aad = aad(&user.user_id, &user.username);
        let wrapped = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.0.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Kdf("sealing the database key failed".into()))?;
        Ok(Self {
            user_id: user.user_id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role.clone(),
            kdf,
            salt: to_hex(&salt),
            nonce: to_hex(&nonce),
            wrapped: to_hex(&wrapped),
        })
    }

    fn open(&self, pin: &str) -> Result<DbKey> {
        let salt = from_hex(&self.salt)?;
        let nonce = from_hex(&self.nonce)?;
        let wrapped = from_hex(&self.wrapped)?;
        if nonce.len() != 12 {
            return Err(StoreError::KeyringCorrupt("nonce length".into()));
        }
        let kek = derive(pin, &salt, self.kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let aad = aad(&self.user_id, &self.username);
        let mut plain = cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &wrapped,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::WrongPin)?;
        if plain.len() != 32 {
            plain.zeroize();
            return Err(StoreError::KeyringCorrupt("wrapped key length".into()));
        }
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(&plain);
        plain.zeroize();
        Ok(DbKey(k))
    }
}

/// The keyring file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Keyring {
    pub version: u32,
    pub users: Vec<KeyringEntry>,
}

impl Keyring {
    /// The keyring path for a database path: `<db>.keyring.json`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut s = db.as_os_str().to_owned();
        s.push(".keyring.json");
        PathBuf::from(s)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(path.display().to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::KeyringCorrupt(e.to_string()))
    }

    /// Writes the keyring atomically: a temporary file, fsync, rename over the old one, fsync
    /// of the directory.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            // Directory fsync makes the rename durable; not supported everywhere.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    pub fn entry(&self, username: &str) -> Result<&KeyringEntry> {
        self.users
            .iter()
            .find(|u| u.username == username)
            .ok_or_else(|| StoreError::UnknownUser(username.to_string()))
    }

    /// Unwraps the database key with a user's PIN. Offline; a wrong PIN is `WrongPin`.
    pub fn unlock(&self, username: &str, pin: &str) -> Result<(LocalUser, DbKey)> {
        let e = self.entry(username)?;
        let key = e.open(pin)?;
        Ok((e.user(), key))
    }

    /// Adds a user who can unlock the database with their own PIN.
    pub fn add_user(
        &mut self,
        user: &LocalUser,
        pin: &str,
        key: &DbKey,
        kdf: KdfParams,
    ) -> Result<()> {
        if self.users.iter().any(|u| u.username == user.username) {
            return Err(StoreError::UserExists(user.username.clone()));
        }
        self.users.push(KeyringEntry::seal(user, pin, key, kdf)?);
        Ok(())
    }

    /// Rewraps one user's copy of the key under a new PIN; the old PIN must be right.
    pub fn change_pin(
        &mut self,
        username: &str,
        old: &str,
        new: &str,
        kdf: KdfParams,
    ) -> Result<()> {
        let pos = self
            .users
            .iter()
            .position(|u| u.username == username)
            .ok_or_else(|| StoreError::UnknownUser(username.to_string()))?;
        let key = self.users[pos].open(old)?;
        let user = self.users[pos].user();
        self.users[pos] = KeyringEntry::seal(&user, new, &key, kdf)?;
        Ok(())
    }

    /// Removes a user from this tablet (their PIN no longer opens it).
    pub fn remove_user(&mut self, username: &str) -> Result<()> {
        let before = self.users.len();
        self.users.retain(|u| u.username != username);
        if self.users.len() == before {
            return Err(StoreError::UnknownUser(username.to_string()));
        }
        Ok(())
    }
}

/// Changes a user's PIN in the keyring beside `db`, offline, without opening the database.
pub fn change_pin(db: &Path, username: &str, old: &str, new: &str, kdf: KdfParams) -> Result<()> {
    let path = Keyring::path_for(db);
    let mut ring = Keyring::load(&path)?;
    ring.change_pin(username, old, new, kdf)?;
    ring.save(&path)
}

fn check_pin(pin: &str) -> Result<()> {
    if pin.chars().count() < MIN_PIN_LEN || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(crate::messages::invalid("pin", crate::messages::Key::PinFormat, &[]).into());
    }
    Ok(())
}

fn derive(pin: &str, salt: &[u8], kdf: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| StoreError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pin.as_bytes(), salt, out.as_mut())
        .map_err(|e| StoreError::Kdf(e.to_string()))?;
    Ok(out)
}

fn aad(user: &UserId, username: &str) -> Vec<u8> {
    format!("jangkau-keyring-v1\n{user}\n{username}").into_bytes()
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0xf)])
}

fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| [hex_digit(b >> 4), hex_digit(b & 0xf)])
        .collect()
}

fn from_hex(s: &str) -> Result<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return Err(StoreError::KeyringCorrupt("odd hex length".into()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| StoreError::KeyringCorrupt("bad hex".into()))
        })
        .collect()
}
