//! Lists of work in the user's area that are not about one person: the posyandu days held
//! (to resume today's), and the referrals with their history (to follow them up).

use crate::error::{Result, StoreError};
use crate::messages::{Key, invalid};
use crate::reads::rid;
use crate::store::Store;
use rusqlite::{OptionalExtension, params_from_iter};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::RecordId;

/// A posyandu day (a `posyandu_session` fact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRef {
    pub id: RecordId,
    /// The posyandu's code.
    pub posyandu: String,
    /// Its name when the tablet knows it, else the code.
    pub posyandu_name: String,
    pub date: String,
    /// `services_first` or `counselling_first` (ILP steps 4 and 5), when set.
    pub service_order: Option<String>,
}

/// A referral as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralRow {
    pub id: RecordId,
    pub person: String,
    pub person_name: String,
    pub household: Option<String>,
    pub posyandu: String,
    pub reason: String,
    /// `pustu`, `puskesmas` or `hospital`.
    pub destination: String,
    pub destination_name: Option<String>,
    /// `made`, `received` or `done`.
    pub status: String,
    pub outcome: Option<String>,
    /// Date of the `made` event.
    pub made_on: Option<String>,
    /// Date of the latest event.
    pub updated_on: Option<String>,
}

/// One step in a referral's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralEventRow {
    pub id: RecordId,
    pub status: String,
    pub date: String,
    pub note: Option<String>,
}

/// A referral with its history, oldest event first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralView {
    pub referral: ReferralRow,
    pub events: Vec<ReferralEventRow>,
}

/// `?,?,?` for `n` values.
fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

const REFERRAL_COLS: &str = "r.id, r.person, COALESCE(p.name, ''), p.household, r.posyandu,
    r.status, r.values_json,
    (SELECT MIN(e.date) FROM referral_events e
      WHERE e.referral = r.id AND e.deleted = 0 AND e.status = 'made'),
    (SELECT MAX(e.date) FROM referral_events e WHERE e.referral = r.id AND e.deleted = 0)";

fn referral_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ReferralRaw, String)> {
    Ok((
        ReferralRaw {
            id: r.get(0)?,
            person: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            person_name: r.get(2)?,
            household: r.get(3)?,
            posyandu: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            status: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            made_on: r.get(7)?,
            updated_on: r.get(8)?,
        },
        r.get(6)?,
    ))
}

struct ReferralRaw {
    id: String,
    person: String,
    person_name: String,
    household: Option<String>,
    posyandu: String,
    status: String,
    made_on: Option<String>,
    updated_on: Option<String>,
}

fn text(values: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    values.get(k).and_then(Value::as_str).map(str::to_string)
}

impl ReferralRaw {
    fn finish(self, values_json: &str) -> Result<ReferralRow> {
        let values: serde_json::Map<String, Value> = serde_json::from_str(values_json)?;
        Ok(ReferralRow {
            id: rid(&self.id)?,
            person: self.person,
            person_name: self.person_name,
            household: self.household,
            posyandu: self.posyandu,
            reason: text(&values, "reason").unwrap_or_default(),
            destination: text(&values, "destination").unwrap_or_default(),
            destination_name: text(&values, "destination_name"),
            status: self.status,
            outcome: text(&values, "outcome"),
            made_on: self.made_on,
            updated_on: self.updated_on,
        })
    }
}

impl Store {
    /// The posyandu codes lists are limited to: the user's area when it is known, else
    /// every posyandu with records on the tablet (`None`).
    fn area_posyandu(&self) -> Result<Option<Vec<String>>> {
        Ok(match self.scope()? {
            Some(_) => Some(self.posyandu_in_scope()?),
            None => None,
        })
    }

