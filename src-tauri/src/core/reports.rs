//! What the tablet computes from its own records: a child's growth chart and immunisation
//! card, the due list, and the posyandu's SKDN and monthly report (with a CSV to share).

use super::pdf::monthly_report_pdf;
use super::report_files::{file_safe, report_csv};
use super::{AppCore, iso_day, require_in_area};
use crate::error::{AppError, record_id};
use crate::views::{ExportedCsv, ExportedFile};
use field_core::{DueEntry, DueFilter, GrowthChart, ImmunisationCard, PosyanduReport, Skdn, Store};
use health_rules::kms::YearMonth;
use std::path::{Path, PathBuf};
use sync_protocol::PlaceLevel;

/// Where exported reports go, inside the app's data directory.
pub(super) const EXPORTS_DIR: &str = "exports";

fn month_arg(month: &str) -> Result<YearMonth, AppError> {
    month.trim().parse().map_err(|_| {
        AppError::validation(&field_core::messages::invalid(
            "month",
            field_core::messages::Key::DateFormat,
            &[],
        ))
    })
}

/// The posyandu's name as the area's places give it (its code when the place is unknown).
fn posyandu_name(s: &Store, code: &str) -> Result<String, AppError> {
    Ok(s.places(PlaceLevel::Posyandu, None)?
        .into_iter()
        .find(|p| p.code == code)
        .map_or_else(|| code.to_string(), |p| p.name))
}

/// Writes `bytes` as `<dir>/<file_name>` next to its final name and renames it: a reader
/// never sees half a file.
pub(super) fn write_atomically(
    dir: &Path,
    file_name: &str,
    bytes: &[u8],
) -> Result<PathBuf, AppError> {
    // Owner-only, whatever the umask (docs/SECURITY.md): a report names children.
    field_core::store::files::create_private_dir(dir)?;
    let path = dir.join(file_name);
    let tmp = dir.join(format!(".{file_name}.tmp"));
    {
        use std::io::Write;
        let mut f = field_core::store::files::create_private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

impl AppCore {
    pub fn growth_chart(&self, person: &str) -> Result<GrowthChart, AppError> {
        let id = record_id("person", person)?;
        self.with_store(|s| Ok(s.growth_chart(id)?))
    }

    /// The immunisation card on `on` (`YYYY-MM-DD`; a resumed posyandu day's date), or today.
    pub fn immunisation_card(
        &self,
        person: &str,
        on: Option<&str>,
    ) -> Result<ImmunisationCard, AppError> {
        let id = record_id("person", person)?;
        let on = on.map(str::trim).filter(|d| !d.is_empty());
        self.with_store(|s| {
            let day = match on {
                Some(d) => d.to_string(),
                None => iso_day(s.today()?),
            };
            Ok(s.immunisation_card(id, &day)?)
        })
    }

    /// The due list of the user's area (or one posyandu), narrowed and sorted by urgency.
    pub fn due_list(&self, mut filter: DueFilter) -> Result<Vec<DueEntry>, AppError> {
        filter.posyandu = filter
            .posyandu
            .take()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        self.with_store(|s| {
            if let Some(p) = &filter.posyandu {
                require_in_area(s, p)?;
            }
            Ok(s.due_list(&filter)?)
        })
    }

    /// Today in the device's zone, from the store's corrected clock (`YYYY-MM-DD`): the
    /// default date of every form.
    pub fn today(&self) -> Result<String, AppError> {
        self.with_store(|s| Ok(iso_day(s.today()?)))
    }

    /// SKDN of a posyandu (in the user's area) for a month (`YYYY-MM`).
    pub fn skdn(&self, posyandu: &str, month: &str) -> Result<Skdn, AppError> {
        let (month, posyandu) = (month_arg(month)?, posyandu.trim());
        self.with_store(|s| {
            require_in_area(s, posyandu)?;
            Ok(s.skdn(posyandu, month)?)
        })
    }

    pub fn monthly_report(&self, posyandu: &str, month: &str) -> Result<PosyanduReport, AppError> {
        let (month, posyandu) = (month_arg(month)?, posyandu.trim());
        self.with_store(|s| {
            require_in_area(s, posyandu)?;
            Ok(s.monthly_report(posyandu, month)?)
        })
    }

    /// The report of a posyandu and month, with the posyandu's name.
    fn report_for_files(
        &self,
        posyandu: &str,
        month: &str,
    ) -> Result<(PosyanduReport, String, YearMonth), AppError> {
        let (ym, posyandu) = (month_arg(month)?, posyandu.trim());
        self.with_store(|s| {
            require_in_area(s, posyandu)?;
            Ok((
                s.monthly_report(posyandu, ym)?,
                posyandu_name(s, posyandu)?,
                ym,
            ))
        })
    }

    /// Writes the monthly report as CSV for a spreadsheet in Indonesian (`;`, decimal
    /// comma, the posyandu's name; UTF-8 with a byte-order mark so Excel reads the letters)
    /// into `<data>/exports/` and returns the file's name, where it is and the text.
    pub fn export_report_csv(&self, posyandu: &str, month: &str) -> Result<ExportedCsv, AppError> {
        let (report, name, ym) = self.report_for_files(posyandu, month)?;
        let locale = self.data_dir().settings().locale;
        let csv = report_csv(&report.report, &name, ym, locale);
        let file_name = format!("laporan-{}-{ym}.csv", file_safe(&name));
        let mut bytes = "\u{feff}".as_bytes().to_vec();
        bytes.extend_from_slice(csv.as_bytes());
        let path = write_atomically(
            &self.data_dir().root().join(EXPORTS_DIR),
            &file_name,
            &bytes,
        )?;
        Ok(ExportedCsv {
            path: path.display().to_string(),
            file_name,
            csv,
        })
    }

    /// Writes the printable monthly report (PDF, made here, offline) into
    /// `<data>/exports/` and returns the file's name and where it is.
    pub fn export_report_pdf(&self, posyandu: &str, month: &str) -> Result<ExportedFile, AppError> {
        let (report, name, ym) = self.report_for_files(posyandu, month)?;
        let locale = self.data_dir().settings().locale;
        let today = self.with_store(|s| Ok(s.today()?))?;
        let bytes =
            monthly_report_pdf(&report.report, &name, today, locale).map_err(AppError::internal)?;
        let file_name = format!("laporan-{}-{ym}.pdf", file_safe(&name));
        let path = write_atomically(
            &self.data_dir().root().join(EXPORTS_DIR),
            &file_name,
            &bytes,
        )?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            file_name,
            bytes: bytes.len(),
        })
    }
}
