//! A sync run (section 9 of `docs/sync-protocol.md`): status, push in batches, pull pages,
//! with retries, re-login and a lock so only one run works on a database at a time.

use super::account::{Revoked, ensure_tables};
use super::backoff::{Backoff, Sleeper, TokioSleeper};
use super::error::SyncError;
use super::pace::PullPace;
use super::transport::{Auth, Transport, TrustRoots, encode};
use crate::keyring::LocalUser;
use crate::store::{OpenOptions, Sealing, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_protocol::{
    DeviceId, EnrolRequest, EnrolResponse, LoginRequest, LoginResponse, PROTOCOL_VERSION,
    PlacesResponse, PullRequest, PullResponse, PushResponse, StatusRequest, StatusResponse,
    WireMessage,
};
use zeroize::Zeroizing;

/// How the client talks to the server.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Sent in every status call and at enrolment (shown to admins).
    pub app_version: String,
    /// Most changes in one push (also capped by the server's `max_batch`).
    pub push_batch: usize,
    /// Most bytes of one push body on the wire (zstd-compressed, as sent): a batch is closed
    /// before it would pass this (also capped by the server's `max_compressed`). A single
    /// change larger than this still goes, alone.
    pub push_batch_bytes: usize,
    /// Changes per pull page asked for at first: pages of this size stay on a slow link.
    pub pull_limit: u32,
    /// The largest page a run grows to while full pages come back fast (also capped by the
    /// server's `max_batch`); at or below `pull_limit`, every page asks for `pull_limit`.
    /// See `sync/pace.rs`.
    pub pull_limit_max: u32,
    /// Pages grow while a page twice as large is expected within this; an answer that
    /// takes four times this sends them back to `pull_limit` (see `sync/pace.rs`).
    pub pull_grow_below: Duration,
    /// Ask for the next pull page while a page is applied (off: one request after the
    /// other, as before; for comparisons).
    pub pull_ahead: bool,
    /// Send the next push while the answer to one is recorded (after an answer that took
    /// every change of its batch; off: one after the other, as before; for comparisons).
    pub push_ahead: bool,
    /// [`SyncClient::enrol`] pulls the first pages of the user's area into the new store
    /// while the PIN's Argon2id seals its key, and the sync that follows goes on from there
    /// (with the page then in flight). For callers that sync right after enrolling (the app);
    /// a caller that does not (the CLI's `enrol`) turns it off, or the pages pulled would
    /// leave a first sync in bulk unfinished until the next unlock ends it.
    pub pull_while_sealing: bool,
    pub trust: TrustRoots,
    /// Time limit of one request.
    pub request_timeout: Duration,
    pub backoff: Backoff,
}

/// 48 KiB: about 6 s of upload at 64 kbit/s (2G), so one push stays far inside the request
/// timeout (60 s) even at a quarter of that rate, and a connection lost mid-push costs at
/// most a few seconds of airtime to send again; yet a whole posyandu day fits in one push.
pub const DEFAULT_PUSH_BATCH_BYTES: usize = 48 * 1024;

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            // A posyandu day (about 300 changes, about 10 KB compressed) goes in one push; the
            // byte budget decides for larger outboxes.
            push_batch: 1_000,
            push_batch_bytes: DEFAULT_PUSH_BATCH_BYTES,
            pull_limit: 500,
            // About 32 KB of zstd (0.25 s of 1 Mbit/s): a quarter of the page commits of 500
            // on a fast link. Pages of 2,000 halve them again, but a fresh tablet's first
            // sync then peaks 6 MiB higher (a decoded page applied and the next one in
            // flight; docs/BENCHMARKS.md).
            pull_limit_max: 1_000,
            pull_grow_below: super::pace::GROW_BELOW,
            pull_ahead: true,
            push_ahead: true,
            pull_while_sealing: true,
            trust: TrustRoots::WebPki,
            request_timeout: Duration::from_secs(60),
            backoff: Backoff::default(),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SyncPhase {
    /// Asking the server whether there is anything to do.
    Status,
    LoggingIn,
    Pushing,
    Pulling,
    /// Waiting before retrying a request that failed for a passing reason.
    Retrying {
        attempt: u32,
        delay_ms: u64,
        key: String,
    },
    /// Nothing to send, nothing to receive (one round trip).
    UpToDate,
    Done,
    Failed {
        key: String,
    },
}

/// A progress report: the phase, changes waiting to go, sent and received so far in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncEvent {
    #[serde(flatten)]
    pub phase: SyncPhase,
    pub waiting: u64,
    pub sent: u64,
    pub received: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The status call said there was nothing to do.
    pub up_to_date: bool,
    /// Changes the server accepted (or had already) in this run.
    pub sent: u64,
    /// Changes the server refused for good in this run (kept on the tablet with the reason).
    pub rejected: u64,
    /// Changes given fresh stamps after `clock_ahead`.
    pub restamped: u64,
    /// Pulled changes applied.
    pub received: u64,
    /// Pulled changes skipped as contradictory.
    pub skipped: u64,
    pub push_requests: u32,
    pub pull_requests: u32,
    /// Every request of the run, retries included.
    pub requests: u32,
    pub retries: u32,
    /// Changes still waiting to go after the run.
    pub waiting: u64,
    pub conflicts_open: u64,
    /// Set when a pull answer was too large for this tablet and the run asked for fewer
    /// changes per page: the last `limit` it used.
    pub pull_limit_lowered_to: Option<u32>,
    /// The largest `limit` a pull page asked for in this run (0: no pull).
    pub pull_limit_largest: u32,
    /// Titip bundles carried for other tablets handed to the server in this run (their
    /// sealed answers kept for `collect`), and the ones it refused.
    pub titip_handed: u64,
    pub titip_refused: u64,
    /// Likely-duplicate pairs the server sent (`None`: not asked, or no answer, e.g. an
    /// older server's 404).
    pub server_duplicates: Option<u64>,
    /// Where the run's wall time went.
    pub timing: RunTimes,
    /// Each pull page of the run, in order: when it was asked for, decoded and applied (a
    /// timeline for benchmarks; not sent to the screens).
    #[serde(skip)]
    pub pages: Vec<PageTimes>,
}

/// One pull page of a run: its size and, from the run's start, when its request was sent,
/// when its answer was decoded, and when its apply (with its cursor, commit included) began
/// and ended. A page asked for ahead was sent while the page before it was applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PageTimes {
    pub changes: u32,
    pub asked: Duration,
    pub decoded: Duration,
    /// Decompressing and parsing its answer (the end of `asked..decoded`).
    pub decode: Duration,
    pub apply_start: Duration,
    pub apply_end: Duration,
}

