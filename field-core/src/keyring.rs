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
//!
//! The associated data of each sealed key binds the user id, username, role and the Argon2id
//! parameters: editing any of them in the file (to make a kader a bidan, or to lower the cost
//! of guessing) makes the entry fail to open. The parameters are also checked against bounds
//! before Argon2id runs, so a huge `m_kib` written into the file is refused instead of
//! exhausting the tablet's memory.
//!
//! ## PINs and guessing
//!
//! A PIN has at least [`MIN_PIN_LEN`] digits and may not be trivial (one digit repeated, or a
//! run such as `123456` / `654321`); a passphrase of at least [`MIN_PASSPHRASE_LEN`]
//! characters may be used instead ([`check_pin`]). Wrong PINs are counted per user in a small file beside the
//! keyring (`<db>.pin-attempts.json`); after [`FREE_ATTEMPTS`] wrong PINs each further try
//! waits longer ([`delay_after`]: 30 s, doubling, at most one hour), and
//! [`crate::Store::unlock`] answers [`StoreError::PinLocked`] without running Argon2id.
//!
//! **Limits.** The counter cannot be protected by the AEAD (a wrong PIN cannot produce the key
//! that would authenticate an update), so it is an ordinary file: it only ever *adds* delay,
//! and whoever can write the app's files can delete it, or copy the database and keyring and
//! guess offline at Argon2id speed (a 6-digit PIN is 10^6 tries). The counter slows down
//! someone trying PINs on the tablet's login screen; it is not the defence against a stolen,
//! rooted tablet. That defence is a hardware-backed key:
//!
//! **Android plan.** The wrapping goes through the [`KeyWrapper`] trait; the software
//! implementation is [`SoftwareArgon2id`] (64 MiB, 3 passes: about 0.5 s on a mid-range
//! tablet, about 0.11 s per guess on a fast desktop core). The Android Keystore wrapper, an
//! outer layer with a non-exportable StrongBox/TEE key so that guesses must run on the
//! tablet's hardware, is designed in `docs/SECURITY.md` ("Android Keystore"). A passphrase of
//! at least [`MIN_PASSPHRASE_LEN`] characters may replace the PIN.
//!
//! Removing a user deletes only their sealed copy: the database key is **not rotated**, so
//! someone who kept an old copy of the keyring and knows that PIN could still open a copy of
//! the database. Rotating would mean `PRAGMA rekey` of the whole file and resealing for every
//! remaining user (whose PINs the tablet does not know); it is not done.

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

impl DbKey {
    /// The raw key bytes, for tests that check the key appears in no file.
    #[cfg(any(test, feature = "test-support"))]
    pub fn expose_for_tests(&self) -> [u8; 32] {
        *self.0
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
    /// For tablets: 64 MiB, 3 iterations, 1 lane, calibrated to about half a second on a
    /// mid-range Android tablet (see `docs/SECURITY.md`, "The PIN's offline cost": 0.20 to
    /// 0.26 s on one core of the development machine, assumed 2.5 times slower on a tablet's
    /// Cortex-A75/A55 with LPDDR4X). Every guess costs an attacker the same 64 MiB and about
    /// 0.11 core-seconds on a fast desktop core (all 10^6 six-digit PINs: about 31
    /// core-hours). Keyrings sealed with a lower cost are re-sealed with this one at their
    /// next unlock ([`open_with_pin`]).
    pub const TABLET: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// The cost of the first releases (OWASP's 19 MiB, 2 iterations, 1 lane): about 22 ms per
    /// guess on a fast core. Entries sealed with it still open, and are upgraded.
    pub const FIRST_RELEASE: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// Cheap parameters for tests only: never for real data. Only in this crate's tests and
    /// with the `test-support` feature.
    #[cfg(any(test, feature = "test-support"))]
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    /// The most memory a keyring entry may ask for (256 MiB).
    pub const MAX_M_KIB: u32 = 256 * 1024;
    /// The most iterations a keyring entry may ask for.
    pub const MAX_T: u32 = 16;
    /// The most lanes a keyring entry may ask for.
    pub const MAX_P: u32 = 8;

    /// Checks the bounds (Argon2's own minimum: 8 KiB per lane), so that a keyring file
    /// cannot make unlocking allocate gigabytes or spin for minutes.
    pub fn check(&self) -> Result<()> {
        let ok = (1..=Self::MAX_P).contains(&self.p)
            && (1..=Self::MAX_T).contains(&self.t)
            && self.m_kib >= 8 * self.p
            && self.m_kib <= Self::MAX_M_KIB;
        if ok {
            Ok(())
        } else {
            Err(StoreError::KeyringCorrupt(format!(
                "Argon2id parameters out of bounds: m_kib {}, t {}, p {}",
                self.m_kib, self.t, self.p
            )))
        }
    }
}

impl KdfParams {
    /// Whether these parameters cost an attacker less than `target` per guess (less memory,
    /// or the same memory with fewer passes): such an entry is re-sealed with `target`.
    pub fn weaker_than(&self, target: &KdfParams) -> bool {
        self.m_kib < target.m_kib || (self.m_kib == target.m_kib && self.t < target.t)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::TABLET
    }
}

/// The shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 6;

/// Wrong PINs allowed before the first delay.
pub const FREE_ATTEMPTS: u32 = 4;

/// How long to wait after `failures` consecutive wrong PINs: nothing for the first
/// [`FREE_ATTEMPTS`], then 30 s, doubling with each further wrong PIN, at most one hour.
pub fn delay_after(failures: u32) -> u64 {
    if failures <= FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS - 1).min(20);
    (30_000u64 << doublings).min(3_600_000)
}

