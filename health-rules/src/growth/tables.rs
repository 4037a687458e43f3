//! The WHO LMS tables, compiled in from `data/who/*.tsv` and parsed once.
//!
//! Each file has a header line `sex<TAB>key<TAB>l<TAB>m<TAB>s` and one row per sex and
//! key. Keys are whole days (WHO 2006 age-based tables), length/height in cm with
//! one decimal (weight-for-length/height), or whole months (WHO 2007 reference).
//! The parser checks that every sex has the same, gap-free run of keys; a file that
//! breaks this is a build bug, caught by the unit tests below.

use std::sync::LazyLock;

use crate::common::Sex;

/// The Box-Cox power (L), median (M) and coefficient of variation (S) at one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lms {
    pub l: f64,
    pub m: f64,
    pub s: f64,
}

impl Lms {
    /// Linear interpolation `self + frac * (next - self)`, as WHO's macros do.
    pub fn lerp(self, next: Lms, frac: f64) -> Lms {
        Lms {
            l: self.l + frac * (next.l - self.l),
            m: self.m + frac * (next.m - self.m),
            s: self.s + frac * (next.s - self.s),
        }
    }
}

/// One LMS table for both sexes, keyed by consecutive integers starting at `first`.
/// The integer unit is the table's own: days, tenths of a cm, or months.
#[derive(Debug)]
pub(crate) struct LmsTable {
    pub first: i32,
    male: Vec<Lms>,
    female: Vec<Lms>,
}

impl LmsTable {
    fn rows(&self, sex: Sex) -> &[Lms] {
        match sex {
            Sex::Male => &self.male,
            Sex::Female => &self.female,
        }
    }

    /// The row at integer key `key`, if the table has it.
    pub fn get(&self, sex: Sex, key: i64) -> Option<Lms> {
        let idx = usize::try_from(key - i64::from(self.first)).ok()?;
        self.rows(sex).get(idx).copied()
    }

    /// Last key of the table (same for both sexes).
    #[cfg(test)]
    pub fn last(&self) -> i32 {
        // `parse` guarantees a non-empty table; lengths are far below i32::MAX.
        self.first + self.male.len() as i32 - 1
    }

    #[cfg(test)]
    pub fn len(&self, sex: Sex) -> usize {
        self.rows(sex).len()
    }
}

/// How the key column of a file is written.
#[derive(Debug, Clone, Copy)]
enum KeyUnit {
    /// Whole numbers (days or months).
    Whole,
    /// Centimetres with one decimal, stored as tenths.
    Tenths,
}

fn parse_num(field: Option<&str>, line_no: usize, name: &str) -> Result<f64, String> {
    let text = field.ok_or_else(|| format!("{name}: line {line_no}: missing column"))?;
    text.trim()
        .parse::<f64>()
        .map_err(|e| format!("{name}: line {line_no}: {text:?} is not a number ({e})"))
}

