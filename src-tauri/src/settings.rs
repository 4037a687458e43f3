//! What the app keeps outside the encrypted database, in its data directory: the settings
//! the lock screen needs before anyone unlocks (language, idle lock), and the server and
//! tablet name to show there. Nothing secret.

use crate::error::AppError;
use field_core::messages::{Key, invalid};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The encrypted database inside the data directory (the same name as the `jangkau` CLI's,
/// so a data directory made by either opens in both).
pub const DB_FILE: &str = "jangkau.db";
const SETTINGS_FILE: &str = "settings.json";
const DEVICE_FILE: &str = "device.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    /// Bahasa Indonesia (the default).
    #[default]
    Id,
    En,
}

/// `Settings` in `ui/src/lib/api.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub locale: Locale,
    /// Lock after this many minutes without a touch (1–60).
    pub idle_lock_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            locale: Locale::Id,
            idle_lock_minutes: 5,
        }
    }
}

impl Settings {
    pub const MIN_IDLE: u32 = 1;
    pub const MAX_IDLE: u32 = 60;

    pub fn check(&self) -> Result<(), AppError> {
        if (Self::MIN_IDLE..=Self::MAX_IDLE).contains(&self.idle_lock_minutes) {
            Ok(())
        } else {
            Err(AppError::validation(&invalid(
                "idle_lock_minutes",
                Key::OutOfRange,
                &[
                    ("min", Self::MIN_IDLE.to_string()),
                    ("max", Self::MAX_IDLE.to_string()),
                ],
            )))
        }
    }
}

/// The server and name of this tablet, saved at enrolment for the lock screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub server_url: Option<String>,
    pub device_name: Option<String>,
}

/// The app's data directory and the files in it.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    pub fn create(&self) -> Result<(), AppError> {
        // 0700 whatever the umask: the database, keyring and exports live here.
        field_core::store::files::create_private_dir(&self.root)?;
        Ok(())
    }

    /// The saved settings; the defaults when there are none or the file is unreadable
    /// (the lock screen must always come up).
    pub fn settings(&self) -> Settings {
        read_json(&self.root.join(SETTINGS_FILE))
            .filter(|s: &Settings| s.check().is_ok())
            .unwrap_or_default()
    }

    pub fn save_settings(&self, s: &Settings) -> Result<(), AppError> {
        s.check()?;
        self.create()?;
        write_json(&self.root.join(SETTINGS_FILE), s)
    }

    pub fn device(&self) -> DeviceInfo {
        read_json(&self.root.join(DEVICE_FILE)).unwrap_or_default()
    }

    pub fn save_device(&self, d: &DeviceInfo) -> Result<(), AppError> {
        self.create()?;
        write_json(&self.root.join(DEVICE_FILE), d)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Temporary file, then rename: a cut leaves the old file or the new one.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), AppError> {
    let json = serde_json::to_vec_pretty(value).map_err(AppError::internal)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::new(dir.path().join("data"));
        assert_eq!(d.settings(), Settings::default());
        let s = Settings {
            locale: Locale::En,
            idle_lock_minutes: 15,
        };
        d.save_settings(&s).unwrap();
        assert_eq!(d.settings(), s);
        let bad = Settings {
            idle_lock_minutes: 0,
            ..s.clone()
        };
        let e = d.save_settings(&bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("idle_lock_minutes"));
        assert_eq!(d.settings(), s);
        std::fs::write(d.root().join(SETTINGS_FILE), b"{ not json").unwrap();
        assert_eq!(d.settings(), Settings::default());
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"locale": "en", "idle_lock_minutes": 15})
        );
    }
}
