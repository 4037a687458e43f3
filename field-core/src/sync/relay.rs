//! Titip on the tablet (`docs/sync-protocol.md` section 10): a tablet without signal seals
//! its undelivered outbox into a bundle for the district server; another tablet (or a file)
//! carries it; the carrier's next sync hands it over and keeps the sealed answer; the first
//! tablet opens the answer (acknowledgements and a pull page) as if it had synced.
//!
//! Tables (created on first use, like the sync account's):
//! - `titip_keys`: this tablet's key pair and the server's public keys, from enrolment;
//! - `titip_sent`: every bundle this tablet sealed (what it carried, which cursor it asked
//!   from) and what the server confirmed when its answer came back;
//! - `titip_carried`: bundles this tablet carries for others, and their answers.

use super::error::SyncError;
use super::transport::{Auth, Transport};
use crate::error::StoreError;
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sync_protocol::relay::{self, KeyPair, PublicKeys, RelayBundle, RelayError, SealedKind};
use sync_protocol::{DeviceId, ErrorCode, Limits, OutcomeStatus, PROTOCOL_VERSION, PushResponse};

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS titip_keys (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    secret       BLOB NOT NULL,
    server_box   TEXT,
    server_sign  TEXT
);
CREATE TABLE IF NOT EXISTS titip_sent (
    created_ms   INTEGER PRIMARY KEY,
    first_seq    INTEGER,
    last_seq     INTEGER,
    count        INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    scope        TEXT NOT NULL,
    cursor       TEXT,
    answered_ms  INTEGER,
    confirmed    INTEGER,
    rejected     INTEGER,
    received     INTEGER
);
CREATE TABLE IF NOT EXISTS titip_carried (
    hash         TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    bundle       BLOB NOT NULL,
    received_ms  INTEGER NOT NULL,
    handed_ms    INTEGER,
    answer       BLOB,
    refused      TEXT,
    collected_ms INTEGER
);";

/// Why a titip step failed. Nothing local is lost by any of them.
#[derive(Debug, thiserror::Error)]
pub enum TitipError {
    #[error(
        "this tablet has no titip keys (it was enrolled before titip, or by an older server): enrol it again"
    )]
    NoKeys,
    #[error("this is this tablet's own bundle: give it to another tablet")]
    OwnBundle,
    #[error("the file holds no answer for this tablet")]
    NoAnswerForThisTablet,
    #[error("the file is a {found:?}, not a {expected:?}")]
    WrongKind {
        expected: SealedKind,
        found: SealedKind,
    },
    #[error("titip file: {0}")]
    Relay(#[from] RelayError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<rusqlite::Error> for TitipError {
    fn from(e: rusqlite::Error) -> Self {
        TitipError::Store(StoreError::Sqlite(e))
    }
}

impl TitipError {
    /// The message key the app translates.
    pub fn message_key(&self) -> &'static str {
        match self {
            TitipError::NoKeys => "titip.error.no_keys",
            TitipError::OwnBundle => "titip.error.own_bundle",
            TitipError::NoAnswerForThisTablet => "titip.error.no_answer",
            TitipError::WrongKind { .. } => "titip.error.wrong_kind",
            TitipError::Relay(_) => "titip.error.bad_file",
            TitipError::Store(_) => "titip.error.store",
            TitipError::Sync(_) => "titip.error.sync",
        }
    }
}

type TResult<T> = std::result::Result<T, TitipError>;

/// A bundle this tablet sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentBundle {
    pub created_ms: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub count: u64,
    pub bytes: u64,
    /// When its answer was opened here; `None`: not confirmed yet.
    pub answered_ms: Option<u64>,
    /// Changes the server accepted (or had already), and refused, by that answer.
    pub confirmed: Option<u64>,
    pub rejected: Option<u64>,
    /// Pulled changes the answer brought.
    pub received: Option<u64>,
}

/// A bundle this tablet carries for another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarriedBundle {
    pub hash: String,
    pub device: String,
    pub created_ms: u64,
    pub count: u64,
    pub received_ms: u64,
    /// When the server took it (its answer is kept for the other tablet).
    pub handed_ms: Option<u64>,
    pub has_answer: bool,
    /// Why the server refused it, when it did.
    pub refused: Option<String>,
    pub collected_ms: Option<u64>,
}

