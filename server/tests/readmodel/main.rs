//! The server's read model, on SQLite and real PostgreSQL: incremental equals a rebuild,
//! convergence against the reference `Replica`, resumable reindex, quarantine, and the scope
//! of every `/v1/records` and `/v1/reports` route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[allow(dead_code)]
#[path = "../server/common.rs"]
mod common;
mod cli;
mod convergence;
mod demo;
mod duplicates;
mod eppgbm;
mod fhir;
mod follower;
mod notes;
mod parts;
mod routes;
mod trend;
mod visits;

use district_server::Storage;
use district_server::readmodel::tables::Table;
use district_server::readmodel::{Cell, Param};
use std::collections::BTreeMap;

/// Every row of every read table, in key order.
pub async fn snapshot(store: &dyn Storage) -> BTreeMap<&'static str, Vec<Vec<Cell>>> {
    let mut out = BTreeMap::new();
    for t in Table::ALL {
        let cols: Vec<&str> = t.columns().iter().map(|(c, _)| *c).collect();
        let order = if t == Table::Conflicts {
            "record_id, field, loser_hlc, loser_device"
        } else {
            "id"
        };
        let rows = store
            .read_rows(
                format!(
                    "SELECT {} FROM {} ORDER BY {order}",
                    cols.join(", "),
                    t.name()
                ),
                Vec::<Param>::new(),
            )
            .await
            .unwrap();
        out.insert(t.name(), rows);
    }
    out
}

/// The Belu demo district with its generated history (`jangkau-server demo`), pushed at
/// `now_ms()`; returns that time.
pub async fn demo_with_history(store: &dyn Storage) -> u64 {
    use district_server::auth::PasswordCost;
    district_server::admin::demo(store, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let now = district_server::model::now_ms();
    district_server::admin::demo_history(
        store,
        PasswordCost::TEST,
        now,
        district_server::demodata::SEED,
    )
    .await
    .unwrap();
    now
}