fn aad_v1() -> u32 {
    1
}

/// One user's sealed copy of the database key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyringEntry {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    /// `kader`, `bidan`, `perawat`, ... (as the server's directory says).
    pub role: String,
    pub kdf: KdfParams,
    /// Which associated data seals the key: 1 = user id and name (keyrings written before
    /// role and parameters were bound; upgraded at the next unlock), 2 = also role and KDF
    /// parameters.
    #[serde(default = "aad_v1")]
    pub aad_version: u32,
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

    /// Seals (the PIN rules already checked).
    fn seal_unchecked(user: &LocalUser, pin: &str, key: &DbKey, kdf: KdfParams) -> Result<Self> {
        kdf.check()?;
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let kek = derive(pin, &salt, kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
        let aad = aad(2, user, kdf)?;
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
            aad_version: 2,
            salt: to_hex(&salt),
            nonce: to_hex(&nonce),
            wrapped: to_hex(&wrapped),
        })
    }

    /// Opens the entry; also returns the PIN-derived key, so that an upgrade of the
    /// associated data can re-seal without a second Argon2id run (time and peak memory).
    fn open_with_kek(&self, pin: &str) -> Result<(DbKey, Zeroizing<[u8; 32]>)> {
        let salt = from_hex(&self.salt)?;
        let nonce = from_hex(&self.nonce)?;
        let wrapped = from_hex(&self.wrapped)?;
        if nonce.len() != 12 {
            return Err(StoreError::KeyringCorrupt("nonce length".into()));
        }
        // Before Argon2id: parameters from the file are untrusted until the AEAD says so.
        self.kdf.check()?;
        let aad = aad(self.aad_version, &self.user(), self.kdf)?;
        let kek = derive(pin, &salt, self.kdf)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()));
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
        Ok((DbKey(k), kek))
    }

    /// The same entry (salt, parameters, PIN) sealed again under the current associated data,
    /// with a fresh nonce, by the key `kek` already derived from the PIN.
    fn reseal_current(&self, kek: &[u8; 32], key: &DbKey) -> Result<Self> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(kek));
        let aad = aad(2, &self.user(), self.kdf)?;
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
            aad_version: 2,
            nonce: to_hex(&nonce),
            wrapped: to_hex(&wrapped),
            ..self.clone()
        })
    }
}

/// How a user's secret (PIN or passphrase) protects the database key on this tablet.
///
/// Every way of wrapping the key goes through this interface, so that the keyring, the store
/// and the app do not depend on how the secret becomes a key. [`SoftwareArgon2id`] is the
/// implementation everywhere today: Argon2id in software, so the cost of a guess is the same
/// on the tablet and on an attacker's machine that copied the files. The Android Keystore
/// implementation (the design is in `docs/SECURITY.md`, "Android Keystore") adds an outer
/// layer with a non-exportable hardware key, so that guesses must run on the tablet itself
/// and its hardware counts them; it implements this same trait.
pub trait KeyWrapper: Send + Sync {
    /// A short name for logs and documents (`argon2id`, `android-keystore`).
    fn name(&self) -> &'static str;
    /// Seals `key` for `user` under `secret` (the rules of [`check_pin`] already checked).
    fn wrap(&self, user: &LocalUser, secret: &str, key: &DbKey) -> Result<KeyringEntry>;
    /// Opens an entry with `secret`; a wrong secret (or an edited entry) is
    /// [`StoreError::WrongPin`]. When the entry should be sealed again (older associated
    /// data, a cost below this wrapper's), the replacement comes with the key.
    fn unwrap(&self, entry: &KeyringEntry, secret: &str) -> Result<Unwrapped>;
}

