//! Tells Tauri's app build where the plugin's Android project is (`android/`). No commands
//! are exposed to the webview: the app calls the plugin from Rust (`share_export`).

const COMMANDS: &[&str] = &[];

fn main() {
    tauri_plugin::Builder::new(COMMANDS)
        .android_path("android")
        .build();
}
