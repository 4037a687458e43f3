//! Harness: a real district server on 127.0.0.1:0 over a fresh embedded SQLite database with
//! the Belu demo district, and devices (field-core stores in temporary directories) enrolled
//! through the real API with field-core's sync client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::{AppState, Storage};
use field_core::sync::{Backoff, Enrolment, RecordingSleeper, SyncClient, SyncConfig};
use field_core::{
    ConflictKey, HouseholdInput, KdfParams, ManualClock, OpenOptions, PersonInput, Store,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use sync_protocol::merge::RecordView;
use sync_protocol::{Body, Change, EntityKind, RecordId, Replica, Role};

/// Posyandu Mawar of the demo district (Desa Naitimu, Puskesmas Halilulik).
pub const MAWAR: &str = "53.04.05.2001.P01";
/// Posyandu Melati, the other posyandu of Desa Naitimu.
pub const MELATI: &str = "53.04.05.2001.P02";
/// Desa Naitimu: Mawar and Melati (the scope of `bidan.naitimu`).
pub const NAITIMU: &str = "53.04.05.2001";
/// Posyandu Anggrek of Desa Tulamalae, the next desa (`kader.anggrek`, added by
/// [`Server::add_user`] in the tests that need it).
pub const ANGGREK: &str = "53.04.05.2002.P01";
/// Kabupaten Belu: every record of the district.
pub const DISTRICT: &str = "53.04";
pub const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;
pub const PIN: &str = "258014";

/// How much later the second of two concurrent decisions on two tablets (an edit, a merge) is
/// made, so that its stamp is the later one. Each tablet stamps by the server's clock as it
/// last read it, at an answer's arrival, so its stamps lag by that answer's latency: under a
/// loaded machine (`make test` beside builds, load 15–18) two tablets' latencies differed by
/// more than the 50 ms and 5 ms these tests once waited, and the "later" decision won.
pub const LATER: Duration = Duration::from_millis(1000);

/// Which storage the district server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a temporary directory (the default deployment).
    Sqlite,
    /// A fresh `jangkau_t_<random>` database on the PostgreSQL at 127.0.0.1:5432 (or
    /// `JANGKAU_TEST_PG`), dropped when the server is.
    Postgres,
}

/// Runs each named test body (`async fn name(backend: Backend)`) once per backend, as
/// `sqlite::name` and `postgres::name`.
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

pub struct Server {
    pub backend: Backend,
    /// The storage URL (SQLite path or PostgreSQL URL), for a restart on the same data.
    pub database_url: String,
    pg_name: Option<String>,
    pub tls: bool,
    pub store: Arc<dyn Storage>,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// The demo district on SQLite, plus a second kader of Posyandu Mawar.
    pub async fn start() -> Server {
        Self::start_with(Backend::Sqlite, false).await
    }

    /// The demo district on the given backend, plus a second kader of Posyandu Mawar.
    pub async fn start_on(backend: Backend) -> Server {
        Self::start_with(backend, false).await
    }

    /// The same over HTTPS (rustls, the test certificate in `tests/data`).
    pub async fn start_tls() -> Server {
        Self::start_with(Backend::Sqlite, true).await
    }

    async fn start_with(backend: Backend, tls: bool) -> Server {
        Self::start_configured(backend, tls, |_| {}).await
    }

