//! # tauri-plugin-jangkau-share
//!
//! The Android share sheet for an exported file (CSV, PDF): the Kotlin side
//! (`android/src/main/java/SharePlugin.kt`) copies the file into the app's cache
//! (`cache/jangkau-share/`), makes a `content://` URI for it with a `FileProvider` (its own
//! manifest entry and `res/xml/jangkau_share_paths.xml`, merged into the app's manifest),
//! and starts `Intent.createChooser` with an `ACTION_SEND` of that URI and the file's MIME
//! type, granting the receiving app read access to that one file.
//!
//! The app registers the plugin on Android only; which file may be shared (inside the
//! exports folder) and its MIME type are decided by the app before the call
//! (`jangkau-app`'s `core/share.rs`, tested on desktop). On any other platform
//! [`ShareExt::share_file`] answers [`ShareError::Unsupported`].
#![forbid(unsafe_code)]

use serde::Serialize;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Manager, Runtime};

/// The plugin's name (Tauri's plugin id).
pub const PLUGIN_NAME: &str = "jangkau-share";
/// The Kotlin package and class of the Android plugin.
pub const ANDROID_PACKAGE: &str = "id.jangkau.share";
pub const ANDROID_CLASS: &str = "SharePlugin";

/// One file for the share sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRequest {
    /// Absolute path of the file (inside the app's exports folder).
    pub path: String,
    /// `text/csv`, `application/pdf`.
    pub mime_type: String,
    /// The chooser's title (the file's name).
    pub title: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("the share sheet is only on Android")]
    Unsupported,
    #[error("the share sheet could not be opened: {0}")]
    Plugin(String),
}

/// The handle of the registered Android plugin.
#[cfg(target_os = "android")]
struct Share<R: Runtime>(tauri::plugin::PluginHandle<R>);

/// The plugin: on Android it registers `id.jangkau.share.SharePlugin`; elsewhere it does
/// nothing (the app adds it on Android only).
pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new(PLUGIN_NAME)
        .setup(|app, api| {
            #[cfg(target_os = "android")]
            {
                let handle = api.register_android_plugin(ANDROID_PACKAGE, ANDROID_CLASS)?;
                app.manage(Share(handle));
            }
            #[cfg(not(target_os = "android"))]
            let _ = (app, api);
            Ok(())
        })
        .build()
}

/// `app.share_file(…)` on the app handle (or a window).
pub trait ShareExt<R: Runtime> {
    /// Opens the platform's share sheet for one file. Returns when the chooser is shown.
    fn share_file(&self, request: ShareRequest) -> Result<(), ShareError>;
}

impl<R: Runtime, T: Manager<R>> ShareExt<R> for T {
    fn share_file(&self, request: ShareRequest) -> Result<(), ShareError> {
        #[cfg(target_os = "android")]
        {
            let share = self
                .try_state::<Share<R>>()
                .ok_or(ShareError::Unsupported)?;
            share
                .0
                .run_mobile_plugin::<()>("shareFile", request)
                .map_err(|e| ShareError::Plugin(e.to_string()))
        }
        #[cfg(not(target_os = "android"))]
        {
            let _ = request;
            Err(ShareError::Unsupported)
        }
    }
}
