//! The accept loop of the sandbox, serving each connection with hyper's
//! HTTP/1 server directly instead of `axum::serve`, so that a handler can
//! close its connection without sending any response.
//!
//! A handler requests that through the [`ConnectionControl`] found in the
//! request extensions. The connection task then drops the hyper connection,
//! which closes the socket: the client sees the connection end before a
//! response, as when a server crashes or a proxy cuts the line. HTTP/2 is
//! not served because closing one of its connections would end every
//! request multiplexed on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// Connections waiting to be accepted before the kernel refuses more.
const LISTEN_BACKLOG: u32 = 1024;

/// Pause after a failed accept (such as too many open files), so the loop
/// does not spin while the condition lasts.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// A handle with which a request handler closes its own connection.
#[derive(Clone, Default)]
pub(super) struct ConnectionControl {
    close: Arc<Notify>,
}

impl ConnectionControl {
    /// Closes the connection without a response. The returned future never
    /// completes: the connection task drops the handler along with the
    /// connection.
    pub async fn close_without_response(&self) -> Response {
        self.close.notify_one();
        std::future::pending().await
    }
}

/// Binds 127.0.0.1:`port` with `SO_REUSEADDR`, so a sandbox restarted on
/// the same port is not blocked by connections of the previous one that
/// are still in `TIME_WAIT`. Must run inside a tokio runtime context.
pub(super) fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(super::loopback(port))?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts connections until `shutdown` turns true or its sender is
/// dropped, then aborts the connections still open.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone()));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "sandbox failed to accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                }
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            // Reaps finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, router: Router) {
    let control = ConnectionControl::default();
    let request_control = control.clone();
    let service = router.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(request_control.clone());
        request.map(Body::new)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "sandbox connection ended with an error");
            }
        }
        () = control.close.notified() => {
            // Leaving this branch drops `connection`, which closes the
            // socket with no response written.
            tracing::debug!(%peer, "sandbox closed a connection without a response");
        }
    }
}
