//! Generates the app's permissions: one `allow-<command>` per command, so that
//! `capabilities/default.json` grants the webview exactly the commands it uses.

/// Every command of `src/commands.rs` (keep in step with `generate_handler!` in `lib.rs`).
const COMMANDS: &[&str] = &[
    "app_info",
    "enrol",
    "unlock",
    "lock",
    "revocation_notice",
    "erase_revoked",
    "add_user",
    "save_settings",
    "touch",
    "set_online",
    "home",
    "sync_status",
    "sync_now",
    "rejected_changes",
    "places",
    "search_households",
    "household",
    "check_duplicates",
    "register_household",
    "add_member",
    "profile",
    "mark_status",
    "posyandu_options",
    "open_posyandu_session",
    "posyandu_day",
    "assess_measurement",
    "record_attendance",
    "session_summary",
    "start_pregnancy",
    "pregnancy_view",
    "td_status",
    "record_home_visit",
    "referrals",
    "referral",
    "advance_referral",
    "growth_chart",
    "immunisation_card",
    "today",
    "due_list",
    "skdn",
    "monthly_report",
    "export_report_csv",
    "export_report_pdf",
    "export_growth_chart_pdf",
    "export_immunisation_card_pdf",
    "save_export_as",
    "share_export",
    "titip_overview",
    "titip_export",
    "titip_import",
    "titip_collect",
    "titip_lan_offer",
    "titip_lan_state",
    "titip_lan_cancel",
    "titip_lan_receive",
    "review_queue",
    "resolve_conflict",
    "compare_pair",
    "merge_same_person",
    "dismiss_duplicate",
];

fn main() {
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        println!("cargo::error=tauri-build: {e:#}");
    }
}