/// An opened keyring entry.
pub struct Unwrapped {
    pub key: DbKey,
    /// The same user and secret sealed again with the current associated data and cost;
    /// `None` when the entry is current.
    pub upgraded: Option<KeyringEntry>,
}

/// The software wrapper: the database key sealed with ChaCha20-Poly1305 under a key derived
/// from the secret by Argon2id with the parameters `kdf` (memory, passes, lanes).
#[derive(Debug, Clone, Copy)]
pub struct SoftwareArgon2id {
    /// The cost of new seals; entries below it are upgraded when opened.
    pub kdf: KdfParams,
}

impl SoftwareArgon2id {
    pub fn new(kdf: KdfParams) -> Self {
        Self { kdf }
    }
}

impl KeyWrapper for SoftwareArgon2id {
    fn name(&self) -> &'static str {
        "argon2id"
    }

    fn wrap(&self, user: &LocalUser, secret: &str, key: &DbKey) -> Result<KeyringEntry> {
        KeyringEntry::seal_unchecked(user, secret, key, self.kdf)
    }

    fn unwrap(&self, entry: &KeyringEntry, secret: &str) -> Result<Unwrapped> {
        let (key, kek) = entry.open_with_kek(secret)?;
        let upgraded = if entry.kdf.weaker_than(&self.kdf) {
            // A new salt and the current cost: one more Argon2id run, once.
            Some(KeyringEntry::seal_unchecked(
                &entry.user(),
                secret,
                &key,
                self.kdf,
            )?)
        } else if entry.aad_version < 2 {
            Some(entry.reseal_current(&kek, &key)?)
        } else {
            None
        };
        Ok(Unwrapped { key, upgraded })
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
        write_atomically(path, &json)
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
        let key = e.open_with_kek(pin)?.0;
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
        check_pin(pin)?;
        self.users
            .push(SoftwareArgon2id::new(kdf).wrap(user, pin, key)?);
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
        let wrapper = SoftwareArgon2id::new(kdf);
        let key = wrapper.unwrap(&self.users[pos], old)?.key;
        let user = self.users[pos].user();
        check_pin(new)?;
        self.users[pos] = wrapper.wrap(&user, new, &key)?;
        Ok(())
    }

    /// Removes a user from this tablet (their PIN no longer opens it). The last user cannot
    /// be removed: nobody could open the database again. The database key is not rotated
    /// (see the module documentation).
    pub fn remove_user(&mut self, username: &str) -> Result<()> {
        if !self.users.iter().any(|u| u.username == username) {
            return Err(StoreError::UnknownUser(username.to_string()));
        }
        if self.users.len() == 1 {
            return Err(StoreError::CannotRemoveLastUser(username.to_string()));
        }
        self.users.retain(|u| u.username != username);
        Ok(())
    }
}

/// Changes a user's PIN in the keyring beside `db`, offline, without opening the database.
/// Wrong old PINs count towards the same delays as at unlock.
pub fn change_pin(db: &Path, username: &str, old: &str, new: &str, kdf: KdfParams) -> Result<()> {
    check_pin(new)?;
    let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    // Checks the old PIN with the attempt counter (and upgrades an old entry on the way).
    open_with_pin(db, username, old, now, &SoftwareArgon2id::new(kdf))?;
    let path = Keyring::path_for(db);
    let mut ring = Keyring::load(&path)?;
    ring.change_pin(username, old, new, kdf)?;
    ring.save(&path)
}

