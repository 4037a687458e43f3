//! `jangkau growth`: z-scores for one child (flags) or a whole register (CSV).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use health_rules::Sex;
use health_rules::growth::{
    Assessment, GrowthError, Indicator, Measurement, Measures, Position, Skipped, assess,
};

const GROWTH_HELP: &str = "\
Examples:
  jangkau growth --sex F --birth 2024-01-10 --date 2025-03-01 --weight 8.2 --height 74 --position lying
  jangkau growth --sex L --birth 2023-05-01 --muac 12.1 --json
  jangkau growth --csv register.csv --out register-z.csv

CSV input: a header row with the columns
  sex,birth_date,measure_date,weight_kg,height_cm,position,head_cm,muac_cm
in any order; only sex, birth_date and measure_date are required, empty cells are allowed,
and an optional `oedema` column (y/n) is read when present. sex: F/M, female/male, P/L;
dates: YYYY-MM-DD or DD/MM/YYYY; numbers may use a decimal comma; position: lying or standing.
The delimiter is `,` or `;` (as Excel saves it with an Indonesian locale), detected from
the header line; the output uses the same delimiter. A row with more cells than the header
is cut to the header's width (an error unless the extra cells are empty); a row that is
not valid UTF-8 is written with its unreadable characters replaced and an error flag.
With oedema, weight-for-length/height is `Gizi buruk (edema)` with no z-score.

CSV output: every input row, in order, with its original cells, followed by
  z_wfa,z_lhfa,z_wfl,z_wfh,z_bfa,z_hcfa,z_acfa,cat_wfa,cat_lhfa,cat_wfl,cat_wfh,cat_bfa,flags
A row that cannot be assessed is still written, with empty z-scores and the reason in
`flags` (starting with \"error:\"), and it is reported on stderr with its line number.
`flags` also lists implausible values (WHO flags: re-check the measurement) and indices
that could not be computed, separated by \"; \".

Exit codes:
  0  everything was computed
  1  some input was rejected (a bad row in a CSV, or a bad measurement); the rest was done
  2  usage error or a file could not be read or written";

/// Arguments of `jangkau growth`.
#[derive(Debug, Args)]
#[command(after_help = GROWTH_HELP)]
pub struct GrowthArgs {
    /// Sex: F/M, female/male, P (perempuan) / L (laki-laki).
    #[arg(long, value_parser = parse_sex, required_unless_present = "csv")]
    sex: Option<Sex>,
    /// Date of birth, YYYY-MM-DD or DD/MM/YYYY.
    #[arg(long, value_parser = parse_date, required_unless_present = "csv")]
    birth: Option<NaiveDate>,
    /// Date of measurement (default: today).
    #[arg(long, value_parser = parse_date)]
    date: Option<NaiveDate>,
    /// Weight in kg.
    #[arg(long, value_parser = parse_number)]
    weight: Option<f64>,
    /// Length or height in cm, as measured.
    #[arg(long, value_parser = parse_number)]
    height: Option<f64>,
    /// How length/height was measured (WHO corrects by 0.7 cm when it does not match the age).
    #[arg(long, value_enum)]
    position: Option<PositionArg>,
    /// Head circumference in cm.
    #[arg(long, value_parser = parse_number)]
    head: Option<f64>,
    /// Mid-upper-arm circumference (LiLA) in cm.
    #[arg(long, value_parser = parse_number)]
    muac: Option<f64>,
    /// Bilateral pitting oedema (no weight-based z-scores are computed).
    #[arg(long)]
    oedema: bool,
    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Language of the output: headings, indicator names, categories, flags and the
    /// reasons an index was not computed (`id`: Bahasa Indonesia, `en`: English).
    #[arg(long, value_enum, default_value_t = Lang::Id)]
    lang: Lang,
    /// Assess every row of this CSV register instead of one child.
    #[arg(long, requires = "out", conflicts_with_all = ["sex", "birth", "date", "weight", "height", "position", "head", "muac", "oedema"])]
    csv: Option<PathBuf>,
    /// Where to write the CSV result (`-` for standard output).
    #[arg(long, requires = "csv")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PositionArg {
    Lying,
    Standing,
}

/// Label language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
}

