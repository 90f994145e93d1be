//! `/metrics`: counters and histograms in the Prometheus text exposition format, kept in
//! atomics so that recording on the request path never takes a lock.
//!
//! Series whose names come from the policy (routes, signals, backends) are created when a
//! policy is loaded and handed out as `Arc`s; a request only adds to them. They are kept by
//! name across reloads, so a route that survives a reload keeps counting from where it was.
//! This module deliberately has no dependency on a metrics crate: the format is a few lines
//! of text and the handful of families below is all the gateway exposes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bucket bounds in seconds for work measured in microseconds: deciding, cheap signals.
pub const FAST: &[f64] = &[
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1, 1.0,
];
/// Bucket bounds in seconds for network waits: upstream answers, time to first byte.
pub const SLOW: &[f64] = &[
    1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A histogram with fixed bounds; `buckets[i]` counts observations in `(bound[i-1],
/// bound[i]]`, the last one those above every bound (made cumulative when rendered).
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = self.bounds.partition_point(|&b| b < secs);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => b.to_string(),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// The endpoints requests are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Models,
    Healthz,
    Readyz,
    Metrics,
    Other,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::ChatCompletions,
        Endpoint::Models,
        Endpoint::Healthz,
        Endpoint::Readyz,
        Endpoint::Metrics,
        Endpoint::Other,
    ];

    pub fn of_path(path: &str) -> Endpoint {
        match path {
            "/v1/chat/completions" => Endpoint::ChatCompletions,
            "/v1/models" => Endpoint::Models,
            "/healthz" => Endpoint::Healthz,
            "/readyz" => Endpoint::Readyz,
            "/metrics" => Endpoint::Metrics,
            _ => Endpoint::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/v1/chat/completions",
            Endpoint::Models => "/v1/models",
            Endpoint::Healthz => "/healthz",
            Endpoint::Readyz => "/readyz",
            Endpoint::Metrics => "/metrics",
            Endpoint::Other => "other",
        }
    }
}

/// Why the gateway answered with an error (or broke a stream), as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    TooLarge,
    RequestTimeout,
    Unauthorized,
    UnknownModel,
    Rejected,
    Upstream,
    UpstreamTimeout,
    /// An upstream that broke a stream after it had started.
    Stream,
}

impl ErrorKind {
    const ALL: [ErrorKind; 9] = [
        ErrorKind::BadRequest,
        ErrorKind::TooLarge,
        ErrorKind::RequestTimeout,
        ErrorKind::Unauthorized,
        ErrorKind::UnknownModel,
        ErrorKind::Rejected,
        ErrorKind::Upstream,
        ErrorKind::UpstreamTimeout,
        ErrorKind::Stream,
    ];

    fn label(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::UnknownModel => "unknown_model",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Upstream => "upstream_error",
            ErrorKind::UpstreamTimeout => "upstream_timeout",
            ErrorKind::Stream => "stream_error",
        }
    }
}

/// HTTP statuses are counted in a flat table: 100..=599.
const STATUSES: usize = 500;

/// Every series the gateway exposes.
pub struct Metrics {
    requests: Box<[AtomicU64]>,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    in_flight: AtomicI64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Whether the last reload succeeded (1 until one fails): what an alert watches.
    last_reload_ok: AtomicU64,
    /// When the policy being served was loaded, in seconds since the Unix epoch.
    loaded_at: AtomicU64,
    pub decision: Histogram,
    pub first_byte: Histogram,
    named: Mutex<Named>,
}

/// The series named by the policy, created at load time.
#[derive(Default)]
struct Named {
    routes: BTreeMap<String, Arc<AtomicU64>>,
    signals: BTreeMap<String, Arc<Histogram>>,
    backends: BTreeMap<String, Arc<BackendSeries>>,
}

/// Why an attempt to a backend failed (each is retried or falls back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// No connection, or it broke before the answer.
    Connect,
    /// No response headers within the first-byte (or total) timeout.
    Timeout,
    /// A 5xx status.
    Status,
}

impl AttemptFailure {
    const ALL: [AttemptFailure; 3] = [
        AttemptFailure::Connect,
        AttemptFailure::Timeout,
        AttemptFailure::Status,
    ];

    fn label(self) -> &'static str {
        match self {
            AttemptFailure::Connect => "connect",
            AttemptFailure::Timeout => "timeout",
            AttemptFailure::Status => "status_5xx",
        }
    }
}

/// A backend's series: time to response headers and failed attempts by reason.
pub struct BackendSeries {
    pub latency: Histogram,
    failures: [AtomicU64; AttemptFailure::ALL.len()],
}

impl BackendSeries {
    pub fn failed(&self, why: AttemptFailure) {
        let i = AttemptFailure::ALL
            .iter()
            .position(|&f| f == why)
            .unwrap_or(0);
        self.failures[i].fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: (0..Endpoint::ALL.len() * STATUSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            in_flight: AtomicI64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            last_reload_ok: AtomicU64::new(1),
            loaded_at: AtomicU64::new(unix_now()),
            decision: Histogram::new(FAST),
            first_byte: Histogram::new(SLOW),
            named: Mutex::new(Named::default()),
        }
    }
}

