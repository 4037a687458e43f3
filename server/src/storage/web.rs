//! What the web dashboard (`crate::web`) writes: one statement at a time on either backend
//! (sessions, the audit log, the ILP rollout, a password reset). Reads go through
//! [`crate::readmodel::ReadModel::read_rows`]. Kept apart from the sync storage so the
//! dashboard's tables (migration 0007) never touch the sync path.

use super::StoreFuture;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use crate::readmodel::Param;
use crate::readmodel::tables::pg_placeholders;

/// Writes for the dashboard: implemented by both backends (a supertrait of
/// [`crate::Storage`]).
pub trait WebStore {
    /// Runs one statement in SQLite's dialect with `?N` parameters (the PostgreSQL backend
    /// rewrites them), in its own transaction; returns the rows it changed.
    fn web_exec(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, u64>;
}

impl WebStore for SqliteStore {
    fn web_exec(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, u64> {
        self.write(move |c| {
            let values = params.iter().map(|p| match p {
                Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
                Param::Int(i) => rusqlite::types::Value::Integer(*i),
            });
            let n = c.execute(&sql, rusqlite::params_from_iter(values))?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }
}

impl WebStore for PgStore {
    fn web_exec(&self, sql: String, params: Vec<Param>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let c = self.client().await?;
            let boxed = crate::readmodel::postgres::pg_params(params);
            let refs = crate::readmodel::postgres::pg_refs(&boxed);
            Ok(c.execute(&pg_placeholders(&sql), &refs).await?)
        })
    }
}
