//! Reference data from the district: places (kabupaten → posyandu) and the user's scope.
//! Never pushed. The sync client asks for the places of the user's area after every login
//! (`GET /v1/places`) and adds them to those the tablet knows ([`Store::merge_places`]).

use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use sync_protocol::{PlaceInfo, PlaceLevel, Scope};

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

impl From<PlaceInfo> for Place {
    fn from(p: PlaceInfo) -> Self {
        Place {
            code: p.code,
            level: p.level,
            name: p.name,
            parent: p.parent,
        }
    }
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

    /// Adds places to those this tablet knows, in one transaction: a place already known
    /// (by code) takes the new level, name and parent; the others stay. A shared tablet thus
    /// keeps the places of every user's area, whoever logged in last.
    pub fn merge_places(&mut self, places: &[Place]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO places (code, level, name, parent) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (code) DO UPDATE SET level = excluded.level,
                     name = excluded.name, parent = excluded.parent",
            )?;
            for p in places {
                stmt.execute(params![p.code, level_str(p.level)?, p.name, p.parent])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The codes of the places of `level` at or under `place`: through the parent links
    /// (a puskesmas code such as `53.04.PKM07` is no prefix of its desa), and by code prefix
    /// for places known without their parents. Sorted by code.
    fn codes_under(&self, place: &str, level: PlaceLevel) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, level, parent FROM places")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let want = level_str(level)?;
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        let mut of_level = BTreeSet::new();
        for row in rows {
            let (code, lvl, parent) = row?;
            if lvl == want {
                of_level.insert(code.clone());
            }
            if let Some(parent) = parent {
                children.entry(parent).or_default().push(code);
            }
        }
        let prefix = format!("{place}.");
        let mut out: BTreeSet<String> = of_level
            .iter()
            .filter(|c| c.as_str() == place || c.starts_with(&prefix))
            .cloned()
            .collect();
        // Down the parent links from `place`; each place is visited once, so a cycle ends.
        let mut seen = BTreeSet::from([place.to_string()]);
        let mut stack = vec![place.to_string()];
        while let Some(code) = stack.pop() {
            if of_level.contains(&code) {
                out.insert(code.clone());
            }
            for child in children.get(&code).into_iter().flatten() {
                if seen.insert(child.clone()) {
                    stack.push(child.clone());
                }
            }
        }
        Ok(out.into_iter().collect())
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

    /// Whether the places of the logged-in user's area arrived (their scope's own place is
    /// known): false on a tablet whose login could not fetch them, or that another user's
    /// places reached first. True when the scope itself is not known yet.
    pub fn knows_scope_places(&self) -> Result<bool> {
        let Some(scope) = self.scope()? else {
            return Ok(true);
        };
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM places WHERE code = ?1)",
            [scope.place],
            |r| r.get(0),
        )?)
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
    /// the desa or puskesmas for a bidan), from the places known (through their parents),
    /// else from the records on the tablet.
    pub fn posyandu_in_scope(&self) -> Result<Vec<String>> {
        let Some(scope) = self.scope()? else {
            return Ok(Vec::new());
        };
        if scope.level == PlaceLevel::Posyandu {
            return Ok(vec![scope.place]);
        }
        let known = self.codes_under(&scope.place, PlaceLevel::Posyandu)?;
        if !known.is_empty() {
            return Ok(known);
        }
        // No places known for this area (the server is older than `GET /v1/places`, or asking
        // for them failed at every login so far): the posyandu are those of the records the
        // server sent for this area. Desa, kecamatan and kabupaten codes are prefixes of their
        // posyandu codes; a puskesmas code (`53.04.PKM07`) is not, and then every posyandu on
        // the tablet counts (the server pulls only the user's area).
        let mut stmt = self.conn.prepare_cached(
            "SELECT posyandu FROM households WHERE posyandu IS NOT NULL AND deleted = 0
             UNION SELECT posyandu FROM persons WHERE posyandu IS NOT NULL AND deleted = 0
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