/// Counts one request in flight until dropped (a streamed answer holds it to its end).
pub struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn request(&self, endpoint: Endpoint, status: u16) {
        let Some(s) = (status as usize).checked_sub(100).filter(|&s| s < STATUSES) else {
            return;
        };
        let e = Endpoint::ALL
            .iter()
            .position(|&x| x == endpoint)
            .unwrap_or(0);
        self.requests[e * STATUSES + s].fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, kind: ErrorKind) {
        let i = ErrorKind::ALL.iter().position(|&k| k == kind).unwrap_or(0);
        self.errors[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn in_flight(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub fn reload(&self, ok: bool) {
        let c = if ok {
            self.loaded_at.store(unix_now(), Ordering::Relaxed);
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
        self.last_reload_ok.store(u64::from(ok), Ordering::Relaxed);
    }

    /// The decision counter of a route, made on first use.
    pub fn route(&self, name: &str) -> Arc<AtomicU64> {
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        named.routes.entry(name.to_string()).or_default().clone()
    }

    /// The latency histogram of a signal.
    pub fn signal(&self, name: &str) -> Arc<Histogram> {
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        named
            .signals
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Histogram::new(FAST)))
            .clone()
    }

    /// The series of a backend.
    pub fn backend(&self, name: &str) -> Arc<BackendSeries> {
        let mut named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        named
            .backends
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(BackendSeries {
                    latency: Histogram::new(SLOW),
                    failures: std::array::from_fn(|_| AtomicU64::new(0)),
                })
            })
            .clone()
    }

    /// The exposition text (format version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 << 10);
        family(
            &mut out,
            "routerc_requests_total",
            "counter",
            "HTTP requests answered, by endpoint and status",
        );
        for (e, endpoint) in Endpoint::ALL.iter().enumerate() {
            for s in 0..STATUSES {
                let n = self.requests[e * STATUSES + s].load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "routerc_requests_total{{endpoint=\"{}\",status=\"{}\"}} {n}",
                        endpoint.label(),
                        s + 100
                    );
                }
            }
        }
        family(
            &mut out,
            "routerc_errors_total",
            "counter",
            "errors the gateway answered or streams it ended, by kind",
        );
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            let n = self.errors[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "routerc_errors_total{{kind=\"{}\"}} {n}", kind.label());
        }
        family(
            &mut out,
            "routerc_in_flight_requests",
            "gauge",
            "requests being answered, streams until their end",
        );
        let _ = writeln!(
            out,
            "routerc_in_flight_requests {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "routerc_reloads_total",
            "counter",
            "policy reloads, by result (a failed one keeps the last good policy)",
        );
        let _ = writeln!(
            out,
            "routerc_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "routerc_reloads_total{{result=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "routerc_last_reload_successful",
            "gauge",
            "1 when the last reload succeeded (or none was tried), 0 when it failed",
        );
        let _ = writeln!(
            out,
            "routerc_last_reload_successful {}",
            self.last_reload_ok.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "routerc_policy_loaded_timestamp_seconds",
            "gauge",
            "when the policy being served was loaded, in seconds since the Unix epoch",
        );
        let _ = writeln!(
            out,
            "routerc_policy_loaded_timestamp_seconds {}",
            self.loaded_at.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "routerc_decision_seconds",
            "histogram",
            "time to compute the signals read and decide",
        );
        self.decision
            .render(&mut out, "routerc_decision_seconds", "");
        family(
            &mut out,
            "routerc_time_to_first_byte_seconds",
            "histogram",
            "from a chat completion's arrival to the first byte of a backend's answer sent on",
        );
        self.first_byte
            .render(&mut out, "routerc_time_to_first_byte_seconds", "");

        let named = self.named.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "routerc_decisions_total",
            "counter",
            "decisions, by the route that decided",
        );
        for (route, n) in &named.routes {
            let _ = writeln!(
                out,
                "routerc_decisions_total{{route=\"{}\"}} {}",
                escape(route),
                n.load(Ordering::Relaxed)
            );
        }
        family(
            &mut out,
            "routerc_signal_seconds",
            "histogram",
            "time to compute one signal of one request, by signal",
        );
        for (signal, h) in &named.signals {
            let labels = format!("signal=\"{}\"", escape(signal));
            h.render(&mut out, "routerc_signal_seconds", &labels);
        }
        family(
            &mut out,
            "routerc_upstream_seconds",
            "histogram",
            "time from sending a request to a backend to its response headers, by backend",
        );
        for (backend, series) in &named.backends {
            let labels = format!("backend=\"{}\"", escape(backend));
            series
                .latency
                .render(&mut out, "routerc_upstream_seconds", &labels);
        }
        family(
            &mut out,
            "routerc_upstream_failures_total",
            "counter",
            "attempts to a backend that failed before its answer (then retried or fallen back \
             from), by backend and reason",
        );
        for (backend, series) in &named.backends {
            for (i, why) in AttemptFailure::ALL.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "routerc_upstream_failures_total{{backend=\"{}\",reason=\"{}\"}} {}",
                    escape(backend),
                    why.label(),
                    series.failures[i].load(Ordering::Relaxed)
                );
            }
        }
        out
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the exposition format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let h = Histogram::new(&[0.001, 0.01]);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_secs(1));
        let mut out = String::new();
        h.render(&mut out, "x", "b=\"1\"");
        assert_eq!(
            out,
            "x_bucket{b=\"1\",le=\"0.001\"} 1\nx_bucket{b=\"1\",le=\"0.01\"} 3\n\
             x_bucket{b=\"1\",le=\"+Inf\"} 4\nx_sum{b=\"1\"} 1.0105\nx_count{b=\"1\"} 4\n"
        );
    }

    #[test]
    fn requests_by_endpoint_and_status_and_escaped_names() {
        let m = Metrics::default();
        m.request(Endpoint::ChatCompletions, 200);
        m.request(Endpoint::ChatCompletions, 200);
        m.request(Endpoint::Other, 404);
        m.request(Endpoint::Other, 42); // not a status: ignored, not a panic
        m.route("a\"b").fetch_add(3, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains(
            "routerc_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n"
        ));
        assert!(text.contains("routerc_requests_total{endpoint=\"other\",status=\"404\"} 1\n"));
        assert!(text.contains("routerc_decisions_total{route=\"a\\\"b\"} 3\n"));
    }
}
