//! Errors. A [`ValidationError`] names the field at fault and carries a message key with its
//! Indonesian and English text, so every screen can show it without knowing the rule.

use sync_protocol::{ClockError, EntityKind, RecordId};

/// An input that was refused. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{field}: {en_text}")]
pub struct ValidationError {
    /// The body field at fault (the sync-protocol field name), e.g. `birth_date`.
    pub field: String,
    /// The message key for the app's translation files, e.g. `validation.date_in_future`.
    pub key: String,
    /// The message in Bahasa Indonesia.
    pub id_text: String,
    /// The message in English.
    pub en_text: String,
    /// The values the message's `{name}` placeholders take (not `field`), so the app renders
    /// the key in its own words: every refusal crosses to the UI as a key plus parameters.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

impl ValidationError {
    pub fn new(
        field: impl Into<String>,
        key: &str,
        id_text: impl Into<String>,
        en_text: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            key: key.to_string(),
            id_text: id_text.into(),
            en_text: en_text.into(),
            params: std::collections::BTreeMap::new(),
        }
    }

    /// With the values of the message's placeholders.
    pub fn with_params(mut self, params: &[(&str, String)]) -> Self {
        self.params
            .extend(params.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
        self
    }
}

/// Everything the store can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    /// The PIN does not unlock this user's copy of the database key.
    #[error("wrong PIN")]
    WrongPin,
    #[error("no user {0:?} on this tablet")]
    UnknownUser(String),
    #[error("user {0:?} already exists on this tablet")]
    UserExists(String),
    #[error("a database already exists at {0}")]
    AlreadyExists(String),
    #[error("no database at {0}")]
    NotFound(String),
    /// The database key does not open the file (wrong file, or the file is damaged).
    #[error("the database cannot be read with this key: {0}")]
    NotADatabase(String),
    #[error("the keyring file is damaged: {0}")]
    KeyringCorrupt(String),
    #[error(
        "the database schema is version {found}, newer than this app knows ({known}): update the app"
    )]
    SchemaTooNew { found: u32, known: u32 },
    #[error("no {kind} with id {id}")]
    NoSuchRecord { kind: &'static str, id: String },
    #[error("record {id} is a {existing}, not a {incoming}")]
    KindMismatch {
        id: RecordId,
        existing: String,
        incoming: EntityKind,
    },
    /// `remove_user` refused: the user who unlocked the store cannot remove themselves.
    #[error("{0:?} is using this tablet now and cannot remove themselves")]
    CannotRemoveCurrentUser(String),
    /// `remove_user` refused: without any user the database could never be opened again.
    #[error("{0:?} is the last user of this tablet and cannot be removed")]
    CannotRemoveLastUser(String),
    /// `erase_revoked` refused: the server has not revoked this tablet.
    #[error("this tablet is not revoked: its keys are kept")]
    NotRevoked,
    /// Too many wrong PINs: wait before the next try.
    #[error("too many wrong PINs: try again in {} s", retry_after_ms.div_ceil(1000))]
    PinLocked { retry_after_ms: u64 },
    /// The record holds changes of a newer app version: this app shows it read-only.
    #[error("record {id} was changed by a newer app version: update the app to change it")]
    NeedsNewerApp { id: RecordId },
    #[error("clock: {0}")]
    Clock(#[from] ClockError),
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// `OpenOptions::page_size` is not one SQLCipher can use (a power of two, 512 to 65,536).
    #[error("page size {0}: a power of two from 512 to 65536 is needed")]
    InvalidPageSize(u32),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Stored data that this code did not write (a bug or a damaged file).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The message key for the app's translation files, for the errors a user can act on.
    pub fn message_key(&self) -> Option<&str> {
        use crate::messages::Key;
        Some(match self {
            StoreError::Invalid(v) => return Some(v.key.as_str()),
            StoreError::WrongPin => "store.wrong_pin",
            StoreError::PinLocked { .. } => "store.pin_locked",
            StoreError::UnknownUser(_) => "store.unknown_user",
            StoreError::UserExists(_) => "store.user_exists",
            StoreError::CannotRemoveCurrentUser(_) => "store.cannot_remove_current_user",
            StoreError::CannotRemoveLastUser(_) => "store.cannot_remove_last_user",
            StoreError::NotRevoked => "store.not_revoked",
            StoreError::SchemaTooNew { .. } => "sync.update_app",
            StoreError::NeedsNewerApp { .. } => Key::NeedsNewerApp.code(),
            _ => return None,
        })
    }

    /// The validation error inside, if this is one.
    pub fn as_validation(&self) -> Option<&ValidationError> {
        match self {
            StoreError::Invalid(v) => Some(v),
            _ => None,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