    /// Posyandu days of the user's area dated on or after `since` (`YYYY-MM-DD`), newest
    /// first.
    pub fn posyandu_sessions(&self, since: &str) -> Result<Vec<SessionRef>> {
        let area = self.area_posyandu()?;
        let mut sql = String::from(
            "SELECT f.id, f.posyandu, COALESCE(pl.name, f.posyandu), f.date,
                    json_extract(f.body_json, '$.service_order')
             FROM facts f LEFT JOIN places pl ON pl.code = f.posyandu AND pl.level = 'posyandu'
             WHERE f.kind = 'posyandu_session' AND f.deleted = 0 AND f.date >= ?
               AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)",
        );
        let mut args = vec![since.to_string()];
        if let Some(codes) = &area {
            sql.push_str(&format!(" AND f.posyandu IN ({})", marks(codes.len())));
            args.extend(codes.iter().cloned());
        }
        sql.push_str(" ORDER BY f.date DESC, f.posyandu");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, posyandu, posyandu_name, date, service_order) = row?;
            out.push(SessionRef {
                id: rid(&id)?,
                posyandu,
                posyandu_name,
                date,
                service_order,
            });
        }
        Ok(out)
    }

    /// One posyandu day.
    pub fn posyandu_session(&self, id: RecordId) -> Result<SessionRef> {
        let row = self
            .conn
            .query_row(
                "SELECT f.posyandu, COALESCE(pl.name, f.posyandu), f.date,
                        json_extract(f.body_json, '$.service_order')
                 FROM facts f LEFT JOIN places pl ON pl.code = f.posyandu AND pl.level = 'posyandu'
                 WHERE f.id = ?1 AND f.kind = 'posyandu_session' AND f.deleted = 0",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((posyandu, posyandu_name, date, service_order)) = row else {
            return Err(StoreError::NoSuchRecord {
                kind: "posyandu_session",
                id: id.to_string(),
            });
        };
        Ok(SessionRef {
            id,
            posyandu,
            posyandu_name,
            date,
            service_order,
        })
    }

    /// Today's (or `date`'s) session of a posyandu, opened once: a second opening returns the
    /// first session, so a posyandu day never splits in two on one tablet.
    pub fn open_or_resume_session(
        &mut self,
        posyandu: &str,
        date: &str,
        service_order: Option<&str>,
    ) -> Result<SessionRef> {
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT f.id FROM facts f WHERE f.kind = 'posyandu_session' AND f.deleted = 0
                   AND f.posyandu = ?1 AND f.date = ?2
                   AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)
                 ORDER BY f.id LIMIT 1",
                [posyandu, date],
                |r| r.get(0),
            )
            .optional()?;
        let id = match existing {
            Some(id) => rid(&id)?,
            None => {
                if posyandu.trim().is_empty() {
                    return Err(invalid("posyandu", Key::Required, &[]).into());
                }
                self.open_posyandu_session(posyandu, date, service_order)?
            }
        };
        self.posyandu_session(id)
    }

    /// Referrals of the user's area, newest first; only those with `status` when given.
    pub fn referrals(&self, status: Option<&str>) -> Result<Vec<ReferralRow>> {
        let area = self.area_posyandu()?;
        let mut sql = format!(
            "SELECT {REFERRAL_COLS} FROM referrals r LEFT JOIN persons p ON p.id = r.person
             WHERE r.deleted = 0"
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = status {
            sql.push_str(" AND r.status = ?");
            args.push(s.to_string());
        }
        if let Some(codes) = &area {
            sql.push_str(&format!(" AND r.posyandu IN ({})", marks(codes.len())));
            args.extend(codes.iter().cloned());
        }
        sql.push_str(" ORDER BY 9 DESC, r.id DESC");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), referral_row)?;
        let mut out = Vec::new();
        for row in rows {
            let (raw, values) = row?;
            out.push(raw.finish(&values)?);
        }
        Ok(out)
    }

    /// One referral with its history.
    pub fn referral(&self, id: RecordId) -> Result<ReferralView> {
        let row = self
            .conn
            .query_row(
                &format!(
                    "SELECT {REFERRAL_COLS} FROM referrals r LEFT JOIN persons p ON p.id = r.person
                     WHERE r.id = ?1 AND r.deleted = 0"
                ),
                [id.to_string()],
                referral_row,
            )
            .optional()?;
        let Some((raw, values)) = row else {
            return Err(StoreError::NoSuchRecord {
                kind: "referral",
                id: id.to_string(),
            });
        };
        let referral = raw.finish(&values)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.status, e.date, json_extract(f.body_json, '$.note')
             FROM referral_events e JOIN facts f ON f.id = e.id
             WHERE e.referral = ?1 AND e.deleted = 0
               AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = e.id AND c.deleted = 0)
             ORDER BY e.date, e.made_hlc",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (eid, status, date, note) = row?;
            events.push(ReferralEventRow {
                id: rid(&eid)?,
                status: status.unwrap_or_default(),
                date: date.unwrap_or_default(),
                note,
            });
        }
        Ok(ReferralView { referral, events })
    }
}
