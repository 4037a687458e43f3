//! Exports for other systems, read from the read model: the e-PPGBM by-name file
//! ([`eppgbm`]) and FHIR R4 for SATUSEHAT ([`fhir`]).

pub mod eppgbm;
pub mod fhir;

use crate::readmodel::monthly::MonthlyError;
use crate::storage::StorageError;

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("stored row: {0}")]
    Row(String),
    #[error("{0}")]
    Invalid(String),
    #[error("writing the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl From<MonthlyError> for ExportError {
    fn from(e: MonthlyError) -> Self {
        match e {
            MonthlyError::Storage(s) => ExportError::Storage(s),
            other => ExportError::Row(other.to_string()),
        }
    }
}
