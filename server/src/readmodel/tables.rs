//! The read tables the merge writes, their columns, and the SQL that writes a row, for both
//! backends (migration `0005_read_model.sql`).

/// A column's value: text (nullable) or a whole number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Text(Option<String>),
    Int(i64),
}

impl Val {
    pub fn text(s: &str) -> Val {
        Val::Text(Some(s.to_string()))
    }
}

/// A read table written by the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Merged,
    Households,
    Persons,
    Pregnancies,
    Referrals,
    Facts,
    Conflicts,
}

/// `(name, is_int)` of each column, in row order.
type Cols = &'static [(&'static str, bool)];

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Merged,
        Table::Households,
        Table::Persons,
        Table::Pregnancies,
        Table::Referrals,
        Table::Facts,
        Table::Conflicts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Merged => "merged_records",
            Table::Households => "households",
            Table::Persons => "persons",
            Table::Pregnancies => "pregnancies",
            Table::Referrals => "referrals",
            Table::Facts => "facts",
            Table::Conflicts => "conflicts",
        }
    }

    pub fn columns(self) -> Cols {
        const T: bool = false;
        const I: bool = true;
        match self {
            Table::Merged => &[("id", T), ("kind", T), ("state_json", T)],
            Table::Households => &[
                ("id", T),
                ("posyandu", T),
                ("kk_number", T),
                ("head_name", T),
                ("dusun", T),
                ("rt", T),
                ("rw", T),
                ("deleted", I),
                ("values_json", T),
                ("updated_hlc", T),
            ],
            Table::Persons => &[
                ("id", T),
                ("posyandu", T),
                ("household", T),
                ("name", T),
                ("sex", T),
                ("birth_date", T),
                ("birth_date_estimated", I),
                ("nik", T),
                ("mother", T),
                ("status", T),
                ("deleted", I),
                ("values_json", T),
                ("updated_hlc", T),
                ("made_hlc", T),
            ],
            Table::Pregnancies => &[
                ("id", T),
                ("posyandu", T),
                ("person", T),
                ("hpht", T),
                ("status", T),
                ("deleted", I),
                ("values_json", T),
                ("updated_hlc", T),
            ],
            Table::Referrals => &[
                ("id", T),
                ("posyandu", T),
                ("person", T),
                ("status", T),
                ("visit", T),
                ("deleted", I),
                ("values_json", T),
                ("updated_hlc", T),
                ("made_hlc", T),
            ],
            Table::Facts => &[
                ("id", T),
                ("kind", T),
                ("posyandu", T),
                ("person", T),
                ("household", T),
                ("visit", T),
                ("session", T),
                ("subject", T),
                ("date", T),
                ("body_json", T),
                ("made_hlc", T),
                ("made_device", T),
                ("author", T),
                ("supersedes", T),
                ("deleted", I),
            ],
            Table::Conflicts => &[
                ("record_id", T),
                ("kind", T),
                ("field", T),
                ("winner_hlc", T),
                ("loser_hlc", T),
                ("loser_device", T),
                ("conflict_json", T),
            ],
        }
    }

    /// The tail of the insert: replace the row of the same id; a conflict row is only ever
    /// added (its record's rows are deleted first).
    fn on_conflict(self) -> String {
        if self == Table::Conflicts {
            return " ON CONFLICT DO NOTHING".into();
        }
        let sets: Vec<String> = self.columns()[1..]
            .iter()
            .map(|(c, _)| format!("{c} = excluded.{c}"))
            .collect();
        format!(" ON CONFLICT (id) DO UPDATE SET {}", sets.join(", "))
    }

    fn names(self) -> String {
        self.columns()
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// SQLite: one row, `?1 … ?n`.
    pub fn upsert_sqlite(self) -> String {
        let marks: Vec<String> = (1..=self.columns().len())
            .map(|i| format!("?{i}"))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}){}",
            self.name(),
            self.names(),
            marks.join(", "),
            self.on_conflict()
        )
    }

    /// PostgreSQL: every row at once, one array per column (`$1::text[]`, `$2::int8[]`, …).
    pub fn upsert_postgres(self) -> String {
        format!("{}{}", self.insert_postgres(), self.on_conflict())
    }

    /// PostgreSQL: as [`Table::upsert_postgres`], for rows whose ids have no row in the table
    /// (a plain insert: no index probe before each row, no speculative insertion).
    pub fn insert_postgres(self) -> String {
        let arrays: Vec<String> = self
            .columns()
            .iter()
            .enumerate()
            .map(|(i, (_, int))| format!("${}::{}[]", i + 1, if *int { "int8" } else { "text" }))
            .collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({})",
            self.name(),
            self.names(),
            arrays.join(", "),
        )
    }
}

/// Rewrites SQLite's `?N` placeholders as PostgreSQL's `$N` (the read queries are written
/// once, in the SQL both understand).
pub fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_every_column() {
        for t in Table::ALL {
            let n = t.columns().len();
            assert!(t.upsert_sqlite().contains(&format!("?{n})")));
            assert!(t.upsert_postgres().contains(&format!("${n}::")));
        }
        assert_eq!(
            pg_placeholders("a = ?1 AND b = ?12 OR c = '?'"),
            "a = $1 AND b = $12 OR c = '?'"
        );
    }
}
