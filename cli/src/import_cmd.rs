//! `jangkau import households.csv`: register households and their members from a CSV file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use field_core::{HouseholdInput, PersonInput};

use crate::device::{
    self, DEVICE_EXIT_CODES, DataArgs, EXIT_REJECTED, EXIT_USAGE, Failure, Secrets,
};

const HELP: &str = "\
CSV input: a header row, then one row per person. Columns (any order; `,` or `;`):
  household   required: a key of your choice (e.g. the KK number or 1, 2, 3) grouping the
              rows of one household; each household is registered once, with its members
  posyandu    the posyandu code (default: --posyandu, else the user's own posyandu)
  head_name   the household head (required on the household's first row)
  kk_number   16 digits        address, dusun, rt, rw, phone   (household, first row)
  name        required         sex: male/female (also L/P, M/F)
  birth_date  required, YYYY-MM-DD or DD/MM/YYYY
  nik         16 digits        relation: head, spouse, child, parent, grandchild, other
  mother      the `name` of the child's mother in the same household (optional)
Household columns are read from a household's first row. A bad row is reported with its
line number and skipped; when a household cannot be saved, all its rows are reported and
the other households are still imported (exit code 1).";

/// Arguments of `jangkau import`.
#[derive(Debug, Args)]
#[command(after_help = format!("{HELP}\n\n{DEVICE_EXIT_CODES}"))]
pub struct ImportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The CSV file of households and members.
    file: PathBuf,
    /// The posyandu for rows without one.
    #[arg(long)]
    posyandu: Option<String>,
}

pub fn run(args: ImportArgs) -> ExitCode {
    match import(args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(EXIT_REJECTED),
        Err(f) => f.report(),
    }
}

struct Row {
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get(&self, col: &str) -> Option<String> {
        self.cells
            .get(col)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }
}

struct Group {
    lines: Vec<u64>,
    household: Result<HouseholdInput, String>,
    members: Vec<(PersonInput, Option<String>)>,
}

/// Returns the number of bad rows.
fn import(args: ImportArgs) -> Result<usize, Failure> {
    let text = std::fs::read(&args.file).map_err(|e| {
        Failure::new(
            EXIT_USAGE,
            format!("cannot read {}: {e}", args.file.display()),
        )
    })?;
    let mut secrets = Secrets::new();
    let mut store = device::open(&args.data, &mut secrets)?;
    let default_posyandu = match args.posyandu.clone() {
        Some(p) => Some(p),
        None => store
            .scope()?
            .filter(|s| s.level == sync_protocol::PlaceLevel::Posyandu)
            .map(|s| s.place),
    };
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first.iter().filter(|b| **b == b';').count()
        > first.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_slice());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Failure::new(EXIT_USAGE, format!("{}: {e}", args.file.display())))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    for need in ["household", "name", "sex", "birth_date"] {
        if !headers.iter().any(|h| h == need) {
            return Err(Failure::new(
                EXIT_USAGE,
                format!("{}: the header has no `{need}` column", args.file.display()),
            ));
        }
    }
    let mut bad = 0usize;
    let mut groups: Vec<(String, Group)> = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                eprintln!("line {line}: unreadable row ({e}); skipped");
                bad += 1;
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let row = Row {
            cells: headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect(),
        };
        let Some(key) = row.get("household") else {
            eprintln!("line {line}: the `household` cell is empty; skipped");
            bad += 1;
            continue;
        };
        // Household columns come from the household's first row, even when that row's
        // person is refused.
        let at = match groups.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                groups.push((
                    key.clone(),
                    Group {
                        lines: Vec::new(),
                        household: household_of(&row, default_posyandu.as_deref()),
                        members: Vec::new(),
                    },
                ));
                groups.len() - 1
            }
        };
        match parse_row(&row) {
            Err(msg) => {
                eprintln!("line {line}: {msg}; skipped");
                bad += 1;
            }
            Ok((person, mother)) => {
                let g = &mut groups[at].1;
                g.lines.push(line);
                g.members.push((person, mother));
            }
        }
    }
    let mut households = 0;
    let mut persons = 0;
    for (key, g) in groups {
        if g.members.is_empty() {
            continue;
        }
        let household = match g.household {
            Ok(h) => h,
            Err(msg) => {
                eprintln!("lines {:?}: household {key:?}: {msg}; skipped", g.lines);
                bad += g.lines.len();
                continue;
            }
        };
        let names: Vec<String> = g.members.iter().map(|(p, _)| p.name.clone()).collect();
        let mut mothers = Vec::new();
        let mut problem = None;
        for (i, (_, mother)) in g.members.iter().enumerate() {
            if let Some(m) = mother {
                match names.iter().position(|n| n.eq_ignore_ascii_case(m)) {
                    Some(j) if j < i => mothers.push((i, j)),
                    Some(_) => {
                        problem = Some(format!(
                            "line {}: the mother {m:?} must be listed before her child",
                            g.lines[i]
                        ))
                    }
                    None => {
                        problem = Some(format!(
                            "line {}: no member named {m:?} in household {key:?}",
                            g.lines[i]
                        ))
                    }
                }
            }
        }
        if let Some(p) = problem {
            eprintln!("{p}; household {key:?} skipped (lines {:?})", g.lines);
            bad += g.lines.len();
            continue;
        }
        let members: Vec<PersonInput> = g.members.into_iter().map(|(p, _)| p).collect();
        match store.register_household(&household, &members, &mothers) {
            Ok(reg) => {
                households += 1;
                persons += reg.persons.len();
                println!("{key}\t{}", reg.household);
                for d in reg.duplicates {
                    eprintln!(
                        "line {}: {} may already be registered as {} ({}); saved anyway",
                        g.lines.get(d.member).copied().unwrap_or(0),
                        members.get(d.member).map_or("?", |m| m.name.as_str()),
                        d.existing_name,
                        d.existing
                    );
                }
            }
            Err(e) => {
                let msg = Failure::from(e).message;
                eprintln!("lines {:?}: household {key:?} not saved: {msg}", g.lines);
                bad += g.lines.len();
            }
        }
    }
    eprintln!(
        "jangkau: imported {households} households with {persons} persons; {bad} rows skipped"
    );
    Ok(bad)
}

