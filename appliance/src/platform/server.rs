//! The server's socket: serving a router over HTTP or HTTPS until a shutdown signal, and
//! printing where to connect.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::serve::ListenerExt as _;
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
        return per_core(listener, service, shutdown).await;
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

/// Plain HTTP with one runtime of one worker per core. This task accepts and hands each
/// connection to the next thread in turn; the connection then stays there, so its requests
/// never cross threads (on two cores, the work-stealing runtime's wake-ups between workers
/// cost more than the pages themselves; see BENCHMARKS.md), as nginx's workers do.
async fn per_core(
    listener: TcpListener,
    service: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, SocketAddr>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let local = listener.local_addr()?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let (mut threads, mut done) = (Vec::new(), Vec::new());
    for core in 0..cores {
        let (handing, connections) = tokio::sync::mpsc::unbounded_channel();
        let (service, mut stopping) = (service.clone(), stopping.clone());
        let (finished, finish) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("preau-http-{core}")).spawn(move || {
            // One worker, so nothing is stolen; but the multi-threaded flavour, so that
            // `blocking::offload` can still hand a `links.db` write or a whole-file hash
            // off this thread (`block_in_place` has no single-threaded equivalent).
            let result = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(format!("preau-http-{core}"))
                .enable_all()
                .build()
                .and_then(|runtime| {
                    let handed = Handed { connections, local }.tap_io(|tcp| {
                        // Answers leave whole (one write each): no reason to wait for more.
                        let _ = tcp.set_nodelay(true);
                    });
                    runtime.block_on(
                        axum::serve(handed, service)
                            .with_graceful_shutdown(async move {
                                let _ = stopping.wait_for(|s| *s).await;
                            })
                            .into_future(),
                    )
                });
            let _ = finished.send(result);
        })?;
        threads.push(handing);
        done.push(finish);
    }
    let accepting = async {
        for turn in (0..cores).cycle() {
            match listener.accept().await {
                Ok((stream, peer)) => match stream.into_std() {
                    Ok(stream) => {
                        let _ = threads[turn].send((stream, peer));
                    }
                    Err(e) => tracing::warn!(error = %e, "handing a connection over"),
                },
                // Out of file descriptors, most likely: wait for some to close.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    };
    tokio::select! {
        () = shutdown => {}
        () = accepting => {}
    }
    let _ = stop.send(true);
    for finish in done {
        finish.await.map_err(|_| std::io::Error::other("an HTTP thread stopped short"))??;
    }
    Ok(())
}

/// The connections handed to one HTTP thread, as a listener for `axum::serve`.
struct Handed {
    connections: tokio::sync::mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handed {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            // Closed only when the server stops, and then graceful shutdown ends `serve`.
            let Some((stream, peer)) = self.connections.recv().await else {
                return std::future::pending().await;
            };
            match tokio::net::TcpStream::from_std(stream) {
                Ok(io) => return (io, peer),
                Err(e) => tracing::warn!(error = %e, "taking a connection over"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