impl From<PositionArg> for Position {
    fn from(p: PositionArg) -> Self {
        match p {
            PositionArg::Lying => Position::Lying,
            PositionArg::Standing => Position::Standing,
        }
    }
}

/// Run the subcommand.
pub fn run(args: GrowthArgs) -> ExitCode {
    match (&args.csv, &args.out) {
        (Some(input), Some(output)) => run_csv(input, output, args.lang),
        _ => run_single(&args),
    }
}

fn run_single(args: &GrowthArgs) -> ExitCode {
    let (Some(sex), Some(birth_date)) = (args.sex, args.birth) else {
        // clap enforces both unless --csv is given.
        eprintln!("error: --sex and --birth are required");
        return ExitCode::from(2);
    };
    let measure_date = args
        .date
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let m = Measurement {
        sex,
        birth_date,
        measure_date,
        measures: Measures {
            weight_kg: args.weight,
            length_height_cm: args.height,
            position: args.position.map(Position::from),
            head_cm: args.head,
            muac_cm: args.muac,
            oedema: args.oedema,
        },
    };
    let a = match assess(&m) {
        Ok(a) => a,
        Err(e) => {
            let msg = match args.lang {
                Lang::Id => e.message_id(),
                Lang::En => e.to_string(),
            };
            eprintln!("error: {}.", capitalise(&msg));
            return ExitCode::from(1);
        }
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&a) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: could not write JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        render_text(&a, m.measures.position, args.lang)
    };
    if let Err(e) = writeln!(io::stdout(), "{text}") {
        eprintln!("error: could not write to standard output: {e}");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Short Indonesian abbreviation used on the KMS / in Permenkes 2/2020.
fn abbreviation(ind: Indicator, age_days: u32) -> &'static str {
    match ind {
        Indicator::WeightForAge => "BB/U",
        Indicator::LengthHeightForAge if age_days < 731 => "PB/U",
        Indicator::LengthHeightForAge => "TB/U",
        Indicator::WeightForLength => "BB/PB",
        Indicator::WeightForHeight => "BB/TB",
        Indicator::BmiForAge => "IMT/U",
        Indicator::HeadCircumferenceForAge => "LK/U",
        Indicator::ArmCircumferenceForAge => "LiLA/U",
    }
}

fn category_text(a: &Assessment, ind: Indicator, lang: Lang) -> String {
    match a.get(ind).and_then(|r| r.category) {
        Some(c) => {
            let l = c.label();
            let text = match lang {
                Lang::Id => l.id,
                Lang::En => l.en,
            };
            // With oedema weight-for-length/height has a category but no z-score.
            match a.get(ind).and_then(|r| r.z) {
                Some(_) => text.to_string(),
                None => match lang {
                    Lang::Id => format!("{text} (edema)"),
                    Lang::En => format!("{text} (oedema)"),
                },
            }
        }
        None => String::new(),
    }
}

/// Indicator name without the abbreviation (printed in its own column).
fn indicator_name(ind: Indicator, lang: Lang) -> &'static str {
    let l = ind.label();
    match lang {
        Lang::Id => l.id.split(" (").next().unwrap_or(l.id),
        Lang::En => l.en,
    }
}

fn skip_reason(s: &Skipped, lang: Lang) -> &str {
    match lang {
        Lang::Id => &s.reason_id,
        Lang::En => &s.reason,
    }
}

