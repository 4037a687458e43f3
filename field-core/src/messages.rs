//! Message keys for refused input, with their Bahasa Indonesia and English texts.
//! `{name}` placeholders are filled from the arguments. [`catalog`] lists every key, for the
//! app's translation files.

use crate::error::ValidationError;

/// Every message key field-core produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Required,
    Empty,
    TextTooLong,
    Digits,
    PlaceCode,
    RecordRef,
    DateFormat,
    DateInFuture,
    DateTooOld,
    DateBeforeBirth,
    WrongType,
    OutOfRange,
    Choice,
    UnknownField,
    Answers,
    UnitMismatch,
    PositionRequired,
    ImplausibleForAge,
    UnknownRecord,
    WrongRecordKind,
    RecordDeleted,
    MotherNotFemale,
    MotherTooYoung,
    NikMismatch,
    NotPregnantAge,
    SamePerson,
    AlreadyCorrected,
    NotAFact,
    PersonInactive,
    NoMembers,
    PinFormat,
    Envelope,
    PinTooSimple,
    NeedsNewerApp,
    ReferralBackwards,
    FactMoved,
}

impl Key {
    pub const ALL: [Key; 36] = [
        Key::Required,
        Key::Empty,
        Key::TextTooLong,
        Key::Digits,
        Key::PlaceCode,
        Key::RecordRef,
        Key::DateFormat,
        Key::DateInFuture,
        Key::DateTooOld,
        Key::DateBeforeBirth,
        Key::WrongType,
        Key::OutOfRange,
        Key::Choice,
        Key::UnknownField,
        Key::Answers,
        Key::UnitMismatch,
        Key::PositionRequired,
        Key::ImplausibleForAge,
        Key::UnknownRecord,
        Key::WrongRecordKind,
        Key::RecordDeleted,
        Key::MotherNotFemale,
        Key::MotherTooYoung,
        Key::NikMismatch,
        Key::NotPregnantAge,
        Key::SamePerson,
        Key::AlreadyCorrected,
        Key::NotAFact,
        Key::PersonInactive,
        Key::NoMembers,
        Key::PinFormat,
        Key::Envelope,
        Key::PinTooSimple,
        Key::NeedsNewerApp,
        Key::ReferralBackwards,
        Key::FactMoved,
    ];

