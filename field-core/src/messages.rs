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
    /// A kader makes referrals; a health worker (bidan, perawat) receives and closes them.
    ReferralHealthWorkerOnly,
    /// The referral already has this status (a second press of the same button).
    ReferralSameStatus,
    /// A second pregnancy while one is ongoing.
    PregnancyOngoing,
    FactMoved,
    /// Merging persons and reviewing conflicts are a bidan's or perawat's decisions.
    SupervisorOnly,
    /// A merge may take the other record's household only inside one posyandu.
    HouseholdElsewhere,
    /// A time of day not written `HH:MM` (a newborn's birth time).
    TimeFormat,
    /// A vial's expiry date before the dose's day.
    VialExpired,
}

impl Key {
    pub const ALL: [Key; 43] = [
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
        Key::ReferralHealthWorkerOnly,
        Key::ReferralSameStatus,
        Key::PregnancyOngoing,
        Key::FactMoved,
        Key::SupervisorOnly,
        Key::HouseholdElsewhere,
        Key::TimeFormat,
        Key::VialExpired,
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
                "{type_id} {value} {unit} tidak masuk akal untuk umur {age_id}. Periksa lagi.",
                "A {type_en} of {value} {unit} is implausible at age {age_en}. Check again.",
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
                "PIN harus paling sedikit 6 angka, atau kata sandi paling sedikit 12 karakter.",
                "The PIN must be at least 6 digits, or a passphrase at least 12 characters.",
            ),
            Key::PinTooSimple => (
                "validation.pin_too_simple",
                "PIN atau kata sandi terlalu mudah ditebak (angka/huruf sama semua atau berurutan). Pilih yang lain.",
                "The PIN or passphrase is too easy to guess (one character repeated, or a run like 123456). Choose another.",
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
            Key::ReferralHealthWorkerOnly => (
                "validation.referral_health_worker_only",
                "Kader membuat rujukan; bidan atau perawat yang mencatat rujukan diterima dan selesai.",
                "A kader makes referrals; a bidan or perawat records them as received and done.",
            ),
            Key::ReferralSameStatus => (
                "validation.referral_same_status",
                "Rujukan ini sudah berstatus {current}.",
                "This referral's status is already {current}.",
            ),
            Key::PregnancyOngoing => (
                "validation.pregnancy_ongoing",
                "Kehamilan ibu ini sudah tercatat. Ubah data kehamilan yang ada.",
                "She already has an ongoing pregnancy recorded: change that one.",
            ),
            Key::FactMoved => (
                "validation.fact_moved",
                "Koreksi tidak boleh memindahkan data ke orang atau posyandu lain ({field}).",
                "A correction cannot move a record to another person or posyandu ({field}).",
            ),
            Key::SupervisorOnly => (
                "validation.supervisor_only",
                "Hanya bidan atau perawat yang dapat memutuskan ini.",
                "Only a bidan or perawat can decide this.",
            ),
            Key::HouseholdElsewhere => (
                "validation.household_elsewhere",
                "Rumah tangga data lain ada di posyandu lain: pilih rumah tangga ini.",
                "The other record's household is in another posyandu: keep this household.",
            ),
            Key::TimeFormat => (
                "validation.time_format",
                "{field} bukan jam yang sah (JJ:MM, misalnya 06:45).",
                "{field} is not a valid time (HH:MM, e.g. 06:45).",
            ),
            Key::VialExpired => (
                "validation.vial_expired",
                "Vaksin sudah kedaluwarsa ({expiry}) sebelum tanggal imunisasi ({date}). Periksa tanggal kedaluwarsa pada vial.",
                "The vial expired ({expiry}) before the dose's date ({date}). Check the expiry date on the vial.",
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
    ValidationError::new(field, code, fill(id, &all), fill(en, &all)).with_params(args)
}

/// Every key with its Indonesian and English template: `(key, id, en)`.
pub fn catalog() -> Vec<(&'static str, &'static str, &'static str)> {
    Key::ALL.iter().map(|k| k.texts()).collect()
}

/// Sentences for the keys of store and sync errors ([`crate::StoreError::message_key`],
/// [`crate::sync::SyncError::message_key`], the server's error and rejection keys):
/// `(key, Indonesian, English)`. What a kader reads when something fails, and what to do.
pub const ERROR_TEXTS: &[(&str, &str, &str)] = &[
    ("store.wrong_pin", "PIN salah.", "Wrong PIN."),
    (
        "store.pin_locked",
        "Terlalu banyak PIN salah. Coba lagi dalam {wait_seconds} detik.",
        "Too many wrong PINs. Try again in {wait_seconds} seconds.",
    ),
    (
        "store.unknown_user",
        "Pengguna ini belum terdaftar di tablet ini.",
        "This user is not set up on this tablet.",
    ),
    (
        "store.user_exists",
        "Pengguna ini sudah ada di tablet ini.",
        "This user is already set up on this tablet.",
    ),
    (
        "store.cannot_remove_current_user",
        "Pengguna yang sedang memakai tablet tidak bisa menghapus dirinya sendiri.",
        "The user now using the tablet cannot remove themselves.",
    ),
    (
        "store.cannot_remove_last_user",
        "Pengguna terakhir tablet ini tidak bisa dihapus.",
        "The last user of this tablet cannot be removed.",
    ),
    (
        "store.not_revoked",
        "Tablet ini tidak dicabut oleh admin: kuncinya tetap disimpan.",
        "This tablet was not revoked by an admin: its keys are kept.",
    ),
    (
        "sync.update_app",
        "Perbarui aplikasi Jangkau: server memakai versi sinkronisasi yang lebih baru.",
        "Update the Jangkau app: the server uses a newer sync version.",
    ),
    (
        "sync.update_server",
        "Server kabupaten perlu diperbarui. Hubungi admin puskesmas.",
        "The district server needs an update. Contact the puskesmas admin.",
    ),
    (
        "sync.error.not_enrolled",
        "Tablet ini belum didaftarkan ke server kabupaten.",
        "This tablet is not enrolled with the district server yet.",
    ),
    (
        "sync.error.device_revoked",
        "Tablet ini dicabut oleh admin. Data tetap tersimpan di tablet, tetapi tidak dikirim lagi.",
        "This tablet was revoked by an admin. Its data stays on it but is no longer sent.",
    ),
    (
        "sync.error.login_required",
        "Sesi sudah berakhir. Masukkan kata sandi untuk sinkronisasi (data di tablet aman).",
        "The session has ended. Enter the password to sync (the data on the tablet is safe).",
    ),
    (
        "sync.error.device_unknown",
        "Server tidak mengenali tablet ini. Daftarkan tablet lagi dengan kode baru dari admin.",
        "The server does not recognise this tablet. Enrol it again with a new code from the admin.",
    ),
    (
        "sync.error.login_failed",
        "Nama pengguna atau kata sandi salah.",
        "Wrong username or password.",
    ),
    (
        "sync.error.user_disabled",
        "Akun ini dinonaktifkan. Hubungi admin puskesmas.",
        "This account is disabled. Contact the puskesmas admin.",
    ),
    (
        "sync.error.enrol_code_invalid",
        "Kode pendaftaran tidak dikenal atau sudah dipakai. Minta kode baru dari admin.",
        "The enrolment code is unknown or already used. Ask the admin for a new one.",
    ),
    (
        "sync.error.enrol_code_expired",
        "Kode pendaftaran sudah kedaluwarsa. Minta kode baru dari admin.",
        "The enrolment code has expired. Ask the admin for a new one.",
    ),
    (
        "sync.error.wrong_user",
        "Server menjawab untuk pengguna lain. Kunci tablet dan masuk lagi.",
        "The server answered for another user. Lock the tablet and sign in again.",
    ),
    (
        "sync.error.already_running",
        "Sinkronisasi sedang berjalan.",
        "A sync is already running.",
    ),
    (
        "sync.error.network",
        "Server tidak dapat dihubungi. Data tetap tersimpan; coba lagi nanti.",
        "Cannot reach the server. The data is kept; try again later.",
    ),
    (
        "sync.error.protocol",
        "Jawaban server tidak dapat dibaca. Coba lagi nanti atau hubungi admin.",
        "The server's answer could not be read. Try again later or contact the admin.",
    ),
    (
        "sync.error.stuck",
        "Server terus menolak data yang menunggu. Periksa jam tablet, lalu coba lagi.",
        "The server keeps refusing the waiting changes. Check the tablet's clock, then try again.",
    ),
    (
        "sync.error.tls",
        "Sambungan aman ke server gagal. Hubungi admin.",
        "The secure connection to the server failed. Contact the admin.",
    ),
    (
        "sync.error.bad_url",
        "Alamat server tidak sah. Pakai https://… (http:// hanya untuk komputer ini sendiri).",
        "Not a valid server address. Use https://… (http:// only for this computer itself).",
    ),
    (
        "sync.error.lock",
        "Berkas penanda sinkronisasi tidak dapat dipakai. Mulai ulang aplikasi.",
        "The sync lock file could not be used. Restart the app.",
    ),
    (
        "sync.error.store",
        "Data di tablet tidak dapat dibaca atau ditulis saat sinkronisasi.",
        "The tablet's data could not be read or written during the sync.",
    ),
    (
        "sync.error.malformed_body",
        "Server menolak permintaan yang rusak. Perbarui aplikasi.",
        "The server refused a malformed request. Update the app.",
    ),
    (
        "sync.error.body_too_large",
        "Kiriman terlalu besar untuk server. Coba lagi nanti.",
        "The request was too large for the server. Try again later.",
    ),
    (
        "sync.error.too_many_changes",
        "Terlalu banyak perubahan dalam satu kiriman. Coba lagi nanti.",
        "Too many changes in one request. Try again later.",
    ),
    (
        "sync.error.unsupported_encoding",
        "Server tidak mendukung pemampatan data ini. Perbarui aplikasi.",
        "The server does not support this compression. Update the app.",
    ),
    (
        "sync.error.unauthorized",
        "Server tidak menerima izin tablet ini. Masuk lagi.",
        "The server did not accept this tablet's credentials. Sign in again.",
    ),
    (
        "sync.error.session_expired",
        "Sesi sudah berakhir. Masukkan kata sandi lagi.",
        "The session has ended. Enter the password again.",
    ),
    (
        "sync.error.forbidden",
        "Pengguna ini tidak berhak melakukan ini.",
        "This user may not do this.",
    ),
    (
        "sync.error.rate_limited",
        "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.",
        "Too many attempts. Wait a moment, then try again.",
    ),
    (
        "sync.error.not_found",
        "Alamat ini bukan server Jangkau. Periksa alamat server.",
        "This address is not a Jangkau server. Check the server address.",
    ),
    (
        "sync.error.unavailable",
        "Server sedang sibuk atau dalam perawatan. Coba lagi nanti.",
        "The server is busy or under maintenance. Try again later.",
    ),
    (
        "sync.error.internal",
        "Terjadi kesalahan di server. Coba lagi nanti.",
        "The server had an error. Try again later.",
    ),
    (
        "titip.error.no_keys",
        "Tablet ini belum punya kunci titip (didaftarkan sebelum ada titip). Daftarkan ulang tablet ini.",
        "This tablet has no titip keys (it was enrolled before titip). Enrol it again.",
    ),
    (
        "titip.error.own_bundle",
        "Ini titipan tablet ini sendiri. Berikan ke tablet lain.",
        "This is this tablet's own bundle. Give it to another tablet.",
    ),
    (
        "titip.error.no_answer",
        "Berkas ini tidak berisi balasan untuk tablet ini.",
        "This file holds no answer for this tablet.",
    ),
    (
        "titip.error.wrong_kind",
        "Berkas ini bukan jenis yang diharapkan (titipan atau balasan).",
        "This file is not of the expected kind (bundle or answer).",
    ),
    (
        "titip.error.bad_file",
        "Berkas titip rusak, terpotong, atau diubah. Minta berkas yang baru.",
        "The titip file is damaged, truncated or altered. Ask for a new one.",
    ),
    (
        "titip.error.store",
        "Data titip tidak bisa disimpan di tablet ini.",
        "The titip data could not be stored on this tablet.",
    ),
    (
        "titip.error.sync",
        "Titipan tidak bisa diserahkan ke server sekarang. Coba lagi saat sinkron berikutnya.",
        "The bundles could not be handed to the server now. They go with the next sync.",
    ),
    (
        "titip.error.bad_path",
        "Pilih berkas dulu.",
        "Choose a file first.",
    ),
    (
        "titip.error.lan_address",
        "Alamat harus seperti 192.168.43.1:40123 (angka, titik dua, port). Lihat di tablet yang mengirim.",
        "The address looks like 192.168.43.1:40123 (numbers, a colon, the port). Read it on the sending tablet.",
    ),
    (
        "titip.error.lan_code_format",
        "Kode terdiri dari 6 angka.",
        "The code is 6 digits.",
    ),
    (
        "titip.error.lan_unreachable",
        "Tablet pengirim tidak terjangkau. Periksa alamatnya, pastikan kedua tablet di jaringan (Wi-Fi/hotspot) yang sama, dan tawarannya masih terbuka.",
        "The sending tablet cannot be reached. Check the address, that both tablets are on the same network (Wi-Fi or hotspot), and that the offer is still open.",
    ),
    (
        "titip.error.lan_wrong_code",
        "Kode salah. Periksa kode di tablet pengirim. Setelah 3 kali salah, tawaran ditutup.",
        "Wrong code. Check the code on the sending tablet. After 3 wrong codes the offer closes.",
    ),
    (
        "titip.error.lan_ended",
        "Tawaran di tablet pengirim sudah selesai. Minta tablet itu mengirim lagi.",
        "The offer on the sending tablet has ended. Ask it to send again.",
    ),
    (
        "titip.error.lan_not_jangkau",
        "Alamat ini bukan tablet Jangkau yang sedang mengirim titip.",
        "This address is not a Jangkau tablet offering titip.",
    ),
    (
        "titip.error.lan_too_large",
        "Berkas titip terlalu besar untuk dikirim lewat jaringan.",
        "The titip file is too large to send over the network.",
    ),
    (
        "titip.error.lan_tampered",
        "Data yang diterima tidak cocok dengan kode (berubah di jalan). Tidak disimpan. Coba lagi.",
        "What arrived does not match the code (changed on the way). Nothing was kept. Try again.",
    ),
    (
        "titip.error.lan_cut",
        "Sambungan terputus atau terlalu lama. Tidak ada yang disimpan. Coba lagi.",
        "The connection was cut or took too long. Nothing was kept. Try again.",
    ),
    (
        "titip.error.lan_listen",
        "Tablet ini tidak bisa membuka jaringan untuk mengirim. Periksa Wi-Fi/hotspot.",
        "This tablet could not open the network to send. Check Wi-Fi or the hotspot.",
    ),
    (
        "sync.error.titip_refused",
        "Server menolak titipan ini: berkas rusak, diubah, atau dari tablet yang dicabut. Tidak dikirim lagi.",
        "The server refused this titip bundle: damaged, altered, or from a revoked tablet. It is not sent again.",
    ),
    (
        "sync.error.unknown",
        "Server menolak permintaan. Coba lagi nanti.",
        "The server refused the request. Try again later.",
    ),
    (
        "sync.reject.invalid_envelope",
        "Server menolak data ini: datanya tidak lengkap.",
        "The server refused this record: it is incomplete.",
    ),
    (
        "sync.reject.invalid_body",
        "Server menolak data ini: isiannya tidak sesuai.",
        "The server refused this record: its fields are not valid.",
    ),
    (
        "sync.reject.invalid_value",
        "Server menolak data ini: ada nilai yang tidak sah.",
        "The server refused this record: a value is not valid.",
    ),
    (
        "sync.reject.unsupported_schema",
        "Server belum mengenal versi data ini. Hubungi admin.",
        "The server does not know this record's version yet. Contact the admin.",
    ),
    (
        "sync.reject.out_of_scope",
        "Data ini di luar wilayah kerja pengguna.",
        "This record is outside the user's area.",
    ),
    (
        "sync.reject.forbidden_role",
        "Peran pengguna ini tidak boleh mencatat data ini.",
        "This user's role may not record this.",
    ),
    (
        "sync.reject.identity_mismatch",
        "Data ini tercatat atas nama pengguna atau tablet lain.",
        "This record names another user or tablet.",
    ),
    (
        "sync.reject.kind_mismatch",
        "Data ini bertentangan dengan data lain yang sudah ada di server.",
        "This record contradicts another one already on the server.",
    ),
    (
        "sync.reject.seq_reused",
        "Nomor urut data ini sudah dipakai. Hubungi admin.",
        "This record's sequence number was already used. Contact the admin.",
    ),
    (
        "sync.reject.fact_immutable",
        "Catatan layanan tidak bisa diubah; buat koreksi.",
        "A service record cannot be changed; make a correction.",
    ),
    (
        "sync.reject.clock_ahead",
        "Jam tablet terlalu maju. Data akan dikirim lagi dengan jam yang diperbaiki.",
        "The tablet's clock is ahead. The record will be sent again with a corrected clock.",
    ),
    (
        "sync.reject.awaits_author",
        "Data ini dicatat oleh pengguna lain di tablet ini. Data tetap tersimpan dan terkirim saat pengguna itu sinkronisasi.",
        "Another user of this tablet recorded this. It is kept and goes when that user syncs.",
    ),
    (
        "sync.error.answer_too_large",
        "Jawaban server terlalu besar untuk tablet ini. Sinkronisasi dicoba lagi dengan bagian yang lebih kecil; bila tetap gagal, hubungi admin puskesmas.",
        "The server's answer is too large for this tablet. Sync tries again in smaller parts; if it still fails, contact the puskesmas admin.",
    ),
    (
        "sync.reject.too_large",
        "Data ini terlalu besar untuk dikirim. Perbaiki isiannya (teks yang lebih pendek).",
        "This record is too large to send. Correct it (shorter texts).",
    ),
];

/// The Indonesian and English sentences of a store or sync error key, with `{name}`
/// placeholders filled from `args`; `None` for a key this table does not hold.
pub fn error_texts(key: &str, args: &[(&str, String)]) -> Option<(String, String)> {
    ERROR_TEXTS
        .iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, id, en)| (fill(id, args), fill(en, args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key a store or sync error can carry has sentences.
    #[test]
    fn every_error_key_has_sentences() {
        use crate::StoreError;
        use crate::sync::SyncError;
        use sync_protocol::{ErrorBody, ErrorCode, RejectCode};
        let mut keys: Vec<String> = [
            StoreError::WrongPin,
            StoreError::PinLocked { retry_after_ms: 1 },
            StoreError::UnknownUser("u".into()),
            StoreError::UserExists("u".into()),
            StoreError::CannotRemoveCurrentUser("u".into()),
            StoreError::CannotRemoveLastUser("u".into()),
            StoreError::NotRevoked,
            StoreError::SchemaTooNew { found: 9, known: 1 },
        ]
        .iter()
        .filter_map(|e| e.message_key().map(str::to_string))
        .collect();
        let sync = [
            SyncError::NotEnrolled,
            SyncError::DeviceRevoked {
                message: "m".into(),
            },
            SyncError::LoginRequired,
            SyncError::DeviceUnknown,
            SyncError::LoginFailed,
            SyncError::UserDisabled,
            SyncError::EnrolCodeInvalid,
            SyncError::EnrolCodeExpired,
            SyncError::WrongUser {
                expected: "a".into(),
                got: "b".into(),
            },
            SyncError::UpdateApp("x".into()),
            SyncError::UpdateServer("x".into()),
            SyncError::AlreadyRunning,
            SyncError::Network("x".into()),
            SyncError::Protocol("x".into()),
            SyncError::AnswerTooLarge("x".into()),
            SyncError::Stuck("x".into()),
            SyncError::Tls("x".into()),
            SyncError::BadUrl("x".into()),
            SyncError::Lock(std::io::Error::other("x")),
            SyncError::Store(StoreError::Corrupt("x".into())),
        ];
        keys.extend(sync.iter().map(|e| e.message_key().to_string()));
        keys.extend(
            crate::sync::lan::LanError::examples()
                .iter()
                .map(|e| e.message_key().to_string()),
        );
        for code in [
            ErrorCode::ProtocolUnsupported,
            ErrorCode::MalformedBody,
            ErrorCode::BodyTooLarge,
            ErrorCode::TooManyChanges,
            ErrorCode::UnsupportedEncoding,
            ErrorCode::Unauthorized,
            ErrorCode::SessionExpired,
            ErrorCode::DeviceRevoked,
            ErrorCode::UserDisabled,
            ErrorCode::Forbidden,
            ErrorCode::EnrolCodeInvalid,
            ErrorCode::EnrolCodeExpired,
            ErrorCode::LoginFailed,
            ErrorCode::RateLimited,
            ErrorCode::NotFound,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
            ErrorCode::TitipRefused,
            ErrorCode::Unknown,
        ] {
            keys.push(ErrorBody::new(code, "m").key);
        }
        for code in [
            RejectCode::InvalidEnvelope,
            RejectCode::InvalidBody,
            RejectCode::InvalidValue,
            RejectCode::UnsupportedSchema,
            RejectCode::OutOfScope,
            RejectCode::ForbiddenRole,
            RejectCode::IdentityMismatch,
            RejectCode::KindMismatch,
            RejectCode::SeqReused,
            RejectCode::FactImmutable,
            RejectCode::ClockAhead,
            RejectCode::AwaitsAuthor,
            RejectCode::TooLarge,
        ] {
            keys.push(code.message_key().to_string());
        }
        for k in &keys {
            let (id, en) = error_texts(k, &[]).unwrap_or_default();
            assert!(!id.is_empty() && !en.is_empty(), "no sentences for {k}");
        }
        let mut all: Vec<_> = ERROR_TEXTS.iter().map(|(k, ..)| *k).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), ERROR_TEXTS.len(), "duplicate keys");
        let (id, en) =
            error_texts("store.pin_locked", &[("wait_seconds", "30".into())]).unwrap_or_default();
        assert!(id.contains("30 detik") && en.contains("30 seconds"));
    }

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
