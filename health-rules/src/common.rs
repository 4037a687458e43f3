//! Types shared by every rule module.

use serde::{Deserialize, Serialize};

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
