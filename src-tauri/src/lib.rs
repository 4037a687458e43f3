//! # jangkau-app
//!
//! The Jangkau app: a Tauri 2 shell over `field-core`. The webview (`ui/`) asks; this crate
//! answers through thin commands (`commands.rs`, one per function of `ui/src/lib/api.ts`) over
//! [`core::AppCore`], which holds the unlocked store, the background sync task and the idle
//! lock, and which is tested without a window. The webview may call only these commands and
//! listen to events (`capabilities/default.json`).
//!
//! Start-up: `--data DIR` / `JANGKAU_DATA` (default: the platform's app data directory) and
//! `--server URL` / `JANGKAU_SERVER` (prefills first run); see [`launch`].
#![forbid(unsafe_code)]

pub mod commands;
pub mod core;
pub mod error;
pub mod launch;
pub mod settings;
pub mod views;

use crate::core::{AppCore, CoreConfig, EventSink};
use crate::settings::DataDir;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::{Emitter, Manager};

/// How often the idle lock is checked.
const IDLE_CHECK: Duration = Duration::from_secs(10);

/// The app on any Tauri runtime: the commands, and the state made at setup (the data
/// directory is known only then). [`run`] uses it with the real runtime, the IPC tests with
/// Tauri's mock runtime.
pub fn app_builder<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    launch: launch::LaunchOptions,
) -> tauri::Builder<R> {
    // "Simpan ke…" (desktop only): the save dialog; Rust copies the exported file there.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_dialog::init());
    // "Bagikan…" (Android only): the share sheet for an exported file.
    #[cfg(target_os = "android")]
    let builder = builder.plugin(tauri_plugin_jangkau_share::init());
    builder
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::enrol,
            commands::unlock,
            commands::lock,
            commands::revocation_notice,
            commands::erase_revoked,
            commands::add_user,
            commands::save_settings,
            commands::touch,
            commands::set_online,
            commands::home,
            commands::home_tasks,
            commands::sync_status,
            commands::sync_now,
            commands::rejected_changes,
            commands::places,
            commands::search_households,
            commands::household,
            commands::check_duplicates,
            commands::register_household,
            commands::add_member,
            commands::profile,
            commands::mark_status,
            commands::posyandu_options,
            commands::open_posyandu_session,
            commands::posyandu_day,
            commands::assess_measurement,
            commands::record_attendance,
            commands::session_summary,
            commands::start_pregnancy,
            commands::pregnancy_view,
            commands::td_status,
            commands::record_home_visit,
            commands::referrals,
            commands::referral,
            commands::advance_referral,
            commands::growth_chart,
            commands::immunisation_card,
            commands::today,
            commands::due_list,
            commands::skdn,
            commands::monthly_report,
            commands::export_report_csv,
            commands::export_report_pdf,
            commands::export_growth_chart_pdf,
            commands::export_immunisation_card_pdf,
            commands::save_export_as,
            commands::share_export,
            commands::titip_overview,
            commands::titip_export,
            commands::titip_import,
            commands::titip_collect,
            commands::titip_lan_offer,
            commands::titip_lan_state,
            commands::titip_lan_cancel,
            commands::titip_lan_receive,
            commands::review_queue,
            commands::resolve_conflict,
            commands::compare_pair,
            commands::merge_same_person,
            commands::dismiss_duplicate,
        ])
        .setup(move |app| {
            let data = match &launch.data_dir {
                Some(d) => d.clone(),
                None => app.path().app_data_dir()?,
            };
            let handle = app.handle().clone();
            let events: EventSink = Arc::new(move |name, payload| {
                if let Err(e) = handle.emit(name, payload) {
                    eprintln!("jangkau-app: event {name}: {e}");
                }
            });
            let cfg = CoreConfig::new(DataDir::new(data), launch.server.clone());
            let core = Arc::new(AppCore::new(cfg, events));
            app.manage(Arc::clone(&core));
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(IDLE_CHECK).await;
                    core.check_idle(Instant::now());
                }
            });
            Ok(())
        })
}

/// Runs the app (desktop `main`, and the Android/iOS entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = app_builder(tauri::Builder::default(), launch::LaunchOptions::from_env());
    if let Err(e) = builder.run(tauri::generate_context!()) {
        eprintln!("jangkau-app: {e}");
        std::process::exit(1);
    }
}
