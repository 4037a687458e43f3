//! PostgreSQL backend (production): tokio-postgres through a deadpool pool.
//!
//! The change log's `sseq` is a BIGSERIAL, and sequence values are handed out at insert time,
//! not commit time: two concurrent pushes could commit sseq 11 before sseq 10, and a pull in
//! between would move its cursor past 10 forever. So the insert into `changes` and the commit
//! run under one transaction-scoped advisory lock: log order is commit order. Each push also
//! takes a per-device advisory lock first, so two pushes of one device never race on its
//! sequence numbers.

use super::{
    EnrolRefusal, PullPage, StatusInfo, Storage, StorageError, StoreFuture, TitipKeys,
    TitipRefusal, closure,
};
use crate::model::{
    Device, NewDevice, Place, RecordInfo, SessionInfo, Settled, User, level_str, parse_level,
    parse_role, role_str,
};
use crate::sync::{
    AuthorInfo, Authors, Login, PushContext, PushResult, advance_acked, login_hlc, other_authors,
    plan, referenced_ids,
};
pub mod tls;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, Scope, UserId};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_device_users.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_access_rules.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_quarantine.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_read_model.sql"),
    ),
    (6, include_str!("../../migrations/postgres/0006_titip.sql")),
    (
        7,
        include_str!("../../migrations/postgres/0007_dashboard.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_satusehat.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_duplicates.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_vaccine_kfa.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_report_questions.sql"),
    ),
];

/// Advisory lock namespaces (the first key of `pg_advisory_xact_lock(int, int)`).
const LOCK_MIGRATE: i32 = 0x4a4b_0001;
pub(crate) const LOCK_LOG: i32 = 0x4a4b_0002;
const LOCK_DEVICE: i32 = 0x4a4b_0003;

#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Pushes skip the read model (benchmarks only: [`super::without_read_model`]).
    without_read_model: bool,
    analyze: Arc<super::AnalyzeDue>,
    sizes: Arc<super::ScopeSizes>,
    /// The read model's follower of this process (docs/read-model.md).
    follower: Arc<crate::readmodel::postgres::Follower>,
    /// Device sync notes not yet written (`crate::readmodel::notes`).
    pub(crate) notes: Arc<crate::readmodel::notes::SyncNotes>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn pool_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Pool(e.to_string())
}

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("{what} {value:?}"))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

const USER_COLS: &str = "u.id, u.username, u.display_name, u.role, u.scope_level, u.scope_place, u.secret_hash, u.disabled_at";
const DEVICE_COLS: &str = "d.id, d.name, d.user_id, d.enrolled_at, d.revoked_at, d.last_seen_at, d.last_sync_at, d.app_version, d.acked_seq, d.last_relay_at";

fn user_from_row(row: &Row, at: usize) -> Result<User, StorageError> {
    let id: String = row.try_get(at)?;
    let role: String = row.try_get(at + 3)?;
    let level: String = row.try_get(at + 4)?;
    Ok(User {
        id: id.parse().map_err(|_| corrupt("user id", &id))?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
        role: parse_role(&role).ok_or_else(|| corrupt("role", &role))?,
        scope: Scope {
            level: parse_level(&level).ok_or_else(|| corrupt("level", &level))?,
            place: row.try_get(at + 5)?,
        },
        secret_hash: row.try_get(at + 6)?,
        disabled: row.try_get::<_, Option<i64>>(at + 7)?.is_some(),
    })
}

fn device_from_row(row: &Row, at: usize) -> Result<Device, StorageError> {
    let id: String = row.try_get(at)?;
    let user: String = row.try_get(at + 2)?;
    Ok(Device {
        id: id.parse().map_err(|_| corrupt("device id", &id))?,
        name: row.try_get(at + 1)?,
        user_id: user.parse().map_err(|_| corrupt("user id", &user))?,
        enrolled_at: to_u64(row.try_get(at + 3)?),
        revoked_at: row.try_get::<_, Option<i64>>(at + 4)?.map(to_u64),
        last_seen_at: row.try_get::<_, Option<i64>>(at + 5)?.map(to_u64),
        last_sync_at: row.try_get::<_, Option<i64>>(at + 6)?.map(to_u64),
        app_version: row.try_get(at + 7)?,
        acked_seq: to_u64(row.try_get(at + 8)?),
        last_relay_at: row.try_get::<_, Option<i64>>(at + 9)?.map(to_u64),
    })
}

fn place_from_row(row: &Row) -> Result<Place, StorageError> {
    let level: String = row.try_get(2)?;
    Ok(Place {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        level: parse_level(&level).ok_or_else(|| corrupt("level", &level))?,
        parent: row.try_get(3)?,
    })
}

fn kind_from_str(s: &str) -> Result<EntityKind, StorageError> {
    EntityKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| corrupt("kind", s))
}

/// A page cut by its rows' sizes, its payloads not read yet.
struct PageCut {
    cut: super::PageCutter,
    keep: Vec<i64>,
    high_water: i64,
}

impl PageCut {
    /// Reads the payloads of the rows kept (none: no query) and makes the page.
    async fn finish(self, c: &deadpool_postgres::Object) -> Result<PullPage, StorageError> {
        let mut page = Vec::with_capacity(self.keep.len());
        if !self.keep.is_empty() {
            let payloads = c
                .prepare_cached(
                    "SELECT sseq, payload FROM changes WHERE sseq = ANY($1) ORDER BY sseq",
                )
                .await?;
            for r in c.query(&payloads, &[&self.keep]).await? {
                page.push((r.try_get::<_, i64>(0)?, r.try_get::<_, String>(1)?));
            }
        }
        Ok(self.cut.finish_at(page, self.high_water))
    }
}

/// Every request's session lookup: the text is made once (the statement is cached per
/// connection by its text).
static SESSION_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT s.expires_at, {USER_COLS}, {DEVICE_COLS} FROM sessions s
         JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id
         WHERE s.token_hash = $1"
    )
});

fn session_from_row(r: &Row) -> Result<SessionInfo, StorageError> {
    Ok(SessionInfo {
        expires_at: to_u64(r.try_get(0)?),
        user: user_from_row(r, 1)?,
        device: device_from_row(r, 9)?,
    })
}

/// A check-in's session statement on `c` with its token hash, prepared only when the caller
/// asks for the session too (`page_on`, `status_on`).
async fn prepare_session<'h>(
    c: &deadpool_postgres::Object,
    session: Option<&'h str>,
) -> Result<Option<(tokio_postgres::Statement, &'h str)>, StorageError> {
    match session {
        Some(hash) => Ok(Some((c.prepare_cached(&SESSION_SQL).await?, hash))),
        None => Ok(None),
    }
}