    /// `(key, Indonesian, English)`.
    pub fn texts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Key::Required => (
                "validation.required",
                "{field} wajib diisi.",
                "{field} is required.",
            ),
            Key::Empty => (
                "validation.empty",
                "{field} tidak boleh kosong.",
                "{field} must not be empty.",
            ),
            Key::TextTooLong => (
                "validation.text_too_long",
                "{field} terlalu panjang (paling banyak {max} huruf).",
                "{field} is too long (at most {max} characters).",
            ),
            Key::Digits => (
                "validation.digits",
                "{field} harus {len} angka.",
                "{field} must be exactly {len} digits.",
            ),
            Key::PlaceCode => (
                "validation.place_code",
                "Kode tempat tidak dikenal: {value}.",
                "Not a place code: {value}.",
            ),
            Key::RecordRef => (
                "validation.record_ref",
                "{field} bukan rujukan data yang sah.",
                "{field} is not a valid record id.",
            ),
            Key::DateFormat => (
                "validation.date_format",
                "{field} bukan tanggal yang sah (TTTT-BB-HH).",
                "{field} is not a valid date (YYYY-MM-DD).",
            ),
            Key::DateInFuture => (
                "validation.date_in_future",
                "{field} tidak boleh setelah hari ini ({today}).",
                "{field} cannot be after today ({today}).",
            ),
            Key::DateTooOld => (
                "validation.date_too_old",
                "{field} terlalu lampau.",
                "{field} is too far in the past.",
            ),
            Key::DateBeforeBirth => (
                "validation.date_before_birth",
                "{field} tidak boleh sebelum tanggal lahir ({birth_date}).",
                "{field} cannot be before the birth date ({birth_date}).",
            ),
            Key::WrongType => (
                "validation.wrong_type",
                "Isian {field} tidak sesuai.",
                "{field} has the wrong type.",
            ),
            Key::OutOfRange => (
                "validation.out_of_range",
                "{field} harus antara {min} dan {max}.",
                "{field} must be between {min} and {max}.",
            ),
            Key::Choice => (
                "validation.choice",
                "Pilihan {field} tidak dikenal.",
                "{field} is not one of the allowed choices.",
            ),
            Key::UnknownField => (
                "validation.unknown_field",
                "Isian {field} tidak dikenal.",
                "Unknown field {field}.",
            ),
            Key::Answers => (
                "validation.answers",
                "Jawaban skrining tidak sesuai.",
                "The screening answers are not valid.",
            ),
            Key::UnitMismatch => (
                "validation.unit_mismatch",
                "Satuan untuk {type} harus {unit}.",
                "A {type} is measured in {unit}.",
            ),
            Key::PositionRequired => (
                "validation.position_required",
                "Pilih posisi ukur: berbaring atau berdiri.",
                "Choose the position: lying or standing.",
            ),
            Key::ImplausibleForAge => (
                "validation.implausible_for_age",
                "{type} {value} {unit} tidak masuk akal untuk umur {age}. Periksa lagi.",
                "A {type} of {value} {unit} is implausible at age {age}. Check again.",
            ),
            Key::UnknownRecord => (
                "validation.unknown_record",
                "Data yang dirujuk ({field}) tidak ditemukan di tablet ini.",
                "The record named in {field} is not on this tablet.",
            ),
            Key::WrongRecordKind => (
                "validation.wrong_record_kind",
                "{field} harus merujuk ke {kind}.",
                "{field} must name a {kind}.",
            ),
            Key::RecordDeleted => (
                "validation.record_deleted",
                "Data yang dirujuk ({field}) sudah dihapus.",
                "The record named in {field} was deleted.",
            ),
            Key::MotherNotFemale => (
                "validation.mother_not_female",
                "Ibu harus perempuan.",
                "The mother must be female.",
            ),
            Key::MotherTooYoung => (
                "validation.mother_too_young",
                "Ibu harus lahir paling sedikit 10 tahun sebelum anak.",
                "The mother must be born at least 10 years before the child.",
            ),
            Key::NikMismatch => (
                "validation.nik_mismatch",
                "NIK tidak cocok dengan tanggal lahir atau jenis kelamin.",
                "The NIK does not match the birth date or sex.",
            ),
            Key::NotPregnantAge => (
                "validation.not_pregnant_age",
                "Kehamilan hanya untuk perempuan usia 10–55 tahun.",
                "A pregnancy is only for a woman aged 10–55.",
            ),
            Key::SamePerson => (
                "validation.same_person",
                "Tidak bisa menggabungkan orang dengan dirinya sendiri.",
                "A person cannot be merged with themselves.",
            ),
            Key::AlreadyCorrected => (
                "validation.already_corrected",
                "Data ini sudah dikoreksi atau dihapus; koreksi versi terbaru.",
                "This record was already corrected or deleted; correct the latest version.",
            ),
            Key::NotAFact => (
                "validation.not_a_fact",
                "Hanya catatan layanan yang dapat dikoreksi.",
                "Only service records can be corrected.",
            ),
            Key::PersonInactive => (
                "validation.person_inactive",
                "Orang ini sudah pindah atau meninggal.",
                "This person has moved or died.",
            ),
            Key::NoMembers => (
                "validation.no_members",
                "Rumah tangga perlu paling sedikit satu anggota.",
                "A household needs at least one member.",
            ),
            Key::PinFormat => (
                "validation.pin_format",
                "PIN harus paling sedikit 6 angka.",
                "The PIN must be at least 6 digits.",
            ),
            Key::PinTooSimple => (
                "validation.pin_too_simple",
                "PIN terlalu mudah ditebak (angka sama semua atau berurutan). Pilih PIN lain.",
                "The PIN is too easy to guess (one digit repeated, or a run like 123456). Choose another.",
            ),
            Key::NeedsNewerApp => (
                "validation.needs_newer_app",
                "Data ini diubah dengan aplikasi versi lebih baru. Perbarui aplikasi untuk mengubahnya.",
                "This record was changed with a newer app version. Update the app to change it.",
            ),
            Key::ReferralBackwards => (
                "validation.referral_backwards",
                "Status rujukan tidak bisa mundur (sekarang: {current}).",
                "A referral's status cannot go back (now: {current}).",
            ),
            Key::FactMoved => (
                "validation.fact_moved",
                "Koreksi tidak boleh memindahkan data ke orang atau posyandu lain ({field}).",
                "A correction cannot move a record to another person or posyandu ({field}).",
            ),
            Key::Envelope => (
                "validation.envelope",
                "Data tidak lengkap: {detail}.",
                "Malformed record: {detail}.",
            ),
        }
    }

    pub fn code(self) -> &'static str {
        self.texts().0
    }
}

fn fill(template: &str, args: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A validation error for `field` with message `key`; `{field}` is filled in automatically.
pub fn invalid(field: &str, key: Key, args: &[(&str, String)]) -> ValidationError {
    let (code, id, en) = key.texts();
    let mut all: Vec<(&str, String)> = vec![("field", field.to_string())];
    all.extend(args.iter().cloned());
    ValidationError::new(field, code, fill(id, &all), fill(en, &all))
}

/// Every key with its Indonesian and English template: `(key, id, en)`.
pub fn catalog() -> Vec<(&'static str, &'static str, &'static str)> {
    Key::ALL.iter().map(|k| k.texts()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_texts_present() {
        let c = catalog();
        let mut keys: Vec<_> = c.iter().map(|(k, ..)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), c.len());
        assert!(
            c.iter().all(|(k, id, en)| k.starts_with("validation.")
                && !id.is_empty()
                && !en.is_empty())
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let e = invalid(
            "birth_date",
            Key::DateInFuture,
            &[("today", "2025-11-22".into())],
        );
        assert_eq!(e.key, "validation.date_in_future");
        assert_eq!(e.en_text, "birth_date cannot be after today (2025-11-22).");
        assert!(e.id_text.contains("2025-11-22"));
    }
}
