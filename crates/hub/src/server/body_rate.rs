//! A minimum rate for every request body: a client that trickles its body
//! (one byte every few seconds of a large declared length) would otherwise
//! hold a connection, a task and often a database-bound handler for minutes.
//!
//! From the first time a handler reads the body, it must be complete within
//! [`BODY_GRACE`] plus one second per [`MIN_BODY_RATE`] bytes received; a
//! body that falls behind ends with an error, the handler's answer is
//! replaced by `408 body_timeout` and the connection is closed. No body may
//! take longer than [`MAX_BODY_TIME`] in all, however steadily it arrives:
//! otherwise an 8 MiB journal batch sent at the minimum rate would hold one
//! of the few journal slots for over two hours.

use crate::config::{BODY_GRACE, MAX_BODY_TIME, MIN_BODY_RATE};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The body fell behind [`MIN_BODY_RATE`].
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly (at least {MIN_BODY_RATE} bytes/s after {} s)", BODY_GRACE.as_secs())]
pub struct BodyTooSlow;

/// [`Incoming`] with the minimum rate enforced; `timed_out` is set when it cut the body.
#[derive(Debug)]
pub struct MinRateBody {
    inner: Incoming,
    started: Option<Instant>,
    received: u64,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl MinRateBody {
    /// Wraps `inner`; `timed_out` tells the caller afterwards.
    pub fn new(inner: Incoming, timed_out: Arc<AtomicBool>) -> Self {
        Self { inner, started: None, received: 0, sleep: None, timed_out }
    }

    /// When the body must be complete, given what arrived so far.
    fn deadline(&self, started: Instant) -> Instant {
        deadline(started, self.received)
    }
}

/// When a body that started at `started` must be complete, with `received`
/// bytes arrived so far.
fn deadline(started: Instant, received: u64) -> Instant {
    let allowed = Duration::from_millis(received.saturating_mul(1000) / MIN_BODY_RATE);
    started + (BODY_GRACE + allowed).min(MAX_BODY_TIME)
}

impl Body for MinRateBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let started = *this.started.get_or_insert_with(Instant::now);
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let deadline = this.deadline(started);
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The answer to a request whose body was cut; the connection is closed after it.
pub fn too_slow_response() -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let mut response = crate::error::ApiError::new(axum::http::StatusCode::REQUEST_TIMEOUT, "body_timeout", BodyTooSlow.to_string()).into_response();
    response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_body_still_ends_within_the_overall_limit() {
        let started = Instant::now();
        assert_eq!(deadline(started, 0), started + BODY_GRACE);
        assert_eq!(deadline(started, 10 * MIN_BODY_RATE), started + BODY_GRACE + Duration::from_secs(10));
        // An 8 MiB journal batch at the minimum rate: cut at the overall limit, not after 2 h.
        assert_eq!(deadline(started, crate::config::MAX_JOURNAL_BODY as u64), started + MAX_BODY_TIME);
    }
}
