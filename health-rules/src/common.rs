//! Types shared by every rule module.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The values of a problem's message key (`date` → `2026-12-06`, `value` → `84.0`): dates
/// in ISO form and numbers with a dot, for the app to word in the user's language.
pub type Params = BTreeMap<&'static str, String>;

/// [`Params`] from pairs.
pub fn params<const N: usize>(pairs: [(&'static str, String); N]) -> Params {
    pairs.into_iter().collect()
}

/// Sex as recorded on the KMS / Buku KIA and encoded in the NIK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// A text shown to a user, in Bahasa Indonesia (first) and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Stable machine key, e.g. `growth.wfa.severely_underweight`; the app's translation files use it.
    pub key: &'static str,
    pub id: &'static str,
    pub en: &'static str,
}
