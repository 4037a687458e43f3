//! A child's growth chart (KMS) and immunisation card as printable PDFs, written to
//! `<data>/exports/` like the monthly report.

use super::AppCore;
use super::pdf_child::{growth_chart_pdf, immunisation_card_pdf};
use super::report_files::file_safe;
use super::reports::{EXPORTS_DIR, write_atomically};
use crate::error::AppError;
use crate::views::ExportedFile;
use chrono::NaiveDate;

impl AppCore {
    fn write_export(&self, file_name: String, bytes: &[u8]) -> Result<ExportedFile, AppError> {
        let path = write_atomically(&self.data_dir().root().join(EXPORTS_DIR), &file_name, bytes)?;
        Ok(ExportedFile {
            path: path.display().to_string(),
            file_name,
            bytes: bytes.len(),
        })
    }

    fn printed_on(&self) -> Result<NaiveDate, AppError> {
        self.with_store(|s| Ok(s.today()?))
    }

    /// Writes the child's KMS growth chart (both charts and every measurement) as a PDF.
    pub fn export_growth_chart_pdf(&self, person: &str) -> Result<ExportedFile, AppError> {
        let chart = self.growth_chart(person)?;
        let today = self.printed_on()?;
        let locale = self.data_dir().settings().locale;
        let bytes = growth_chart_pdf(&chart, today, locale).map_err(AppError::internal)?;
        let file_name = format!("kms-{}-{today}.pdf", file_safe(&chart.name));
        self.write_export(file_name, &bytes)
    }

    /// Writes the child's immunisation card (on `on`, or today) as a PDF.
    pub fn export_immunisation_card_pdf(
        &self,
        person: &str,
        on: Option<&str>,
    ) -> Result<ExportedFile, AppError> {
        let card = self.immunisation_card(person, on)?;
        let today = self.printed_on()?;
        let locale = self.data_dir().settings().locale;
        let bytes = immunisation_card_pdf(&card, today, locale).map_err(AppError::internal)?;
        let file_name = format!("imunisasi-{}-{}.pdf", file_safe(&card.name), card.on);
        self.write_export(file_name, &bytes)
    }
}
