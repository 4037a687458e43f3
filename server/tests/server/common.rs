//! Test harness: a real server on 127.0.0.1:0 over a fresh database of either backend
//! (a temporary SQLite file, or a `jangkau_t_<random>` PostgreSQL database dropped after).

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::storage::postgres::scratch;
use district_server::{AppState, Storage};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend, each as its own `#[tokio::test]`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// A fresh, migrated database.
pub struct TestDb {
    pub store: Arc<dyn Storage>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("t.db").to_string_lossy().to_string();
                let store = district_server::storage::open(&url).await.expect("open");
                store.migrate().await.expect("migrate");
                TestDb {
                    store,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let (name, url) = scratch::create()
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432 (set JANGKAU_TEST_PG to change)");
                let store = district_server::storage::open(&url).await.expect("open");
                store.migrate().await.expect("migrate");
                TestDb {
                    store,
                    url,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Another store (another server process) on the database of `url`, which it does not
    /// drop (the read model's follower tests).
    #[allow(dead_code)]
    pub fn attach(store: Arc<dyn Storage>, url: &str) -> TestDb {
        TestDb {
            store,
            url: url.to_string(),
            _dir: None,
            pg_name: None,
        }
    }

    /// Drops the PostgreSQL database (the SQLite directory goes with `self`).
    pub async fn finish(mut self) {
        if let Some(name) = self.pg_name.take() {
            let _ = scratch::drop(&name).await;
        }
    }
}

impl Drop for TestDb {
    /// A test that failed before `finish` still drops its PostgreSQL database.
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(scratch::drop(&name));
                }
            })
            .join();
        }
    }
}

pub fn test_config(url: &str) -> Config {
    Config {
        database_url: DatabaseUrl(url.to_string()),
        password_cost: PasswordCost::TEST,
        rate_limits: RateLimits {
            enrol_per_minute: 1000,
            login_per_minute: 1000,
        },
        ..Config::default()
    }
}

/// A running server.
pub struct TestServer {
    pub db: TestDb,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// A server over the demo district (places and accounts).
    pub async fn demo(backend: Backend) -> TestServer {
        Self::demo_with(backend, |_| {}).await
    }