/// Where an enrolment's wall time went ([`SyncClient::last_enrol_times`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EnrolTimes {
    /// The enrolment and login requests (retries included).
    pub requests: Duration,
    /// Making the encrypted store: the new database and its schema (the PIN's Argon2id runs
    /// beside it and what follows, until `seal_wait`).
    pub create: Duration,
    /// Keeping the device token, titip keys, session and clock in the store.
    pub save: Duration,
    /// The places of the user's area (`GET /v1/places`) and their merge.
    pub places: Duration,
    /// Pulling pages while the key was sealed ([`SyncConfig::pull_while_sealing`]).
    pub pull: Duration,
    /// Changes those pages brought, applied and skipped, and their requests.
    pub pulled: u64,
    pub pulled_skipped: u64,
    pub pull_requests: u32,
    /// Waiting for the seal's end, saving the keyring and moving the store to its name.
    pub seal_wait: Duration,
}

/// Where a run's wall time went, summed over its requests. With pipelined pull pages the
/// fetch of a page overlaps the apply of the one before it: `pull_wait` is what the run
/// waited for pages, `pull_fetch` what the requests took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunTimes {
    /// Reading pending changes from the outbox and encoding push bodies.
    pub push_prepare: Duration,
    /// Push requests, sent to answer decoded (the server's ingest and commit included).
    pub push_wait: Duration,
    /// Recording push outcomes (one transaction per push, commit included).
    pub push_store: Duration,
    /// Waiting for pull pages (a page fetched while the one before was applied costs only
    /// what was left of its request).
    pub pull_wait: Duration,
    /// Pull requests, asked to page decoded (the server's page cut and compression, the
    /// transfer, decoding), whether waited for or not.
    pub pull_fetch: Duration,
    /// Decompressing and parsing pull pages (a part of `pull_fetch`).
    pub pull_decode: Duration,
    /// Applying pull pages, each with its cursor in one transaction, commit included.
    pub pull_apply: Duration,
}

type EventSink = Arc<dyn Fn(&SyncEvent) + Send + Sync>;

/// The sync client: enrolment, login and sync runs against one district server.
#[derive(Clone)]
pub struct SyncClient {
    cfg: SyncConfig,
    sleeper: Arc<dyn Sleeper>,
    events: Option<EventSink>,
    /// The counts of the last event (waiting, sent, received), repeated by retry events.
    last_counts: Arc<std::sync::Mutex<(u64, u64, u64)>>,
    /// Where the last enrolment's time went, and its pages pulled while sealing.
    last_enrol: Arc<std::sync::Mutex<(EnrolTimes, Vec<PageTimes>)>>,
    /// The pull page an enrolment left in flight when the seal ended, with its run's pace,
    /// for the next sync of that device to take up.
    handed_on: Arc<std::sync::Mutex<Option<HandedOn>>>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// What enrolling a tablet needs.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub server_url: String,
    /// The one-time code an admin issued (case and dashes are ignored).
    pub code: String,
    /// A name for the tablet, shown to admins.
    pub device_name: String,
    pub username: String,
    /// The user's server password or PIN (for the login that follows).
    pub secret: Zeroizing<String>,
    /// The PIN that unlocks the tablet's database offline (may equal `secret`).
    pub pin: Zeroizing<String>,
}

impl SyncClient {
    pub fn new(cfg: SyncConfig) -> Self {
        Self {
            cfg,
            sleeper: Arc::new(TokioSleeper),
            events: None,
            last_counts: Arc::default(),
            last_enrol: Arc::default(),
            handed_on: Arc::default(),
        }
    }

    /// Where the last [`Self::enrol`] of this client (or a clone) spent its time; zero before.
    pub fn last_enrol_times(&self) -> EnrolTimes {
        self.last_enrol.lock().map(|t| t.0).unwrap_or_default()
    }

    /// The pages the last [`Self::enrol`] pulled while the key was sealed, their times from
    /// the enrolment's start.
    pub fn last_enrol_pages(&self) -> Vec<PageTimes> {
        self.last_enrol
            .lock()
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }

