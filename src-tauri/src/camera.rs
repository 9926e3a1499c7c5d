//! The laptop's camera, for the join page's QR code. WebKitGTK keeps media capture off and
//! refuses it unless the app decides: the window shows only the embedded server's pages, and
//! of them only the join page asks for the camera (its `Permissions-Policy` allows it there
//! alone). WebView2 and WKWebView ask the person themselves.

/// `1`: WebKit's mock camera instead of a real one (the end-to-end test; a machine without
/// a camera).
pub const MOCK_VARIABLE: &str = "PREAU_DESKTOP_MOCK_CAMERA";

/// Lets the window's pages use the camera (video only).
#[cfg(target_os = "linux")]
pub fn allow<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let mock = std::env::var(MOCK_VARIABLE).is_ok_and(|v| v == "1");
    let set = window.with_webview(move |webview| {
        use webkit2gtk::glib::prelude::Cast;
        use webkit2gtk::{PermissionRequestExt, SettingsExt, UserMediaPermissionRequestExt, WebViewExt};
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_media_stream(true);
            settings.set_enable_mock_capture_devices(mock);
        }
        view.connect_permission_request(|_, request| {
            let camera = request
                .downcast_ref::<webkit2gtk::UserMediaPermissionRequest>()
                .is_some_and(|r| r.is_for_video_device() && !r.is_for_audio_device());
            if camera {
                request.allow();
            }
            camera
        });
    });
    if let Err(e) = set {
        tracing::warn!(error = %e, "the camera stays off in this window");
    }
}

/// Lets the window's pages use the camera: the webview asks the person itself.
#[cfg(not(target_os = "linux"))]
pub fn allow<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>) {}