/// What opening an answer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpenReport {
    pub answers: u64,
    /// Changes marked delivered (accepted or already there).
    pub confirmed: u64,
    pub rejected: u64,
    /// Pulled changes applied.
    pub received: u64,
    pub acked_seq: u64,
}

/// What handing carried bundles over did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HandOver {
    pub handed: u64,
    pub refused: u64,
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// 32 random bytes from the operating system.
pub(crate) fn random32() -> [u8; 32] {
    use chacha20poly1305::aead::OsRng;
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b
}

/// A new titip key pair from the operating system's generator.
pub(crate) fn new_key_pair() -> KeyPair {
    use chacha20poly1305::aead::OsRng;
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut b = zeroize::Zeroizing::new([0u8; 64]);
    OsRng.fill_bytes(b.as_mut());
    KeyPair::from_bytes(&b)
}

pub(crate) fn ensure_tables(store: &Store) -> crate::error::Result<()> {
    store.conn.execute_batch(TABLES)?;
    Ok(())
}

impl Store {
    /// Keeps this tablet's titip key pair and the server's public keys (enrolment).
    pub(crate) fn save_titip_keys(
        &mut self,
        keys: &KeyPair,
        server: &PublicKeys,
    ) -> crate::error::Result<()> {
        ensure_tables(self)?;
        let secret = zeroize::Zeroizing::new(keys.to_bytes());
        self.conn.execute(
            "INSERT INTO titip_keys (id, secret, server_box, server_sign) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET secret = excluded.secret,
                 server_box = excluded.server_box, server_sign = excluded.server_sign",
            params![&secret[..], server.box_key.to_b64(), server.sign.to_b64()],
        )?;
        Ok(())
    }

    fn titip_keys(&self) -> TResult<(KeyPair, PublicKeys)> {
        ensure_tables(self)?;
        let row: Option<(Vec<u8>, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT secret, server_box, server_sign FROM titip_keys WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((secret, Some(b), Some(s))) = row else {
            return Err(TitipError::NoKeys);
        };
        let secret = zeroize::Zeroizing::new(secret);
        let bytes: &[u8; 64] = secret
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("titip key".into()))?;
        let server = PublicKeys {
            box_key: relay::Key32::from_b64(&b)?,
            sign: relay::Key32::from_b64(&s)?,
        };
        Ok((KeyPair::from_bytes(bytes), server))
    }