fn parse_row(row: &Row) -> Result<(PersonInput, Option<String>), String> {
    let name = row.get("name").ok_or("the `name` cell is empty")?;
    let sex = match row
        .get("sex")
        .ok_or("the `sex` cell is empty")?
        .to_ascii_lowercase()
        .as_str()
    {
        "male" | "m" | "l" | "laki-laki" => "male",
        "female" | "f" | "p" | "perempuan" => "female",
        other => return Err(format!("sex {other:?} is not male/female (L/P)")),
    };
    let birth = date(
        &row.get("birth_date")
            .ok_or("the `birth_date` cell is empty")?,
    )?;
    let person = PersonInput {
        name,
        sex: sex.to_string(),
        birth_date: birth,
        nik: row.get("nik"),
        relation: row.get("relation").map(|r| r.to_ascii_lowercase()),
        ..Default::default()
    };
    Ok((person, row.get("mother")))
}

fn household_of(row: &Row, default_posyandu: Option<&str>) -> Result<HouseholdInput, String> {
    let posyandu = row
        .get("posyandu")
        .or_else(|| default_posyandu.map(str::to_string))
        .ok_or("no posyandu: add a `posyandu` column or give --posyandu")?;
    Ok(HouseholdInput {
        posyandu,
        head_name: row
            .get("head_name")
            .ok_or("the household's first row has no `head_name`")?,
        kk_number: row.get("kk_number"),
        address: row.get("address"),
        dusun: row.get("dusun"),
        rt: row.get("rt"),
        rw: row.get("rw"),
        phone: row.get("phone"),
        ..Default::default()
    })
}

/// `YYYY-MM-DD` or `DD/MM/YYYY`, as `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<String, String> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD or DD/MM/YYYY)"))?;
    Ok(d.format("%Y-%m-%d").to_string())
}
