//! Titip on the server (`docs/sync-protocol.md` section 10): the server's key pair, and
//! `POST /v1/relay`, where a carrier hands over one sealed bundle of another device.
//!
//! The bundle is opened, its signature checked against the key its device registered at
//! enrolment (a revoked or unknown device, a bad signature, a truncated or altered file:
//! refused with `titip_refused`, logged, counted and kept in `titip_refusals`), and its
//! changes judged exactly as a direct push of that device in a session of the user who
//! sealed it ([`crate::sync`]: same identity, author-window, role, scope and idempotency
//! rules, through [`crate::Storage::push`]). The answer (outcomes, `acked_seq` and one pull
//! page after the bundle's cursor, that device's own changes left out) is sealed to the
//! device's key and signed by the server: the carrier takes it back unread.

use crate::error::AppError;
use crate::http::{AppState, Authed};
use crate::model::{now_ms, today_for_validation};
use crate::storage::{TitipKeys, TitipRefusal};
use crate::sync::PushContext;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use sync_protocol::relay::{self, Key32, KeyPair, PublicKeys, RelayAnswer};
use sync_protocol::{Change, ClockPolicy, ErrorCode};

/// The media type of a sealed titip file, request and answer.
pub const TITIP_CONTENT_TYPE: &str = "application/vnd.jangkau.titip";

/// 32 random bytes from the OS.
pub fn random32() -> Result<[u8; 32], AppError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(b)
}

/// The server's titip key pair: the stored one, made and stored at the first call.
pub async fn server_keys(st: &AppState) -> Result<KeyPair, AppError> {
    let mut fresh = [0u8; 64];
    getrandom::fill(&mut fresh).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let stored = st.store.titip_server_key(fresh.to_vec(), now_ms()).await?;
    let bytes: [u8; 64] = stored
        .as_slice()
        .try_into()
        .map_err(|_| AppError::Internal("the stored titip key is not 64 bytes".into()))?;
    Ok(KeyPair::from_bytes(&bytes))
}

/// Registers the titip keys a tablet sent at enrolment and returns the server's public
/// keys for the answer. Keys that are not valid are refused (`malformed_body`).
pub async fn register_device_keys(
    st: &AppState,
    device: sync_protocol::DeviceId,
    keys: &PublicKeys,
) -> Result<PublicKeys, AppError> {
    keys.validate()
        .map_err(|e| AppError::refused(ErrorCode::MalformedBody, format!("titip: {e}")))?;
    st.store
        .set_device_titip(
            device,
            TitipKeys {
                box_key: keys.box_key.to_b64(),
                sign: keys.sign.to_b64(),
            },
        )
        .await?;
    Ok(server_keys(st).await?.public())
}

/// Registers the titip keys of a tablet enrolled before titip (`POST /v1/relay/keys`): only
/// when the device has none, or the very same ones (a retry). A device token alone never
/// replaces the keys its bundles are checked against: other keys are refused.
pub async fn register_late_device_keys(
    st: &AppState,
    device: sync_protocol::DeviceId,
    keys: &PublicKeys,
) -> Result<PublicKeys, AppError> {
    keys.validate()
        .map_err(|e| AppError::refused(ErrorCode::MalformedBody, format!("titip: {e}")))?;
    if let Some(existing) = st.store.device_titip(device).await? {
        if stored_keys(&existing).as_ref() != Some(keys) {
            return Err(AppError::refused(
                ErrorCode::TitipRefused,
                "this tablet already has titip keys; enrol it again to change them",
            ));
        }
        return Ok(server_keys(st).await?.public());
    }
    tracing::info!(device = %device, "titip keys registered after enrolment");
    register_device_keys(st, device, keys).await
}

fn stored_keys(k: &TitipKeys) -> Option<PublicKeys> {
    Some(PublicKeys {
        box_key: Key32::from_b64(&k.box_key).ok()?,
        sign: Key32::from_b64(&k.sign).ok()?,
    })
}

/// Refuses a bundle: logged (never its content), counted, kept for admins.
async fn refuse(
    st: &AppState,
    carrier: &Authed,
    device: Option<sync_protocol::DeviceId>,
    reason: String,
) -> AppError {
    tracing::warn!(carrier = %carrier.0.device.id, device = ?device.map(|d| d.to_string()), %reason, "titip bundle refused");
    st.metrics.titip_refused.fetch_add(1, Ordering::Relaxed);
    let report = TitipRefusal {
        at: now_ms(),
        device: device.map(|d| d.to_string()),
        carrier: carrier.0.device.id.to_string(),
        reason: reason.chars().take(300).collect(),
    };
    if let Err(e) = st.store.record_titip_refusal(report).await {
        tracing::error!(error = %e, "could not keep the titip refusal");
    }
    AppError::refused(ErrorCode::TitipRefused, reason)
}