/// The row of [`prepare_session`]'s statement, to be sent first in the caller's pipeline;
/// nothing when no session was asked for.
async fn session_row(
    c: &deadpool_postgres::Object,
    asked: &Option<(tokio_postgres::Statement, &str)>,
) -> Result<Option<Row>, tokio_postgres::Error> {
    match asked {
        Some((stmt, hash)) => c.query_opt(stmt, &[hash]).await,
        None => Ok(None),
    }
}

/// A check-in's session read with its guess, and whether the row names the device and scope
/// the guess asked for (else what was read with it is not answered: [`crate::checkin`]).
fn session_for(
    row: Option<Row>,
    device: DeviceId,
    scope: &str,
) -> Result<(Option<SessionInfo>, bool), StorageError> {
    let Some(row) = row else {
        return Ok((None, false));
    };
    let session = session_from_row(&row)?;
    let matches = session.device.id == device && session.user.scope.place == scope;
    Ok((Some(session), matches))
}

/// A 32-bit key for a device's advisory lock.
fn device_lock_key(d: DeviceId) -> i32 {
    let b = d.0.as_bytes();
    i32::from_le_bytes([b[12], b[13], b[14], b[15]])
}

impl PgStore {
    /// One page of the log in `scope` after `after`, without `exclude`'s own changes.
    async fn pull_page(
        &self,
        scope: &str,
        after: i64,
        limit: usize,
        exclude: Option<&str>,
        max_bytes: usize,
    ) -> Result<PullPage, StorageError> {
        let c = self.client().await?;
        let (_, page) = self
            .page_on(&c, None, scope, after, limit, exclude, max_bytes)
            .await?;
        page.finish(&c).await
    }

    /// A page's sizes on `c`, cut: the rows' sizes first (`octet_length`, without their
    /// payloads), cut by count and bytes, the payloads of the rows kept read by
    /// [`PageCut::finish`]; quarantined changes are left out. With `session` (a token hash),
    /// the session's row too, in the same round trip.
    #[allow(clippy::too_many_arguments)]
    async fn page_on(
        &self,
        c: &deadpool_postgres::Object,
        session: Option<&str>,
        scope: &str,
        after: i64,
        limit: usize,
        exclude: Option<&str>,
        max_bytes: usize,
    ) -> Result<(Option<Row>, PageCut), StorageError> {
        let mut cut = super::PageCutter::new(after, limit, max_bytes);
        let want = i64::try_from(cut.fetch()).unwrap_or(i64::MAX);
        let asked = prepare_session(c, session).await?;
        let high = c
            .prepare_cached("SELECT COALESCE(MAX(sseq), 0)::int8 FROM changes")
            .await?;
        let page_sql = if is_small_scope(&self.sizes, c, scope).await? {
            PULL_SMALL
        } else {
            PULL_LARGE
        };
        let page_stmt = c.prepare_cached(page_sql).await?;
        // The high-water mark is read before the page (see `PageCutter::finish_at`), in its
        // own statement so the page's query (a later snapshot) sees every change up to it.
        // All are sent at once (pipelined: one round trip); PostgreSQL runs them in order.
        let page_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&scope, &after, &want, &exclude];
        // `biased`: first polled (and so sent) in this order.
        let (row, high_water, rows) = tokio::try_join!(
            biased;
            session_row(c, &asked),
            c.query_one(&high, &[]),
            c.query(&page_stmt, &page_params)
        )?;
        let high_water: i64 = high_water.try_get(0)?;
        let mut keep: Vec<i64> = Vec::with_capacity(rows.len().min(4096));
        for r in rows {
            let sseq: i64 = r.try_get(0)?;
            let len: i32 = r.try_get(1)?;
            match cut.offer(sseq, usize::try_from(len).unwrap_or(0)) {
                super::Cut::Take => keep.push(sseq),
                super::Cut::Skip => {}
                super::Cut::Stop => break,
            }
        }
        Ok((
            row,
            PageCut {
                cut,
                keep,
                high_water,
            },
        ))
    }

    /// What `status` answers, on `c`; with `session` (a token hash), the session's row too,
    /// in the same round trip.
    async fn status_on(
        &self,
        c: &deadpool_postgres::Object,
        session: Option<&str>,
        device: DeviceId,
        scope: &str,
        after: i64,
    ) -> Result<(Option<Row>, StatusInfo), StorageError> {
        let asked = prepare_session(c, session).await?;
        let sql: &str = if is_small_scope(&self.sizes, c, scope).await? {
            &STATUS_SMALL
        } else {
            &STATUS_LARGE
        };
        let stmt = c.prepare_cached(sql).await?;
        let device = device.to_string();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&scope, &after, &device];
        let (row, r) =
            tokio::try_join!(biased; session_row(c, &asked), c.query_one(&stmt, &params))?;
        Ok((
            row,
            StatusInfo {
                acked_seq: to_u64(r.try_get::<_, Option<i64>>(0)?.unwrap_or(0)),
                pull_pending: r.try_get(1)?,
            },
        ))
    }

    /// Connects as the URL says, TLS included (`sslmode`, `sslrootcert`: see [`tls`]).
    /// The pool opens connections lazily: call [`PgStore::check`] to find out at once.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let tls_url = tls::parse(url).map_err(|e| StorageError::Invalid(e.to_string()))?;
        let config: tokio_postgres::Config = tls_url.url.parse()?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let mgr = match tls_url
            .client_config()
            .map_err(|e| StorageError::Invalid(e.to_string()))?
        {
            Some(c) => Manager::from_config(
                config,
                tokio_postgres_rustls::MakeRustlsConnect::new(c),
                manager_config,
            ),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(mgr)
            .max_size(16)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(pool_err)?;
        Ok(Self {
            pool,
            without_read_model: super::without_read_model(),
            analyze: Arc::default(),
            sizes: Arc::default(),
            follower: Arc::default(),
            notes: Arc::default(),
        })
    }

    /// The read model's follower of this process.
    pub fn follower(&self) -> &Arc<crate::readmodel::postgres::Follower> {
        &self.follower
    }

    /// Pushes skip the read model (benchmarks only).
    pub(crate) fn skips_read_model(&self) -> bool {
        self.without_read_model
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StorageError> {
        self.pool.get().await.map_err(|e| {
            // The causes too: "error performing TLS handshake" alone does not say that the
            // certificate was refused, or why.
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let more = s.to_string();
                if !message.contains(&more) {
                    message.push_str(": ");
                    message.push_str(&more);
                }
                source = s.source();
            }
            StorageError::Pool(message)
        })
    }

    /// Whether this store's connections run over TLS, as the server sees them (opens a
    /// connection: a TLS mode the server cannot satisfy fails here).
    pub async fn uses_tls(&self) -> Result<bool, StorageError> {
        let c = self.client().await?;
        let row = c
            .query_one(
                "SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await?;
        Ok(row.try_get(0)?)
    }
}

