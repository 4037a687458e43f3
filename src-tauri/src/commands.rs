//! The Tauri commands: one per function of `api` in `ui/src/lib/api.ts`, with the same
//! argument names. Each unpacks its arguments, counts as a touch for the idle lock (except the
//! ones the UI calls by itself: `app_info`, `sync_status`, `set_online`), and calls
//! [`AppCore`]. Store work runs on the blocking pool, never on the main thread.

use crate::core::{AppCore, EnrolInput, MemberInput};
use crate::error::AppError;
use crate::settings::Settings;
use crate::views::{
    AppInfo, ExportedCsv, ExportedFile, Home, HomeTasks, PosyanduDay, PosyanduOptions, Profile,
    Registered, RejectedChange, RevocationNotice, SyncStatus,
};
use field_core::sync::Erased;
use field_core::{
    Attendance, AttendanceInput, DueEntry, DueFilter, DuplicateWarning, GrowthChart, HomeVisit,
    HomeVisitInput, HouseholdHit, HouseholdInput, HouseholdView, ImmunisationCard, LocalUser,
    MeasurementInput, PersonInput, Place, PosyanduReport, PregnancyInput, ReferralRow,
    ReferralView, SessionRef, SessionSummary, Skdn,
};
use health_rules::checks::MeasurementCheck;
use std::sync::Arc;
use tauri::State;
use zeroize::Zeroizing;

type Core<'a> = State<'a, Arc<AppCore>>;

/// Runs `f` on the blocking pool (SQLite, Argon2id), after counting a touch if `touch`.
async fn blocking<T: Send + 'static>(
    core: &Core<'_>,
    touch: bool,
    f: impl FnOnce(&AppCore) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let core: Arc<AppCore> = Arc::clone(core);
    if touch {
        core.touch();
    }
    tauri::async_runtime::spawn_blocking(move || f(&core))
        .await
        .map_err(AppError::internal)?
}

#[tauri::command]
pub async fn app_info(core: Core<'_>) -> Result<AppInfo, AppError> {
    blocking(&core, false, |c| c.app_info()).await
}

#[tauri::command]
pub async fn enrol(core: Core<'_>, input: EnrolInput) -> Result<LocalUser, AppError> {
    core.touch();
    core.enrol(input).await
}

#[tauri::command]
pub async fn unlock(
    core: Core<'_>,
    username: String,
    pin: Zeroizing<String>,
) -> Result<LocalUser, AppError> {
    blocking(&core, true, move |c| c.unlock(&username, &pin)).await
}

/// The revoked-tablet warning (`null` while not revoked).
#[tauri::command]
pub async fn revocation_notice(core: Core<'_>) -> Result<Option<RevocationNotice>, AppError> {
    blocking(&core, true, |c| c.revocation_notice()).await
}

/// Erases a revoked tablet's key material, after the warning.
#[tauri::command]
pub async fn erase_revoked(core: Core<'_>) -> Result<Erased, AppError> {
    blocking(&core, false, |c| c.erase_revoked()).await
}