/// Parse one TSV table. Errors name the file and line.
fn parse(name: &str, text: &str, unit: KeyUnit) -> Result<LmsTable, String> {
    let mut male: Vec<(i32, Lms)> = Vec::new();
    let mut female: Vec<(i32, Lms)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if i == 0 || line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let sex = match cols.next() {
            Some("M") => Sex::Male,
            Some("F") => Sex::Female,
            other => return Err(format!("{name}: line {line_no}: bad sex {other:?}")),
        };
        let key = parse_num(cols.next(), line_no, name)?;
        let key = match unit {
            KeyUnit::Whole => key,
            KeyUnit::Tenths => key * 10.0,
        };
        if (key - key.round()).abs() > 1e-6 {
            return Err(format!(
                "{name}: line {line_no}: key {key} is not on the table's grid"
            ));
        }
        let key = key.round() as i32;
        let lms = Lms {
            l: parse_num(cols.next(), line_no, name)?,
            m: parse_num(cols.next(), line_no, name)?,
            s: parse_num(cols.next(), line_no, name)?,
        };
        if cols.next().is_some() {
            return Err(format!("{name}: line {line_no}: too many columns"));
        }
        if !(lms.m > 0.0 && lms.s > 0.0 && lms.l.is_finite()) {
            return Err(format!("{name}: line {line_no}: implausible L, M or S"));
        }
        match sex {
            Sex::Male => male.push((key, lms)),
            Sex::Female => female.push((key, lms)),
        }
    }
    let check = |rows: &[(i32, Lms)], sex: &str| -> Result<i32, String> {
        let first = rows
            .first()
            .map(|r| r.0)
            .ok_or_else(|| format!("{name}: no rows for {sex}"))?;
        for (offset, (key, _)) in rows.iter().enumerate() {
            if *key != first + offset as i32 {
                return Err(format!(
                    "{name}: {sex}: key {key} out of sequence (gap or disorder)"
                ));
            }
        }
        Ok(first)
    };
    let first_m = check(&male, "M")?;
    let first_f = check(&female, "F")?;
    if first_m != first_f || male.len() != female.len() {
        return Err(format!("{name}: the two sexes cover different keys"));
    }
    Ok(LmsTable {
        first: first_m,
        male: male.into_iter().map(|r| r.1).collect(),
        female: female.into_iter().map(|r| r.1).collect(),
    })
}

/// All tables the growth module uses.
#[derive(Debug)]
pub(crate) struct Tables {
    pub wfa: LmsTable,
    pub lhfa: LmsTable,
    pub wfl: LmsTable,
    pub wfh: LmsTable,
    pub bfa: LmsTable,
    pub hcfa: LmsTable,
    pub acfa: LmsTable,
    pub who2007_hfa: LmsTable,
    pub who2007_wfa: LmsTable,
    pub who2007_bfa: LmsTable,
}

macro_rules! who_file {
    ($file:literal) => {
        ($file, include_str!(concat!("../../data/who/", $file)))
    };
}

const FILES: [(&str, &str, KeyUnit); 10] = {
    let (wfa, wfa_t) = who_file!("wfa.tsv");
    let (lhfa, lhfa_t) = who_file!("lhfa.tsv");
    let (wfl, wfl_t) = who_file!("wfl.tsv");
    let (wfh, wfh_t) = who_file!("wfh.tsv");
    let (bfa, bfa_t) = who_file!("bfa.tsv");
    let (hcfa, hcfa_t) = who_file!("hcfa.tsv");
    let (acfa, acfa_t) = who_file!("acfa.tsv");
    let (h07, h07_t) = who_file!("who2007_hfa.tsv");
    let (w07, w07_t) = who_file!("who2007_wfa.tsv");
    let (b07, b07_t) = who_file!("who2007_bfa.tsv");
    [
        (wfa, wfa_t, KeyUnit::Whole),
        (lhfa, lhfa_t, KeyUnit::Whole),
        (wfl, wfl_t, KeyUnit::Tenths),
        (wfh, wfh_t, KeyUnit::Tenths),
        (bfa, bfa_t, KeyUnit::Whole),
        (hcfa, hcfa_t, KeyUnit::Whole),
        (acfa, acfa_t, KeyUnit::Whole),
        (h07, h07_t, KeyUnit::Whole),
        (w07, w07_t, KeyUnit::Whole),
        (b07, b07_t, KeyUnit::Whole),
    ]
};

fn load_all() -> Result<Tables, String> {
    let mut parsed = Vec::with_capacity(FILES.len());
    for (name, text, unit) in FILES {
        parsed.push(parse(name, text, unit)?);
    }
    let mut it = parsed.into_iter();
    let mut next = || it.next().ok_or_else(|| "missing table".to_string());
    Ok(Tables {
        wfa: next()?,
        lhfa: next()?,
        wfl: next()?,
        wfh: next()?,
        bfa: next()?,
        hcfa: next()?,
        acfa: next()?,
        who2007_hfa: next()?,
        who2007_wfa: next()?,
        who2007_bfa: next()?,
    })
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    // The tables are compiled into the binary and checked by the unit tests below:
    // a failure here is a build bug, never a user error.
    load_all().expect("embedded WHO growth tables (health-rules/data/who/*.tsv) must parse")
});