/// The posyandu at or below a place.
const POSYANDU_UNDER: &str = "SELECT p.code FROM place_tree t JOIN places p ON p.code = t.code
     WHERE t.ancestor = $1 AND p.level = 'posyandu'";

/// The places a user of a scope needs: the scope's place and its descendants, and its
/// ancestors, through the hierarchy closure (each place once).
const PLACES_FOR_SCOPE: &str = "SELECT code, name, level, parent FROM places
     WHERE code IN (SELECT code FROM place_tree WHERE ancestor = $1)
        OR code IN (SELECT ancestor FROM place_tree WHERE code = $1)
     ORDER BY code";

/// The other authors of a batch who have logged in on the device, with their role and
/// scope (each scope's posyandu looked up once).
async fn load_authors(
    tx: &deadpool_postgres::Transaction<'_>,
    device: &str,
    ids: &[UserId],
) -> Result<Authors, StorageError> {
    let mut out = Authors::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let mut scopes: HashMap<String, Arc<HashSet<String>>> = HashMap::new();
    for row in tx
        .query(
            "SELECT u.id, u.role, u.scope_place, u.disabled_at FROM device_users du
             JOIN users u ON u.id = du.user_id WHERE du.device_id = $1 AND du.user_id = ANY($2)",
            &[&device, &ids],
        )
        .await?
    {
        let id: String = row.try_get(0)?;
        let id: UserId = id.parse().map_err(|_| corrupt("user id", &id))?;
        if row.try_get::<_, Option<i64>>(3)?.is_some() {
            out.insert(id, AuthorInfo::Disabled);
            continue;
        }
        let role: String = row.try_get(1)?;
        let role = parse_role(&role).ok_or_else(|| corrupt("role", &role))?;
        let place: String = row.try_get(2)?;
        let scope_posyandu = match scopes.get(&place) {
            Some(s) => s.clone(),
            None => {
                let set: HashSet<String> = tx
                    .query(POSYANDU_UNDER, &[&place])
                    .await?
                    .iter()
                    .map(|r| r.try_get::<_, String>(0))
                    .collect::<Result<_, _>>()?;
                let set = Arc::new(set);
                scopes.insert(place, set.clone());
                set
            }
        };
        out.insert(
            id,
            AuthorInfo::Active {
                role,
                scope_posyandu,
            },
        );
    }
    Ok(out)
}

