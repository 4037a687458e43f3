//! Identity numbers: NIK and No KK.
//!
//! Rule (`shared/domain/ILP.md`, "Identity"; Dukcapil numbering): a NIK has 16 digits:
//! region code (province 2, kabupaten 2, kecamatan 2), birth date DDMMYY with 40 added
//! to the day for women, and a 4-digit serial. The two-digit year is resolved against a
//! reference date: 20YY unless that date would be after the reference date, else 19YY.
//! A NIK cross-checks the recorded sex and birth date; [`check_nik`] says exactly what
//! disagrees. No KK (family card number) has 16 digits and starts with the same region
//! code; digits 7–12 are usually the issue date, but they are not checked.
//! Belu's region code is 53.04.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::{Label, Sex};

/// Errors when reading a NIK or No KK. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("NIK must have 16 digits, this has {0} characters")]
    NikBadLength(usize),
    #[error("NIK may contain only digits (character {position} is `{found}`)")]
    NikNotDigits { position: usize, found: char },
    #[error("NIK region code {0} is not a valid province/kabupaten/kecamatan code")]
    NikBadRegion(String),
    #[error("NIK birth date digits {0} are not a date (DDMMYY, day + 40 for women)")]
    NikBadBirthDate(String),
    #[error("NIK serial number 0000 is not valid")]
    NikBadSerial,
    #[error("No KK must have 16 digits, this has {0} characters")]
    KkBadLength(usize),
    #[error("No KK may contain only digits (character {position} is `{found}`)")]
    KkNotDigits { position: usize, found: char },
    #[error("No KK region code {0} is not a valid province/kabupaten/kecamatan code")]
    KkBadRegion(String),
}

impl IdentityError {
    /// Stable message key for the app's translation files.
    pub fn key(&self) -> &'static str {
        match self {
            Self::NikBadLength(_) => "nik.bad_length",
            Self::NikNotDigits { .. } => "nik.not_digits",
            Self::NikBadRegion(_) => "nik.bad_region",
            Self::NikBadBirthDate(_) => "nik.bad_birth_date",
            Self::NikBadSerial => "nik.bad_serial",
            Self::KkBadLength(_) => "kk.bad_length",
            Self::KkNotDigits { .. } => "kk.not_digits",
            Self::KkBadRegion(_) => "kk.bad_region",
        }
    }
}

/// Region code: province, kabupaten/kota, kecamatan (two digits each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegionCode {
    pub province: u8,
    pub kabupaten: u8,
    pub kecamatan: u8,
}

impl RegionCode {
    /// Kabupaten Belu, NTT (53.04).
    pub const BELU: (u8, u8) = (53, 4);

    /// `PP.KK.CC`, e.g. `53.04.01`.
    pub fn dotted(self) -> String {
        format!(
            "{:02}.{:02}.{:02}",
            self.province, self.kabupaten, self.kecamatan
        )
    }

    pub fn is_belu(self) -> bool {
        (self.province, self.kabupaten) == Self::BELU
    }
}

/// A NIK that passed the format checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nik {
    pub digits: String,
    pub region: RegionCode,
    pub sex: Sex,
    /// Day and month of birth as encoded (day without the +40).
    pub birth_day: u32,
    pub birth_month: u32,
    /// Two-digit year.
    pub birth_yy: u32,
    pub serial: u16,
}

impl Nik {
    /// Full birth date, the two-digit year resolved against `reference` (usually today):
    /// 20YY unless that is after `reference`, else 19YY.
    pub fn birth_date(&self, reference: NaiveDate) -> Option<NaiveDate> {
        let century = reference.year() - reference.year().rem_euclid(100);
        let yy = i32::try_from(self.birth_yy).ok()?;
        [century + yy, century - 100 + yy]
            .into_iter()
            .filter_map(|y| NaiveDate::from_ymd_opt(y, self.birth_month, self.birth_day))
            .find(|d| *d <= reference)
    }
}

/// What a NIK says that disagrees with the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mismatch", rename_all = "snake_case")]
pub enum NikMismatch {
    SexMismatch {
        nik_says: Sex,
        recorded: Sex,
    },
    /// `nik_says` is `None` when the date cannot be placed before the reference date.
    BirthDateMismatch {
        nik_says: Option<NaiveDate>,
        recorded: NaiveDate,
    },
}

impl NikMismatch {
    pub fn label(&self) -> Label {
        match self {
            Self::SexMismatch { .. } => Label {
                key: "nik.sex_mismatch",
                id: "Jenis kelamin pada NIK tidak sama dengan data",
                en: "The sex in the NIK does not match the record",
            },
            Self::BirthDateMismatch { .. } => Label {
                key: "nik.birth_date_mismatch",
                id: "Tanggal lahir pada NIK tidak sama dengan data",
                en: "The birth date in the NIK does not match the record",
            },
        }
    }
}