/// Reads the raw body, at most `max` bytes.
async fn read_body(body: Body, max: usize) -> Result<Vec<u8>, AppError> {
    axum::body::to_bytes(body, max)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| {
            AppError::refused(
                ErrorCode::BodyTooLarge,
                format!("a titip bundle is at most {max} bytes"),
            )
        })
}

/// `POST /v1/relay`: one sealed bundle in (the carrier's own session authorises the
/// request), the sealed answer out.
pub async fn relay(
    State(st): State<AppState>,
    carrier: Authed,
    body: Body,
) -> Result<Response, AppError> {
    let bytes = read_body(body, st.cfg.limits.max_compressed).await?;
    let sealed = match relay::parse(&bytes) {
        Ok(s) => s,
        Err(e) => return Err(refuse(&st, &carrier, None, e.to_string()).await),
    };
    let device_id = sealed.header.device;
    let Some(device) = st.store.device(device_id).await? else {
        return Err(refuse(&st, &carrier, Some(device_id), "unknown device".into()).await);
    };
    if device.revoked_at.is_some() {
        return Err(refuse(
            &st,
            &carrier,
            Some(device_id),
            "the bundle's device was revoked by an admin".into(),
        )
        .await);
    }
    let Some(device_keys) = st
        .store
        .device_titip(device_id)
        .await?
        .as_ref()
        .and_then(stored_keys)
    else {
        return Err(refuse(
            &st,
            &carrier,
            Some(device_id),
            "the device registered no titip keys".into(),
        )
        .await);
    };
    let keys = server_keys(&st).await?;
    let limits = st.cfg.limits;
    let opened = {
        let bytes = bytes.clone();
        let keys = keys.clone();
        tokio::task::spawn_blocking(move || {
            relay::open_bundle(&bytes, &device_keys, &keys, &limits)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    };
    let (header, bundle) = match opened {
        Ok(x) => x,
        Err(e) => return Err(refuse(&st, &carrier, Some(device_id), e.to_string()).await),
    };
    // The session a direct push would have had: the user who sealed it, who must have
    // logged in on that device and still be enabled.
    let user = match st.store.user_by_id(bundle.user).await? {
        Some(u) if !u.disabled && st.store.device_user_known(device_id, u.id).await? => u,
        _ => {
            return Err(refuse(
                &st,
                &carrier,
                Some(device_id),
                "the bundle's user is unknown on its device, or disabled".into(),
            )
            .await);
        }
    };
    // The bundle speaks protocol 1 (an app before body schema 2) or 2; its answer the same.
    let protocol = bundle.v;
    let pos = crate::sync::decode_cursor_pos(bundle.cursor.as_deref(), &user.scope).unwrap_or(
        crate::sync::CursorPos {
            after: 0,
            partial_from: None,
        },
    );
    let after = pos.start_for(protocol);
    let scope: HashSet<String> = st
        .store
        .posyandu_under(user.scope.place.clone())
        .await?
        .into_iter()
        .collect();
    let now = now_ms();
    let ctx = Arc::new(PushContext {
        device: device_id,
        user: user.id,
        role: user.role,
        scope_posyandu: scope,
        now_ms: now,
        today: today_for_validation(now),
        clock: ClockPolicy::default(),
    });
    let n = bundle.changes.len();
    let store = st.store.clone();
    // As a push: stored on its own task, so a carrier that hangs up does not cut it.
    let result = tokio::spawn(async move { store.push(ctx, bundle.changes).await })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let page = st
        .store
        .pull_for(
            device_id,
            user.scope.place.clone(),
            after,
            st.cfg.limits.max_batch,
            st.cfg.pull_page_bytes,
        )
        .await?;
    let (page_changes, partial_from) =
        crate::sync::page_for_protocol(page.changes, protocol, pos.partial_from);
    let mut changes = Vec::with_capacity(page_changes.len());
    for (_, payload) in &page_changes {
        let c: Change = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("a stored change: {e}")))?;
        changes.push(c);
    }
    let answer = RelayAnswer {
        v: protocol,
        device: device_id,
        bundle_created: header.created,
        outcomes: result.outcomes,
        acked_seq: result.acked_seq,
        changes,
        cursor: crate::sync::encode_cursor_partial(page.scanned_to, &user.scope, partial_from),
        has_more: page.has_more,
        server_time: now_ms(),
    };
    let eph = random32()?;
    let device_pub = device_keys;
    let sealed_answer = tokio::task::spawn_blocking(move || {
        relay::seal_answer(&answer, now, &device_pub, &keys, eph)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    st.store.touch_relay(device_id, now).await?;
    st.metrics.titip_bundles.fetch_add(1, Ordering::Relaxed);
    tracing::info!(carrier = %carrier.0.device.id, device = %device_id, changes = n, acked_seq = result.acked_seq, "titip bundle judged");
    let mut resp = (StatusCode::OK, sealed_answer).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TITIP_CONTENT_TYPE),
    );
    Ok(resp)
}