fn render_text(a: &Assessment, measured: Option<Position>, lang: Lang) -> String {
    let id = lang == Lang::Id;
    let sex = match (a.sex, id) {
        (Sex::Female, true) => "perempuan",
        (Sex::Male, true) => "laki-laki",
        (Sex::Female, false) => "female (perempuan)",
        (Sex::Male, false) => "male (laki-laki)",
    };
    let reference = match (a.age_days <= 1856, id) {
        (true, true) => "Standar Pertumbuhan Anak WHO 2006",
        (false, true) => "Referensi Pertumbuhan WHO 2007",
        (true, false) => "WHO Child Growth Standards 2006",
        (false, false) => "WHO Growth Reference 2007",
    };
    let mut out = if id {
        format!(
            "Anak: {sex}, umur {} hari ({:.1} bulan) — {reference}\n",
            a.age_days, a.age_months
        )
    } else {
        format!(
            "Child: {sex}, {} days ({:.1} months) — {reference}\n",
            a.age_days, a.age_months
        )
    };
    if let Some(l) = a.length_height_cm {
        let lying = a.age_days < 731;
        let used = match (lying, id) {
            (true, true) => "panjang badan (berbaring)",
            (false, true) => "tinggi badan (berdiri)",
            (true, false) => "length (lying)",
            (false, false) => "height (standing)",
        };
        let note = match (measured, id) {
            (Some(Position::Standing), true) if lying => ", +0.7 cm: diukur berdiri",
            (Some(Position::Lying), true) if !lying => ", -0.7 cm: diukur berbaring",
            (Some(Position::Standing), false) if lying => ", +0.7 cm: measured standing",
            (Some(Position::Lying), false) if !lying => ", -0.7 cm: measured lying",
            _ => "",
        };
        let lead = if id { "Dipakai" } else { "Used" };
        out.push_str(&format!("{lead} {used}: {l:.1} cm{note}\n"));
    }
    if let Some(b) = a.bmi {
        let name = if id { "IMT" } else { "BMI" };
        out.push_str(&format!("{name}: {b:.2} kg/m²\n"));
    }
    out.push('\n');
    let mut any = false;
    for ind in Indicator::ALL {
        let Some(r) = a.get(ind) else { continue };
        any = true;
        let flag = match (r.flagged, id) {
            (false, _) => "",
            (true, true) => "  PERIKSA: nilai tidak wajar (flag WHO), ukur ulang",
            (true, false) => "  CHECK: implausible value (WHO flag), re-measure",
        };
        let z =
            r.z.map_or_else(|| "     -".to_string(), |z| format!("{z:>6.2}"));
        let line = format!(
            "{:<7} {:<35} z = {z}  {}{flag}",
            abbreviation(ind, a.age_days),
            indicator_name(ind, lang),
            category_text(a, ind, lang),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !any {
        out.push_str(if id {
            "Tidak ada z-skor yang bisa dihitung.\n"
        } else {
            "No z-score could be computed.\n"
        });
    }
    for s in &a.skipped {
        let lead = if id { "Tidak dihitung" } else { "Not computed" };
        out.push_str(&format!(
            "{lead}: {} — {}.\n",
            indicator_name(s.indicator, lang),
            skip_reason(s, lang)
        ));
    }
    out.trim_end().to_string()
}

// ---------------------------------------------------------------- parsing

fn parse_sex(s: &str) -> Result<Sex, String> {
    match s.trim().to_lowercase().as_str() {
        "f" | "female" | "p" | "perempuan" => Ok(Sex::Female),
        "m" | "male" | "l" | "laki-laki" | "laki laki" => Ok(Sex::Male),
        other => Err(format!(
            "sex {other:?} is not recognised: use F or M (also female/male, P/L)"
        )),
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("date {s:?} is not a valid date: use YYYY-MM-DD or DD/MM/YYYY"))
}

fn parse_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let normalised = if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.to_string()
    };
    match normalised.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{t:?} is not a number")),
    }
}

fn parse_position(s: &str) -> Result<Position, String> {
    match s.trim().to_lowercase().as_str() {
        "lying" | "l" | "berbaring" => Ok(Position::Lying),
        "standing" | "h" | "berdiri" => Ok(Position::Standing),
        other => Err(format!(
            "position {other:?} is not recognised: use lying or standing"
        )),
    }
}

fn parse_oedema(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "" | "n" | "no" | "tidak" | "0" | "false" => Ok(false),
        "y" | "yes" | "ya" | "1" | "true" => Ok(true),
        other => Err(format!("oedema {other:?} is not recognised: use y or n")),
    }
}