    /// Replaces the sleeper used between retries (tests: [`super::RecordingSleeper`]).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Calls `f` with every progress event (wrap a `tokio::sync::mpsc` sender for a channel).
    pub fn on_event(mut self, f: impl Fn(&SyncEvent) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(f));
        self
    }

    /// Sends every progress event into a tokio channel (dropped events are ignored when the
    /// receiver is gone).
    pub fn with_channel(self, tx: tokio::sync::mpsc::UnboundedSender<SyncEvent>) -> Self {
        self.on_event(move |e| {
            let _ = tx.send(e.clone());
        })
    }

    pub fn config(&self) -> &SyncConfig {
        &self.cfg
    }

    fn transport(&self, server: &str) -> Result<Transport, SyncError> {
        Transport::new(server, &self.cfg.trust, self.cfg.request_timeout)
    }

    fn emit(&self, phase: SyncPhase, waiting: u64, sent: u64, received: u64) {
        let (waiting, sent, received) = match (&phase, self.last_counts.lock()) {
            (SyncPhase::Retrying { .. }, Ok(last)) => *last,
            (_, Ok(mut last)) => {
                *last = (waiting, sent, received);
                (waiting, sent, received)
            }
            (_, Err(_)) => (waiting, sent, received),
        };
        if let Some(f) = &self.events {
            f(&SyncEvent {
                phase,
                waiting,
                sent,
                received,
            });
        }
    }

    /// Enrols this tablet with a one-time code, logs the user in and creates the encrypted
    /// database at `path`, with the device token and session kept inside it, and the places
    /// of the user's area when the server offers them (see [`Self::refresh_places`]).
    ///
    /// The code is used up by the first request: when the login that follows fails (a
    /// wrong password), the admin must issue a new code.
    pub async fn enrol(
        &self,
        path: &Path,
        e: &Enrolment,
        opts: OpenOptions,
    ) -> Result<Store, SyncError> {
        if path.exists() {
            return Err(SyncError::Store(crate::error::StoreError::AlreadyExists(
                path.display().to_string(),
            )));
        }
        // Checked before the code is used up (the keyring checks it again).
        crate::keyring::check_pin(&e.pin)?;
        let started = Instant::now();
        let t = self.transport(&e.server_url)?;
        // The tablet's titip key pair: its public half registered with the device.
        let titip = super::relay::new_key_pair();
        let mut req = EnrolRequest {
            v: PROTOCOL_VERSION,
            code: e.code.trim().to_string(),
            device_name: e.device_name.clone(),
            app_version: self.cfg.app_version.clone(),
            titip: Some(titip.public()),
        };
        let enrolled: EnrolResponse = match self
            .with_retries(&mut 0, || t.call("/v1/enrol", Auth::None, &req))
            .await
        {
            // A server older than titip refuses the field: enrol without it.
            Err(SyncError::Server { body, .. })
                if body.code == sync_protocol::ErrorCode::MalformedBody =>
            {
                req.titip = None;
                self.with_retries(&mut 0, || t.call("/v1/enrol", Auth::None, &req))
                    .await?
            }
            other => other?,
        };
        let token = Zeroizing::new(enrolled.device_token);
        // A new tablet has stamped nothing yet: the server's clock starts the first window.
        let req = LoginRequest {
            v: PROTOCOL_VERSION,
            username: e.username.trim().to_string(),
            secret: e.secret.to_string(),
            hlc: None,
        };
        let login: LoginResponse = self
            .with_retries(&mut 0, || t.call("/v1/login", Auth::Device(&token), &req))
            .await?;
        let user = LocalUser {
            user_id: login.user_id,
            username: e.username.trim().to_lowercase(),
            display_name: login.display_name.clone(),
            role: role_str(&login)?,
        };
        let mut times = EnrolTimes {
            requests: started.elapsed(),
            ..EnrolTimes::default()
        };
        // The PIN's Argon2id seal of the new key runs on a thread of its own while the store
        // is built under a temporary name, filled and (`pull_while_sealing`) given its first
        // pages; it takes its name once the keyring is saved (`Store::create_sealing`). A cut
        // before that leaves no database at `path`, as a cut during the seal always did.
        let step = Instant::now();
        let (mut store, sealing) =
            Store::create_sealing(path, enrolled.device_id, &user, &e.pin, opts)?;
        times.create = step.elapsed();
        let step = Instant::now();
        store.save_enrolment(&e.server_url, &token, &e.device_name)?;
        if let Some(server) = &enrolled.titip {
            store.save_titip_keys(&titip, server)?;
        }
        store.save_session(&login.session_token, login.expires_at, &login.scope)?;
        store.calibrate_clock(login.server_time)?;
        times.save = step.elapsed();
        let step = Instant::now();
        self.places_after_login(&mut store, &t, &login.session_token)
            .await;
        times.places = step.elapsed();
        let mut pages = Vec::new();
        if self.cfg.pull_while_sealing && !sealing.is_done() {
            let step = Instant::now();
            let mut run = Run {
                started,
                t: t.clone(),
                device_token: token.clone(),
                secret: Some(Zeroizing::new(e.secret.to_string())),
                relogged: false,
                report: SyncReport::default(),
            };
            match self.pull(&mut store, &mut run, Some(&sealing)).await {
                Ok(Some(left)) => {
                    if let Ok(mut h) = self.handed_on.lock() {
                        *h = Some(left);
                    }
                }
                Ok(None) => {}
                // Never a reason to fail the enrolment: the sync that follows pulls again
                // from the last page applied. A first sync in bulk begun here is ended as a
                // sync's failed pull ends it.
                Err(_) => {
                    let _ = store.finish_bulk_sync();
                }
            }
            times.pull = step.elapsed();
            times.pulled = run.report.received;
            times.pulled_skipped = run.report.skipped;
            times.pull_requests = run.report.pull_requests;
            pages = run.report.pages;
        }
        let step = Instant::now();
        let store = sealing.finish(store)?;
        times.seal_wait = step.elapsed();
        if let Ok(mut last) = self.last_enrol.lock() {
            *last = (times, pages);
        }
        Ok(store)
    }

    /// Asks the server for the places of the logged-in user's area (`GET /v1/places`) with
    /// their session, and adds them to the places this tablet knows, in one transaction.
    /// Returns how many places the server sent. One attempt, no retries.
    ///
    /// Every login (enrolment, [`Self::login`], a new login inside a sync run,
    /// [`Self::add_user`]) does this by itself and ignores its failure; an ordinary sync
    /// never does. A server older than this request answers 404: a
    /// [`SyncError::Server`] with status 404, and the places stay as they were.
    pub async fn refresh_places(&self, store: &mut Store) -> Result<usize, SyncError> {
        let creds = store.credentials()?.ok_or(SyncError::NotEnrolled)?;
        if let Some(r) = creds.revoked {
            return Err(SyncError::DeviceRevoked { message: r.message });
        }
        let (token, _) = store.session()?.ok_or(SyncError::LoginRequired)?;
        let t = self.transport(&creds.server_url)?;
        self.fetch_places(store, &t, &token).await
    }

    /// `GET /v1/places` with the session `token`; the answer merged into the store.
    async fn fetch_places(
        &self,
        store: &mut Store,
        t: &Transport,
        token: &str,
    ) -> Result<usize, SyncError> {
        let resp: PlacesResponse = t.get("/v1/places", Auth::Bearer(token)).await?;
        let places: Vec<crate::Place> = resp.places.into_iter().map(Into::into).collect();
        store.merge_places(&places)?;
        Ok(places.len())
    }

    /// The places, right after a successful login. Their failure does not fail the login:
    /// an older server (404), a lost connection or a refusal leaves the places the tablet
    /// holds as they were, and the next login asks again. Place names are a convenience;
    /// the records and the user's scope come from the login and the sync.
    pub(super) async fn places_after_login(&self, store: &mut Store, t: &Transport, token: &str) {
        // Ignored on purpose (see above): the login has succeeded and stays so.
        let _ = self.fetch_places(store, t, token).await;
    }

    /// Logs the store's user in again (after `LoginRequired`), keeping the new session and
    /// refreshing the places of the user's area.
    pub async fn login(&self, store: &mut Store, secret: &str) -> Result<(), SyncError> {
        let creds = store.credentials()?.ok_or(SyncError::NotEnrolled)?;
        if let Some(r) = creds.revoked {
            return Err(SyncError::DeviceRevoked { message: r.message });
        }
        let t = self.transport(&creds.server_url)?;
        self.login_with(store, &t, &creds.device_token, secret)
            .await
    }

    async fn login_with(
        &self,
        store: &mut Store,
        t: &Transport,
        device_token: &str,
        secret: &str,
    ) -> Result<(), SyncError> {
        let username = store.user().username.clone();
        let req = LoginRequest {
            v: PROTOCOL_VERSION,
            username,
            secret: secret.to_string(),
            hlc: Some(store.hybrid_clock()?.last),
        };
        let resp: Result<LoginResponse, SyncError> = self
            .with_retries(&mut 0, || {
                t.call("/v1/login", Auth::Device(device_token), &req)
            })
            .await;
        let login = match resp {
            Ok(l) => l,
            Err(SyncError::DeviceRevoked { message }) => {
                store.mark_revoked(&message)?;
                return Err(SyncError::DeviceRevoked { message });
            }
            Err(e) => return Err(e),
        };
        if login.user_id != store.user().user_id {
            return Err(SyncError::WrongUser {
                expected: store.user().user_id.to_string(),
                got: login.user_id.to_string(),
            });
        }
        store.save_session(&login.session_token, login.expires_at, &login.scope)?;
        store.calibrate_clock(login.server_time)?;
        self.places_after_login(store, t, &login.session_token)
            .await;
        Ok(())
    }

    /// Runs `call` until it succeeds, fails for good, or the retries are used up; counts
    /// retries in `retries`.
    async fn with_retries<T, F, Fut>(&self, retries: &mut u32, mut call: F) -> Result<T, SyncError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SyncError>>,
    {
        let mut attempt = 0u32;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && attempt < self.cfg.backoff.max_retries => {
                    let delay = self.cfg.backoff.next_delay(attempt, e.retry_after_s());
                    self.emit(
                        SyncPhase::Retrying {
                            attempt: attempt + 1,
                            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                            key: e.message_key().to_string(),
                        },
                        0,
                        0,
                        0,
                    );
                    self.sleeper.sleep(delay).await;
                    attempt += 1;
                    *retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One sync run for the user who unlocked `store`. `secret` (the user's server password
    /// or PIN), when given, lets the run log in again by itself after `session_expired`;
    /// without it such a run ends with [`SyncError::LoginRequired`].
    ///
    /// Single-instance: a second run on the same database (another process, or another
    /// `Store` in this one) fails at once with [`SyncError::AlreadyRunning`]. Every step is
    /// safe to repeat, so a run cut off anywhere is finished by the next one.
    pub async fn sync(
        &self,
        store: &mut Store,
        secret: Option<&str>,
    ) -> Result<SyncReport, SyncError> {
        let started = Instant::now();
        let _lock = SyncLock::acquire(store.path())?;
        ensure_tables(store)?;
        let creds = store.credentials()?.ok_or(SyncError::NotEnrolled)?;
        if let Some(Revoked { message, .. }) = creds.revoked {
            return Err(SyncError::DeviceRevoked { message });
        }
        let mut run = Run {
            started,
            t: self.transport(&creds.server_url)?,
            device_token: creds.device_token,
            secret: secret.map(|s| Zeroizing::new(s.to_string())),
            relogged: false,
            report: SyncReport::default(),
        };
        let mut result = self.run(store, &mut run).await;
        if result.is_ok() {
            // Bundles carried for other tablets go with this tablet's own sync.
            result = self.hand_over_carried(store, &mut run).await;
        }
        match &result {
            Ok(_) => store.record_attempt(None)?,
            Err(e) => {
                if let SyncError::DeviceRevoked { message } = e {
                    store.mark_revoked(message)?;
                }
                store.record_attempt(Some((e.message_key(), &e.to_string())))?;
                let c = store.sync_counts()?;
                self.emit(
                    SyncPhase::Failed {
                        key: e.message_key().to_string(),
                    },
                    c.pending,
                    run.report.sent,
                    run.report.received,
                );
            }
        }
        result
    }

    async fn run(&self, store: &mut Store, run: &mut Run) -> Result<SyncReport, SyncError> {
        let waiting = store.sync_counts()?.pending;
        self.emit(SyncPhase::Status, waiting, 0, 0);
        // No session, or one that ended by the server's clock: log in first (when the
        // secret is known) rather than spend a round trip on a 401.
        let ended = match store.session()? {
            None => true,
            Some((_, expires_at)) => {
                let now = store.hybrid_clock()?.physical_ms(store.clock.now_ms());
                expires_at <= now
            }
        };
        if ended && (run.secret.is_some() || store.session()?.is_none()) {
            self.relogin(store, run).await?;
        }
        let last_seq = store.last_seq()?;
        let status: StatusResponse = self
            .request(
                store,
                run,
                "/v1/sync/status",
                &StatusRequest {
                    v: PROTOCOL_VERSION,
                    last_seq,
                    cursor: store.pull_cursor()?,
                    app_version: self.cfg.app_version.clone(),
                },
            )
            .await?;
        run.t.limits = status.limits;
        store.calibrate_clock(status.server_time)?;
        // A tablet enrolled before titip gets its keys now. Never a reason to stop a sync:
        // an older server (404) or a lost answer is tried again at the next sync.
        let _ = super::relay::register_late_keys(store, &run.t, &run.device_token).await;
        store.set_acked_seq(status.acked_seq)?;
        if status.acked_seq > last_seq {
            // Restored from an old backup: the server settled numbers this device reused.
            store.record_status(status.acked_seq)?;
        }
        if status.up_to_date && waiting == 0 {
            run.report.up_to_date = true;
            self.server_duplicates(store, run).await;
            run.report.conflicts_open = store.sync_counts()?.open_conflicts;
            self.emit(SyncPhase::UpToDate, 0, 0, 0);
            return Ok(run.report.clone());
        }

        // Push, oldest first, in batches sized for the link and the server's limits: at most
        // `push_batch` changes and `push_batch_bytes` on the wire.
        let batch_max = self.cfg.push_batch.clamp(1, status.limits.max_batch.max(1));
        let budget = self
            .cfg
            .push_batch_bytes
            .clamp(1, status.limits.max_compressed.max(1));
        let mut stalled = 0;
        // Changes of another user of the tablet that wait for her own session
        // (`awaits_author`): left in the outbox, not sent again in this run.
        let mut awaiting = std::collections::HashSet::new();
        // The next batch, read and sent while the answer to the one before is recorded
        // (only after an answer that took every change of its batch).
        let mut ahead: Option<(PushBatch, AbortOnDrop<Done<PushResponse>>)> = None;
        loop {
            let (batch, task) = match ahead.take() {
                Some((b, task)) => (b, Some(task)),
                None => {
                    let prepared = Instant::now();
                    let b = next_push_batch(store, batch_max, budget, &awaiting, None)?;
                    run.report.timing.push_prepare += prepared.elapsed();
                    match b {
                        Some(b) => (b, None),
                        None => break,
                    }
                }
            };
            if task.is_none() {
                // (A batch sent ahead had its event just before it was sent.)
                self.emit(
                    SyncPhase::Pushing,
                    batch.waiting,
                    run.report.sent,
                    run.report.received,
                );
            }
            let asked = Instant::now();
            let resp: PushResponse = match task {
                Some(task) => {
                    self.join_ahead(store, run, task, PUSH, &batch.body)
                        .await?
                        .0
                }
                None => self.request_encoded(store, run, PUSH, &batch.body).await?.0,
            };
            run.report.timing.push_wait += asked.elapsed();
            run.report.push_requests += 1;
            let clean = resp.outcomes.iter().all(|o| {
                matches!(
                    o.status,
                    sync_protocol::OutcomeStatus::Accepted
                        | sync_protocol::OutcomeStatus::Duplicate
                )
            });
            if clean && self.cfg.push_ahead {
                // Every change of this batch was taken: the next one (the pending changes
                // after it) goes to the server while this answer is recorded.
                let prepared = Instant::now();
                let next = next_push_batch(store, batch_max, budget, &awaiting, batch.last)?;
                run.report.timing.push_prepare += prepared.elapsed();
                if let Some(b) = next {
                    // The progress event comes before its request, as for every push.
                    self.emit(
                        SyncPhase::Pushing,
                        b.waiting,
                        run.report.sent,
                        run.report.received,
                    );
                    let task = self.ask_ahead::<PushResponse>(store, run, PUSH, b.body.clone())?;
                    ahead = Some((b, task));
                }
            }
            let stored = Instant::now();
            // The outcomes and the server's `acked_seq` in one transaction.
            let r = store.record_push_answer(&resp)?;
            run.report.timing.push_store += stored.elapsed();
            run.report.sent += r.sent as u64;
            run.report.rejected += r.rejected as u64;
            run.report.restamped += r.restamped as u64;
            awaiting.extend(r.awaiting.iter().copied());
            let settled_none = r.sent + r.rejected + r.awaiting.len() == 0;
            if settled_none
                && store
                    .pending_changes_except(1, &awaiting)?
                    .first()
                    .map(|c| c.seq)
                    == batch.first
            {
                // Only retryable refusals: the clock was repaired and the changes
                // re-stamped; a few rounds settle it, more means something else is wrong.
                stalled += 1;
                if stalled >= 3 {
                    return Err(SyncError::Stuck(format!(
                        "{} changes answered clock_ahead {stalled} times",
                        r.retry
                    )));
                }
            } else {
                stalled = 0;
            }
        }

        // Pull every page, each applied with its cursor in one transaction. A first sync may
        // run in bulk (`store/bulk.rs`); a pull that stops on an error ends it here, so the
        // store never stays without its indexes after this run.
        if status.pull_pending {
            let pulled = self.pull(store, run, None).await.map(drop);
            if pulled.is_err() {
                // The error that stopped the pull is the one to report.
                let _ = store.finish_bulk_sync();
            }
            pulled?;
        }
        self.server_duplicates(store, run).await;
        let counts = store.sync_counts()?;
        run.report.waiting = counts.pending;
        run.report.conflicts_open = counts.open_conflicts;
        self.emit(
            SyncPhase::Done,
            counts.pending,
            run.report.sent,
            run.report.received,
        );
        Ok(run.report.clone())
    }

    /// Pulls every page, each applied with its cursor in one transaction. The next page is
    /// asked for (its cursor is in the page's answer) while a page is applied, so the server's
    /// work and the transfer overlap the tablet's; the page size follows the link
    /// ([`PullPace`]). An answer over the limits this client accepts (a server that cuts
    /// pages by count only) is asked for again with half the `limit`, down to one change; the
    /// smaller limit stays for the rest of the run.
    ///
    /// With `until` (an enrolment's [`Sealing`]), the pull stops after the page applied when
    /// the seal has ended, and returns the page then asked for ahead, if any, with the pace,
    /// for the next run of this device ([`HandedOn`]); without, it takes up such a page first.
    async fn pull(
        &self,
        store: &mut Store,
        run: &mut Run,
        until: Option<&Sealing>,
    ) -> Result<Option<HandedOn>, SyncError> {
        let mut pace = PullPace::new(
            self.cfg.pull_limit,
            self.cfg.pull_limit_max,
            run.t.limits.max_batch,
            self.cfg.pull_grow_below,
        );
        let mut ahead: Option<Ahead> = None;
        if until.is_none() {
            let left = self.handed_on.lock().ok().and_then(|mut h| h.take());
            if let Some(h) = left.filter(|h| h.device == store.device_id()) {
                pace = h.pace;
                ahead = Some(h.ahead);
            }
        }
        loop {
            let cursor = store.pull_cursor()?;
            let limit = pace.limit();
            run.report.pull_limit_largest = run.report.pull_limit_largest.max(limit);
            let wanted = Instant::now();
            let mut asked = wanted;
            let fetched = match ahead.take() {
                Some(a) if a.cursor == cursor && a.limit == limit => {
                    asked = a.asked;
                    self.join_ahead(store, run, a.task, PULL, &a.body)
                        .await
                        .map(|(page, decode, took, retried)| Fetched {
                            page,
                            decode,
                            took,
                            retried,
                        })
                }
                _ => {
                    let waiting = pending_count(store)?;
                    self.emit(
                        SyncPhase::Pulling,
                        waiting,
                        run.report.sent,
                        run.report.received,
                    );
                    let body = encode(&PullRequest {
                        v: PROTOCOL_VERSION,
                        cursor,
                        limit,
                    })?;
                    let retries = run.report.retries;
                    self.request_encoded(store, run, PULL, &body)
                        .await
                        .map(|(page, decode)| Fetched {
                            page,
                            decode,
                            took: wanted.elapsed(),
                            retried: run.report.retries > retries,
                        })
                }
            };
            run.report.timing.pull_wait += wanted.elapsed();
            let f = match fetched {
                Err(SyncError::AnswerTooLarge(_)) if pace.too_large() => {
                    run.report.pull_limit_lowered_to = Some(pace.limit());
                    continue;
                }
                other => other?,
            };
            run.report.pull_requests += 1;
            run.report.timing.pull_fetch += f.took;
            run.report.timing.pull_decode += f.decode;
            let page = f.page;
            pace.answered(page.changes.len(), page.has_more, f.took, f.retried);
            if page.has_more && self.cfg.pull_ahead {
                self.emit(
                    SyncPhase::Pulling,
                    pending_count(store)?,
                    run.report.sent,
                    run.report.received,
                );
                let cursor = Some(page.cursor.clone());
                let limit = pace.limit();
                let body = encode(&PullRequest {
                    v: PROTOCOL_VERSION,
                    cursor: cursor.clone(),
                    limit,
                })?;
                let task = self.ask_ahead::<PullResponse>(store, run, PULL, body.clone())?;
                ahead = Some(Ahead {
                    cursor,
                    limit,
                    body,
                    asked: Instant::now(),
                    task,
                });
            }
            let applying = Instant::now();
            let r = store.apply_sync_page(&page)?;
            let applied = Instant::now();
            run.report.timing.pull_apply += applied.duration_since(applying);
            let since = |t: Instant| t.saturating_duration_since(run.started);
            run.report.pages.push(PageTimes {
                changes: u32::try_from(page.changes.len()).unwrap_or(u32::MAX),
                asked: since(asked),
                decoded: since(asked) + f.took,
                decode: f.decode,
                apply_start: since(applying),
                apply_end: since(applied),
            });
            run.report.received += r.applied as u64;
            run.report.skipped += r.skipped.len() as u64;
            if !page.has_more {
                break;
            }
            if until.is_some_and(Sealing::is_done) {
                return Ok(ahead.map(|ahead| HandedOn {
                    device: store.device_id(),
                    ahead,
                    pace,
                }));
            }
        }
        Ok(None)
    }

    /// Sends `body` to `path` on a task of its own, with the retries of [`Self::request`];
    /// [`Self::join_ahead`] takes its answer.
    fn ask_ahead<Resp>(
        &self,
        store: &Store,
        run: &Run,
        path: &'static str,
        body: Vec<u8>,
    ) -> Result<AbortOnDrop<Done<Resp>>, SyncError>
    where
        Resp: DeserializeOwned + WireMessage + Send + 'static,
    {
        let (token, _) = store.session()?.ok_or(SyncError::LoginRequired)?;
        let client = self.clone();
        let t = run.t.clone();
        Ok(AbortOnDrop(tokio::spawn(async move {
            let started = Instant::now();
            let (mut retries, mut requests) = (0u32, 0u32);
            let out = client
                .with_retries(&mut retries, || {
                    requests += 1;
                    t.call_encoded::<Resp>(path, Auth::Bearer(&token), body.clone())
                })
                .await;
            Done {
                out,
                took: started.elapsed(),
                retries,
                requests,
            }
        })))
    }

    /// The answer of a request sent ahead (`body` to `path`): its answer, decoding time,
    /// the time from sending to decoded, and whether it was retried. A session that ended
    /// meanwhile is renewed as in [`Self::request`] and the request sent again.
    async fn join_ahead<Resp>(
        &self,
        store: &mut Store,
        run: &mut Run,
        mut task: AbortOnDrop<Done<Resp>>,
        path: &str,
        body: &[u8],
    ) -> Result<(Resp, Duration, Duration, bool), SyncError>
    where
        Resp: DeserializeOwned + WireMessage,
    {
        let done = (&mut task.0)
            .await
            .map_err(|e| SyncError::Protocol(format!("a request task stopped: {e}")))?;
        run.report.requests += done.requests;
        run.report.retries += done.retries;
        match done.out {
            Ok((resp, decode)) => Ok((resp, decode, done.took, done.retries > 0)),
            Err(SyncError::LoginRequired) => {
                self.after_login_required(store, run).await?;
                let started = Instant::now();
                let (resp, decode) = self.request_encoded(store, run, path, body).await?;
                Ok((resp, decode, started.elapsed(), true))
            }
            Err(e) => Err(e),
        }
    }

    /// The likely duplicates the server found in the user's area (`GET
    /// /v1/records/duplicates?place=CODE`), kept for Tinjauan; only for the roles the route
    /// serves (a kader's tablet finds the pairs of her posyandu itself). Never a reason to
    /// fail a sync: an older server (404), a refusal or a lost answer leaves the last
    /// answer as it was, and the next sync asks again. `run.report.server_duplicates` says
    /// how many pairs came.
    async fn server_duplicates(&self, store: &mut Store, run: &mut Run) {
        if !crate::review::SUPERVISOR_ROLES.contains(&store.user().role.as_str()) {
            return;
        }
        let Ok(Some(scope)) = store.scope() else {
            return;
        };
        let Ok(Some((token, _))) = store.session() else {
            return;
        };
        let path = format!("/v1/records/duplicates?place={}", query_value(&scope.place));
        let answer: Result<sync_protocol::DuplicatesResponse, SyncError> =
            run.t.get(&path, Auth::Bearer(&token)).await;
        let Ok(answer) = answer else {
            return;
        };
        let pairs: Vec<crate::review::ServerPair> = answer
            .pairs
            .into_iter()
            .map(|p| crate::review::ServerPair {
                first: p.first,
                second: p.second,
                reason: p.reason,
                first_posyandu: p.first_posyandu,
                second_posyandu: p.second_posyandu,
                found_at: p.found_at,
            })
            .collect();
        let now = store.clock.now_ms();
        if store
            .replace_server_duplicates(&scope.place, &pairs, now)
            .is_ok()
        {
            run.report.server_duplicates = Some(pairs.len() as u64);
        }
    }

    /// Hands the titip bundles this tablet carries to the server (section 10).
    async fn hand_over_carried(
        &self,
        store: &mut Store,
        run: &mut Run,
    ) -> Result<SyncReport, SyncError> {
        let (token, _) = store.session()?.ok_or(SyncError::LoginRequired)?;
        let h = super::relay::hand_over(store, &run.t, &token).await?;
        run.report.titip_handed = h.handed;
        run.report.titip_refused = h.refused;
        Ok(run.report.clone())
    }

    async fn relogin(&self, store: &mut Store, run: &mut Run) -> Result<(), SyncError> {
        let Some(secret) = run.secret.clone() else {
            return Err(SyncError::LoginRequired);
        };
        if run.relogged {
            return Err(SyncError::LoginRequired);
        }
        run.relogged = true;
        self.emit(
            SyncPhase::LoggingIn,
            0,
            run.report.sent,
            run.report.received,
        );
        let t = run.t.clone();
        let token = run.device_token.clone();
        self.login_with(store, &t, &token, &secret).await
    }

    /// One request of a run with the session token: retried with backoff when the failure
    /// passes, after one new login when the session ended (if the secret is known).
    async fn request<Req, Resp>(
        &self,
        store: &mut Store,
        run: &mut Run,
        path: &str,
        req: &Req,
    ) -> Result<Resp, SyncError>
    where
        Req: Serialize + WireMessage,
        Resp: DeserializeOwned + WireMessage,
    {
        let body = encode(req)?;
        Ok(self.request_encoded(store, run, path, &body).await?.0)
    }

    /// [`Self::request`] with a body already encoded; also returns the time the answer took
    /// to decode.
    async fn request_encoded<Resp>(
        &self,
        store: &mut Store,
        run: &mut Run,
        path: &str,
        body: &[u8],
    ) -> Result<(Resp, Duration), SyncError>
    where
        Resp: DeserializeOwned + WireMessage,
    {
        loop {
            let (token, _) = store.session()?.ok_or(SyncError::LoginRequired)?;
            let mut retries = 0;
            let t = run.t.clone();
            let out = self
                .with_retries(&mut retries, || {
                    run.report.requests += 1;
                    t.call_encoded::<Resp>(path, Auth::Bearer(&token), body.to_vec())
                })
                .await;
            run.report.retries += retries;
            match out {
                Err(SyncError::LoginRequired) => self.after_login_required(store, run).await?,
                other => return other,
            }
        }
    }

    /// A request was answered "log in again": the session is forgotten, and renewed once
    /// in this run when the secret is known; otherwise the run ends with `LoginRequired`.
    async fn after_login_required(
        &self,
        store: &mut Store,
        run: &mut Run,
    ) -> Result<(), SyncError> {
        store.clear_session()?;
        if run.secret.is_some() && !run.relogged {
            self.relogin(store, run).await
        } else {
            Err(SyncError::LoginRequired)
        }
    }
}

const PULL: &str = "/v1/sync/pull";

const PUSH: &str = "/v1/sync/push";

/// A pull page asked for while the page before it is applied.
struct Ahead {
    /// The cursor it was asked with (the page before's, which the apply saves).
    cursor: Option<String>,
    limit: u32,
    body: Vec<u8>,
    /// When it was sent.
    asked: Instant,
    task: AbortOnDrop<Done<PullResponse>>,
}

/// The pull page an enrolment's pull left in flight when the seal ended (see
/// [`SyncClient::enrol`]), for the next sync of `device`.
struct HandedOn {
    device: DeviceId,
    ahead: Ahead,
    pace: PullPace,
}

/// What a request sent on a task of its own brings back.
struct Done<Resp> {
    out: Result<(Resp, Duration), SyncError>,
    took: Duration,
    retries: u32,
    requests: u32,
}

/// One push: its body and the sequence numbers it holds.
struct PushBatch {
    body: Vec<u8>,
    first: Option<u64>,
    last: Option<u64>,
    /// Changes waiting in the outbox when it was read.
    waiting: u64,
}

/// The next push: the oldest pending changes (after `after`, when given) not in `skip`, at
/// most `max` and `budget` bytes on the wire; `None` when there are none.
fn next_push_batch(
    store: &Store,
    max: usize,
    budget: usize,
    skip: &std::collections::HashSet<u64>,
    after: Option<u64>,
) -> Result<Option<PushBatch>, SyncError> {
    // The changes as the outbox stores them (their compact JSON), not parsed and written
    // again: the same bytes.
    let mut changes = store.pending_json(after, max, skip)?;
    if changes.is_empty() {
        return Ok(None);
    }
    // The body that was sized is the body sent (encoded once).
    let body = fit_push_batch(&mut changes, budget)?;
    Ok(Some(PushBatch {
        body,
        first: changes.first().map(|c| c.0),
        last: changes.last().map(|c| c.0),
        waiting: pending_count(store)?,
    }))
}

/// A page's answer and what it cost.
struct Fetched {
    page: PullResponse,
    decode: Duration,
    /// Asked to decoded.
    took: Duration,
    retried: bool,
}

/// A task that is stopped when its handle is dropped (a run that ends on an error does not
/// leave a request behind it).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Run {
    /// When the run began (the origin of [`PageTimes`]).
    started: Instant,
    t: Transport,
    device_token: Zeroizing<String>,
    secret: Option<Zeroizing<String>>,
    relogged: bool,
    report: SyncReport,
}

/// A push body as the transport encodes it, over borrowed changes (the same JSON as
/// [`PushRequest`]).
#[cfg(test)]
#[derive(Serialize)]
struct PushBody<'a> {
    v: u16,
    changes: &'a [sync_protocol::Change],
}

