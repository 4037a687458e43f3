//! Secrets: enrolment codes, device and session tokens (random, stored only as SHA-256
//! hashes), passwords and PINs (Argon2id), and the in-memory rate limiter.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The characters of an enrolment code: no 0/O, 1/I/L, so it is typed without doubt.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(b)
}

/// A new enrolment code like `K7F-3QX-9M2` (9 characters of 31: about 44 bits).
pub fn new_enrol_code() -> Result<String, AuthError> {
    let mut out = String::with_capacity(11);
    let mut i = 0;
    while i < 9 {
        for b in random_bytes::<16>()? {
            // Rejection sampling keeps the characters uniform (248 = 8 * 31).
            if b >= 248 || i >= 9 {
                continue;
            }
            if i > 0 && i % 3 == 0 {
                out.push('-');
            }
            out.push(char::from(
                CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()],
            ));
            i += 1;
        }
    }
    Ok(out)
}

/// The code as typed, without dashes, spaces or case; `None` when it cannot be a code.
pub fn normalise_code(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 9 && s.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(s)
}

/// A random 32-byte token, base64url without padding.
pub fn new_token() -> Result<String, AuthError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The stored form of a token or code: SHA-256, hex.
pub fn hash_secret(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Argon2id cost. The defaults are OWASP's minimum (19 MiB, 2 passes); tests lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordCost {
    /// Cheap parameters for tests only.
    pub const TEST: PasswordCost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes a password or PIN with Argon2id into a PHC string.
pub fn hash_password(secret: &str, cost: PasswordCost) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    cost.argon2()?
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string (its own parameters apply).
pub fn verify_password(secret: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// The most keys a [`RateLimiter`] keeps (about 3 MiB): past it, expired keys go first, then
/// keys under their limit, then all.
pub const RATE_LIMIT_KEYS: usize = 50_000;

/// A fixed-window limiter per key: at most `max` hits per `window`. Keys are kept as a
/// 128-bit hash, never as given, so a long key (a 15 MiB username) costs 16 bytes, and the
/// table never holds more than [`RATE_LIMIT_KEYS`] keys.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    capacity: usize,
    hits: Mutex<HashMap<u128, (Instant, u32)>>,
}

/// The key as stored: the first 16 bytes of its SHA-256.
fn key_hash(key: &str) -> u128 {
    let d = Sha256::digest(key.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_le_bytes(b)
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self::with_capacity(max, window, RATE_LIMIT_KEYS)
    }

    pub fn with_capacity(max: u32, window: Duration, capacity: usize) -> Self {
        Self {
            max,
            window,
            capacity: capacity.max(1),
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.hits.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts a hit; `Err(seconds)` when the key is over its limit, with the wait.
    pub fn hit(&self, key: &str) -> Result<(), u32> {
        let key = key_hash(key);
        let now = Instant::now();
        let Ok(mut map) = self.hits.lock() else {
            return Ok(());
        };
        if map.len() >= self.capacity && !map.contains_key(&key) {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
            if map.len() >= self.capacity {
                let max = self.max;
                map.retain(|_, (_, n)| *n > max);
            }
            if map.len() >= self.capacity {
                map.clear();
            }
            map.shrink_to(self.capacity);
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > self.max {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(u32::try_from(left.as_secs()).unwrap_or(u32::MAX).max(1));
        }
        Ok(())
    }
}

/// Failed logins counted per key in a fixed window: unlike [`RateLimiter`], only failures
/// count, and checking does not count. Keys are stored as SHA-256 (fixed size whatever the
/// request), and the table is bounded.
#[derive(Debug)]
pub struct FailureCounter {
    max: u32,
    window: Duration,
    fails: Mutex<HashMap<[u8; 32], (Instant, u32)>>,
}

/// Most keys a [`FailureCounter`] keeps; past it, expired ones go, then all.
const MAX_FAILURE_KEYS: usize = 100_000;

fn key_digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl FailureCounter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            fails: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when `key` has failed `max` times inside the window, with the wait.
    pub fn check(&self, key: &str) -> Result<(), u32> {
        let now = Instant::now();
        let Ok(map) = self.fails.lock() else {
            return Ok(());
        };
        match map.get(&key_digest(key)) {
            Some((start, n)) if *n >= self.max && now.duration_since(*start) < self.window => {
                let left = self.window.saturating_sub(now.duration_since(*start));
                Err(u32::try_from(left.as_secs()).unwrap_or(u32::MAX).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure of `key`.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let Ok(mut map) = self.fails.lock() else {
            return;
        };
        if map.len() >= MAX_FAILURE_KEYS {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
            if map.len() >= MAX_FAILURE_KEYS {
                map.clear();
            }
        }
        let entry = map.entry(key_digest(key)).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.fails.lock() {
            map.remove(&key_digest(key));
        }
    }
}

/// The login failure limits (docs/SECURITY.md, "Access rules"): failures are counted per
/// (device, user), per client address and per user. A (device, user) pair that has logged in
/// before is held only by its own count: failures from other tablets or addresses cannot lock
/// a kader out of her own tablet. A pair new to each other is held by all three.
#[derive(Debug)]
pub struct LoginGuard {
    pub pair: FailureCounter,
    pub address: FailureCounter,
    pub user: FailureCounter,
}

impl LoginGuard {
    /// `per_minute` failures per (device, user) per minute; three times that per address and
    /// per user.
    pub fn new(per_minute: u32) -> Self {
        let minute = Duration::from_secs(60);
        let wide = per_minute.saturating_mul(3);
        Self {
            pair: FailureCounter::new(per_minute, minute),
            address: FailureCounter::new(wide, minute),
            user: FailureCounter::new(wide, minute),
        }
    }

    fn keys(device: &str, username: &str, addr: &str) -> (String, String, String) {
        (
            format!("{device}\n{username}"),
            addr.to_string(),
            username.to_string(),
        )
    }

    /// Whether a login may be tried; `known` says the user has logged in on this device.
    pub fn check(&self, device: &str, username: &str, addr: &str, known: bool) -> Result<(), u32> {
        let (pair, address, user) = Self::keys(device, username, addr);
        self.pair.check(&pair)?;
        if !known {
            self.address.check(&address)?;
            self.user.check(&user)?;
        }
        Ok(())
    }

    pub fn failed(&self, device: &str, username: &str, addr: &str) {
        let (pair, address, user) = Self::keys(device, username, addr);
        self.pair.fail(&pair);
        self.address.fail(&address);
        self.user.fail(&user);
    }

    pub fn succeeded(&self, device: &str, username: &str) {
        self.pair.clear(&Self::keys(device, username, "").0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typeable_and_normalise() {
        for _ in 0..200 {
            let code = new_enrol_code().expect("random");
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(code.matches('-').count(), 2);
            let n = normalise_code(&code.to_lowercase()).expect("normalises");
            assert_eq!(n, code.replace('-', ""));
        }
        assert_eq!(normalise_code("K7F 3QX 9M2").as_deref(), Some("K7F3QX9M2"));
        assert_eq!(
            normalise_code("K7F-3QX-9M0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalise_code("K7F-3QX"), None);
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_eq!(hash_secret(&a).len(), 64);
    }

    #[test]
    fn passwords_verify_with_argon2id() {
        let h = hash_password("rahasia-123", PasswordCost::TEST).expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("rahasia-123", &h));
        assert!(!verify_password("rahasia-124", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn a_known_pair_is_held_only_by_its_own_failures() {
        let g = LoginGuard::new(2);
        for _ in 0..20 {
            g.failed("other-tablet", "kader.mawar", "10.0.0.9");
        }
        assert!(
            g.check("other-tablet", "kader.mawar", "10.0.0.9", false)
                .is_err()
        );
        // A new tablet on the same address, or a new pair: held by the address and the user.
        assert!(
            g.check("new-tablet", "kader.mawar", "10.0.0.7", false)
                .is_err()
        );
        assert!(g.check("new-tablet", "bidan", "10.0.0.9", false).is_err());
        // Her own tablet, where she logged in before: free.
        assert!(
            g.check("her-tablet", "kader.mawar", "10.0.0.9", true)
                .is_ok()
        );
        g.failed("her-tablet", "kader.mawar", "10.0.0.9");
        g.failed("her-tablet", "kader.mawar", "10.0.0.9");
        assert!(
            g.check("her-tablet", "kader.mawar", "10.0.0.9", true)
                .is_err()
        );
        g.succeeded("her-tablet", "kader.mawar");
        assert!(
            g.check("her-tablet", "kader.mawar", "10.0.0.9", true)
                .is_ok()
        );
    }

    #[test]
    fn limiter_refuses_past_max() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_ok());
        assert!(l.hit("a").is_err());
        assert!(l.hit("b").is_ok());
    }

    #[test]
    fn limiter_table_is_bounded_and_keys_hashed() {
        let l = RateLimiter::with_capacity(2, Duration::from_secs(60), 100);
        let long = "u".repeat(15 << 20);
        assert!(l.hit(&long).is_ok());
        for i in 0..1_000 {
            let _ = l.hit(&format!("user:{i}"));
            assert!(l.len() <= 100, "{}", l.len());
        }
        // A key over its limit survives the eviction of keys under theirs.
        let l = RateLimiter::with_capacity(1, Duration::from_secs(60), 10);
        assert!(l.hit("attacker").is_ok());
        assert!(l.hit("attacker").is_err());
        for i in 0..25 {
            let _ = l.hit(&format!("k{i}"));
        }
        assert!(l.hit("attacker").is_err(), "still limited after eviction");
    }
}