/// A push in one transaction (docs/read-model.md, "When it is updated"): the device's lock,
/// what the database knows of the batch (one pipelined round trip), the plan, the settled,
/// `records` and `devices` rows (pipelined), then under the log lock only the log's insert
/// and the commit. Prepared statements (cached per connection). The read model is not
/// touched: the follower merges the logged changes after the commit ([`PgStore::push`]).
async fn push_tx(
    store: &PgStore,
    ctx: &PushContext,
    changes: Vec<Change>,
) -> Result<PushResult, StorageError> {
    let batch: Vec<crate::sync::Prepared> = changes
        .into_iter()
        .map(crate::sync::Prepared::new)
        .collect();
    let device = ctx.device.to_string();
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let seqs: Vec<i64> = batch
        .iter()
        .filter(|p| p.change.device == ctx.device)
        .map(|p| to_i64(p.change.seq))
        .collect();
    // What is settled of the batch's sequence numbers: one range of the index when they are
    // close together (a batch is the next numbers of the outbox), not one probe per change;
    // scattered numbers are looked up each alone (never a scan of the device's history).
    let seq_range = match (seqs.iter().min(), seqs.iter().max()) {
        (Some(&lo), Some(&hi)) if hi - lo <= 2 * seqs.len() as i64 + 64 => Some((lo, hi)),
        _ => None,
    };
    let ids: Vec<String> = referenced_ids(&batch)
        .iter()
        .map(ToString::to_string)
        .collect();
    let (lock, q_settled, q_records, q_acked) = tokio::try_join!(
        tx.prepare_cached("SELECT pg_advisory_xact_lock($1, $2)"),
        tx.prepare_cached(if seq_range.is_some() {
            "SELECT seq, hash, rejection FROM settled WHERE device_id = $1 AND seq BETWEEN $2 AND $3"
        } else {
            "SELECT seq, hash, rejection FROM settled WHERE device_id = $1 AND seq = ANY($2)"
        }),
        tx.prepare_cached(
            "SELECT id, kind, posyandu, fact_hash, creator_role, status FROM records WHERE id = ANY($1)"
        ),
        // The device's acknowledged sequence and what it has settled after it (the device's
        // lock is held: neither moves under this push).
        tx.prepare_cached(
            "SELECT d.acked_seq, ARRAY(SELECT s.seq FROM settled s
                 WHERE s.device_id = d.id AND s.seq > d.acked_seq ORDER BY s.seq)
             FROM devices d WHERE d.id = $1"
        ),
    )?;
    let key = device_lock_key(ctx.device);
    let lock_args: [&(dyn ToSql + Sync); 2] = [&LOCK_DEVICE, &key];
    let (lo, hi) = seq_range.unwrap_or_default();
    let settled_args: Vec<&(dyn ToSql + Sync)> = if seq_range.is_some() {
        vec![&device, &lo, &hi]
    } else {
        vec![&device, &seqs]
    };
    let records_args: [&(dyn ToSql + Sync); 1] = [&ids];
    let acked_args: [&(dyn ToSql + Sync); 1] = [&device];
    let (_, settled_rows, record_rows, acked_row) = tokio::try_join!(
        tx.execute(&lock, &lock_args),
        tx.query(&q_settled, &settled_args),
        tx.query(&q_records, &records_args),
        tx.query_opt(&q_acked, &acked_args),
    )?;
    let mut settled = HashMap::new();
    let wanted: HashSet<i64> = if seq_range.is_some() {
        seqs.iter().copied().collect()
    } else {
        HashSet::new()
    };
    for row in settled_rows {
        let seq: i64 = row.try_get(0)?;
        if seq_range.is_some() && !wanted.contains(&seq) {
            continue;
        }
        let rejection: Option<String> = row.try_get(2)?;
        let rejection = match rejection {
            Some(j) => {
                Some(serde_json::from_str(&j).map_err(|e| StorageError::Corrupt(e.to_string()))?)
            }
            None => None,
        };
        settled.insert(
            to_u64(seq),
            Settled {
                hash: row.try_get(1)?,
                rejection,
            },
        );
    }
    let mut records = HashMap::new();
    for row in record_rows {
        let id: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let creator_role: Option<String> = row.try_get(4)?;
        records.insert(
            id.parse::<RecordId>()
                .map_err(|_| corrupt("record id", &id))?,
            RecordInfo {
                kind: kind_from_str(&kind)?,
                posyandu: row.try_get(2)?,
                fact_hash: row.try_get(3)?,
                creator_role: creator_role.as_deref().and_then(parse_role),
                status: row.try_get(5)?,
            },
        );
    }
    let acked_row = acked_row.ok_or_else(|| StorageError::NotFound("device".into()))?;
    let acked: i64 = acked_row.try_get(0)?;
    let mut settled_after: std::collections::BTreeSet<u64> = acked_row
        .try_get::<_, Vec<i64>>(1)?
        .into_iter()
        .map(to_u64)
        .collect();
    let others = other_authors(ctx, &batch);
    let authors = load_authors(&tx, &device, &others).await?;
    let mut logins = Vec::new();
    if !others.is_empty() {
        for row in tx
            .query(
                "SELECT n, user_id, hlc FROM device_logins WHERE device_id = $1 ORDER BY n",
                &[&device],
            )
            .await?
        {
            let user: String = row.try_get(1)?;
            let hlc: String = row.try_get(2)?;
            logins.push(Login {
                order: row.try_get(0)?,
                user: user.parse().map_err(|_| corrupt("user id", &user))?,
                hlc: hlc.parse().map_err(|_| corrupt("hlc", &hlc))?,
            });
        }
    }
    let decided = plan(ctx, &batch, settled, records, &authors, &logins);
    let now = to_i64(ctx.now_ms);
    settled_after.extend(decided.settled.iter().map(|s| s.seq));
    let acked_seq = advance_acked(to_u64(acked), settled_after.iter().copied());

    // The settled rows, the records and the device's row: one pipelined round trip.
    let s_seqs: Vec<i64> = decided.settled.iter().map(|s| to_i64(s.seq)).collect();
    let s_hashes: Vec<&[u8]> = decided.settled.iter().map(|s| s.hash.as_slice()).collect();
    let s_rejections: Vec<Option<&str>> = decided
        .settled
        .iter()
        .map(|s| s.rejection.as_deref())
        .collect();
    let r_ids: Vec<String> = decided
        .records
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    let r_kinds: Vec<&str> = decided
        .records
        .iter()
        .map(|(_, r)| r.kind.as_str())
        .collect();
    let r_places: Vec<&str> = decided
        .records
        .iter()
        .map(|(_, r)| r.posyandu.as_str())
        .collect();
    let r_hashes: Vec<Option<&[u8]>> = decided
        .records
        .iter()
        .map(|(_, r)| r.fact_hash.as_deref())
        .collect();
    let r_roles: Vec<Option<&str>> = decided
        .records
        .iter()
        .map(|(_, r)| r.creator_role.map(role_str))
        .collect();
    let r_statuses: Vec<Option<&str>> = decided
        .records
        .iter()
        .map(|(_, r)| r.status.as_deref())
        .collect();
    let upsert_records_sql = format!(
        "INSERT INTO records (id, kind, posyandu, fact_hash, creator_role, status)
         SELECT DISTINCT ON (i) i, k, p, h, cr, st
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[])
             WITH ORDINALITY AS t(i, k, p, h, cr, st, o) ORDER BY i, o DESC
         ON CONFLICT (id) DO UPDATE SET status = excluded.status{}",
        // For the read model's follower: which rows this push inserted.
        if store.without_read_model {
            ""
        } else {
            " RETURNING id, xmax = 0"
        }
    );
    let (q_settle, q_upsert, q_device) = tokio::try_join!(
        tx.prepare_cached(
            "INSERT INTO settled (device_id, seq, hash, rejection)
             SELECT $1, s, h, r FROM UNNEST($2::int8[], $3::bytea[], $4::text[]) AS t(s, h, r)"
        ),
        // Rows in id order (`DISTINCT ON` sorts by id): two pushes touching the same records
        // lock their rows in the same order.
        tx.prepare_cached(&upsert_records_sql),
        tx.prepare_cached(
            "UPDATE devices SET acked_seq = $2, last_sync_at = $3, last_seen_at = $3 WHERE id = $1"
        ),
    )?;
    let acked_i = to_i64(acked_seq);
    let settle_args: [&(dyn ToSql + Sync); 4] = [&device, &s_seqs, &s_hashes, &s_rejections];
    let upsert_args: [&(dyn ToSql + Sync); 6] = [
        &r_ids,
        &r_kinds,
        &r_places,
        &r_hashes,
        &r_roles,
        &r_statuses,
    ];
    let device_args: [&(dyn ToSql + Sync); 3] = [&device, &acked_i, &now];
    let settle_rows = async {
        if s_seqs.is_empty() {
            return Ok::<u64, tokio_postgres::Error>(0);
        }
        tx.execute(&q_settle, &settle_args).await
    };
    let upsert_records = async {
        if r_ids.is_empty() {
            return Ok::<_, tokio_postgres::Error>(Vec::new());
        }
        tx.query(&q_upsert, &upsert_args).await
    };
    let (_, upserted, _) = tokio::try_join!(
        settle_rows,
        upsert_records,
        tx.execute(&q_device, &device_args),
    )?;
    // The records whose row this push inserted (`xmax = 0`; a push that found the row, or
    // waited for another push that inserted it, updated it): new to the server.
    let mut created = HashSet::new();
    for row in &upserted {
        if row.try_get::<_, bool>(1)? {
            let id: String = row.try_get(0)?;
            created.insert(
                id.parse::<RecordId>()
                    .map_err(|_| corrupt("record id", &id))?,
            );
        }
    }

    // The log: under the log lock (log order = commit order), held until the commit.
    let mut accepted_wall_ms = Vec::with_capacity(decided.log.len());
    if !decided.log.is_empty() {
        let mut places = Vec::with_capacity(decided.log.len());
        let mut seqs = Vec::with_capacity(decided.log.len());
        let mut payloads = Vec::with_capacity(decided.log.len());
        for l in &decided.log {
            if let Some(p) = batch.get(l.index) {
                places.push(l.posyandu.as_str());
                seqs.push(to_i64(p.change.seq));
                payloads.push(p.payload.as_str());
                accepted_wall_ms.push(p.change.hlc.wall_ms);
            }
        }
        let insert_sql = format!(
            "INSERT INTO changes (posyandu, device_id, seq, received_at, payload)
                 SELECT p, $2, s, $3, pl FROM UNNEST($1::text[], $4::int8[], $5::text[])
                     WITH ORDINALITY AS t(p, s, pl, o) ORDER BY o{}",
            // For the read model's follower: the `sseq`s given.
            if store.without_read_model {
                ""
            } else {
                " RETURNING sseq"
            }
        );
        let (log_lock, insert) = tokio::try_join!(
            tx.prepare_cached("SELECT pg_advisory_xact_lock($1, 0)"),
            tx.prepare_cached(&insert_sql),
        )?;
        let lock_args: [&(dyn ToSql + Sync); 1] = [&LOCK_LOG];
        let insert_args: [&(dyn ToSql + Sync); 5] = [&places, &device, &now, &seqs, &payloads];
        let (_, inserted) = tokio::try_join!(
            tx.execute(&log_lock, &lock_args),
            tx.query(&insert, &insert_args),
        )?;
        if !store.without_read_model {
            // Rows are numbered in the insert's order (`ORDER BY o`, under the log lock).
            let mut sseqs = inserted
                .iter()
                .map(|r| r.try_get::<_, i64>(0))
                .collect::<Result<Vec<_>, _>>()?;
            sseqs.sort_unstable();
            hand_off(store, &decided.log, batch, sseqs, &created);
        }
    }
    tx.commit().await?;
    Ok(PushResult {
        outcomes: decided.outcomes,
        acked_seq,
        accepted_wall_ms,
    })
}