/// The changes waiting in the outbox, for the progress events of the pull: only the outbox's
/// count (`sync_counts` also counts open conflicts, which reads `facts` by an index a bulk
/// first sync has not built yet).
fn pending_count(store: &Store) -> Result<u64, SyncError> {
    let n: i64 = store
        .conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM outbox WHERE {}",
            crate::outbox::PENDING
        ))
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(crate::error::StoreError::from)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The push body of `changes` (compact JSON of a [`PushRequest`], zstd).
#[cfg(test)]
fn push_body(changes: &[sync_protocol::Change]) -> Result<Vec<u8>, SyncError> {
    encode(&PushBody {
        v: PROTOCOL_VERSION,
        changes,
    })
}

/// The push body of changes given as their compact JSON (`(seq, json)` as the outbox keeps
/// them): the JSON of a [`PushRequest`] written around them, zstd. The same bytes as
/// [`PushRequest`]'s serialisation of the parsed changes, since each text is
/// `serde_json::to_string` of its change. A text that is not JSON is refused here, as
/// parsing it refused it before.
fn push_body_json(changes: &[(u64, String)]) -> Result<Vec<u8>, SyncError> {
    let mut json = Vec::with_capacity(24 + changes.iter().map(|(_, c)| c.len() + 1).sum::<usize>());
    json.extend_from_slice(format!("{{\"v\":{PROTOCOL_VERSION},\"changes\":[").as_bytes());
    for (i, (_, c)) in changes.iter().enumerate() {
        serde_json::from_str::<serde::de::IgnoredAny>(c)
            .map_err(|e| SyncError::Protocol(format!("an outbox change is not JSON: {e}")))?;
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(c.as_bytes());
    }
    json.extend_from_slice(b"]}");
    sync_protocol::codec::compress(&json, sync_protocol::codec::Encoding::Zstd)
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

/// The bytes a push of `changes` takes on the wire (compact JSON, zstd).
#[cfg(test)]
fn push_bytes(changes: &[(u64, String)]) -> Result<usize, SyncError> {
    push_body_json(changes).map(|b| b.len())
}

/// Shortens `changes` (oldest first) to the longest prefix whose push body fits in `budget`
/// bytes, keeping at least one change, and returns that body. Compressed size grows with the
/// prefix, so a binary search finds it in a few encodings; the common case (everything fits)
/// costs one.
fn fit_push_batch(changes: &mut Vec<(u64, String)>, budget: usize) -> Result<Vec<u8>, SyncError> {
    let whole = push_body_json(changes)?;
    if changes.len() <= 1 || whole.len() <= budget {
        return Ok(whole);
    }
    // The answer lies in lo..=hi; lo = 1 is always allowed.
    let (mut lo, mut hi) = (1, changes.len() - 1);
    let mut fitted: Option<(usize, Vec<u8>)> = None;
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let body = push_body_json(&changes[..mid])?;
        if body.len() <= budget {
            lo = mid;
            fitted = Some((mid, body));
        } else {
            hi = mid - 1;
        }
    }
    changes.truncate(lo);
    match fitted {
        Some((n, body)) if n == lo => Ok(body),
        _ => push_body_json(changes),
    }
}

