//! Step six, for `stream: true`: the upstream's server-sent events on their way to the client.
//!
//! Bytes are cut into whole events (up to a blank line) and each event goes through a chain of
//! [`StreamStage`]s as soon as it is complete, then out. A stage can read an event, annotate it,
//! inject events before or after it, or cut the stream; the token-level checkers that come next
//! plug in here instead of running a second proxy. Nothing waits for more than one event: an
//! incomplete event is held only until its end arrives.
//!
//! An upstream that fails mid-stream (connection lost, idle for too long, past the backend's
//! total timeout) ends the stream with
//! one `data: {"error": …}` event, so clients see why instead of a silent truncation.

use std::time::Duration;

use tokio::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::json;

/// What a stage wants after seeing an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Send what has been emitted so far, then close the stream.
    Cut,
}

/// One step of the stream path. `event` is one complete SSE event, blank line included; the
/// stage pushes what should continue down the chain onto `out` (the event itself to pass it
/// on unchanged).
pub trait StreamStage: Send {
    fn on_event(&mut self, event: Bytes, out: &mut Vec<Bytes>) -> Flow;
    /// The upstream ended; a stage may add final events.
    fn on_end(&mut self, _out: &mut Vec<Bytes>) {}
}

/// Cuts bytes into SSE events (`\n\n` or `\r\n\r\n` terminated), in order.
#[derive(Default)]
pub struct EventSplitter {
    pending: BytesMut,
}

impl EventSplitter {
    pub fn push(&mut self, chunk: &[u8], events: &mut Vec<Bytes>) {
        self.pending.extend_from_slice(chunk);
        while let Some(end) = event_end(&self.pending) {
            events.push(self.pending.split_to(end).freeze());
        }
    }

    /// What is left when the upstream ends: an event without its blank line, if any.
    pub fn finish(&mut self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

fn event_end(b: &[u8]) -> Option<usize> {
    let lf = b.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Runs events through the stages in order; returns whether a stage cut the stream.
pub fn run_stages(stages: &mut [Box<dyn StreamStage>], events: Vec<Bytes>) -> (Vec<Bytes>, Flow) {
    let mut current = events;
    let mut flow = Flow::Continue;
    for stage in stages.iter_mut() {
        let mut next = Vec::with_capacity(current.len());
        for event in current {
            if stage.on_event(event, &mut next) == Flow::Cut {
                flow = Flow::Cut;
                break;
            }
        }
        current = next;
    }
    (current, flow)
}

/// The error event that ends a stream the upstream broke.
pub fn error_event(message: &str) -> Bytes {
    let body = json!({ "error": {
        "message": message,
        "type": "api_error",
        "param": null,
        "code": "upstream_error",
    }});
    Bytes::from(format!("data: {body}\n\n"))
}

struct State {
    body: Incoming,
    splitter: EventSplitter,
    stages: Vec<Box<dyn StreamStage>>,
    idle: Duration,
    /// The backend's total timeout: when it passes and the end it must come by.
    total: Option<(Duration, Instant)>,
    backend: String,
    /// Told once when the upstream breaks the stream (for `/metrics`).
    on_failure: Option<Box<dyn FnOnce() + Send>>,
    done: bool,
}

/// The client's side of an upstream event stream. Dropping it (the client went away) drops
/// the upstream body, which closes that connection and so cancels the generation.
pub fn relay(
    body: Incoming,
    stages: Vec<Box<dyn StreamStage>>,
    idle: Duration,
    total: Option<(Duration, Instant)>,
    backend: String,
    on_failure: Box<dyn FnOnce() + Send>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let state = State {
        body,
        splitter: EventSplitter::default(),
        stages,
        idle,
        total,
        backend,
        on_failure: Some(on_failure),
        done: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            let wait = match s.total {
                Some((_, end)) => s.idle.min(end.saturating_duration_since(Instant::now())),
                None => s.idle,
            };
            let frame = tokio::time::timeout(wait, s.body.frame()).await;
            let mut events = Vec::new();
            let mut end = false;
            let mut failure = None;
            match frame {
                Ok(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        s.splitter.push(data, &mut events);
                    }
                }
                Ok(None) => end = true,
                Ok(Some(Err(e))) => {
                    failure = Some(format!("backend `{}` failed mid-stream: {e}", s.backend));
                }
                Err(_) => {
                    failure = Some(match s.total {
                        Some((total, end)) if Instant::now() >= end => format!(
                            "backend `{}` did not finish within its total timeout of {} ms",
                            s.backend,
                            total.as_millis()
                        ),
                        _ => format!(
                            "backend `{}` sent nothing for {} ms",
                            s.backend,
                            s.idle.as_millis()
                        ),
                    });
                }
            }
            if end || failure.is_some() {
                events.extend(s.splitter.finish());
            }
            let (mut out, flow) = run_stages(&mut s.stages, events);
            if flow == Flow::Cut {
                s.done = true;
            } else if end {
                for stage in s.stages.iter_mut() {
                    stage.on_end(&mut out);
                }
                s.done = true;
            } else if let Some(message) = failure {
                out.push(error_event(&message));
                if let Some(told) = s.on_failure.take() {
                    told();
                }
                s.done = true;
            }
            if !out.is_empty() {
                let bytes: Bytes = if out.len() == 1 {
                    out.pop().unwrap_or_default()
                } else {
                    out.concat().into()
                };
                return Some((Ok::<Bytes, std::io::Error>(bytes), s));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_events_across_chunks() {
        let mut s = EventSplitter::default();
        let mut ev = Vec::new();
        s.push(b"data: a\n", &mut ev);
        assert!(ev.is_empty());
        s.push(b"\ndata: b\r\n\r\ndata: c", &mut ev);
        assert_eq!(
            ev,
            [Bytes::from("data: a\n\n"), Bytes::from("data: b\r\n\r\n")]
        );
        assert_eq!(s.finish(), Some(Bytes::from("data: c")));
        assert_eq!(s.finish(), None);
    }

    /// Tags each event and cuts after the second: a checker's three powers.
    struct Tagger(usize);
    impl StreamStage for Tagger {
        fn on_event(&mut self, event: Bytes, out: &mut Vec<Bytes>) -> Flow {
            self.0 += 1;
            out.push(Bytes::from(format!(": seen {}\n\n", self.0)));
            out.push(event);
            if self.0 == 2 {
                Flow::Cut
            } else {
                Flow::Continue
            }
        }
    }

    #[test]
    fn stages_annotate_inject_and_cut() {
        let mut stages: Vec<Box<dyn StreamStage>> = vec![Box::new(Tagger(0))];
        let (out, flow) = run_stages(&mut stages, vec![Bytes::from("data: 1\n\n")]);
        assert_eq!(flow, Flow::Continue);
        assert_eq!(
            out,
            [Bytes::from(": seen 1\n\n"), Bytes::from("data: 1\n\n")]
        );
        let (out, flow) = run_stages(
            &mut stages,
            vec![Bytes::from("data: 2\n\n"), Bytes::from("data: 3\n\n")],
        );
        assert_eq!(flow, Flow::Cut);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn error_event_is_one_json_data_line() {
        let e = error_event("boom \"x\"");
        let text = std::str::from_utf8(&e).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(text.strip_prefix("data: ").unwrap().trim_end()).unwrap();
        assert_eq!(json["error"]["message"], "boom \"x\"");
    }
}