/// Unwraps the database key for `username` with the attempt counter: refused with
/// [`StoreError::PinLocked`] while a delay runs (without running Argon2id); a wrong PIN is
/// counted, a right one clears the count. An entry sealed with the old associated data or a
/// lower Argon2id cost than `wrapper`'s is re-sealed (same PIN) with the current ones, and the
/// keyring saved: keyrings of older releases keep opening and get stronger on the way.
pub fn open_with_pin(
    db: &Path,
    username: &str,
    pin: &str,
    now_ms: u64,
    wrapper: &dyn KeyWrapper,
) -> Result<(LocalUser, DbKey)> {
    let attempts_path = attempts_path(db);
    let mut attempts = PinAttempts::load(&attempts_path);
    let wait = attempts.remaining(username, now_ms);
    if wait > 0 {
        return Err(StoreError::PinLocked {
            retry_after_ms: wait,
        });
    }
    let ring_path = Keyring::path_for(db);
    let mut ring = Keyring::load(&ring_path)?;
    let pos = ring
        .users
        .iter()
        .position(|u| u.username == username)
        .ok_or_else(|| StoreError::UnknownUser(username.to_string()))?;
    match wrapper.unwrap(&ring.users[pos], pin) {
        Ok(Unwrapped { key, upgraded }) => {
            if attempts.users.remove(username).is_some() {
                attempts.save(&attempts_path)?;
            }
            let user = ring.users[pos].user();
            if let Some(entry) = upgraded {
                ring.users[pos] = entry;
                ring.save(&ring_path)?;
            }
            Ok((user, key))
        }
        Err(StoreError::WrongPin) => {
            let a = attempts.users.entry(username.to_string()).or_default();
            a.failures = a.failures.saturating_add(1);
            a.last_failure_ms = now_ms;
            attempts.save(&attempts_path)?;
            Err(StoreError::WrongPin)
        }
        Err(e) => Err(e),
    }
}

/// The attempt counter's path for a database path: `<db>.pin-attempts.json`.
pub fn attempts_path(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".pin-attempts.json");
    PathBuf::from(s)
}

/// Wrong PINs per user (unauthenticated; see the module documentation).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PinAttempts {
    pub users: std::collections::BTreeMap<String, PinFailures>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct PinFailures {
    pub failures: u32,
    pub last_failure_ms: u64,
}

impl PinAttempts {
    /// The counter beside a keyring; a missing or unreadable file counts as no failures.
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, &serde_json::to_vec(self)?)
    }

    /// Milliseconds to wait before the next try for `username` (0: go ahead). A clock set
    /// back before the last failure waits the whole delay again.
    pub fn remaining(&self, username: &str, now_ms: u64) -> u64 {
        let Some(a) = self.users.get(username) else {
            return 0;
        };
        let delay = delay_after(a.failures);
        if now_ms < a.last_failure_ms {
            return delay;
        }
        (a.last_failure_ms.saturating_add(delay)).saturating_sub(now_ms)
    }
}

/// The shortest passphrase accepted (any characters, not only digits).
pub const MIN_PASSPHRASE_LEN: usize = 12;
/// The longest PIN or passphrase accepted (bounds the work before Argon2id).
pub const MAX_SECRET_LEN: usize = 128;

/// The rules for the secret that unlocks a tablet: either a **PIN** of at least
/// [`MIN_PIN_LEN`] digits, not one digit repeated and not a run up or down (`123456`,
/// `654321`, `890123`), or a **passphrase** of at least [`MIN_PASSPHRASE_LEN`] characters
/// (letters, spaces, anything; not one character repeated). At most [`MAX_SECRET_LEN`]
/// characters. Errors are validation errors of field `pin`.
pub fn check_pin(pin: &str) -> Result<()> {
    let n = pin.chars().count();
    if n > MAX_SECRET_LEN {
        return Err(crate::messages::invalid("pin", crate::messages::Key::PinFormat, &[]).into());
    }
    if pin.chars().all(|c| c.is_ascii_digit()) {
        if n < MIN_PIN_LEN {
            return Err(
                crate::messages::invalid("pin", crate::messages::Key::PinFormat, &[]).into(),
            );
        }
        let d: Vec<u8> = pin.bytes().map(|b| b - b'0').collect();
        let run = |step: u8| d.windows(2).all(|w| w[1] == (w[0] + step) % 10);
        if run(0) || run(1) || run(9) {
            return Err(
                crate::messages::invalid("pin", crate::messages::Key::PinTooSimple, &[]).into(),
            );
        }
        return Ok(());
    }
    if n < MIN_PASSPHRASE_LEN || pin.trim().is_empty() {
        return Err(crate::messages::invalid("pin", crate::messages::Key::PinFormat, &[]).into());
    }
    let first = pin.chars().next();
    if pin.chars().all(|c| Some(c) == first) {
        return Err(
            crate::messages::invalid("pin", crate::messages::Key::PinTooSimple, &[]).into(),
        );
    }
    Ok(())
}

