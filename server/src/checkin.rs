//! A check-in's guess: the device and scope an earlier check-in of the same session was
//! admitted as, so that the next one asks the store for its session and its page together
//! ([`crate::storage::Storage::session_and_page`]: one round trip on PostgreSQL instead of
//! two, and one pooled connection instead of two).
//!
//! The guess decides nothing. The page read with it is answered only when the session row
//! read with it is admitted as every request's is (`crate::http`: not expired or ended, user
//! enabled, device not revoked) and names the same device and the same scope, so that the
//! page is the one the guess-free path would read. Otherwise the page is dropped and read
//! again for the row's device and scope. A session is never re-bound to another device, and
//! ending it (`user disable`, a password reset) leaves its row (expired), so a stale guess costs a
//! wasted read at most.

use std::collections::HashMap;
use std::sync::Mutex;
use sync_protocol::{DeviceId, Scope};

/// The most sessions remembered (about 5 MiB); past it, the table starts again empty (the
/// check-ins of the next minutes take the two-step path once each).
pub const MAX_HINTS: usize = 50_000;

/// Device and scope by session, keyed by the first 128 bits of the session token's stored
/// hash (a collision costs a wasted read, never a wrong answer: see the module doc).
#[derive(Debug)]
pub struct CheckinHints {
    capacity: usize,
    seen: Mutex<HashMap<u128, (DeviceId, Scope)>>,
}

impl Default for CheckinHints {
    fn default() -> Self {
        Self::with_capacity(MAX_HINTS)
    }
}

/// The key of a stored token hash (hex SHA-256); `None` for anything else.
fn key(token_hash: &str) -> Option<u128> {
    u128::from_str_radix(token_hash.get(..32)?, 16).ok()
}

impl CheckinHints {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The device and scope the session of `token_hash` was last admitted as, if remembered.
    pub fn get(&self, token_hash: &str) -> Option<(DeviceId, Scope)> {
        let k = key(token_hash)?;
        self.seen.lock().ok()?.get(&k).cloned()
    }

    /// Remembers that the session of `token_hash` was admitted as `device` and `scope`.
    pub fn remember(&self, token_hash: &str, device: DeviceId, scope: &Scope) {
        let Some(k) = key(token_hash) else {
            return;
        };
        let Ok(mut m) = self.seen.lock() else {
            return;
        };
        if m.len() >= self.capacity && !m.contains_key(&k) {
            m.clear();
            m.shrink_to(self.capacity);
        }
        m.insert(k, (device, scope.clone()));
    }

    /// How many sessions are remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::PlaceLevel;

    #[test]
    fn remembers_by_token_hash_and_stays_bounded() {
        let h = CheckinHints::with_capacity(100);
        let scope = Scope {
            level: PlaceLevel::Posyandu,
            place: "53.04.05.2003.01".into(),
        };
        let device = DeviceId::new_v7();
        let hash = crate::auth::hash_secret("a token");
        assert_eq!(h.get(&hash), None);
        h.remember(&hash, device, &scope);
        assert_eq!(h.get(&hash), Some((device, scope.clone())));
        assert_eq!(h.get(&crate::auth::hash_secret("another token")), None);
        // Not a stored hash: never remembered.
        h.remember("not hex", device, &scope);
        assert_eq!(h.get("not hex"), None);
        for i in 0..250 {
            h.remember(&crate::auth::hash_secret(&i.to_string()), device, &scope);
            assert!(h.len() <= 100);
        }
    }
}