fn digits(
    s: &str,
    bad_len: fn(usize) -> IdentityError,
    bad_char: fn(usize, char) -> IdentityError,
) -> Result<Vec<u32>, IdentityError> {
    let n = s.chars().count();
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        // A wrong length with letters: report the length first only when it is not 16.
        return Err(if n == 16 {
            bad_char(i + 1, c)
        } else {
            bad_len(n)
        });
    }
    if n != 16 {
        return Err(bad_len(n));
    }
    Ok(s.chars().filter_map(|c| c.to_digit(10)).collect())
}

fn region(d: &[u32]) -> Option<RegionCode> {
    let two = |i: usize| u8::try_from(d.get(i)? * 10 + d.get(i + 1)?).ok();
    let r = RegionCode {
        province: two(0)?,
        kabupaten: two(2)?,
        kecamatan: two(4)?,
    };
    // Province codes run 11–96; kabupaten and kecamatan are never 00.
    ((11..=96).contains(&r.province) && r.kabupaten > 0 && r.kecamatan > 0).then_some(r)
}

/// Remove the spaces people type into long numbers ("5304 0112 …", tabs, non-breaking
/// spaces), so they are not counted as characters.
fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parse and check a NIK (spaces anywhere, as in "5304 0112 1020 0001", are ignored).
pub fn parse_nik(s: &str) -> Result<Nik, IdentityError> {
    let s = without_spaces(s);
    let s = s.as_str();
    let d = digits(s, IdentityError::NikBadLength, |position, found| {
        IdentityError::NikNotDigits { position, found }
    })?;
    let region = region(&d).ok_or_else(|| IdentityError::NikBadRegion(s[..6].to_string()))?;
    let num = |i: usize, n: usize| d[i..i + n].iter().fold(0, |acc, x| acc * 10 + x);
    let (raw_day, month, yy) = (num(6, 2), num(8, 2), num(10, 2));
    let (sex, day) = if raw_day > 40 {
        (Sex::Female, raw_day - 40)
    } else {
        (Sex::Male, raw_day)
    };
    // Valid in some year with that YY: 29 Feb needs a leap year (00 is 2000, a leap year).
    let year = if yy % 4 == 0 { 2000 } else { 2001 };
    if NaiveDate::from_ymd_opt(year, month, day).is_none() {
        return Err(IdentityError::NikBadBirthDate(s[6..12].to_string()));
    }
    let serial = u16::try_from(num(12, 4)).unwrap_or(0);
    if serial == 0 {
        return Err(IdentityError::NikBadSerial);
    }
    Ok(Nik {
        digits: s.to_string(),
        region,
        sex,
        birth_day: day,
        birth_month: month,
        birth_yy: yy,
        serial,
    })
}

/// Cross-check a NIK against the recorded sex and birth date. An empty list means they
/// agree. The birth date is compared on day, month and two-digit year, so a record of
/// someone born in 1925 is not flagged by a `25` that reads as 2025.
pub fn check_nik(
    nik: &Nik,
    recorded_sex: Sex,
    recorded_birth: NaiveDate,
    reference: NaiveDate,
) -> Vec<NikMismatch> {
    let mut out = Vec::new();
    if nik.sex != recorded_sex {
        out.push(NikMismatch::SexMismatch {
            nik_says: nik.sex,
            recorded: recorded_sex,
        });
    }
    let same = recorded_birth.day() == nik.birth_day
        && recorded_birth.month() == nik.birth_month
        && recorded_birth.year().rem_euclid(100) == i32::try_from(nik.birth_yy).unwrap_or(-1);
    if !same {
        out.push(NikMismatch::BirthDateMismatch {
            nik_says: nik.birth_date(reference),
            recorded: recorded_birth,
        });
    }
    out
}

/// A No KK that passed the format checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoKk {
    pub digits: String,
    pub region: RegionCode,
}

/// Parse and check a No KK (spaces anywhere are ignored).
pub fn parse_no_kk(s: &str) -> Result<NoKk, IdentityError> {
    let s = without_spaces(s);
    let s = s.as_str();
    let d = digits(s, IdentityError::KkBadLength, |position, found| {
        IdentityError::KkNotDigits { position, found }
    })?;
    let region = region(&d).ok_or_else(|| IdentityError::KkBadRegion(s[..6].to_string()))?;
    Ok(NoKk {
        digits: s.to_string(),
        region,
    })
}
