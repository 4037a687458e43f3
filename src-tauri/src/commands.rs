//! The Tauri commands: one per function of `api` in `ui/src/lib/api.ts`, with the same
//! argument names. Each unpacks its arguments, counts as a touch for the idle lock (except the
//! ones the UI calls by itself: `app_info`, `sync_status`, `set_online`), and calls
//! [`AppCore`]. Store work runs on the blocking pool, never on the main thread.

use crate::core::{AppCore, EnrolInput, MemberInput};
use crate::error::AppError;
use crate::settings::Settings;
use crate::views::{AppInfo, Home, Profile, Registered, RejectedChange, SyncStatus};
use field_core::{
    DuplicateWarning, HouseholdHit, HouseholdInput, HouseholdView, LocalUser, PersonInput, Place,
};
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