/// Writes a file atomically: a temporary file with a unique name beside it, fsync, rename
/// over the old one, fsync of the directory. Two writers never share a temporary file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut rnd = [0u8; 8];
    OsRng.fill_bytes(&mut rnd);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}-{}", std::process::id(), to_hex(&rnd)));
    let tmp = PathBuf::from(tmp);
    let written = (|| -> Result<()> {
        // 0600 whatever the umask: the keyring and the attempt counter are private.
        let mut f = crate::store::files::private_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        crate::store::files::restrict(&f)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path);
    Ok(())
}

/// Overwrites a file with zeros, syncs it and deletes it (a missing file is fine). On flash
/// storage the old blocks may survive in the controller (see `docs/SECURITY.md`); the Android
/// Keystore layer is what makes the erasure final there.
pub(crate) fn shred(path: &Path) -> Result<()> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    {
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        let zeros = vec![0u8; usize::try_from(len).unwrap_or(0).min(1 << 20)];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            let n_usize = usize::try_from(n).unwrap_or(zeros.len());
            f.write_all(&zeros[..n_usize])?;
            left -= n;
        }
        f.sync_all()?;
    }
    std::fs::remove_file(path)?;
    sync_dir(path);
    Ok(())
}

/// Makes a rename in `path`'s directory durable (not supported everywhere).
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
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

fn aad(version: u32, user: &LocalUser, kdf: KdfParams) -> Result<Vec<u8>> {
    let LocalUser {
        user_id,
        username,
        role,
        ..
    } = user;
    match version {
        1 => Ok(format!("jangkau-keyring-v1\n{user_id}\n{username}").into_bytes()),
        2 => Ok(format!(
            "jangkau-keyring-v2\n{user_id}\n{username}\n{role}\nargon2id m={} t={} p={}",
            kdf.m_kib, kdf.t, kdf.p
        )
        .into_bytes()),
        v => Err(StoreError::KeyringCorrupt(format!(
            "unknown associated data version {v}"
        ))),
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A keyring entry of the first release (associated data: user id and name only, no
    /// `aad_version` in the file) opens, and is re-sealed with role and parameters bound.
    #[test]
    fn first_release_entries_open_and_are_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        let key = DbKey::random();
        let user = LocalUser {
            user_id: UserId::new_v7(),
            username: "maria".into(),
            display_name: "Kader Maria".into(),
            role: "kader".into(),
        };
        let kdf = KdfParams::INSECURE_FOR_TESTS;
        let (salt, nonce) = ([1u8; 16], [2u8; 12]);
        let kek = derive("258046", &salt, kdf).unwrap();
        let wrapped = ChaCha20Poly1305::new(Key::from_slice(kek.as_ref()))
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.0.as_ref(),
                    aad: &aad(1, &user, kdf).unwrap(),
                },
            )
            .unwrap();
        let mut entry = serde_json::json!({
            "user_id": user.user_id, "username": "maria", "display_name": "Kader Maria",
            "role": "kader", "kdf": kdf, "salt": to_hex(&salt), "nonce": to_hex(&nonce),
            "wrapped": to_hex(&wrapped)
        });
        let ring_path = Keyring::path_for(&db);
        let file = serde_json::json!({"version": 1, "users": [entry.take()]});
        std::fs::write(&ring_path, serde_json::to_vec(&file).unwrap()).unwrap();
        assert_eq!(Keyring::load(&ring_path).unwrap().users[0].aad_version, 1);

        let (u, k) = open_with_pin(&db, "maria", "258046", 0, &SoftwareArgon2id::new(kdf)).unwrap();
        assert_eq!((u, *k.0), (user.clone(), *key.0));
        let ring = Keyring::load(&ring_path).unwrap();
        let e = &ring.users[0];
        assert_eq!(
            (e.aad_version, e.salt.as_str()),
            (2, to_hex(&salt).as_str())
        );
        assert_ne!(e.nonce, to_hex(&nonce));
        // Now the role is bound: changed in the file, the entry no longer opens.
        let (_, k2) = ring.unlock("maria", "258046").unwrap();
        assert_eq!(*k2.0, *key.0);
        let mut edited = ring.clone();
        edited.users[0].role = "bidan".into();
        assert!(matches!(
            edited.unlock("maria", "258046"),
            Err(StoreError::WrongPin)
        ));
    }
}