/// The parsed tables (parsed on first use).
pub(crate) fn tables() -> &'static Tables {
    &TABLES
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// (file, rows per sex, first key, last key) in the table's integer unit.
    #[test]
    fn every_table_loads_completely_without_gaps() {
        let t = load_all().unwrap();
        let cases: [(&str, &LmsTable, usize, i32, i32); 10] = [
            ("wfa", &t.wfa, 1857, 0, 1856),
            ("lhfa", &t.lhfa, 1857, 0, 1856),
            ("wfl", &t.wfl, 651, 450, 1100),
            ("wfh", &t.wfh, 551, 650, 1200),
            ("bfa", &t.bfa, 1857, 0, 1856),
            ("hcfa", &t.hcfa, 1857, 0, 1856),
            ("acfa", &t.acfa, 1766, 91, 1856),
            ("who2007_hfa", &t.who2007_hfa, 168, 61, 228),
            ("who2007_wfa", &t.who2007_wfa, 60, 61, 120),
            ("who2007_bfa", &t.who2007_bfa, 168, 61, 228),
        ];
        for (name, table, rows, first, last) in cases {
            for sex in [Sex::Male, Sex::Female] {
                assert_eq!(table.len(sex), rows, "{name} {sex:?} row count");
            }
            assert_eq!(table.first, first, "{name} first key");
            assert_eq!(table.last(), last, "{name} last key");
        }
    }

    #[test]
    fn spot_values_match_who_published_tables() {
        let t = tables();
        // WHO weight-for-age boys, day 0: L 0.3487, M 3.3464, S 0.14602.
        let r = t.wfa.get(Sex::Male, 0).unwrap();
        assert_eq!((r.l, r.m, r.s), (0.3487, 3.3464, 0.14602));
        // WHO weight-for-length girls 45.0 cm: L -0.3833, M 2.4607, S 0.09029.
        let r = t.wfl.get(Sex::Female, 450).unwrap();
        assert_eq!((r.l, r.m, r.s), (-0.3833, 2.4607, 0.09029));
        // WHO 2007 BMI-for-age boys, 61 months: L -0.7387, M 15.2641, S 0.0839.
        let r = t.who2007_bfa.get(Sex::Male, 61).unwrap();
        assert_eq!((r.l, r.m, r.s), (-0.7387, 15.2641, 0.0839));
        assert!(t.wfa.get(Sex::Male, 1857).is_none());
        assert!(t.wfa.get(Sex::Male, -1).is_none());
    }

    #[test]
    fn parser_rejects_gaps_bad_numbers_and_unbalanced_sexes() {
        let head = "sex\tage_days\tl\tm\ts\n";
        let gap =
            format!("{head}M\t0\t1\t2\t0.1\nM\t2\t1\t2\t0.1\nF\t0\t1\t2\t0.1\nF\t1\t1\t2\t0.1\n");
        assert!(
            parse("gap", &gap, KeyUnit::Whole)
                .unwrap_err()
                .contains("out of sequence")
        );
        let bad = format!("{head}M\t0\tx\t2\t0.1\n");
        assert!(
            parse("bad", &bad, KeyUnit::Whole)
                .unwrap_err()
                .contains("not a number")
        );
        let unbalanced = format!("{head}M\t0\t1\t2\t0.1\nM\t1\t1\t2\t0.1\nF\t0\t1\t2\t0.1\n");
        assert!(
            parse("u", &unbalanced, KeyUnit::Whole)
                .unwrap_err()
                .contains("different keys")
        );
        let off_grid = format!("{head}M\t45.05\t1\t2\t0.1\nF\t45.05\t1\t2\t0.1\n");
        assert!(
            parse("g", &off_grid, KeyUnit::Tenths)
                .unwrap_err()
                .contains("grid")
        );
        assert!(
            parse("empty", head, KeyUnit::Whole)
                .unwrap_err()
                .contains("no rows")
        );
    }
}
