//! The one error every command returns: `{key, id, en, field?, params?}` (`AppError` in
//! `ui/src/lib/api.ts`). `key` is a translation key; `id`/`en` are ready sentences in Bahasa
//! Indonesia and English for keys the UI does not know; `field` names the form field at fault.

use field_core::StoreError;
use field_core::messages::error_texts;
use field_core::sync::SyncError;
use serde::Serialize;
use std::collections::BTreeMap;

/// A refused command, as the webview receives it.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{key}: {en}")]
pub struct AppError {
    pub key: String,
    pub id: String,
    pub en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// Refusals of the shell itself (not of field-core).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKey {
    /// A command that needs an unlocked tablet, while it is locked.
    Locked,
    /// First run asked twice.
    AlreadyEnrolled,
    /// Unlock asked before any enrolment.
    NotEnrolled,
    /// A record id that is not on this tablet.
    NoSuchRecord,
    /// The data directory cannot be created or written.
    DataDir,
    /// Something that should not happen (details in the log).
    Internal,
}

impl AppKey {
    pub const ALL: [AppKey; 6] = [
        AppKey::Locked,
        AppKey::AlreadyEnrolled,
        AppKey::NotEnrolled,
        AppKey::NoSuchRecord,
        AppKey::DataDir,
        AppKey::Internal,
    ];

    /// `(key, Indonesian, English)`.
    pub fn texts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            AppKey::Locked => (
                "app.locked",
                "Tablet terkunci. Buka dengan PIN Anda.",
                "The tablet is locked. Unlock it with your PIN.",
            ),
            AppKey::AlreadyEnrolled => (
                "app.already_enrolled",
                "Tablet ini sudah terdaftar. Buka dengan PIN.",
                "This tablet is already enrolled. Unlock it with a PIN.",
            ),
            AppKey::NotEnrolled => (
                "app.not_enrolled",
                "Tablet ini belum terdaftar. Daftarkan dulu dengan kode dari admin.",
                "This tablet is not enrolled yet. Enrol it first with a code from the admin.",
            ),
            AppKey::NoSuchRecord => (
                "app.no_such_record",
                "Data ini tidak ada di tablet ini.",
                "This record is not on this tablet.",
            ),
            AppKey::DataDir => (
                "app.data_dir",
                "Folder data aplikasi tidak dapat ditulis.",
                "The app's data folder cannot be written.",
            ),
            AppKey::Internal => (
                "app.internal",
                "Terjadi kesalahan di aplikasi. Coba lagi; data yang sudah disimpan aman.",
                "The app had an error. Try again; what was saved is safe.",
            ),
        }
    }
}

impl AppError {
    pub fn new(key: &str, id: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            id: id.into(),
            en: en.into(),
            field: None,
            params: BTreeMap::new(),
        }
    }

    pub fn app(k: AppKey) -> Self {
        let (key, id, en) = k.texts();
        Self::new(key, id, en)
    }

    /// An unexpected failure: logged with its detail, shown as `app.internal`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("jangkau-app: internal error: {detail}");
        Self::app(AppKey::Internal)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_param(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(name.to_string(), value.into());
        self
    }

    /// `field` is not one of the values offered (a choice outside the list, a posyandu
    /// outside the user's area).
    pub fn choice(field: &str) -> Self {
        Self::validation(&field_core::messages::invalid(
            field,
            field_core::messages::Key::Choice,
            &[],
        ))
    }

    /// A field-core validation error: its key, field and parameters (the UI renders the
    /// key from its translation files; the sentences are kept for logs and the CLI).
    pub fn validation(v: &field_core::ValidationError) -> Self {
        let mut e =
            Self::new(&v.key, v.id_text.clone(), v.en_text.clone()).with_field(v.field.clone());
        for (k, val) in &v.params {
            e = e.with_param(k, val.clone());
        }
        e
    }

    /// A store or sync error key with its sentences from field-core's table; `fallback` (an
    /// English sentence) when the table lacks the key (a newer server's key).
    fn keyed(key: &str, args: &[(&str, String)], fallback: &str) -> Self {
        match error_texts(key, args) {
            Some((id, en)) => Self::new(key, id, en),
            None => Self::new(key, fallback, fallback),
        }
    }

    /// A server's refusal of one change (kept on the tablet with its reason).
    pub fn rejection(r: &sync_protocol::Rejection) -> Self {
        let mut e = Self::keyed(&r.key, &[], &r.message);
        e.field = r.field.clone();
        e
    }

    /// The last failed sync run as remembered by the store: its key and English sentence.
    pub fn from_saved(key: &str, message: &str) -> Self {
        Self::keyed(key, &[], message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Invalid(v) => Self::validation(v),
            StoreError::PinLocked { retry_after_ms } => {
                let wait = retry_after_ms.div_ceil(1000);
                Self::keyed(
                    "store.pin_locked",
                    &[("wait_seconds", wait.to_string())],
                    "",
                )
                .with_field("pin")
                .with_param("wait_seconds", wait)
            }
            StoreError::WrongPin => Self::keyed("store.wrong_pin", &[], "").with_field("pin"),
            StoreError::NoSuchRecord { .. } => Self::app(AppKey::NoSuchRecord),
            StoreError::NotFound(_) => Self::app(AppKey::NotEnrolled),
            other => match other.message_key() {
                Some(key) => Self::keyed(key, &[], &other.to_string()),
                None => Self::internal(other),
            },
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Store(s) => s.into(),
            SyncError::Server { ref body, .. } => Self::keyed(&body.key, &[], &body.message),
            ref other => Self::keyed(other.message_key(), &[], &other.to_string()),
        }
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        eprintln!("jangkau-app: data directory: {e}");
        Self::app(AppKey::DataDir)
    }
}