#[tauri::command]
pub async fn lock(core: Core<'_>) -> Result<(), AppError> {
    blocking(&core, false, |c| {
        c.lock();
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn add_user(
    core: Core<'_>,
    username: String,
    password: Zeroizing<String>,
    pin: Zeroizing<String>,
) -> Result<LocalUser, AppError> {
    core.touch();
    core.add_user(&username, &password, &pin).await
}

#[tauri::command]
pub async fn save_settings(core: Core<'_>, settings: Settings) -> Result<Settings, AppError> {
    blocking(&core, true, move |c| c.save_settings(settings)).await
}

/// A touch on the screen (the UI reports them, at most every few seconds).
#[tauri::command]
pub fn touch(core: Core<'_>) {
    core.touch();
}

#[tauri::command]
pub fn set_online(core: Core<'_>, online: bool) {
    core.set_online(online);
}

#[tauri::command]
pub async fn home(core: Core<'_>) -> Result<Home, AppError> {
    blocking(&core, true, |c| c.home()).await
}

/// Beranda's "Tampilkan lagi": the next persons of the due list `home` computed.
#[tauri::command]
pub async fn home_tasks(
    core: Core<'_>,
    offset: usize,
    limit: usize,
) -> Result<HomeTasks, AppError> {
    blocking(&core, true, move |c| c.home_tasks(offset, limit)).await
}

#[tauri::command]
pub async fn sync_status(core: Core<'_>) -> Result<SyncStatus, AppError> {
    blocking(&core, false, |c| c.sync_status()).await
}

#[tauri::command]
pub async fn sync_now(core: Core<'_>, password: Option<String>) -> Result<(), AppError> {
    blocking(&core, true, move |c| c.sync_now(password)).await
}

#[tauri::command]
pub async fn rejected_changes(core: Core<'_>) -> Result<Vec<RejectedChange>, AppError> {
    blocking(&core, true, |c| c.rejected_changes()).await
}

#[tauri::command]
pub async fn places(core: Core<'_>) -> Result<Vec<Place>, AppError> {
    blocking(&core, true, |c| c.places()).await
}

#[tauri::command]
pub async fn search_households(
    core: Core<'_>,
    query: String,
    dusun: Option<String>,
    rt: Option<String>,
) -> Result<Vec<HouseholdHit>, AppError> {
    blocking(&core, true, move |c| {
        c.search_households(&query, dusun.as_deref(), rt.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn household(core: Core<'_>, id: String) -> Result<HouseholdView, AppError> {
    blocking(&core, true, move |c| c.household(&id)).await
}

#[tauri::command]
pub async fn check_duplicates(
    core: Core<'_>,
    person: PersonInput,
) -> Result<Vec<DuplicateWarning>, AppError> {
    blocking(&core, true, move |c| c.check_duplicates(person)).await
}

#[tauri::command]
pub async fn register_household(
    core: Core<'_>,
    household: HouseholdInput,
    members: Vec<MemberInput>,
) -> Result<Registered, AppError> {
    blocking(&core, true, move |c| {
        c.register_household(household, members)
    })
    .await
}

#[tauri::command]
pub async fn add_member(
    core: Core<'_>,
    household: String,
    person: PersonInput,
) -> Result<Registered, AppError> {
    blocking(&core, true, move |c| c.add_member(&household, person)).await
}

#[tauri::command]
pub async fn profile(core: Core<'_>, id: String) -> Result<Profile, AppError> {
    blocking(&core, true, move |c| c.profile(&id)).await
}

#[tauri::command]
pub async fn mark_status(
    core: Core<'_>,
    id: String,
    status: String,
    date: String,
) -> Result<(), AppError> {
    blocking(&core, true, move |c| c.mark_status(&id, &status, &date)).await
}

// ---- the field work: posyandu day, home visits, referrals (core/care.rs) ----

#[tauri::command]
pub async fn posyandu_options(core: Core<'_>) -> Result<PosyanduOptions, AppError> {
    blocking(&core, true, |c| c.posyandu_options()).await
}

#[tauri::command]
pub async fn open_posyandu_session(
    core: Core<'_>,
    posyandu: String,
    date: String,
    order: Option<String>,
) -> Result<SessionRef, AppError> {
    blocking(&core, true, move |c| {
        c.open_posyandu_session(&posyandu, &date, order.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn posyandu_day(core: Core<'_>, session: String) -> Result<PosyanduDay, AppError> {
    blocking(&core, true, move |c| c.posyandu_day(&session)).await
}

#[tauri::command]
pub async fn assess_measurement(
    core: Core<'_>,
    person: String,
    date: String,
    measurements: Vec<MeasurementInput>,
) -> Result<MeasurementCheck, AppError> {
    blocking(&core, true, move |c| {
        c.assess_measurement(&person, &date, measurements)
    })
    .await
}

#[tauri::command]
pub async fn record_attendance(
    core: Core<'_>,
    input: AttendanceInput,
) -> Result<Attendance, AppError> {
    blocking(&core, true, move |c| c.record_attendance(input)).await
}

#[tauri::command]
pub async fn session_summary(core: Core<'_>, session: String) -> Result<SessionSummary, AppError> {
    blocking(&core, true, move |c| c.session_summary(&session)).await
}

#[tauri::command]
pub async fn start_pregnancy(
    core: Core<'_>,
    person: String,
    input: PregnancyInput,
) -> Result<String, AppError> {
    blocking(&core, true, move |c| {
        c.start_pregnancy(&person, input).map(|id| id.to_string())
    })
    .await
}

#[tauri::command]
pub async fn record_home_visit(
    core: Core<'_>,
    input: HomeVisitInput,
) -> Result<HomeVisit, AppError> {
    blocking(&core, true, move |c| c.record_home_visit(input)).await
}

#[tauri::command]
pub async fn referrals(
    core: Core<'_>,
    status: Option<String>,
) -> Result<Vec<ReferralRow>, AppError> {
    blocking(&core, true, move |c| c.referrals(status.as_deref())).await
}

#[tauri::command]
pub async fn referral(core: Core<'_>, id: String) -> Result<ReferralView, AppError> {
    blocking(&core, true, move |c| c.referral(&id)).await
}

#[tauri::command]
pub async fn advance_referral(
    core: Core<'_>,
    id: String,
    status: String,
    date: String,
    outcome: Option<String>,
) -> Result<ReferralRow, AppError> {
    blocking(&core, true, move |c| {
        c.advance_referral(&id, &status, &date, outcome.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn pregnancy_view(
    core: Core<'_>,
    person: String,
) -> Result<Option<field_core::PregnancyView>, AppError> {
    blocking(&core, true, move |c| c.pregnancy_view(&person)).await
}

#[tauri::command]
pub async fn td_status(
    core: Core<'_>,
    person: String,
    on: Option<String>,
    earlier: Option<crate::core::TdEarlierInput>,
) -> Result<field_core::TdView, AppError> {
    blocking(&core, true, move |c| {
        c.td_status(&person, on.as_deref(), earlier)
    })
    .await
}

// ---- charts, due lists and reports (core/reports.rs) ----

#[tauri::command]
pub async fn growth_chart(core: Core<'_>, person: String) -> Result<GrowthChart, AppError> {
    blocking(&core, true, move |c| c.growth_chart(&person)).await
}

#[tauri::command]
pub async fn immunisation_card(
    core: Core<'_>,
    person: String,
    on: Option<String>,
) -> Result<ImmunisationCard, AppError> {
    blocking(&core, true, move |c| {
        c.immunisation_card(&person, on.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn export_growth_chart_pdf(
    core: Core<'_>,
    person: String,
) -> Result<ExportedFile, AppError> {
    blocking(&core, true, move |c| c.export_growth_chart_pdf(&person)).await
}

#[tauri::command]
pub async fn export_immunisation_card_pdf(
    core: Core<'_>,
    person: String,
    on: Option<String>,
) -> Result<ExportedFile, AppError> {
    blocking(&core, true, move |c| {
        c.export_immunisation_card_pdf(&person, on.as_deref())
    })
    .await
}

/// "Titip data": what this tablet sealed and carries.
#[tauri::command]
pub async fn titip_overview(core: Core<'_>) -> Result<crate::core::TitipOverview, AppError> {
    blocking(&core, true, |c| c.titip_overview()).await
}

/// "Titip data": seal the undelivered changes into a file where the save dialog pointed.
#[tauri::command]
pub async fn titip_export(
    core: Core<'_>,
    dest: String,
) -> Result<crate::core::TitipWritten, AppError> {
    blocking(&core, true, move |c| c.titip_export(&dest)).await
}

/// "Titip data": take a bundle to carry, or open an answer meant for this tablet.
#[tauri::command]
pub async fn titip_import(
    core: Core<'_>,
    path: String,
) -> Result<crate::core::TitipImported, AppError> {
    blocking(&core, true, move |c| c.titip_import(&path)).await
}

/// "Titip data": write the answers this tablet carried back.
#[tauri::command]
pub async fn titip_collect(
    core: Core<'_>,
    dest: String,
) -> Result<crate::core::TitipWritten, AppError> {
    blocking(&core, true, move |c| c.titip_collect(&dest)).await
}

/// "Kirim lewat jaringan": offer the sealed bundle or the answers carried back on the local
/// network, with a one-time code.
#[tauri::command]
pub async fn titip_lan_offer(
    core: Core<'_>,
    what: crate::core::LanWhat,
) -> Result<crate::core::LanOffered, AppError> {
    blocking(&core, true, move |c| c.titip_lan_offer(what)).await
}

/// Where the offer on the local network stands (`null`: none).
#[tauri::command]
pub async fn titip_lan_state(
    core: Core<'_>,
) -> Result<Option<field_core::sync::lan::OfferState>, AppError> {
    blocking(&core, false, |c| Ok(c.titip_lan_state())).await
}

/// Ends the offer on the local network.
#[tauri::command]
pub async fn titip_lan_cancel(core: Core<'_>) -> Result<(), AppError> {
    blocking(&core, true, |c| {
        c.titip_lan_cancel();
        Ok(())
    })
    .await
}

/// "Terima lewat jaringan": receive what the tablet next to this one offers, with its code.
#[tauri::command]
pub async fn titip_lan_receive(
    core: Core<'_>,
    address: String,
    code: String,
) -> Result<crate::core::TitipImported, AppError> {
    blocking(&core, true, move |c| c.titip_lan_receive(&address, &code)).await
}

/// "Simpan ke…" (desktop): a copy of an exported file where the save dialog pointed.
#[tauri::command]
pub async fn save_export_as(
    core: Core<'_>,
    file_name: String,
    dest: String,
) -> Result<String, AppError> {
    blocking(&core, true, move |c| c.save_export_as(&file_name, &dest)).await
}

/// "Bagikan…" (Android): the platform's share sheet for a file of the exports folder.
/// Which file and its MIME type are checked in `core/share.rs` (on every platform); the
/// sheet itself is the Android plugin's. Elsewhere: `export.share_unavailable`.
#[tauri::command]
pub async fn share_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    core: Core<'_>,
    file_name: String,
) -> Result<(), AppError> {
    let file = blocking(&core, true, move |c| c.share_target(&file_name)).await?;
    share_sheet(&app, file)
}

#[cfg(target_os = "android")]
fn share_sheet<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    file: crate::core::ShareFile,
) -> Result<(), AppError> {
    use tauri_plugin_jangkau_share::{ShareExt, ShareRequest};
    app.share_file(ShareRequest {
        path: file.path,
        mime_type: file.mime.to_string(),
        title: file.title,
    })
    .map_err(|e| {
        eprintln!("jangkau-app: share: {e}");
        crate::core::share_failed()
    })
}

#[cfg(not(target_os = "android"))]
fn share_sheet<R: tauri::Runtime>(
    _app: &tauri::AppHandle<R>,
    _file: crate::core::ShareFile,
) -> Result<(), AppError> {
    Err(crate::core::share_unavailable())
}

#[tauri::command]
pub async fn today(core: Core<'_>) -> Result<String, AppError> {
    blocking(&core, false, |c| c.today()).await
}

#[tauri::command]
pub async fn due_list(core: Core<'_>, filter: DueFilter) -> Result<Vec<DueEntry>, AppError> {
    blocking(&core, true, move |c| c.due_list(filter)).await
}

#[tauri::command]
pub async fn skdn(core: Core<'_>, posyandu: String, month: String) -> Result<Skdn, AppError> {
    blocking(&core, true, move |c| c.skdn(&posyandu, &month)).await
}

#[tauri::command]
pub async fn monthly_report(
    core: Core<'_>,
    posyandu: String,
    month: String,
) -> Result<PosyanduReport, AppError> {
    blocking(&core, true, move |c| c.monthly_report(&posyandu, &month)).await
}

#[tauri::command]
pub async fn export_report_csv(
    core: Core<'_>,
    posyandu: String,
    month: String,
) -> Result<ExportedCsv, AppError> {
    blocking(&core, true, move |c| c.export_report_csv(&posyandu, &month)).await
}

#[tauri::command]
pub async fn export_report_pdf(
    core: Core<'_>,
    posyandu: String,
    month: String,
) -> Result<ExportedFile, AppError> {
    blocking(&core, true, move |c| c.export_report_pdf(&posyandu, &month)).await
}

// ---- Tinjauan: conflicts, likely duplicates, data problems (core/review.rs) ----

#[tauri::command]
pub async fn review_queue(core: Core<'_>) -> Result<crate::core::ReviewQueue, AppError> {
    blocking(&core, true, |c| c.review_queue()).await
}

#[tauri::command]
pub async fn resolve_conflict(
    core: Core<'_>,
    key: field_core::ConflictKey,
    resolution: field_core::Resolution,
    note: Option<String>,
) -> Result<sync_protocol::RecordId, AppError> {
    blocking(&core, true, move |c| {
        c.resolve_conflict(key, resolution, note)
    })
    .await
}

#[tauri::command]
pub async fn compare_pair(
    core: Core<'_>,
    first: String,
    second: String,
) -> Result<field_core::PairComparison, AppError> {
    blocking(&core, true, move |c| c.compare_pair(&first, &second)).await
}

#[tauri::command]
pub async fn merge_same_person(
    core: Core<'_>,
    kept: String,
    merged: String,
    take: Vec<String>,
    reason: Option<String>,
) -> Result<sync_protocol::RecordId, AppError> {
    blocking(&core, true, move |c| {
        c.merge_same_person(&kept, &merged, take, reason)
    })
    .await
}

#[tauri::command]
pub async fn dismiss_duplicate(
    core: Core<'_>,
    first: String,
    second: String,
    note: Option<String>,
) -> Result<sync_protocol::RecordId, AppError> {
    blocking(&core, true, move |c| {
        c.dismiss_duplicate(&first, &second, note)
    })
    .await
}
