//! The server's socket: serving a router over HTTP or HTTPS until a shutdown signal, and
//! printing where to connect.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tokio::net::TcpListener;

/// Serves `router` on an already bound listener until `shutdown` resolves: HTTPS with
/// `tls` (certificate and key files), else HTTP.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<(PathBuf, PathBuf)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let Some((cert, key)) = tls else {
        return axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
    };
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle).serve(service).await
}

/// Prints where to connect, in `l`. Write errors are ignored: a closed stdout (a service
/// manager, a parent that stopped reading) must not stop the server.
pub fn print_addresses(l: crate::platform::i18n::Locale, local: SocketAddr, public_url: Option<&str>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", l.t("cli-ready"));
    let urls = super::net::lan_urls(local);
    for url in urls.iter().map(String::as_str).chain(public_url) {
        let _ = writeln!(out, "  {url}");
    }
    if let Some(first) = urls.iter().find(|u| !u.contains("127.0.0.1")) {
        let _ = writeln!(out, "{}", crate::platform::qr::terminal(first));
    }
    let _ = out.flush();
}

/// Resolves at SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received: finishing requests in flight");
}