    /// As [`Server::start_on`], with the server's configuration changed by `tweak`.
    pub async fn start_configured(
        backend: Backend,
        tls: bool,
        tweak: impl FnOnce(&mut Config),
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_name) = match backend {
            Backend::Sqlite => (
                dir.path().join("district.db").to_string_lossy().to_string(),
                None,
            ),
            Backend::Postgres => {
                let (name, url) = district_server::storage::postgres::scratch::create()
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432 (set JANGKAU_TEST_PG to change)");
                (url, Some(name))
            }
        };
        let store = district_server::storage::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
            .await
            .expect("demo district");
        district_server::admin::add_user(
            store.as_ref(),
            "kader.mawar2",
            "Kader Mawar Dua (test)",
            sync_protocol::Role::Kader,
            MAWAR,
            PASSWORD,
            PasswordCost::TEST,
        )
        .await
        .expect("second kader");
        let cfg = Config {
            database_url: DatabaseUrl(url.clone()),
            password_cost: PasswordCost::TEST,
            rate_limits: RateLimits {
                enrol_per_minute: 1000,
                login_per_minute: 1000,
            },
            ..Config::default()
        };
        let mut cfg = cfg;
        tweak(&mut cfg);
        let state = AppState::new(store.clone(), cfg).expect("state");
        let app = district_server::router(state);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = rx.await;
        };
        let (addr, task) = if tls {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
            let tls = district_server::config::TlsConfig {
                cert: data.join("localhost.cert.pem"),
                key: data.join("localhost.key.pem"),
            };
            let task = tokio::spawn(async move {
                let _ = district_server::http::serve_tls(
                    listener,
                    &tls,
                    app,
                    shutdown,
                    Duration::from_secs(2),
                )
                .await;
            });
            (addr, task)
        } else {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let task = tokio::spawn(async move {
                let _ = district_server::http::serve_listener(
                    listener,
                    app,
                    shutdown,
                    Duration::from_secs(2),
                )
                .await;
            });
            (addr, task)
        };
        Server {
            backend,
            database_url: url,
            pg_name,
            tls,
            store,
            addr,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The test certificate, as the district CA a client trusts.
    pub fn ca_pem() -> Vec<u8> {
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/district-ca.cert.pem"))
            .expect("test certificate")
    }

    /// Adds an account (password [`PASSWORD`]) the demo district lacks, e.g. a kader of
    /// Posyandu Anggrek in another desa.
    pub async fn add_user(&self, username: &str, role: Role, place: &str) {
        district_server::admin::add_user(
            self.store.as_ref(),
            username,
            &format!("{username} (test)"),
            role,
            place,
            PASSWORD,
            PasswordCost::TEST,
        )
        .await
        .expect("add user");
    }

    /// Every change the server holds for `scope` (a place code: what a user of that scope
    /// pulls), in server order, read through the `Storage` trait.
    pub async fn changes(&self, scope: &str) -> Vec<Change> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .pull(scope.to_string(), after, 1000)
                .await
                .expect("pull from storage");
            for (sseq, json) in &page.changes {
                out.push(serde_json::from_str(json).expect("stored change"));
                after = *sseq;
            }
            if !page.has_more {
                return out;
            }
        }
    }

    /// What the server holds for `scope`, merged by sync-protocol's reference replica.
    pub async fn view(&self, scope: &str) -> View {
        View::of_changes(&self.changes(scope).await)
    }

    pub async fn code(&self, username: &str) -> String {
        district_server::admin::issue_enrol_code(self.store.as_ref(), username, 24)
            .await
            .expect("enrolment code")
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Some(name) = self.pg_name.take() {
            let _ = district_server::storage::postgres::scratch::drop(&name).await;
        }
    }
}

impl Drop for Server {
    /// A test that failed before `stop` still drops its PostgreSQL database.
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(name) = self.pg_name.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(district_server::storage::postgres::scratch::drop(&name));
                }
            })
            .join();
        }
    }
}

/// A client whose retries do not wait (the delays are recorded).
pub fn client() -> (SyncClient, RecordingSleeper) {
    client_with(|_| {})
}

pub fn client_with(tweak: impl FnOnce(&mut SyncConfig)) -> (SyncClient, RecordingSleeper) {
    let sleeper = RecordingSleeper::default();
    let mut cfg = SyncConfig {
        app_version: "0.1.0-test".into(),
        request_timeout: Duration::from_secs(20),
        backoff: Backoff {
            max_retries: 3,
            ..Backoff::default()
        },
        ..SyncConfig::default()
    };
    tweak(&mut cfg);
    (
        SyncClient::new(cfg).with_sleeper(Arc::new(sleeper.clone())),
        sleeper,
    )
}

/// One enrolled tablet.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
    pub client: SyncClient,
    pub sleeper: RecordingSleeper,
    pub username: String,
}

pub fn opts() -> OpenOptions {
    // Cheap Argon2id for tests only (KdfParams::INSECURE_FOR_TESTS needs field-core's
    // test-support feature).
    OpenOptions::default().with_kdf(KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    })
}

impl Device {
    pub async fn enrol(server: &Server, username: &str) -> Device {
        Self::enrol_with(server, username, opts(), client()).await
    }