/// Hands the changes a push logged (`sseqs`, in the log's order) to this process's
/// read-model follower before the push commits (`readmodel::postgres::hand`); each record's
/// first change is marked when the push inserted its `records` row (`created`).
fn hand_off(
    store: &PgStore,
    log: &[crate::sync::LogRow],
    batch: Vec<crate::sync::Prepared>,
    sseqs: Vec<i64>,
    created: &HashSet<RecordId>,
) {
    if sseqs.len() != log.len() {
        // Not expected; the follower reads these from the log.
        return;
    }
    let mut slots: Vec<Option<crate::sync::Prepared>> = batch.into_iter().map(Some).collect();
    let mut seen = HashSet::new();
    let handed = log.iter().zip(sseqs).filter_map(|(l, sseq)| {
        let p = slots.get_mut(l.index)?.take()?;
        let first = seen.insert(p.change.id) && created.contains(&p.change.id);
        Some((
            sseq,
            crate::readmodel::postgres::Handed {
                change: p.change,
                payload: p.payload,
                first,
            },
        ))
    });
    crate::readmodel::postgres::hand(store, handed);
}

/// Large scopes: the log in `sseq` order, filtered (most rows are in scope).
const IN_SCOPE: &str = "posyandu IN (SELECT code FROM place_tree WHERE ancestor = $1)";

/// Large scopes: one page, the rows' sizes only.
const PULL_LARGE: &str = "SELECT sseq, octet_length(payload) FROM changes
     WHERE sseq > $2 AND ($4::TEXT IS NULL OR device_id <> $4)
       AND quarantined_at IS NULL AND posyandu IN (SELECT code FROM place_tree WHERE ancestor = $1)
     ORDER BY sseq LIMIT $3";

/// Small scopes: each posyandu's tail through the `(posyandu, sseq)` index, merged.
const PULL_SMALL: &str = "SELECT c.sseq, octet_length(c.payload) FROM changes c WHERE c.sseq IN (
    SELECT x.sseq FROM place_tree t CROSS JOIN LATERAL (
        SELECT c2.sseq FROM changes c2 WHERE c2.posyandu = t.code AND c2.sseq > $2
          AND ($4::TEXT IS NULL OR c2.device_id <> $4) AND c2.quarantined_at IS NULL
        ORDER BY c2.sseq LIMIT $3) x
    WHERE t.ancestor = $1 ORDER BY x.sseq LIMIT $3)
  ORDER BY c.sseq";
const PENDING_SMALL: &str = "EXISTS (SELECT 1 FROM place_tree t WHERE t.ancestor = $1 AND EXISTS (
    SELECT 1 FROM changes c WHERE c.posyandu = t.code AND c.sseq > $2 AND c.device_id <> $3
      AND c.quarantined_at IS NULL))";

/// `status`'s one statement, small scopes (the text made once: cached per connection).
static STATUS_SMALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT (SELECT acked_seq FROM devices WHERE id = $3), {PENDING_SMALL}")
});

/// `status`'s one statement, large scopes.
static STATUS_LARGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT (SELECT acked_seq FROM devices WHERE id = $3), EXISTS (SELECT 1 FROM changes
         WHERE sseq > $2 AND device_id <> $3 AND quarantined_at IS NULL AND {IN_SCOPE})"
    )
});

async fn is_small_scope(
    sizes: &super::ScopeSizes,
    c: &deadpool_postgres::Object,
    scope: &str,
) -> Result<bool, StorageError> {
    if let Some(small) = sizes.get(scope) {
        return Ok(small);
    }
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM place_tree WHERE ancestor = $1",
            &[&scope],
        )
        .await?
        .try_get(0)?;
    let small = n <= super::SMALL_SCOPE_PLACES;
    sizes.set(scope, small);
    Ok(small)
}

