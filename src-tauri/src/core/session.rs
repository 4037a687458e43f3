//! First run (enrolment), the lock screen (pick a user, unlock with the PIN, offline), another
//! user on a shared tablet, settings, and the idle lock.

use super::{AppCore, Session, events, lock};
use crate::error::{AppError, AppKey};
use crate::settings::{DeviceInfo, Settings};
use crate::views::{AppInfo, RevocationNotice};
use field_core::StoreError;
use field_core::sync::Erased;
use field_core::sync::{Enrolment, SyncClient, SyncError, check_server_url};
use field_core::{LocalUser, Store};
use serde::Deserialize;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// `EnrolInput` in api.ts.
#[derive(Clone, Deserialize)]
pub struct EnrolInput {
    pub server_url: String,
    pub code: String,
    pub username: String,
    /// The user's server password.
    pub password: Zeroizing<String>,
    /// The tablet PIN.
    pub pin: Zeroizing<String>,
    #[serde(default)]
    pub device_name: String,
}

impl std::fmt::Debug for EnrolInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolInput")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The form field an enrolment or login failure belongs to, so the form can mark it.
fn login_field(e: SyncError) -> AppError {
    let field = match &e {
        SyncError::BadUrl(_)
        | SyncError::Network(_)
        | SyncError::Tls(_)
        | SyncError::UpdateApp(_)
        | SyncError::UpdateServer(_)
        | SyncError::Protocol(_) => Some("server_url"),
        SyncError::EnrolCodeInvalid | SyncError::EnrolCodeExpired => Some("code"),
        SyncError::LoginFailed => Some("password"),
        SyncError::UserDisabled => Some("username"),
        _ => None,
    };
    let mut a = AppError::from(e);
    if a.field.is_none() {
        a.field = field.map(str::to_string);
    }
    a
}

impl AppCore {
    /// What the first screen needs: enrolled or not, the tablet's users, who is unlocked.
    pub fn app_info(&self) -> Result<AppInfo, AppError> {
        let db = self.cfg.data.db();
        let enrolled = db.exists();
        let users = if enrolled {
            Store::local_users(&db)?
        } else {
            Vec::new()
        };
        let device = self.cfg.data.device();
        Ok(AppInfo {
            enrolled,
            users,
            unlocked: lock(&self.session).as_ref().map(|s| s.store.user().clone()),
            settings: lock(&self.settings).clone(),
            server_url: device.server_url,
            device_name: device.device_name,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            suggested_server: self.cfg.suggested_server.clone(),
        })
    }

    /// First run: the enrolment code, the user's server login, and their new PIN. Creates the
    /// encrypted database, unlocks it and starts syncing (the first run pulls the area).
    pub async fn enrol(&self, input: EnrolInput) -> Result<LocalUser, AppError> {
        let db = self.cfg.data.db();
        if db.exists() {
            return Err(AppError::app(AppKey::AlreadyEnrolled));
        }
        field_core::keyring::check_pin(&input.pin)?;
        let server_url = check_server_url(&input.server_url).map_err(login_field)?;
        self.cfg.data.create()?;
        let device_name = match input.device_name.trim() {
            "" => "Tablet Jangkau".to_string(),
            n => n.to_string(),
        };
        let e = Enrolment {
            server_url: server_url.clone(),
            code: input.code.trim().to_string(),
            device_name: device_name.clone(),
            username: input.username.trim().to_string(),
            secret: input.password.clone(),
            pin: input.pin.clone(),
        };
        // One client for the enrolment and the background sync: the pull page the
        // enrolment left in flight when the key's seal ended is handed on in the client
        // (field-core `SyncClient::enrol`), and the first sync takes it up instead of asking
        // for it again.
        let client = self.client();
        let store = client
            .enrol(&db, &e, self.cfg.open.clone())
            .await
            .map_err(login_field)?;
        self.cfg.data.save_device(&DeviceInfo {
            server_url: Some(server_url),
            device_name: Some(device_name),
        })?;
        self.start_session_with(store, client)
    }