    pub async fn enrol_with(
        server: &Server,
        username: &str,
        opts: OpenOptions,
        client: (SyncClient, RecordingSleeper),
    ) -> Device {
        Self::enrol_at(server, &server.url(), username, opts, client).await
    }

    /// Enrols through `url` (a proxy in front of `server`).
    pub async fn enrol_at(
        server: &Server,
        url: &str,
        username: &str,
        opts: OpenOptions,
        (client, sleeper): (SyncClient, RecordingSleeper),
    ) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jangkau.db");
        let e = Enrolment {
            server_url: url.to_string(),
            code: server.code(username).await,
            device_name: format!("Tablet {username}"),
            username: username.to_string(),
            secret: PASSWORD.to_string().into(),
            pin: PIN.to_string().into(),
        };
        let store = client.enrol(&path, &e, opts).await.expect("enrol");
        Device {
            dir,
            path,
            store,
            client,
            sleeper,
            username: username.to_string(),
        }
    }

    /// Enrols a tablet whose wall clock is `clock` (set it with [`ManualClock::set`] or
    /// [`Device::set_physical`]).
    pub async fn enrol_clocked(server: &Server, username: &str, clock: &ManualClock) -> Device {
        let o = opts().with_clock(Arc::new(clock.clone()));
        Self::enrol_with(server, username, o, client()).await
    }

    /// Sets `clock` (this tablet's wall clock) so that the tablet's corrected time (wall +
    /// the offset it learned from the server) is `ms`: its next local stamp has that wall
    /// time unless it has seen a later one.
    pub fn set_physical(&self, clock: &ManualClock, ms: u64) {
        let offset = self.store.hybrid_clock().unwrap().offset_ms;
        clock.set(u64::try_from(i128::from(ms) - i128::from(offset)).unwrap());
    }

    /// The tablet's records and conflicts.
    pub fn view(&self) -> View {
        View::of_store(&self.store)
    }

    pub async fn sync(&mut self) -> field_core::sync::SyncReport {
        self.client
            .sync(&mut self.store, Some(PASSWORD))
            .await
            .expect("sync")
    }
}

pub fn household(head: &str) -> HouseholdInput {
    HouseholdInput {
        posyandu: MAWAR.into(),
        head_name: head.into(),
        dusun: Some("Dusun A".into()),
        rt: Some("001".into()),
        ..Default::default()
    }
}

pub fn person(name: &str, sex: &str, birth: &str) -> PersonInput {
    PersonInput {
        name: name.into(),
        sex: sex.into(),
        birth_date: birth.into(),
        ..Default::default()
    }
}

/// One record as a person sees it: the merged values of a mutable record, or a fact's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Rec {
    Mutable {
        kind: EntityKind,
        values: Body,
        deleted: bool,
    },
    Fact {
        kind: EntityKind,
        body: Body,
        deleted: bool,
        supersedes: Option<RecordId>,
    },
}

impl Rec {
    pub fn posyandu(&self) -> Option<&str> {
        match self {
            Rec::Mutable { values: b, .. } | Rec::Fact { body: b, .. } => {
                b.get("posyandu").and_then(serde_json::Value::as_str)
            }
        }
    }

    pub fn kind(&self) -> EntityKind {
        match self {
            Rec::Mutable { kind, .. } | Rec::Fact { kind, .. } => *kind,
        }
    }

    pub fn deleted(&self) -> bool {
        match self {
            Rec::Mutable { deleted, .. } | Rec::Fact { deleted, .. } => *deleted,
        }
    }
}

/// Everything a replica holds, comparable between a tablet (read from its tables) and the
/// server (its change log merged by `sync_protocol::Replica`): every record by id, and every
/// conflict by its key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    pub records: BTreeMap<RecordId, Rec>,
    pub conflicts: BTreeSet<ConflictKey>,
}

impl View {
    /// The merged state of a set of changes (each with its real device sequence number).
    pub fn of_changes(changes: &[Change]) -> View {
        let mut r = Replica::new();
        for c in changes {
            r.apply(c).expect("server change applies");
        }
        let records = r
            .view()
            .into_iter()
            .map(|(id, v)| {
                let rec = match v {
                    RecordView::Mutable {
                        kind,
                        values,
                        deleted,
                    } => Rec::Mutable {
                        kind,
                        values,
                        deleted,
                    },
                    RecordView::Fact {
                        kind,
                        body,
                        deleted,
                        supersedes,
                        ..
                    } => Rec::Fact {
                        kind,
                        body: body.unwrap_or_default(),
                        deleted,
                        supersedes,
                    },
                };
                (id, rec)
            })
            .collect();
        let conflicts = r.conflicts().iter().map(ConflictKey::of).collect();
        View { records, conflicts }
    }