impl Storage for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn migrate(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_MIGRATE])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
            let mut ran = 0;
            for (version, sql) in MIGRATIONS {
                let done = tx
                    .query_opt(
                        "SELECT version FROM schema_migrations WHERE version = $1",
                        &[version],
                    )
                    .await?;
                if done.is_none() {
                    tx.batch_execute(sql).await?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        &[version, &to_i64(crate::model::now_ms())],
                    )
                    .await?;
                    ran += 1;
                }
            }
            tx.commit().await?;
            Ok(ran)
        })
    }

    fn schema_version(&self) -> StoreFuture<'_, i64> {
        Box::pin(async move {
            let c = self.client().await?;
            Ok(c.query_one(
                "SELECT COALESCE(MAX(version), 0)::int8 FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?)
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_one("SELECT 1", &[]).await?;
            Ok(())
        })
    }

    fn import_places(&self, places: Vec<Place>) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let codes: Vec<&str> = places.iter().map(|p| p.code.as_str()).collect();
            let names: Vec<&str> = places.iter().map(|p| p.name.as_str()).collect();
            let levels: Vec<&str> = places.iter().map(|p| level_str(p.level)).collect();
            let parents: Vec<Option<&str>> = places.iter().map(|p| p.parent.as_deref()).collect();
            tx.execute(
                "INSERT INTO places (code, name, level, parent)
                 SELECT DISTINCT ON (c) c, n, l, p FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])
                     WITH ORDINALITY AS t(c, n, l, p, o) ORDER BY c, o DESC
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent",
                &[&codes, &names, &levels, &parents],
            )
            .await?;
            let all = tx
                .query("SELECT code, name, level, parent FROM places", &[])
                .await?
                .iter()
                .map(place_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            tx.execute("DELETE FROM place_tree", &[]).await?;
            let pairs = closure(&all);
            let anc: Vec<&str> = pairs.iter().map(|(a, _)| a.as_str()).collect();
            let desc: Vec<&str> = pairs.iter().map(|(_, d)| d.as_str()).collect();
            tx.execute(
                "INSERT INTO place_tree (ancestor, code) SELECT * FROM UNNEST($1::text[], $2::text[])",
                &[&anc, &desc],
            )
            .await?;
            tx.commit().await?;
            self.sizes.clear();
            Ok(places.len())
        })
    }

    fn place(&self, code: String) -> StoreFuture<'_, Option<Place>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                "SELECT code, name, level, parent FROM places WHERE code = $1",
                &[&code],
            )
            .await?
            .as_ref()
            .map(place_from_row)
            .transpose()
        })
    }

    fn all_places(&self) -> StoreFuture<'_, Vec<Place>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                "SELECT code, name, level, parent FROM places ORDER BY code",
                &[],
            )
            .await?
            .iter()
            .map(place_from_row)
            .collect()
        })
    }

    fn posyandu_under(&self, place: String) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(POSYANDU_UNDER, &[&place])
                .await?
                .iter()
                .map(|r| r.try_get(0).map_err(StorageError::from))
                .collect()
        })
    }

    fn places_for_scope(&self, place: String) -> StoreFuture<'_, Vec<Place>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(PLACES_FOR_SCOPE, &[&place])
                .await?
                .iter()
                .map(place_from_row)
                .collect()
        })
    }

    fn create_user(&self, user: User) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            let n = c
                .execute(
                    "INSERT INTO users (id, username, display_name, role, scope_level, scope_place, secret_hash, disabled_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8) ON CONFLICT (username) DO NOTHING",
                    &[
                        &user.id.to_string(),
                        &user.username,
                        &user.display_name,
                        &role_str(user.role),
                        &level_str(user.scope.level),
                        &user.scope.place,
                        &user.secret_hash,
                        &to_i64(crate::model::now_ms()),
                    ],
                )
                .await?;
            if n == 0 {
                return Err(StorageError::Conflict(format!(
                    "the username {:?} is taken",
                    user.username
                )));
            }
            Ok(())
        })
    }

    fn user_by_username(&self, username: String) -> StoreFuture<'_, Option<User>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.username = $1"),
                &[&username],
            )
            .await?
            .map(|r| user_from_row(&r, 0))
            .transpose()
        })
    }

    fn user_by_id(&self, id: UserId) -> StoreFuture<'_, Option<User>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
                &[&id.to_string()],
            )
            .await?
            .map(|r| user_from_row(&r, 0))
            .transpose()
        })
    }

    fn list_users(&self) -> StoreFuture<'_, Vec<User>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                &format!("SELECT {USER_COLS} FROM users u ORDER BY u.username"),
                &[],
            )
            .await?
            .iter()
            .map(|r| user_from_row(r, 0))
            .collect()
        })
    }

    fn set_user_disabled(
        &self,
        username: String,
        disabled: bool,
        now: u64,
    ) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let at = disabled.then_some(to_i64(now));
            let n = tx
                .execute(
                    "UPDATE users SET disabled_at = $2 WHERE username = $1",
                    &[&username, &at],
                )
                .await?;
            if disabled {
                // Disabling ends every session (kept, expired now: the device is told the
                // account is disabled, and after `user enable` that the session ended).
                tx.execute(
                    "UPDATE sessions SET expires_at = $2
                     WHERE user_id IN (SELECT id FROM users WHERE username = $1) AND expires_at > $2",
                    &[&username, &to_i64(now)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    fn create_enrol_code(
        &self,
        code_hash: String,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "INSERT INTO enrol_codes (code_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&code_hash, &user.to_string(), &to_i64(now), &to_i64(expires_at)],
            )
            .await?;
            Ok(())
        })
    }

    fn enrol(
        &self,
        code_hash: String,
        device: NewDevice,
    ) -> StoreFuture<'_, Result<Device, EnrolRefusal>> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    "SELECT user_id, expires_at, used_at, device_id FROM enrol_codes WHERE code_hash = $1 FOR UPDATE",
                    &[&code_hash],
                )
                .await?
            else {
                return Ok(Err(EnrolRefusal::Invalid));
            };
            let user_id: String = row.try_get(0)?;
            let expires_at: i64 = row.try_get(1)?;
            let used_at: Option<i64> = row.try_get(2)?;
            let pending: Option<String> = row.try_get(3)?;
            if used_at.is_some() {
                return Ok(Err(EnrolRefusal::Invalid));
            }
            if to_u64(expires_at) <= device.now {
                return Ok(Err(EnrolRefusal::Expired));
            }
            let now = to_i64(device.now);
            let mut device = device;
            // The code made a device that no user has logged in on yet (a wrong password):
            // the same device is enrolled again with a new token, and the code stays unused
            // until a login on it succeeds.
            let again = match pending {
                Some(id) => tx
                    .query_opt(
                        "SELECT id FROM devices WHERE id = $1 AND revoked_at IS NULL FOR UPDATE",
                        &[&id],
                    )
                    .await?
                    .map(|r| r.try_get::<_, String>(0))
                    .transpose()?,
                None => None,
            };
            if let Some(id) = again {
                device.id = id.parse().map_err(|_| corrupt("device id", &id))?;
                tx.execute(
                    "UPDATE devices SET name = $2, token_hash = $3, enrolled_at = $4, last_seen_at = $4, app_version = $5
                     WHERE id = $1",
                    &[&id, &device.name, &device.token_hash, &now, &device.app_version],
                )
                .await?;
            } else {
                let id = device.id.to_string();
                tx.execute(
                    "UPDATE enrol_codes SET device_id = $2 WHERE code_hash = $1",
                    &[&code_hash, &id],
                )
                .await?;
                tx.execute(
                    "INSERT INTO devices (id, name, token_hash, user_id, enrolled_at, last_seen_at, app_version, acked_seq)
                     VALUES ($1, $2, $3, $4, $5, $5, $6, 0)",
                    &[&id, &device.name, &device.token_hash, &user_id, &now, &device.app_version],
                )
                .await?;
            }
            tx.commit().await?;
            let user_id = user_id.parse().map_err(|_| corrupt("user id", &user_id))?;
            Ok(Ok(device.enrolled(user_id)))
        })
    }

    fn device_by_token(&self, token_hash: String) -> StoreFuture<'_, Option<Device>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                &format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.token_hash = $1"),
                &[&token_hash],
            )
            .await?
            .map(|r| device_from_row(&r, 0))
            .transpose()
        })
    }

    fn device(&self, id: DeviceId) -> StoreFuture<'_, Option<Device>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query_opt(
                &format!("SELECT {DEVICE_COLS} FROM devices d WHERE d.id = $1"),
                &[&id.to_string()],
            )
            .await?
            .map(|r| device_from_row(&r, 0))
            .transpose()
        })
    }

    fn list_devices(&self) -> StoreFuture<'_, Vec<Device>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.query(
                &format!("SELECT {DEVICE_COLS} FROM devices d ORDER BY d.enrolled_at"),
                &[],
            )
            .await?
            .iter()
            .map(|r| device_from_row(r, 0))
            .collect()
        })
    }

    fn revoke_device(&self, id: DeviceId, now: u64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let c = self.client().await?;
            let n = c
                .execute(
                    "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                    &[&id.to_string(), &to_i64(now)],
                )
                .await?;
            Ok(n > 0)
        })
    }

    fn touch_device(
        &self,
        id: DeviceId,
        now: u64,
        app_version: Option<String>,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "UPDATE devices SET last_seen_at = $2, app_version = COALESCE($3, app_version) WHERE id = $1",
                &[&id.to_string(), &to_i64(now), &app_version],
            )
            .await?;
            Ok(())
        })
    }

    fn create_session(
        &self,
        token_hash: String,
        user: UserId,
        device: DeviceId,
        now: u64,
        expires_at: u64,
        hlc: Option<Hlc>,
    ) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // One login of a device at a time: its logins' HLCs never go back.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&LOCK_DEVICE, &device_lock_key(device)],
            )
            .await?;
            let previous: Option<String> = tx
                .query_opt(
                    "SELECT hlc FROM device_logins WHERE device_id = $1 ORDER BY n DESC LIMIT 1",
                    &[&device.to_string()],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            let recorded = login_hlc(hlc, now, previous.and_then(|h| h.parse().ok())).to_string();
            let (user, device, now) = (user.to_string(), device.to_string(), to_i64(now));
            tx.execute(
                "INSERT INTO device_logins (device_id, user_id, hlc, at) VALUES ($1, $2, $3, $4)",
                &[&device, &user, &recorded, &now],
            )
            .await?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash, &user, &device, &now, &to_i64(expires_at)],
            )
            .await?;
            // The first login on a device uses up the code that enrolled it.
            tx.execute(
                "UPDATE enrol_codes SET used_at = $2 WHERE device_id = $1 AND used_at IS NULL",
                &[&device, &now],
            )
            .await?;
            tx.execute(
                "INSERT INTO device_users (device_id, user_id, first_login_at, last_login_at) VALUES ($1, $2, $3, $3)
                 ON CONFLICT (device_id, user_id) DO UPDATE SET last_login_at = excluded.last_login_at",
                &[&device, &user, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn session(&self, token_hash: String) -> StoreFuture<'_, Option<SessionInfo>> {
        Box::pin(async move {
            let c = self.client().await?;
            let stmt = c.prepare_cached(&SESSION_SQL).await?;
            let Some(r) = c.query_opt(&stmt, &[&token_hash]).await? else {
                return Ok(None);
            };
            Ok(Some(session_from_row(&r)?))
        })
    }

    fn reads_check_ins_at_once(&self) -> bool {
        true
    }

    fn session_and_page(
        &self,
        token_hash: String,
        ask: Option<super::PageAsk>,
    ) -> StoreFuture<'_, (Option<SessionInfo>, Option<PullPage>)> {
        Box::pin(async move {
            let Some(ask) = ask else {
                return Ok((self.session(token_hash).await?, None));
            };
            // One connection, one round trip: the session's row, the high-water mark and the
            // page's sizes pipelined; the payloads (a second round trip) only when the page
            // has changes and the row names the device and scope asked for.
            let c = self.client().await?;
            let device = ask.device.to_string();
            let (row, cut) = self
                .page_on(
                    &c,
                    Some(&token_hash),
                    &ask.scope,
                    ask.after,
                    ask.limit,
                    Some(&device),
                    ask.max_bytes,
                )
                .await?;
            let (session, matches) = session_for(row, ask.device, &ask.scope)?;
            let page = if matches {
                Some(cut.finish(&c).await?)
            } else {
                None
            };
            Ok((session, page))
        })
    }

    fn device_user_known(&self, device: DeviceId, user: UserId) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let c = self.client().await?;
            let row = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM device_users WHERE device_id = $1 AND user_id = $2)",
                    &[&device.to_string(), &user.to_string()],
                )
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    fn push(&self, ctx: Arc<PushContext>, changes: Vec<Change>) -> StoreFuture<'_, PushResult> {
        Box::pin(async move {
            let result = push_tx(self, &ctx, changes).await?;
            let logged = result.accepted_wall_ms.len();
            if logged > 0 && !self.without_read_model {
                // Answered at its commit; the follower merges it (docs/read-model.md).
                crate::readmodel::postgres::kick(self);
            }
            if self.analyze.logged(logged) {
                let store = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = crate::readmodel::postgres::analyze(&store).await {
                        tracing::warn!(error = %e, "read model: ANALYZE failed");
                    }
                });
            }
            Ok(result)
        })
    }

    fn pull(&self, scope: String, after: i64, limit: usize) -> StoreFuture<'_, PullPage> {
        Box::pin(async move { self.pull_page(&scope, after, limit, None, usize::MAX).await })
    }

    fn pull_for(
        &self,
        device: DeviceId,
        scope: String,
        after: i64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, PullPage> {
        Box::pin(async move {
            let device = device.to_string();
            self.pull_page(&scope, after, limit, Some(&device), max_bytes)
                .await
        })
    }

    fn set_quarantine(
        &self,
        target: super::ChangeTarget,
        on: bool,
        reason: String,
        now: u64,
    ) -> StoreFuture<'_, Vec<i64>> {
        Box::pin(async move {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let state = if on {
                "quarantined_at IS NULL"
            } else {
                "quarantined_at IS NOT NULL"
            };
            let rows = match &target {
                super::ChangeTarget::Sseq(n) => {
                    tx.query(
                        &format!("SELECT sseq FROM changes WHERE sseq = $1 AND {state} FOR UPDATE"),
                        &[n],
                    )
                    .await?
                }
                super::ChangeTarget::Record(id) => {
                    let head = format!("{{\"id\":\"{id}\"");
                    tx.query(
                        &format!(
                            "SELECT sseq FROM changes WHERE substr(payload, 1, 44) = $1 AND {state}
                             ORDER BY sseq FOR UPDATE"
                        ),
                        &[&head],
                    )
                    .await?
                }
            };
            let sseqs: Vec<i64> = rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let action = if on { "quarantine" } else { "release" };
            let at = to_i64(now);
            for n in &sseqs {
                if on {
                    tx.execute(
                        "UPDATE changes SET quarantined_at = $2, quarantine_reason = $3 WHERE sseq = $1",
                        &[n, &at, &reason],
                    )
                    .await?;
                } else {
                    tx.execute(
                        "UPDATE changes SET quarantined_at = NULL, quarantine_reason = NULL WHERE sseq = $1",
                        &[n],
                    )
                    .await?;
                }
                tx.execute(
                    "INSERT INTO change_quarantine_log (at, sseq, action, reason) VALUES ($1, $2, $3, $4)",
                    &[&at, n, &action, &reason],
                )
                .await?;
            }
            crate::readmodel::postgres::remerge_sseqs(&tx, &sseqs).await?;
            tx.commit().await?;
            Ok(sseqs)
        })
    }

    fn list_changes(
        &self,
        filter: super::ChangeFilter,
    ) -> StoreFuture<'_, Vec<super::LoggedChange>> {
        Box::pin(async move {
            let c = self.client().await?;
            let limit = i64::try_from(filter.limit.max(1)).unwrap_or(i64::MAX);
            let min = i64::try_from(filter.min_bytes).unwrap_or(i64::MAX);
            let rows = c
                .query(
                    "SELECT sseq, substr(payload, 1, 120), posyandu, device_id, seq, received_at,
                            octet_length(payload)::BIGINT, quarantined_at, quarantine_reason
                     FROM changes
                     WHERE (NOT $1 OR quarantined_at IS NOT NULL) AND octet_length(payload)::BIGINT >= $2
                     ORDER BY sseq DESC LIMIT $3",
                    &[&filter.quarantined_only, &min, &limit],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let head: String = r.try_get(1)?;
                    let (record, kind) = super::LoggedChange::id_and_kind(&head);
                    Ok(super::LoggedChange {
                        sseq: r.try_get(0)?,
                        record,
                        kind,
                        posyandu: r.try_get(2)?,
                        device: r.try_get(3)?,
                        seq: r.try_get(4)?,
                        received_at: to_u64(r.try_get(5)?),
                        bytes: to_u64(r.try_get(6)?),
                        quarantined_at: r.try_get::<_, Option<i64>>(7)?.map(to_u64),
                        quarantine_reason: r.try_get(8)?,
                    })
                })
                .collect()
        })
    }

    fn status(&self, device: DeviceId, scope: String, after: i64) -> StoreFuture<'_, StatusInfo> {
        Box::pin(async move {
            let c = self.client().await?;
            let (_, info) = self.status_on(&c, None, device, &scope, after).await?;
            Ok(info)
        })
    }

    fn session_and_status(
        &self,
        token_hash: String,
        ask: Option<super::StatusAsk>,
    ) -> StoreFuture<'_, (Option<SessionInfo>, Option<StatusInfo>)> {
        Box::pin(async move {
            let Some(ask) = ask else {
                return Ok((self.session(token_hash).await?, None));
            };
            let c = self.client().await?;
            let (row, info) = self
                .status_on(&c, Some(&token_hash), ask.device, &ask.scope, ask.after)
                .await?;
            let (session, matches) = session_for(row, ask.device, &ask.scope)?;
            Ok((session, matches.then_some(info)))
        })
    }

    fn titip_server_key(&self, fresh: Vec<u8>, now: u64) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "INSERT INTO titip_server_key (id, secret, created_at) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO NOTHING",
                &[&fresh, &to_i64(now)],
            )
            .await?;
            let row = c
                .query_one("SELECT secret FROM titip_server_key WHERE id = 1", &[])
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    fn set_device_titip(&self, id: DeviceId, keys: TitipKeys) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "UPDATE devices SET titip_box = $2, titip_sign = $3 WHERE id = $1",
                &[&id.to_string(), &keys.box_key, &keys.sign],
            )
            .await?;
            Ok(())
        })
    }

    fn device_titip(&self, id: DeviceId) -> StoreFuture<'_, Option<TitipKeys>> {
        Box::pin(async move {
            let c = self.client().await?;
            let row = c
                .query_opt(
                    "SELECT titip_box, titip_sign FROM devices WHERE id = $1",
                    &[&id.to_string()],
                )
                .await?;
            let Some(row) = row else { return Ok(None) };
            let b: Option<String> = row.try_get(0)?;
            let s: Option<String> = row.try_get(1)?;
            Ok(match (b, s) {
                (Some(box_key), Some(sign)) => Some(TitipKeys { box_key, sign }),
                _ => None,
            })
        })
    }

    fn touch_relay(&self, id: DeviceId, now: u64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "UPDATE devices SET last_relay_at = $2 WHERE id = $1",
                &[&id.to_string(), &to_i64(now)],
            )
            .await?;
            Ok(())
        })
    }

    fn record_titip_refusal(&self, r: TitipRefusal) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let c = self.client().await?;
            c.execute(
                "INSERT INTO titip_refusals (at, device_id, carrier_device, reason)
                 VALUES ($1, $2, $3, $4)",
                &[&to_i64(r.at), &r.device, &r.carrier, &r.reason],
            )
            .await?;
            Ok(())
        })
    }

    fn titip_refusals(&self, limit: usize) -> StoreFuture<'_, Vec<TitipRefusal>> {
        Box::pin(async move {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT at, device_id, carrier_device, reason FROM titip_refusals
                     ORDER BY at DESC LIMIT $1",
                    &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(TitipRefusal {
                        at: to_u64(r.try_get(0)?),
                        device: r.try_get(1)?,
                        carrier: r.try_get(2)?,
                        reason: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }
}

/// Fresh databases for tests and benchmarks, on a server whose `postgres` database the
/// admin URL reaches.
pub mod scratch {
    use super::StorageError;
    use tokio_postgres::NoTls;

    /// The PostgreSQL server tests use: `JANGKAU_TEST_PG` or the local one.
    pub fn admin_url() -> String {
        std::env::var("JANGKAU_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    async fn admin() -> Result<tokio_postgres::Client, StorageError> {
        let (client, conn) = tokio_postgres::connect(&admin_url(), NoTls).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(client)
    }

    /// Creates `jangkau_t_<random>` and returns its name and URL.
    pub async fn create() -> Result<(String, String), StorageError> {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|e| StorageError::Invalid(e.to_string()))?;
        let name = format!("jangkau_t_{:016x}", u64::from_le_bytes(b));
        admin()
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        let base = admin_url();
        let host_at = base.find("://").map_or(0, |i| i + 3);
        let url = match base[host_at..].find('/') {
            Some(j) => format!("{}/{name}", &base[..host_at + j]),
            None => format!("{base}/{name}"),
        };
        Ok((name, url))
    }

    /// Drops a database made by [`create`], ending its connections.
    pub async fn drop(name: &str) -> Result<(), StorageError> {
        if !name.starts_with("jangkau_t_")
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(StorageError::Invalid(format!(
                "not a scratch database: {name}"
            )));
        }
        admin()
            .await?
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        Ok(())
    }
}