/// A query parameter's value, percent-encoded (place codes are letters, digits and dots;
/// anything else is encoded all the same).
fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn role_str(login: &LoginResponse) -> Result<String, SyncError> {
    match serde_json::to_value(login.role) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(SyncError::Protocol("role".into())),
    }
}

/// An exclusive lock on `<db>.sync.lock`, held for one run; the operating system releases it
/// when the process dies, so a crash never leaves a stale lock.
struct SyncLock {
    _file: std::fs::File,
}

impl SyncLock {
    fn acquire(db: &Path) -> Result<Self, SyncError> {
        let mut p: PathBuf = db.to_path_buf();
        let mut name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".sync.lock");
        p.set_file_name(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(SyncError::Lock)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(SyncError::AlreadyRunning),
            Err(std::fs::TryLockError::Error(e)) => Err(SyncError::Lock(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::{Change, PushRequest};

    /// The app runs a sync on a spawned tokio task: the run's future must be `Send`.
    #[test]
    fn a_sync_run_can_be_spawned() {
        fn send<T: Send>(_: &T) {}
        fn check(client: &SyncClient, store: &mut Store) {
            send(&client.sync(store, Some("secret")));
            send(&client.login(store, "secret"));
        }
        let _ = check;
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SyncClient>();
    }

    fn sample(n: usize) -> Vec<Change> {
        use sync_protocol::sample::posyandu_day;
        let device = sync_protocol::DeviceId(uuid::Uuid::from_u128(0xd001));
        let author = sync_protocol::UserId(uuid::Uuid::from_u128(0xe001));
        posyandu_day(7, device, author, 1, n)
    }

    #[test]
    fn the_sizing_body_is_the_push_request() {
        let changes = sample(20);
        let mine = serde_json::to_vec(&PushBody {
            v: PROTOCOL_VERSION,
            changes: &changes,
        })
        .unwrap_or_default();
        let theirs = serde_json::to_vec(&PushRequest {
            v: PROTOCOL_VERSION,
            changes,
        })
        .unwrap_or_default();
        assert!(!mine.is_empty());
        assert_eq!(mine, theirs);
    }

    /// The changes' stored JSON, as the outbox keeps it.
    fn stored(changes: &[Change]) -> Vec<(u64, String)> {
        changes
            .iter()
            .map(|c| (c.seq, serde_json::to_string(c).unwrap_or_default()))
            .collect()
    }

    /// The body written around the stored texts is the body the parsed changes make.
    #[test]
    fn the_spliced_body_is_the_encoded_request() {
        let changes = sample(50);
        let spliced = push_body_json(&stored(&changes)).unwrap_or_default();
        assert!(!spliced.is_empty());
        assert_eq!(spliced, push_body(&changes).unwrap_or_default());
        let limits = sync_protocol::Limits::default();
        let back: PushRequest =
            sync_protocol::codec::decode(&spliced, sync_protocol::codec::Encoding::Zstd, &limits)
                .expect("decodes");
        assert_eq!(back.changes, changes);
        // A stored text that is not JSON is refused, not sent.
        let mut bad = stored(&changes[..2]);
        bad[1].1.truncate(10);
        assert!(push_body_json(&bad).is_err());
    }

    #[test]
    fn push_batches_close_at_the_byte_budget() {
        let day = stored(&sample(300));
        let whole = push_bytes(&day).unwrap_or(usize::MAX);
        // A posyandu day fits the default budget: one push.
        assert!(whole < DEFAULT_PUSH_BATCH_BYTES, "{whole}");
        let mut all = day.clone();
        fit_push_batch(&mut all, DEFAULT_PUSH_BATCH_BYTES).unwrap_or_default();
        assert_eq!(all.len(), 300);
        // A third of the bytes: the longest prefix that fits, and one more would not.
        let budget = whole / 3;
        let mut part = day.clone();
        fit_push_batch(&mut part, budget).unwrap_or_default();
        let n = part.len();
        assert!((60..=140).contains(&n), "{n}");
        assert!(push_bytes(&part).unwrap_or(usize::MAX) <= budget);
        assert!(push_bytes(&day[..n + 1]).unwrap_or(0) > budget);
        assert_eq!(part[..], day[..n]);
        // A budget below one change still sends that change, alone.
        let mut one = day;
        fit_push_batch(&mut one, 10).unwrap_or_default();
        assert_eq!(one.len(), 1);
        let mut none: Vec<(u64, String)> = Vec::new();
        fit_push_batch(&mut none, 10).unwrap_or_default();
        assert!(none.is_empty());
    }

    #[test]
    fn events_can_go_to_a_channel() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let c = SyncClient::new(SyncConfig::default()).with_channel(tx);
        c.emit(SyncPhase::Pushing, 7, 1, 0);
        c.emit(
            SyncPhase::Retrying {
                attempt: 1,
                delay_ms: 1000,
                key: "sync.error.network".into(),
            },
            0,
            0,
            0,
        );
        let a = rx.try_recv().ok();
        let b = rx.try_recv().ok();
        assert_eq!(a.map(|e| (e.waiting, e.sent)), Some((7, 1)));
        // A retry repeats the counts of the event before it.
        assert_eq!(b.map(|e| (e.waiting, e.sent)), Some((7, 1)));
    }
}