// ---------------------------------------------------------------- CSV

const Z_COLUMNS: [(&str, Indicator); 7] = [
    ("z_wfa", Indicator::WeightForAge),
    ("z_lhfa", Indicator::LengthHeightForAge),
    ("z_wfl", Indicator::WeightForLength),
    ("z_wfh", Indicator::WeightForHeight),
    ("z_bfa", Indicator::BmiForAge),
    ("z_hcfa", Indicator::HeadCircumferenceForAge),
    ("z_acfa", Indicator::ArmCircumferenceForAge),
];
const CATEGORY_COLUMNS: [(&str, Indicator); 5] = [
    ("cat_wfa", Indicator::WeightForAge),
    ("cat_lhfa", Indicator::LengthHeightForAge),
    ("cat_wfl", Indicator::WeightForLength),
    ("cat_wfh", Indicator::WeightForHeight),
    ("cat_bfa", Indicator::BmiForAge),
];

/// Column positions in the input.
struct Columns {
    sex: usize,
    birth: usize,
    date: usize,
    weight: Option<usize>,
    height: Option<usize>,
    position: Option<usize>,
    head: Option<usize>,
    muac: Option<usize>,
    oedema: Option<usize>,
}

impl Columns {
    fn from_header(h: &csv::StringRecord) -> Result<Columns, String> {
        let find = |name: &str| h.iter().position(|c| c.trim().eq_ignore_ascii_case(name));
        let need = |name: &str| {
            find(name).ok_or_else(|| {
                format!("the CSV has no column {name:?} (required: sex, birth_date, measure_date)")
            })
        };
        Ok(Columns {
            sex: need("sex")?,
            birth: need("birth_date")?,
            date: need("measure_date")?,
            weight: find("weight_kg"),
            height: find("height_cm"),
            position: find("position"),
            head: find("head_cm"),
            muac: find("muac_cm"),
            oedema: find("oedema"),
        })
    }
}

fn cell(rec: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|c| rec.get(c)).unwrap_or("").trim()
}

fn optional<T>(
    rec: &csv::StringRecord,
    col: Option<usize>,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let v = cell(rec, col);
    if v.is_empty() {
        Ok(None)
    } else {
        parse(v).map(Some).map_err(|e| format!("{name}: {e}"))
    }
}

