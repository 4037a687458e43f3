//! The district's KFA product codes per vaccine series (migration 0010, docs/fhir.md "KFA
//! product codes"): set by a dinas_admin on the dashboard's Administrasi page, read by the
//! FHIR mapping (`crate::export::fhir`) for a dose recorded without a `kfa_code`. One SQL
//! text for both backends, as the dashboard's other rows (`storage::web`).

use super::StorageError;
use crate::Storage;
use crate::readmodel::{Cell, Param};
use health_rules::immunisation::KFA_PRODUCTS;
use std::collections::BTreeMap;
use sync_protocol::schema::KFA_CODE_DIGITS;

/// Why a typed KFA product code is refused (the rule of the body field `kfa_code`:
/// sync-protocol's `DigitCode` of [`KFA_CODE_DIGITS`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KfaCodeError {
    #[error("a KFA product code holds digits only")]
    NotDigits,
    #[error("a KFA product code has {min} to {max} digits; this has {len}", min = KFA_CODE_DIGITS.0, max = KFA_CODE_DIGITS.1)]
    BadLength { len: usize },
    #[error("no vaccine series {0:?} (one of health_rules::immunisation::KFA_PRODUCTS)")]
    UnknownSeries(String),
}

/// The series a district may give a code (those of `KFA_PRODUCTS`, in its order).
pub fn series() -> impl Iterator<Item = &'static str> {
    KFA_PRODUCTS.iter().map(|(s, _)| *s)
}

/// A typed code, trimmed, as the tablets' `kfa_code` must be: ASCII digits, within
/// [`KFA_CODE_DIGITS`].
pub fn check_code(typed: &str) -> Result<String, KfaCodeError> {
    let s = typed.trim();
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KfaCodeError::NotDigits);
    }
    if !(KFA_CODE_DIGITS.0..=KFA_CODE_DIGITS.1).contains(&s.len()) {
        return Err(KfaCodeError::BadLength {
            len: s.chars().count(),
        });
    }
    Ok(s.to_string())
}

/// The district's codes: series → KFA product code.
pub async fn codes(store: &dyn Storage) -> Result<BTreeMap<String, String>, StorageError> {
    let rows = store
        .read_rows("SELECT series, code FROM vaccine_kfa".into(), vec![])
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                r.first().and_then(Cell::text)?.to_string(),
                r.get(1).and_then(Cell::text)?.to_string(),
            ))
        })
        .collect())
}

/// Sets (or with `None` removes) the code of `series`, checked as [`check_code`] does;
/// `by` is the username, `now` ms since the epoch.
pub async fn set_code(
    store: &dyn Storage,
    series: &str,
    code: Option<&str>,
    by: &str,
    now: u64,
) -> Result<(), StorageError> {
    if !self::series().any(|s| s == series) {
        return Err(StorageError::Invalid(
            KfaCodeError::UnknownSeries(series.into()).to_string(),
        ));
    }
    let code = code
        .map(check_code)
        .transpose()
        .map_err(|e| StorageError::Invalid(e.to_string()))?;
    // One statement each way, so a change is atomic on either backend.
    match code {
        None => {
            store
                .web_exec(
                    "DELETE FROM vaccine_kfa WHERE series = ?1".into(),
                    vec![Param::Text(series.into())],
                )
                .await?;
        }
        Some(code) => {
            store
                .web_exec(
                    "INSERT INTO vaccine_kfa (series, code, updated_at, updated_by)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (series) DO UPDATE SET code = excluded.code,
                         updated_at = excluded.updated_at, updated_by = excluded.updated_by"
                        .into(),
                    vec![
                        Param::Text(series.into()),
                        Param::Text(code),
                        Param::Int(i64::try_from(now).unwrap_or(i64::MAX)),
                        Param::Text(by.into()),
                    ],
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_as_the_body_field_is() {
        assert_eq!(check_code(" 93000631 ").as_deref(), Ok("93000631"));
        assert_eq!(check_code("93a00631"), Err(KfaCodeError::NotDigits));
        assert_eq!(check_code("12345"), Err(KfaCodeError::BadLength { len: 5 }));
        assert_eq!(
            check_code(&"1".repeat(21)),
            Err(KfaCodeError::BadLength { len: 21 })
        );
        assert_eq!(series().count(), 10);
    }
}
