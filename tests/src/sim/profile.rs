//! Where the time of a push or a pull goes. The same requests the sync client makes, made
//! step by step with field-core's and sync-protocol's public functions, each step timed:
//! reading the outbox, encoding, the HTTP exchange (the server's work included), decoding,
//! and writing the outcome or the page to the encrypted store.

use super::device::SimDevice;
use super::server::SimServer;
use super::{Result, SimError};
use district_server::auth;
use district_server::model::now_ms;
use std::time::{Duration, Instant};
use sync_protocol::codec::{self, Encoding};
use sync_protocol::{
    Limits, PROTOCOL_HEADER, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest,
    PushResponse, WireMessage,
};

/// Time spent in each step, summed over the requests of a phase.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Steps {
    /// Reading pending changes from the outbox (push only).
    pub read: Duration,
    /// Serialising and compressing the request.
    pub encode: Duration,
    /// Sending the request and receiving the whole answer (the server's work included).
    pub http: Duration,
    /// Decompressing and parsing the answer.
    pub decode: Duration,
    /// Recording push outcomes, or applying a pull page with its cursor (one transaction,
    /// fsync included).
    pub store: Duration,
    pub requests: u32,
    pub changes: u64,
    pub total: Duration,
}

/// An HTTP client with a session of `dev`'s user made directly in the server's storage (the
/// sync client keeps its own session inside the encrypted store, out of reach).
pub struct Session {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Session {
    pub async fn new(server: &SimServer, dev: &SimDevice) -> Result<Session> {
        let token = auth::new_token().map_err(|e| SimError::Server(e.to_string()))?;
        let now = now_ms();
        server
            .store
            .create_session(
                auth::hash_secret(&token),
                dev.store.user().user_id,
                dev.store.device_id(),
                now,
                now + 3_600_000,
                None,
            )
            .await?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| SimError::Check(format!("HTTP client: {e}")))?;
        Ok(Session {
            http,
            base: server.url(),
            bearer: format!("Bearer {token}"),
        })
    }

    async fn call<Req, Resp>(&self, path: &str, req: &Req, s: &mut Steps) -> Result<Resp>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned + WireMessage,
    {
        let t = Instant::now();
        let body =
            codec::encode(req, Encoding::Zstd).map_err(|e| SimError::Check(e.to_string()))?;
        s.encode += t.elapsed();
        let t = Instant::now();
        let net = |e: reqwest::Error| SimError::Check(format!("HTTP: {e}"));
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .header("accept-encoding", "zstd")
            .header("authorization", &self.bearer)
            .body(body)
            .send()
            .await
            .map_err(net)?;
        let status = resp.status();
        let enc = resp
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(net)?;
        s.http += t.elapsed();
        s.requests += 1;
        if !status.is_success() {
            return Err(SimError::Check(format!("{path}: HTTP {status}")));
        }
        let t = Instant::now();
        let enc =
            Encoding::from_header(enc.as_deref()).map_err(|e| SimError::Check(e.to_string()))?;
        let out = codec::decode(&bytes, enc, &Limits::default())
            .map_err(|e| SimError::Check(e.to_string()))?;
        s.decode += t.elapsed();
        Ok(out)
    }

    /// Pushes `dev`'s outbox in batches of `batch`.
    pub async fn push(&self, dev: &mut SimDevice, batch: usize) -> Result<Steps> {
        let mut s = Steps::default();
        let started = Instant::now();
        loop {
            let t = Instant::now();
            let changes = dev.store.pending_changes(batch)?;
            s.read += t.elapsed();
            if changes.is_empty() {
                break;
            }
            let n = changes.len() as u64;
            let req = PushRequest {
                v: PROTOCOL_VERSION,
                changes,
            };
            let resp: PushResponse = self.call("/v1/sync/push", &req, &mut s).await?;
            let t = Instant::now();
            dev.store.record_push_outcomes(&resp)?;
            s.store += t.elapsed();
            s.changes += n;
        }
        s.total = started.elapsed();
        Ok(s)
    }

    /// Pulls into `dev` in pages of `limit` until there is no more.
    pub async fn pull(&self, dev: &mut SimDevice, limit: u32) -> Result<Steps> {
        let mut s = Steps::default();
        let started = Instant::now();
        loop {
            let t = Instant::now();
            let cursor = dev.store.pull_cursor()?;
            s.read += t.elapsed();
            let req = PullRequest {
                v: PROTOCOL_VERSION,
                cursor,
                limit,
            };
            let page: PullResponse = self.call("/v1/sync/pull", &req, &mut s).await?;
            let t = Instant::now();
            let r = dev.store.apply_sync_page(&page)?;
            s.store += t.elapsed();
            s.changes += r.applied as u64;
            if !page.has_more {
                break;
            }
        }
        s.total = started.elapsed();
        Ok(s)
    }
}