    pub async fn demo_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let db = TestDb::new(backend).await;
        district_server::admin::demo(db.store.as_ref(), PasswordCost::TEST, 24, false)
            .await
            .expect("demo district");
        Self::start(db, tweak).await
    }

    pub async fn start(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut cfg = test_config(&db.url);
        tweak(&mut cfg);
        district_server::http::install_crypto_provider();
        let state = AppState::new(db.store.clone(), cfg).expect("state");
        let app = district_server::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = district_server::http::serve_listener(
                listener,
                app,
                async move {
                    let _ = rx.await;
                },
                std::time::Duration::from_secs(5),
            )
            .await;
        });
        TestServer {
            db,
            addr,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn store(&self) -> &dyn Storage {
        self.db.store.as_ref()
    }

    /// Asks the server to stop accepting; requests in flight finish.
    pub fn begin_shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Waits for the server to stop, keeping the database.
    pub async fn finish_keep_db(&mut self) {
        self.begin_shutdown();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Stops the server (finishing requests in flight) and drops the database.
    pub async fn finish(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.db.finish().await;
    }

    /// POSTs raw bytes with the protocol header and optional extra headers.
    pub async fn raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        self.try_raw(path, body, headers)
            .await
            .expect("request sent")
    }

    /// [`Self::raw`], with a failure to send or read kept: a server that answers a large
    /// body before reading it may close the connection while the client still sends.
    pub async fn try_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), reqwest::Error> {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Jangkau-Protocol", "1")
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.body(body).send().await?;
        let status = resp.status().as_u16();
        let h = resp.headers().clone();
        let bytes = resp.bytes().await?.to_vec();
        Ok((status, h, bytes))
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// POSTs a JSON body; returns the status and the JSON answer.
    pub async fn post(&self, path: &str, body: &Value, auth: Option<&str>) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).expect("json");
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let (status, _, bytes) = self.raw(path, bytes, &headers).await;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, v)
    }

    /// GETs `path` with the protocol header and an optional `Authorization`; returns the
    /// status and the JSON answer.
    pub async fn get(&self, path: &str, auth: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .get(self.url(path))
            .header("Jangkau-Protocol", "1");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Issues a code for `username`, enrols a device, logs in.
    pub async fn session(&self, username: &str) -> Session {
        let code = district_server::admin::issue_enrol_code(self.store(), username, 24)
            .await
            .expect("code");
        let (s, enrol) = self
            .post(
                "/v1/enrol",
                &json!({"v": 1, "code": code, "device_name": format!("Tablet {username}"), "app_version": "0.1.0"}),
                None,
            )
            .await;
        assert_eq!(s, 200, "enrol: {enrol}");
        let device_token = enrol["device_token"].as_str().expect("token").to_string();
        let device: DeviceId = enrol["device_id"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .expect("device id");
        let (s, login) = self
            .post(
                "/v1/login",
                &json!({"v": 1, "username": username, "secret": district_server::admin::DEMO_PASSWORD}),
                Some(&format!("Device {device_token}")),
            )
            .await;
        assert_eq!(s, 200, "login: {login}");
        Session {
            device,
            device_token,
            user: login["user_id"]
                .as_str()
                .and_then(|u| u.parse().ok())
                .expect("user id"),
            bearer: format!(
                "Bearer {}",
                login["session_token"].as_str().expect("session token")
            ),
            next_seq: 1,
        }
    }

    pub async fn push(&self, s: &Session, changes: &[Change]) -> (u16, Value) {
        self.post(
            "/v1/sync/push",
            &json!({"v": 1, "changes": changes}),
            Some(&s.bearer),
        )
        .await
    }

    /// Another tablet of `username`, enrolled and logged in: it receives everything the user
    /// may see, whereas the tablet that pushed a change is not sent it back.
    pub async fn other_tablet(&self, username: &str) -> Session {
        self.session(username).await
    }

    /// `/v1/sync/status` for `s` with its outbox at `last_seq` and an optional cursor.
    pub async fn status(&self, s: &Session, last_seq: u64, cursor: Option<&str>) -> (u16, Value) {
        let mut body = json!({"v": 1, "last_seq": last_seq, "app_version": "0.1.0"});
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        self.post("/v1/sync/status", &body, Some(&s.bearer)).await
    }

    /// Pulls every page; returns the changes and the last cursor. A device is never sent its
    /// own changes: checked on every page.
    pub async fn pull_all(
        &self,
        s: &Session,
        cursor: Option<String>,
        limit: u32,
    ) -> (Vec<Change>, String) {
        let mut cursor = cursor;
        let mut out = Vec::new();
        loop {
            let mut body = json!({"v": 1, "limit": limit});
            if let Some(c) = &cursor {
                body["cursor"] = json!(c);
            }
            let (st, page) = self.post("/v1/sync/pull", &body, Some(&s.bearer)).await;
            assert_eq!(st, 200, "pull: {page}");
            let changes: Vec<Change> =
                serde_json::from_value(page["changes"].clone()).expect("changes");
            assert!(
                changes.iter().all(|c| c.device != s.device),
                "a device was sent its own change: {page}"
            );
            out.extend(changes);
            cursor = page["cursor"].as_str().map(str::to_string);
            if page["has_more"] != json!(true) {
                break;
            }
        }
        (out, cursor.unwrap_or_default())
    }
}

/// An enrolled, logged-in device.
#[derive(Debug, Clone)]
pub struct Session {
    pub device: DeviceId,
    pub device_token: String,
    pub user: UserId,
    pub bearer: String,
    pub next_seq: u64,
}

pub fn now_ms() -> u64 {
    district_server::model::now_ms()
}

impl Session {
    /// A change of this device and user with the next sequence number.
    pub fn change(&mut self, kind: EntityKind, id: RecordId, body: Value) -> Change {
        let seq = self.next_seq;
        self.next_seq += 1;
        Change {
            id,
            kind,
            device: self.device,
            seq,
            hlc: Hlc {
                wall_ms: now_ms() - 60_000,
                counter: u16::try_from(seq % 1000).unwrap_or(0),
            },
            author: self.user,
            schema: sync_protocol::schema::kind_since(kind),
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// A valid body of each kind for a record in `posyandu` (person refs are made up).
pub fn body_for(kind: EntityKind, posyandu: &str) -> Value {
    let p = RecordId::new_v7().to_string();
    let today = "2025-11-22";
    match kind {
        EntityKind::Household => json!({"posyandu": posyandu, "head_name": "Keluarga Contoh"}),
        EntityKind::Person => {
            json!({"posyandu": posyandu, "name": "Anak Contoh (fiktif)", "sex": "female", "birth_date": "2024-01-15"})
        }
        EntityKind::Pregnancy => json!({"posyandu": posyandu, "person": p}),
        EntityKind::Referral => {
            json!({"posyandu": posyandu, "person": p, "reason": "gizi kurang", "destination": "puskesmas", "status": "made"})
        }
        EntityKind::PosyanduSession => json!({"posyandu": posyandu, "date": today}),
        EntityKind::Visit => json!({"posyandu": posyandu, "person": p, "type": "posyandu"}),
        EntityKind::Measurement => {
            json!({"posyandu": posyandu, "person": p, "type": "weight", "value": 9.5, "unit": "kg"})
        }
        EntityKind::Immunisation => {
            json!({"posyandu": posyandu, "person": p, "vaccine": "MR1", "date": today})
        }
        EntityKind::Supplement => {
            json!({"posyandu": posyandu, "person": p, "supplement": "vitamin_a_blue", "date": today})
        }
        EntityKind::Screening => {
            json!({"posyandu": posyandu, "person": p, "instrument": "tb", "date": today, "answers": {"cough_2w": false}})
        }
        EntityKind::AncContact => {
            json!({"posyandu": posyandu, "person": p, "pregnancy": RecordId::new_v7().to_string(), "contact": 1, "date": today})
        }
        EntityKind::ReferralEvent => {
            json!({"posyandu": posyandu, "referral": p, "status": "made", "date": today})
        }
        EntityKind::Note => json!({"posyandu": posyandu, "text": "catatan contoh"}),
        EntityKind::PersonMerge => {
            json!({"posyandu": posyandu, "kept": p, "merged": RecordId::new_v7().to_string()})
        }
        EntityKind::ConflictReview => {
            json!({"posyandu": posyandu, "record": p, "field": "name", "loser": format!("0000000000000001.{}", DeviceId::new_v7()), "decision": "keep_winner"})
        }
        EntityKind::DuplicateDismissal => {
            let q = RecordId::new_v7().to_string();
            let (first, second) = if p < q { (p, q) } else { (q, p) };
            json!({"posyandu": posyandu, "first": first, "second": second, "note": "kembar"})
        }
    }
}

/// Posyandu of the demo district used by tests.
pub const MAWAR: &str = "53.04.05.2001.P01";
pub const MELATI: &str = "53.04.05.2001.P02";
/// In Halilulik, desa Tulamalae.
pub const TULAMALAE_P01: &str = "53.04.05.2002.P01";
/// In another puskesmas (Kota Atambua).
pub const ATAMBUA_P01: &str = "53.04.01.2100.P01";