fn required<T>(
    rec: &csv::StringRecord,
    col: usize,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, String> {
    let v = cell(rec, Some(col));
    if v.is_empty() {
        return Err(format!("{name} is empty"));
    }
    parse(v).map_err(|e| format!("{name}: {e}"))
}

fn row_measurement(rec: &csv::StringRecord, c: &Columns) -> Result<Measurement, String> {
    Ok(Measurement {
        sex: required(rec, c.sex, "sex", parse_sex)?,
        birth_date: required(rec, c.birth, "birth_date", parse_date)?,
        measure_date: required(rec, c.date, "measure_date", parse_date)?,
        measures: Measures {
            weight_kg: optional(rec, c.weight, "weight_kg", parse_number)?,
            length_height_cm: optional(rec, c.height, "height_cm", parse_number)?,
            position: optional(rec, c.position, "position", parse_position)?,
            head_cm: optional(rec, c.head, "head_cm", parse_number)?,
            muac_cm: optional(rec, c.muac, "muac_cm", parse_number)?,
            oedema: parse_oedema(cell(rec, c.oedema)).map_err(|e| format!("oedema: {e}"))?,
        },
    })
}

/// The cells appended to one output row.
fn result_cells(outcome: &Result<Assessment, String>, lang: Lang) -> Vec<String> {
    let id = lang == Lang::Id;
    let mut cells = Vec::with_capacity(Z_COLUMNS.len() + CATEGORY_COLUMNS.len() + 1);
    match outcome {
        Ok(a) => {
            for (_, ind) in Z_COLUMNS {
                cells.push(
                    a.get(ind)
                        .and_then(|r| r.z)
                        .map(|z| format!("{z:.2}"))
                        .unwrap_or_default(),
                );
            }
            for (_, ind) in CATEGORY_COLUMNS {
                cells.push(category_text(a, ind, lang));
            }
            let mut flags: Vec<String> = Indicator::ALL
                .iter()
                .filter(|i| a.get(**i).is_some_and(|r| r.flagged))
                .map(|i| {
                    if id {
                        format!("{}: tidak wajar, ukur ulang (flag WHO)", i.code())
                    } else {
                        format!("{}: implausible, re-measure (WHO flag)", i.code())
                    }
                })
                .collect();
            flags.extend(a.skipped.iter().map(|s| {
                if id {
                    format!(
                        "{}: tidak dihitung, {}",
                        s.indicator.code(),
                        skip_reason(s, lang)
                    )
                } else {
                    format!(
                        "{}: not computed, {}",
                        s.indicator.code(),
                        skip_reason(s, lang)
                    )
                }
            }));
            cells.push(flags.join("; "));
        }
        Err(e) => {
            cells.extend(std::iter::repeat_n(
                String::new(),
                Z_COLUMNS.len() + CATEGORY_COLUMNS.len(),
            ));
            cells.push(format!("error: {e}"));
        }
    }
    cells
}

enum CsvFailure {
    /// Usage or IO: exit code 2.
    Fatal(String),
}

fn run_csv(input: &Path, output: &Path, lang: Lang) -> ExitCode {
    let to_stdout = output.as_os_str() == "-";
    let tmp = output.with_extension("csv.partial");
    match process_csv(input, output, &tmp, lang) {
        Ok((rows, bad)) => {
            if bad > 0 {
                eprintln!(
                    "{bad} of {rows} rows could not be assessed (see above); they are in the output with the reason in `flags`."
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(CsvFailure::Fatal(msg)) => {
            // Never leave a half-written register behind.
            if !to_stdout && tmp.exists() {
                let _ = std::fs::remove_file(&tmp);
            }
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `;` when the header line has more semicolons than commas (Excel with an Indonesian
/// locale saves CSV with `;` because the comma is the decimal separator), else `,`.
fn sniff_delimiter(data: &[u8]) -> u8 {
    let first_line = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first_line.iter().filter(|b| **b == c).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// A byte record as text: invalid UTF-8 is replaced (U+FFFD) and reported.
fn to_text(rec: &csv::ByteRecord) -> (csv::StringRecord, bool) {
    let mut out = csv::StringRecord::with_capacity(rec.as_slice().len(), rec.len());
    let mut valid = true;
    for field in rec {
        match std::str::from_utf8(field) {
            Ok(f) => out.push_field(f),
            Err(_) => {
                valid = false;
                out.push_field(&String::from_utf8_lossy(field));
            }
        }
    }
    (out, valid)
}

fn process_csv(
    input: &Path,
    output: &Path,
    tmp: &Path,
    lang: Lang,
) -> Result<(usize, usize), CsvFailure> {
    let fatal = CsvFailure::Fatal;
    let data =
        std::fs::read(input).map_err(|e| fatal(format!("cannot open {}: {e}", input.display())))?;
    let delimiter = sniff_delimiter(&data);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data.as_slice());
    let (header, header_utf8) = reader.byte_headers().map(to_text).map_err(|e| {
        fatal(format!(
            "cannot read the header of {}: {e}",
            input.display()
        ))
    })?;
    if !header_utf8 {
        eprintln!(
            "line 1: the header is not valid UTF-8 text; unreadable characters are replaced (save the file as UTF-8)."
        );
    }
    let columns =
        Columns::from_header(&header).map_err(|e| fatal(format!("{}: {e}", input.display())))?;

    // Write to a temporary file next to the output and rename at the end, so a crash
    // never leaves a half-written register under the requested name.
    let to_stdout = output.as_os_str() == "-";
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(io::stdout().lock())
    } else {
        Box::new(
            File::create(tmp)
                .map_err(|e| fatal(format!("cannot create {}: {e}", tmp.display())))?,
        )
    };
    // Flexible: a row is never refused for its width (rows are cut or padded below).
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_writer(sink);
    let write_err = |e: csv::Error| fatal(format!("cannot write {}: {e}", output.display()));

    let mut out_header = header.clone();
    for (name, _) in Z_COLUMNS {
        out_header.push_field(name);
    }
    for (name, _) in CATEGORY_COLUMNS {
        out_header.push_field(name);
    }
    out_header.push_field("flags");
    writer.write_record(&out_header).map_err(write_err)?;

    let (mut rows, mut bad) = (0usize, 0usize);
    let mut raw = csv::ByteRecord::new();
    let mut last_line = 1u64;
    loop {
        let (record, line, problem) = match reader.read_byte_record(&mut raw) {
            Ok(false) => break,
            Ok(true) => {
                let line = raw.position().map_or(last_line + 1, |p| p.line());
                let (mut record, utf8) = to_text(&raw);
                let mut problem = (!utf8).then(|| {
                    "the row is not valid UTF-8 text (save the file as UTF-8); unreadable characters are replaced".to_string()
                });
                if record.len() > header.len() {
                    let extra_empty = record
                        .iter()
                        .skip(header.len())
                        .all(|c| c.trim().is_empty());
                    let what = format!("{} cells, header has {}", record.len(), header.len());
                    if extra_empty {
                        // Spreadsheets often add empty cells at the end: cut, and say so.
                        eprintln!("line {line}: {what}; the extra empty cells are cut.");
                    } else if problem.is_none() {
                        problem = Some(format!(
                            "{what}; the extra cells are cut (a decimal comma without quotes? quote the number or save with ';')"
                        ));
                    }
                    record.truncate(header.len());
                }
                (record, line, problem)
            }
            Err(e) => {
                // Not a row we can show: keep the output aligned with an empty row.
                let line = e.position().map_or(last_line + 1, |p| p.line());
                (
                    csv::StringRecord::new(),
                    line,
                    Some(format!("the row cannot be read ({e})")),
                )
            }
        };
        last_line = line;
        rows += 1;
        let outcome = match problem {
            Some(p) => Err(p),
            None => row_measurement(&record, &columns).and_then(|m| {
                assess(&m).map_err(|e: GrowthError| match lang {
                    Lang::Id => e.message_id(),
                    Lang::En => e.to_string(),
                })
            }),
        };
        if let Err(e) = &outcome {
            bad += 1;
            eprintln!("line {line}: {}.", capitalise(e));
        }
        let mut out = record;
        // Pad short rows so the appended columns line up with the header.
        while out.len() < header.len() {
            out.push_field("");
        }
        for c in result_cells(&outcome, lang) {
            out.push_field(&c);
        }
        writer.write_record(&out).map_err(write_err)?;
    }
    writer
        .flush()
        .map_err(|e| fatal(format!("cannot write {}: {e}", output.display())))?;
    drop(writer);
    if !to_stdout {
        std::fs::rename(tmp, output).map_err(|e| {
            fatal(format!(
                "cannot move {} to {}: {e}",
                tmp.display(),
                output.display()
            ))
        })?;
    }
    Ok((rows, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_kader_write() {
        assert_eq!(parse_sex("P"), Ok(Sex::Female));
        assert_eq!(parse_sex("l"), Ok(Sex::Male));
        assert_eq!(parse_sex(" female "), Ok(Sex::Female));
        assert!(parse_sex("x").is_err());
        assert_eq!(parse_number("8,2"), Ok(8.2));
        assert_eq!(parse_number("8.2"), Ok(8.2));
        assert!(parse_number("NaN").is_err());
        assert!(parse_number("delapan").is_err());
        assert_eq!(parse_date("01/03/2025"), parse_date("2025-03-01"));
        assert!(parse_date("2025-02-30").is_err());
        assert_eq!(parse_position("Standing"), Ok(Position::Standing));
        assert_eq!(parse_oedema("y"), Ok(true));
    }
}
