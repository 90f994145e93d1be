//! Connections: the accept loop, hyper's HTTP/1.1 server per connection (with a header read
//! timeout, so a client that never finishes its headers is disconnected), and the graceful
//! drain on shutdown.
//!
//! axum's own `serve` exposes neither the header timeout nor a bound on the drain, so the
//! gateway drives hyper directly and hands each request to the axum router.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How a drain ended.
pub enum Drained {
    /// Every open request and stream finished.
    Completed,
    /// The drain timeout passed with this many connections still open; they are cut.
    TimedOut(usize),
}

/// Serves `app` on `listener` until `stop` resolves; then stops accepting, lets the requests
/// and streams in flight finish (idle keep-alive connections close at once) and returns when
/// they have, or when `drain` has passed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    drain: Duration,
    stop: impl Future<Output = ()>,
) -> Drained {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(app.clone());
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    // A connection's error (a reset, a header timeout) concerns that client
                    // only; hyper has already closed it.
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin,
                // the connections being served will free some.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let open = graceful.count();
    tokio::select! {
        _ = graceful.shutdown() => Drained::Completed,
        _ = tokio::time::sleep(drain) => Drained::TimedOut(open),
    }
}