    /// The key pair of a tablet enrolled before titip, made once and kept before its public
    /// half is sent (`POST /v1/relay/keys`): an answer lost on the way is retried with the
    /// same keys, which the server answers as the first time.
    fn late_titip_key_pair(&mut self) -> crate::error::Result<KeyPair> {
        ensure_tables(self)?;
        let stored: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT secret FROM titip_keys WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(secret) = stored.map(zeroize::Zeroizing::new) {
            let bytes: &[u8; 64] = secret
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt("titip key".into()))?;
            return Ok(KeyPair::from_bytes(bytes));
        }
        let keys = new_key_pair();
        let secret = zeroize::Zeroizing::new(keys.to_bytes());
        self.conn.execute(
            "INSERT INTO titip_keys (id, secret) VALUES (1, ?1)",
            params![&secret[..]],
        )?;
        Ok(keys)
    }

    /// Whether this tablet can seal bundles and open answers (it has titip keys).
    pub fn titip_ready(&self) -> TResult<bool> {
        match self.titip_keys() {
            Ok(_) => Ok(true),
            Err(TitipError::NoKeys) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Seals what this tablet has not delivered (its pending outbox from `from_seq`, or all
    /// of it), with the logged-in user and the pull cursor, into a bundle for the server.
    /// `max_changes` bounds one bundle (the server's `max_batch`); the rest goes in the next.
    pub fn seal_titip(&mut self, from_seq: Option<u64>, max_changes: usize) -> TResult<Vec<u8>> {
        let (keys, server) = self.titip_keys()?;
        let mut changes = self.pending_changes(usize::MAX)?;
        if let Some(from) = from_seq {
            changes.retain(|c| c.seq >= from);
        }
        changes.truncate(max_changes.max(1));
        // A bundle without changes still asks for the news of this tablet's area.
        let scope = self.scope_key()?;
        let cursor = self.pull_cursor()?;
        let bundle = RelayBundle {
            v: PROTOCOL_VERSION,
            device: self.device,
            user: self.user.user_id,
            cursor: cursor.clone(),
            changes,
        };
        // Unique per tablet: a second bundle in the same millisecond takes the next one.
        let mut created = self.clock.now_ms();
        let last: Option<i64> =
            self.conn
                .query_row("SELECT max(created_ms) FROM titip_sent", [], |r| r.get(0))?;
        if let Some(last) = u(last) {
            created = created.max(last + 1);
        }
        let sealed = relay::seal_bundle(&bundle, created, &server, &keys, random32())?;
        self.conn.execute(
            "INSERT INTO titip_sent (created_ms, first_seq, last_seq, count, bytes, scope, cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                i(created),
                bundle.changes.first().map(|c| i(c.seq)),
                bundle.changes.last().map(|c| i(c.seq)),
                i(bundle.changes.len() as u64),
                i(sealed.len() as u64),
                scope,
                cursor
            ],
        )?;
        Ok(sealed)
    }

    /// The bundles this tablet sealed, newest first, with what the server confirmed.
    pub fn titip_sent(&self) -> TResult<Vec<SentBundle>> {
        ensure_tables(self)?;
        let mut q = self.conn.prepare(
            "SELECT created_ms, first_seq, last_seq, count, bytes, answered_ms, confirmed,
                    rejected, received FROM titip_sent ORDER BY created_ms DESC",
        )?;
        let rows = q.query_map([], |r| {
            Ok(SentBundle {
                created_ms: u(r.get(0)?).unwrap_or(0),
                first_seq: u(r.get(1)?),
                last_seq: u(r.get(2)?),
                count: u(r.get(3)?).unwrap_or(0),
                bytes: u(r.get(4)?).unwrap_or(0),
                answered_ms: u(r.get(5)?),
                confirmed: u(r.get(6)?),
                rejected: u(r.get(7)?),
                received: u(r.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Takes bundles to carry (one sealed file or a pack of several). Structure is checked
    /// here (the carrier cannot check more: it holds no key that opens them); the same file
    /// carried twice is kept once. Returns how many new bundles it now carries.
    pub fn carry_titip(&mut self, file: &[u8]) -> TResult<usize> {
        ensure_tables(self)?;
        let now = self.clock.now_ms();
        // Every file of a pack is checked before any is kept: all or nothing.
        let mut items = Vec::new();
        for item in relay::unpack(file)? {
            let sealed = relay::parse(item)?;
            if sealed.kind != SealedKind::Bundle {
                return Err(TitipError::WrongKind {
                    expected: SealedKind::Bundle,
                    found: sealed.kind,
                });
            }
            if sealed.header.device == self.device {
                return Err(TitipError::OwnBundle);
            }
            items.push((item, sealed.header));
        }
        let tx = self.conn.transaction()?;
        let mut added = 0;
        for (item, header) in items {
            added += tx.execute(
                "INSERT INTO titip_carried (hash, device, created_ms, count, bundle, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(hash) DO NOTHING",
                params![
                    relay::file_id(item),
                    header.device.to_string(),
                    i(header.created),
                    i(header.count.unwrap_or(0)),
                    item,
                    i(now)
                ],
            )?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// The bundles this tablet carries or carried, oldest first.
    pub fn titip_carried(&self) -> TResult<Vec<CarriedBundle>> {
        ensure_tables(self)?;
        let mut q = self.conn.prepare(
            "SELECT hash, device, created_ms, count, received_ms, handed_ms, answer IS NOT NULL,
                    refused, collected_ms FROM titip_carried ORDER BY received_ms, created_ms",
        )?;
        let rows = q.query_map([], |r| {
            Ok(CarriedBundle {
                hash: r.get(0)?,
                device: r.get(1)?,
                created_ms: u(r.get(2)?).unwrap_or(0),
                count: u(r.get(3)?).unwrap_or(0),
                received_ms: u(r.get(4)?).unwrap_or(0),
                handed_ms: u(r.get(5)?),
                has_answer: r.get(6)?,
                refused: r.get(7)?,
                collected_ms: u(r.get(8)?),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Bundles not yet handed to the server: `(hash, bytes)`.
    fn titip_to_hand_over(&self) -> TResult<Vec<(String, Vec<u8>)>> {
        ensure_tables(self)?;
        let mut q = self.conn.prepare(
            "SELECT hash, bundle FROM titip_carried WHERE handed_ms IS NULL AND refused IS NULL
             ORDER BY created_ms",
        )?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn record_hand_over(
        &mut self,
        hash: &str,
        answer: Result<&[u8], &str>,
    ) -> crate::error::Result<()> {
        let now = i(self.clock.now_ms());
        match answer {
            Ok(bytes) => self.conn.execute(
                "UPDATE titip_carried SET handed_ms = ?2, answer = ?3, bundle = x'' WHERE hash = ?1",
                params![hash, now, bytes],
            )?,
            Err(why) => self.conn.execute(
                "UPDATE titip_carried SET handed_ms = ?2, refused = ?3, bundle = x'' WHERE hash = ?1",
                params![hash, now, why],
            )?,
        };
        Ok(())
    }

    /// The sealed answers the server gave for the bundles this tablet carried, as one pack
    /// for the tablets they belong to (each opens only its own). Marks them collected; they
    /// stay until the carrier forgets them, so collecting again gives them again.
    pub fn collect_titip(&mut self) -> TResult<(Vec<u8>, usize)> {
        ensure_tables(self)?;
        let mut q = self.conn.prepare(
            "SELECT answer FROM titip_carried WHERE answer IS NOT NULL ORDER BY created_ms",
        )?;
        let answers: Vec<Vec<u8>> = q
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        drop(q);
        let now = i(self.clock.now_ms());
        self.conn.execute(
            "UPDATE titip_carried SET collected_ms = COALESCE(collected_ms, ?1)
             WHERE answer IS NOT NULL",
            [now],
        )?;
        let n = answers.len();
        Ok((relay::pack(&answers), n))
    }

    /// Opens the answers meant for this tablet in a file (one sealed answer, or a pack from
    /// a carrier's collect; answers for other tablets are passed over): acknowledgements are
    /// recorded as a push's outcomes would be, the pull page applied with the usual apply.
    /// The page's cursor is kept only when the tablet's cursor has not moved since that
    /// bundle was sealed (a direct sync in between went further already).
    pub fn open_titip(&mut self, file: &[u8]) -> TResult<OpenReport> {
        let (keys, server) = self.titip_keys()?;
        let limits = Limits::default();
        let mut report = OpenReport::default();
        for item in relay::unpack(file)? {
            let sealed = relay::parse(item)?;
            if sealed.kind != SealedKind::Answer || sealed.header.device != self.device {
                continue;
            }
            let (_, answer) = relay::open_answer(item, &server, &keys, &limits)?;
            report.answers += 1;
            // A carrier's collect writes every answer it keeps, also those opened here
            // before: what one says was counted then (applying it again would change
            // nothing but the counts the kader reads).
            let opened: Option<Option<i64>> = self
                .conn
                .query_row(
                    "SELECT answered_ms FROM titip_sent WHERE created_ms = ?1",
                    [i(answer.bundle_created)],
                    |r| r.get(0),
                )
                .optional()?;
            if matches!(opened, Some(Some(_))) {
                continue;
            }
            // The server's `acked_seq` may cover numbers this answer does not speak of (they
            // came in another bundle whose answer is still on its way): only numbers up to
            // the last one answered here count, so such a change is never taken for a
            // reused number and renumbered (it would reach the server twice). The next
            // status call of a direct sync still sees the whole `acked_seq`.
            let answered_to = answer.outcomes.iter().map(|o| o.seq).max().unwrap_or(0);
            let push = PushResponse {
                v: PROTOCOL_VERSION,
                outcomes: answer.outcomes.clone(),
                acked_seq: answer.acked_seq.min(answered_to),
                server_time: answer.server_time,
            };
            let r = self.record_push_outcomes(&push)?;
            // Never backwards: an old answer opened late says less than the tablet knows.
            let known = self.sync_state()?.acked_seq;
            self.set_acked_seq(answer.acked_seq.max(known))?;
            let confirmed = answer
                .outcomes
                .iter()
                .filter(|o| o.status != OutcomeStatus::Rejected)
                .count() as u64;
            report.confirmed += confirmed;
            report.rejected += r.rejected as u64;
            report.acked_seq = report.acked_seq.max(answer.acked_seq);
            let sent: Option<(String, Option<String>)> = self
                .conn
                .query_row(
                    "SELECT scope, cursor FROM titip_sent WHERE created_ms = ?1",
                    [i(answer.bundle_created)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let keep_cursor = match &sent {
                Some((scope, cursor)) => self.pull_cursor_for(scope)? == *cursor,
                None => false,
            };
            let pulled = if keep_cursor {
                let scope = sent.as_ref().map(|s| s.0.clone()).unwrap_or_default();
                self.apply_pull_page_for_scope(
                    &scope,
                    &sync_protocol::PullResponse {
                        v: PROTOCOL_VERSION,
                        changes: answer.changes.clone(),
                        cursor: answer.cursor.clone(),
                        has_more: answer.has_more,
                        server_time: answer.server_time,
                    },
                )?
            } else {
                self.apply_pulled(&answer.changes, None, Some(answer.server_time))?
            };
            report.received += pulled.applied as u64;
            self.conn.execute(
                "UPDATE titip_sent SET answered_ms = ?2, confirmed = ?3, rejected = ?4,
                     received = ?5 WHERE created_ms = ?1",
                params![
                    i(answer.bundle_created),
                    i(self.clock.now_ms()),
                    i(confirmed),
                    i(r.rejected as u64),
                    i(pulled.applied as u64)
                ],
            )?;
        }
        if report.answers == 0 {
            return Err(TitipError::NoAnswerForThisTablet);
        }
        Ok(report)
    }
}

/// Hands every carried bundle to the server (`POST /v1/relay`) with this tablet's session,
/// keeping each sealed answer. A bundle the server refuses (`titip_refused`) is kept as
/// refused with the reason and not sent again; any other failure stops and leaves the rest
/// for the next sync.
pub(crate) async fn hand_over(
    store: &mut Store,
    t: &Transport,
    session: &str,
) -> Result<HandOver, SyncError> {
    let mut out = HandOver::default();
    let pending = store.titip_to_hand_over().map_err(|e| match e {
        TitipError::Store(s) => SyncError::Store(s),
        other => SyncError::Protocol(other.to_string()),
    })?;
    for (hash, bytes) in pending {
        match t
            .post_sealed("/v1/relay", Auth::Bearer(session), bytes)
            .await
        {
            Ok(answer) => {
                store.record_hand_over(&hash, Ok(&answer))?;
                out.handed += 1;
            }
            Err(SyncError::Server { body, .. }) if body.code == ErrorCode::TitipRefused => {
                store.record_hand_over(&hash, Err(&body.message))?;
                out.refused += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The device id a sealed file's header names, and its kind (no key needed).
pub fn peek(file: &[u8]) -> Result<Vec<(SealedKind, DeviceId, u64)>, RelayError> {
    relay::unpack(file)?
        .into_iter()
        .map(|item| {
            let s = relay::parse(item)?;
            Ok((s.kind, s.header.device, s.header.count.unwrap_or(0)))
        })
        .collect()
}

/// A tablet enrolled before titip existed has no titip keys: it registers a key pair with
/// its device token (`POST /v1/relay/keys`) and keeps the server's public keys. Returns
/// whether the tablet has keys now (or keeps a stored key it cannot read, reported by
/// [`Store::titip_ready`] elsewhere). A server older than titip (404) or a failed request
/// leaves it for a later sync.
pub(crate) async fn register_late_keys(
    store: &mut Store,
    t: &Transport,
    device_token: &str,
) -> Result<bool, SyncError> {
    match store.titip_ready() {
        Ok(false) => {}
        // Keys already, or a stored key that cannot be read: nothing to register.
        Ok(true) | Err(_) => return Ok(true),
    }
    let keys = store.late_titip_key_pair()?;
    let req = sync_protocol::RelayKeysRequest {
        v: PROTOCOL_VERSION,
        titip: keys.public(),
    };
    let answer: sync_protocol::RelayKeysResponse = t
        .call("/v1/relay/keys", Auth::Device(device_token), &req)
        .await?;
    store.save_titip_keys(&keys, &answer.titip)?;
    Ok(true)
}
