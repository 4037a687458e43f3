//! Another user on an enrolled tablet: a shared tablet of a posyandu is used by several
//! kader, each with their own server account and their own PIN.

use super::engine::SyncClient;
use super::error::SyncError;
use super::transport::{Auth, Transport};
use crate::error::StoreError;
use crate::keyring::{KdfParams, LocalUser};
use crate::store::Store;
use sync_protocol::{LoginRequest, LoginResponse, PROTOCOL_VERSION};

impl SyncClient {
    /// Adds a user to the tablet that `store` (unlocked by someone else) belongs to: logs
    /// `username` in at the server through the device token (online; the password is checked
    /// there), then seals the database key under their new `pin` in the keyring and keeps
    /// their session and area (and the places of their area, when the server offers them),
    /// so they can unlock offline from then on and their first sync needs no password. The
    /// user who unlocked `store` stays unlocked.
    ///
    /// Refused before any request: a PIN that breaks the rules, a username already on the
    /// tablet, a revoked or unenrolled tablet. One attempt, no retries (someone is waiting).
    pub async fn add_user(
        &self,
        store: &mut Store,
        username: &str,
        secret: &str,
        pin: &str,
        kdf: KdfParams,
    ) -> Result<LocalUser, SyncError> {
        crate::keyring::check_pin(pin)?;
        let username = username.trim().to_lowercase();
        if Store::local_users(store.path())?
            .iter()
            .any(|u| u.username == username)
        {
            return Err(StoreError::UserExists(username).into());
        }
        let creds = store.credentials()?.ok_or(SyncError::NotEnrolled)?;
        if let Some(r) = creds.revoked {
            return Err(SyncError::DeviceRevoked { message: r.message });
        }
        let cfg = self.config();
        let t = Transport::new(&creds.server_url, &cfg.trust, cfg.request_timeout)?;
        // The device's clock at the login: the changes stamped up to here belong to the users
        // logged in before; this user's window on the server starts here.
        let req = LoginRequest {
            v: PROTOCOL_VERSION,
            username: username.clone(),
            secret: secret.to_string(),
            hlc: Some(store.hybrid_clock()?.last),
        };
        let login: LoginResponse = match t
            .call("/v1/login", Auth::Device(&creds.device_token), &req)
            .await
        {
            Err(SyncError::DeviceRevoked { message }) => {
                store.mark_revoked(&message)?;
                return Err(SyncError::DeviceRevoked { message });
            }
            other => other?,
        };
        let role = match serde_json::to_value(login.role) {
            Ok(serde_json::Value::String(s)) => s,
            _ => return Err(SyncError::Protocol("role".into())),
        };
        let user = LocalUser {
            user_id: login.user_id,
            username,
            display_name: login.display_name.clone(),
            role,
        };
        store.add_user(&user, pin, kdf)?;
        store.save_user_session(
            user.user_id,
            &login.session_token,
            login.expires_at,
            &login.scope,
        )?;
        store.calibrate_clock(login.server_time)?;
        // Their area's places too (a failure leaves the places as they were).
        self.places_after_login(store, &t, &login.session_token)
            .await;
        Ok(user)
    }
}
