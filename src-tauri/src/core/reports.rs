//! What the tablet computes from its own records: a child's growth chart and immunisation
//! card, the due list, and the posyandu's SKDN and monthly report (with a CSV to share).

use super::{AppCore, iso_day, require_in_area};
use crate::error::{AppError, record_id};
use crate::views::ExportedCsv;
use field_core::{DueEntry, DueFilter, GrowthChart, ImmunisationCard, PosyanduReport, Skdn};
use health_rules::kms::YearMonth;
use std::path::PathBuf;

/// Where exported reports go, inside the app's data directory.
const EXPORTS_DIR: &str = "exports";

fn month_arg(month: &str) -> Result<YearMonth, AppError> {
    month.trim().parse().map_err(|_| {
        AppError::validation(&field_core::messages::invalid(
            "month",
            field_core::messages::Key::DateFormat,
            &[],
        ))
    })
}

/// `53.04.05.2001.P01` → `53-04-05-2001-P01`: a file name with no dots or separators.
fn file_safe(code: &str) -> String {
    code.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
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

    /// Writes the monthly report as CSV into `<data>/exports/` and returns where, with the text.
    pub fn export_report_csv(&self, posyandu: &str, month: &str) -> Result<ExportedCsv, AppError> {
        let (ym, posyandu) = (month_arg(month)?, posyandu.trim());
        let csv = self.with_store(|s| {
            require_in_area(s, posyandu)?;
            Ok(s.monthly_report_csv(posyandu, ym)?)
        })?;
        let dir: PathBuf = self.data_dir().root().join(EXPORTS_DIR);
        field_core::store::files::create_private_dir(&dir)?;
        let file_name = format!("laporan-posyandu-{}-{ym}.csv", file_safe(posyandu));
        let path = dir.join(&file_name);
        // Written next to its final name and renamed: a reader never sees half a file.
        let tmp = dir.join(format!(".{file_name}.tmp"));
        {
            use std::io::Write;
            let mut f = field_core::store::files::create_private_file(&tmp)?;
            f.write_all(csv.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(ExportedCsv {
            path: path.display().to_string(),
            file_name,
            csv,
        })
    }
}