    /// What a tablet holds: its merged tables (`households`, `persons`, `pregnancies`,
    /// `referrals`, `facts`) and its conflicts, reviewed or not.
    pub fn of_store(store: &Store) -> View {
        let conn = store.connection();
        let mut records = BTreeMap::new();
        for (table, kind) in [
            ("households", EntityKind::Household),
            ("persons", EntityKind::Person),
            ("pregnancies", EntityKind::Pregnancy),
            ("referrals", EntityKind::Referral),
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT id, values_json, deleted FROM {table}"))
                .unwrap();
            let rows = stmt
                .query_map((), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                })
                .unwrap();
            for row in rows {
                let (id, values, deleted) = row.unwrap();
                let rec = Rec::Mutable {
                    kind,
                    values: serde_json::from_str(&values).unwrap(),
                    deleted,
                };
                assert!(records.insert(id.parse().unwrap(), rec).is_none());
            }
        }
        let mut stmt = conn
            .prepare("SELECT id, kind, body_json, deleted, supersedes FROM facts")
            .unwrap();
        let rows = stmt
            .query_map((), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (id, kind, body, deleted, supersedes) = row.unwrap();
            let rec = Rec::Fact {
                kind: serde_json::from_value(serde_json::Value::String(kind)).unwrap(),
                body: serde_json::from_str(&body).unwrap(),
                deleted,
                supersedes: supersedes.map(|s| s.parse().unwrap()),
            };
            assert!(records.insert(id.parse().unwrap(), rec).is_none());
        }
        let conflicts = store
            .all_conflicts()
            .unwrap()
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        View { records, conflicts }
    }

    /// The records (and their conflicts) of these posyandu only.
    pub fn within(&self, posyandu: &[&str]) -> View {
        let records: BTreeMap<_, _> = self
            .records
            .iter()
            .filter(|(_, r)| r.posyandu().is_some_and(|p| posyandu.contains(&p)))
            .map(|(id, r)| (*id, r.clone()))
            .collect();
        let conflicts = self
            .conflicts
            .iter()
            .filter(|k| records.contains_key(&k.record))
            .cloned()
            .collect();
        View { records, conflicts }
    }

    /// The posyandu the records name.
    pub fn posyandu(&self) -> BTreeSet<String> {
        self.records
            .values()
            .map(|r| r.posyandu().unwrap_or("<none>").to_string())
            .collect()
    }

    /// The live facts of a kind about a person.
    pub fn facts_of(&self, kind: EntityKind, person: RecordId) -> BTreeSet<RecordId> {
        let p = serde_json::Value::String(person.to_string());
        self.records
            .iter()
            .filter(|(_, r)| {
                matches!(r, Rec::Fact { kind: k, body, deleted: false, .. }
                    if *k == kind && body.get("person") == Some(&p))
            })
            .map(|(id, _)| *id)
            .collect()
    }
}

/// Asserts two views are equal, naming the first record that differs.
#[track_caller]
pub fn assert_same(what: &str, a: &View, b: &View) {
    for (id, r) in &a.records {
        assert_eq!(Some(r), b.records.get(id), "{what}: record {id}");
    }
    for id in b.records.keys() {
        assert!(a.records.contains_key(id), "{what}: extra record {id}");
    }
    assert_eq!(a.conflicts, b.conflicts, "{what}: conflicts");
}

/// A TCP proxy in front of the server that can cut every connection at once and refuse new
/// ones until it is switched back on: a 2G link dropping in the middle of a sync.
pub struct Proxy {
    pub addr: SocketAddr,
    down: Arc<std::sync::atomic::AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = c.notified() => {}
                    }
                });
            }
        });
        Proxy { addr, down, cut }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every open connection and refuses new ones (callable from a sync event).
    pub fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn handle(&self) -> (Arc<std::sync::atomic::AtomicBool>, Arc<tokio::sync::Notify>) {
        (self.down.clone(), self.cut.clone())
    }
}