    /// The lock screen: a user of this tablet and their PIN, offline. Wrong PINs count towards
    /// field-core's delays (`store.pin_locked` with `params.wait_seconds`).
    pub fn unlock(&self, username: &str, pin: &str) -> Result<LocalUser, AppError> {
        let db = self.cfg.data.db();
        if !db.exists() {
            return Err(AppError::app(AppKey::NotEnrolled));
        }
        let store = Store::unlock(&db, username.trim(), pin, self.cfg.open.clone())?;
        self.start_session(store)
    }

    fn start_session(&self, store: Store) -> Result<LocalUser, AppError> {
        self.start_session_with(store, self.client())
    }

    /// As [`Self::start_session`], the background sync running with `client`.
    fn start_session_with(&self, store: Store, client: SyncClient) -> Result<LocalUser, AppError> {
        let user = store.user().clone();
        let sync_store = store.reopen()?;
        self.sync.stop();
        *lock(&self.session) = Some(Session { store, home: None });
        self.touch();
        self.sync.start(
            sync_store,
            client,
            self.events.clone(),
            self.cfg.schedule.clone(),
        );
        Ok(user)
    }

    /// Locks the tablet: the store is closed (the key leaves memory) and syncing stops.
    pub fn lock(&self) {
        self.sync.stop();
        // A titip offer on the local network ends with the session: a locked tablet
        // hands nothing over.
        self.titip_lan_cancel();
        *lock(&self.session) = None;
    }

    pub fn is_unlocked(&self) -> bool {
        lock(&self.session).is_some()
    }

    /// Another user of a shared tablet: their server login (online, through this tablet's
    /// device token) and their own PIN. Needs someone unlocked; that user stays unlocked.
    pub async fn add_user(
        &self,
        username: &str,
        password: &str,
        pin: &str,
    ) -> Result<LocalUser, AppError> {
        // Its own handle: the screens' store is not held across the network call.
        let mut store = self.with_store(|s| Ok(s.reopen()?))?;
        self.client()
            .add_user(&mut store, username, password, pin, self.cfg.open.kdf)
            .await
            .map_err(login_field)
    }

    /// The warning a revoked tablet shows before its keys are erased: when and why, and how
    /// many changes never reached the server. `None` while the tablet is not revoked.
    pub fn revocation_notice(&self) -> Result<Option<RevocationNotice>, AppError> {
        self.with_store(|s| {
            Ok(s.revocation_notice()?.map(|(r, unsent)| RevocationNotice {
                at_ms: r.at_ms,
                message: r.message,
                unsent,
            }))
        })
    }

    /// Erases the key material of a revoked tablet (after the warning screen): syncing stops,
    /// the store closes (the key leaves memory) and field-core erases every user's sealed key,
    /// the tokens and the database files. The app is back at first run. Refused
    /// (`store.not_revoked`) for a tablet the server has not revoked, with nothing closed.
    pub fn erase_revoked(&self) -> Result<Erased, AppError> {
        self.with_store(|s| match s.revocation_notice()? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotRevoked.into()),
        })?;
        self.sync.stop();
        let session = lock(&self.session)
            .take()
            .ok_or_else(|| AppError::app(AppKey::Locked))?;
        Ok(session.store.erase_revoked()?)
    }

    pub fn save_settings(&self, settings: Settings) -> Result<Settings, AppError> {
        self.cfg.data.save_settings(&settings)?;
        *lock(&self.settings) = settings.clone();
        Ok(settings)
    }

    /// Locks the tablet when nobody touched it for the idle time (the setting), and tells the
    /// webview (`app://locked`). Called by a timer; `now` is a parameter for tests.
    pub fn check_idle(&self, now: Instant) -> bool {
        if !self.is_unlocked() {
            return false;
        }
        let minutes = lock(&self.settings).idle_lock_minutes;
        let idle = now.saturating_duration_since(*lock(&self.last_activity));
        if idle < Duration::from_secs(u64::from(minutes) * 60) {
            return false;
        }
        self.lock();
        self.emit(events::LOCKED, serde_json::Value::Null);
        true
    }
}
