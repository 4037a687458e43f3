//! The commands as the webview calls them: through Tauri's IPC (mock runtime) with the app's
//! real configuration and capabilities, with the argument names of `ui/src/lib/api.ts`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jangkau_app_lib::launch::LaunchOptions;
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

fn invoke(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    invoke_from(webview, "tauri://localhost", cmd, args)
}

fn invoke_from(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    origin: &str,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: origin.parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn the_webview_calls_commands_with_the_contracts_names_and_gets_app_errors() {
    let dir = tempfile::tempdir().unwrap();
    let launch = LaunchOptions {
        data_dir: Some(dir.path().join("data")),
        server: Some("http://127.0.0.1:8080".into()),
    };
    let mut app = jangkau_app_lib::app_builder(mock_builder(), launch)
        .build(tauri::generate_context!())
        .unwrap();
    // One turn of the (mock) event loop runs the setup: the state, and the "main" window of
    // tauri.conf.json that the capability names.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let webview = app.get_webview_window("main").expect("the main window");

    let info = invoke(&webview, "app_info", json!({})).unwrap();
    assert_eq!(info["enrolled"], false);
    assert_eq!(info["suggested_server"], "http://127.0.0.1:8080");
    assert_eq!(
        info["settings"],
        json!({"locale": "id", "idle_lock_minutes": 5})
    );
    assert_eq!(info["unlocked"], Value::Null);

    // `{ username, pin }` as api.ts sends them; the refusal is an AppError.
    let e = invoke(
        &webview,
        "unlock",
        json!({"username": "kader.mawar", "pin": "258014"}),
    )
    .unwrap_err();
    assert_eq!(e["key"], "app.not_enrolled", "{e}");
    assert!(e["id"].is_string() && e["en"].is_string());

    // `{ input }` with a bad PIN: refused with the field, before any network.
    let e = invoke(
        &webview,
        "enrol",
        json!({"input": {"server_url": "http://127.0.0.1:9", "code": "X", "username": "u",
                          "password": "p", "pin": "111111", "device_name": ""}}),
    )
    .unwrap_err();
    assert_eq!(
        (e["key"].as_str(), e["field"].as_str()),
        (Some("validation.pin_too_simple"), Some("pin"))
    );

    let saved = invoke(
        &webview,
        "save_settings",
        json!({"settings": {"locale": "en", "idle_lock_minutes": 3}}),
    )
    .unwrap();
    assert_eq!(saved, json!({"locale": "en", "idle_lock_minutes": 3}));

    // Commands that need an unlocked tablet say so.
    for (cmd, args) in [
        ("home", json!({})),
        ("home_tasks", json!({"offset": 30, "limit": 30})),
        ("sync_status", json!({})),
        ("sync_now", json!({"password": null})),
        (
            "search_households",
            json!({"query": "maria", "dusun": null, "rt": null}),
        ),
        ("household", json!({"id": "x"})),
        ("profile", json!({"id": "x"})),
        (
            "mark_status",
            json!({"id": "x", "status": "moved", "date": "2025-01-01"}),
        ),
        (
            "td_status",
            json!({"person": "x", "on": null, "earlier": null}),
        ),
        // Titip over the network with api-titip.ts's names: a locked tablet offers nothing
        // and takes nothing in.
        ("titip_lan_offer", json!({"what": "bundle"})),
        (
            "titip_lan_receive",
            json!({"address": "127.0.0.1:9", "code": "123456"}),
        ),
        // Tinjauan with api-review.ts's names.
        ("review_queue", json!({})),
        (
            "resolve_conflict",
            json!({"key": {"record": "019aab0c-1e20-7000-8000-000000000001", "field": "name",
                   "loser": "019aab0c1e200000.019aaa00-0000-7000-8000-00000000d001"},
                   "resolution": {"decision": "corrected", "value": "Maria"}, "note": null}),
        ),
        ("compare_pair", json!({"first": "x", "second": "y"})),
        (
            "merge_same_person",
            json!({"kept": "x", "merged": "y", "take": ["nik"], "reason": null}),
        ),
        (
            "dismiss_duplicate",
            json!({"first": "x", "second": "y", "note": null}),
        ),
    ] {
        let e = invoke(&webview, cmd, args).unwrap_err();
        assert!(
            e["key"] == "app.locked" || e["key"] == "validation.record_ref",
            "{cmd}: {e}"
        );
    }
    // "Bagikan…" with `{ fileName }` as share.ts sends it: a file that is not an export is
    // refused before any share sheet is asked for.
    let e = invoke(&webview, "share_export", json!({"fileName": "../care.db"})).unwrap_err();
    assert_eq!(
        (e["key"].as_str(), e["field"].as_str()),
        (Some("export.share_failed"), Some("file_name")),
        "{e}"
    );

    assert_eq!(
        invoke(&webview, "set_online", json!({"online": false})).unwrap(),
        Value::Null
    );
    assert_eq!(invoke(&webview, "touch", json!({})).unwrap(), Value::Null);
    assert_eq!(
        invoke(&webview, "titip_lan_state", json!({})).unwrap(),
        Value::Null
    );
    assert_eq!(
        invoke(&webview, "titip_lan_cancel", json!({})).unwrap(),
        Value::Null
    );
    assert_eq!(invoke(&webview, "lock", json!({})).unwrap(), Value::Null);

    // Nothing outside the app's commands: no such command is reachable, and a remote page
    // (were one ever loaded) may call none of them.
    assert!(
        invoke(
            &webview,
            "plugin:fs|read_file",
            json!({"path": "/etc/passwd"})
        )
        .is_err()
    );
    let e = invoke_from(&webview, "https://example.invalid", "app_info", json!({})).unwrap_err();
    assert!(
        e.is_string(),
        "refused by the capability, not by the app: {e}"
    );
}