/// A record id from the webview.
pub fn record_id(field: &str, s: &str) -> Result<sync_protocol::RecordId, AppError> {
    s.trim().parse().map_err(|_| {
        AppError::validation(&field_core::messages::invalid(
            field,
            field_core::messages::Key::RecordRef,
            &[],
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shell's own keys have a text in both of the UI's languages (field-core's keys are
    /// checked by field-core's `ui_texts` test): the UI renders every error from its files.
    #[test]
    fn every_app_key_has_a_ui_text_in_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/i18n");
        for lang in ["id", "en"] {
            let mut texts = std::collections::BTreeMap::<String, String>::new();
            let entries = std::fs::read_dir(&dir).map(|d| d.flatten().collect::<Vec<_>>());
            for entry in entries.unwrap_or_default() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name == format!("{lang}.json") || name.ends_with(&format!(".{lang}.json")) {
                    let json = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    let map: std::collections::BTreeMap<String, String> =
                        serde_json::from_str(&json).unwrap_or_default();
                    texts.extend(map);
                }
            }
            assert!(texts.len() > 100, "{lang}: the UI's files were not read");
            for k in AppKey::ALL {
                let key = k.texts().0;
                assert!(texts.contains_key(key), "{lang}: no text for {key}");
            }
        }
    }

    #[test]
    fn wrong_pins_say_how_long_to_wait() {
        let e: AppError = StoreError::PinLocked {
            retry_after_ms: 29_001,
        }
        .into();
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v["key"], "store.pin_locked");
        assert_eq!(v["params"]["wait_seconds"], 30);
        assert_eq!(v["field"], "pin");
        assert!(e.id.contains("30 detik") && e.en.contains("30 seconds"));
    }

    #[test]
    fn validation_errors_keep_their_field() {
        let v = field_core::messages::invalid(
            "members.1.birth_date",
            field_core::messages::Key::DateInFuture,
            &[("today", "2025-11-22".into())],
        );
        let e: AppError = StoreError::Invalid(v).into();
        assert_eq!(e.key, "validation.date_in_future");
        assert_eq!(e.field.as_deref(), Some("members.1.birth_date"));
        assert!(!e.id.is_empty() && !e.en.is_empty() && e.id != e.en);
        let v = serde_json::to_value(&e).unwrap_or_default();
        // The key crosses with its parameters: the UI fills its own text.
        assert_eq!(v["params"]["today"], "2025-11-22");
    }

    #[test]
    fn sync_errors_have_both_sentences() {
        for e in [
            SyncError::Network("reset".into()),
            SyncError::LoginRequired,
            SyncError::DeviceRevoked {
                message: "lost".into(),
            },
            SyncError::BadUrl("ftp://x".into()),
        ] {
            let key = e.message_key().to_string();
            let a: AppError = e.into();
            assert_eq!(a.key, key);
            assert!(
                !a.id.is_empty() && !a.en.is_empty() && a.id != a.en,
                "{key}"
            );
        }
        // A key this app does not know (a newer server) still reads.
        let mut body = sync_protocol::ErrorBody::new(sync_protocol::ErrorCode::Unknown, "Later.");
        body.key = "sync.error.brand_new".into();
        let a: AppError = SyncError::Server { status: 400, body }.into();
        assert_eq!(
            (a.key.as_str(), a.en.as_str()),
            ("sync.error.brand_new", "Later.")
        );
    }
}
