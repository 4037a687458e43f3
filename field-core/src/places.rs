//! Reference data pulled from the district: places (kabupaten → posyandu) and the user's
//! scope. Not synced back; replaced as a whole set per pull.

use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sync_protocol::{PlaceLevel, Scope};

/// One place of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// e.g. `53.04.05.2001.P01`.
    pub code: String,
    pub level: PlaceLevel,
    pub name: String,
    /// The enclosing place's code (none for the kabupaten).
    pub parent: Option<String>,
}

fn level_str(l: PlaceLevel) -> Result<String> {
    match serde_json::to_value(l)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Corrupt(format!("place level {other}"))),
    }
}

impl Store {
    /// Replaces the places this tablet knows, in one transaction.
    pub fn replace_places(&mut self, places: &[Place]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM places", [])?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO places (code, level, name, parent) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for p in places {
                stmt.execute(params![p.code, level_str(p.level)?, p.name, p.parent])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Places of one level under a place (by code prefix), by name.
    pub fn places(&self, level: PlaceLevel, within: Option<&str>) -> Result<Vec<Place>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, level, name, parent FROM places
             WHERE level = ?1
               AND (?2 IS NULL OR code = ?2 OR substr(code, 1, length(?2) + 1) = ?2 || '.')
             ORDER BY name",
        )?;
        let rows = stmt.query_map(params![level_str(level)?, within], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, level, name, parent) = row?;
            out.push(Place {
                code,
                level: serde_json::from_value(serde_json::Value::String(level))?,
                name,
                parent,
            });
        }
        Ok(out)
    }

    /// Saves the area the logged-in user may see (from the login response).
    pub fn set_scope(&mut self, scope: &Scope) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET place = ?2 WHERE id = ?1",
            params![
                self.user().user_id.to_string(),
                serde_json::to_string(scope)?
            ],
        )?;
        Ok(())
    }

    /// The area of the logged-in user, when known.
    pub fn scope(&self) -> Result<Option<Scope>> {
        let s: Option<String> = self.conn.query_row(
            "SELECT place FROM users WHERE id = ?1",
            [self.user().user_id.to_string()],
            |r| r.get(0),
        )?;
        Ok(s.as_deref().and_then(|s| serde_json::from_str(s).ok()))
    }

    /// The posyandu codes inside the user's scope (their own for a kader; every posyandu of
    /// the desa for a bidan), from the places known, else from the records on the tablet.
    pub fn posyandu_in_scope(&self) -> Result<Vec<String>> {
        let Some(scope) = self.scope()? else {
            return Ok(Vec::new());
        };
        if scope.level == PlaceLevel::Posyandu {
            return Ok(vec![scope.place]);
        }
        let known: Vec<String> = self
            .places(PlaceLevel::Posyandu, Some(&scope.place))?
            .into_iter()
            .map(|p| p.code)
            .collect();
        if !known.is_empty() {
            return Ok(known);
        }
        // The sync protocol does not carry the place hierarchy yet: the posyandu are those of
        // the records the server sent for this area. Desa, kecamatan and kabupaten codes are
        // prefixes of their posyandu codes; a puskesmas code (`53.04.PKM07`) is not, and then
        // every posyandu on the tablet counts (the server pulls only the user's area).
        let mut stmt = self.conn.prepare_cached(
            "SELECT posyandu FROM households WHERE posyandu IS NOT NULL
             UNION SELECT posyandu FROM persons WHERE posyandu IS NOT NULL
             ORDER BY 1",
        )?;
        let all = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let prefix = format!("{}.", scope.place);
        let under: Vec<String> = all
            .iter()
            .filter(|c| c.starts_with(&prefix))
            .cloned()
            .collect();
        Ok(
            if under.is_empty() && scope.level == PlaceLevel::Puskesmas {
                all
            } else {
                under
            },
        )
    }
}
