//! Recompiling and swapping a policy 10,000 times, while another thread keeps deciding on
//! whichever policy is current, does not grow memory: each replaced policy's native code is
//! freed once no decision holds it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use routerc::engine::frame::NoSignals;
use routerc::engine::{CompiledPolicy, Live};

/// Resident memory in bytes, from /proc (Linux, where CI runs).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn compile(source: &str) -> CompiledPolicy {
    let (_, checked) = routerc::check_text("reload.route", source);
    CompiledPolicy::from_policy(&checked.policy.expect("checks")).expect("compiles")
}

#[test]
fn ten_thousand_reloads_do_not_grow_memory() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.route");
    let text = std::fs::read_to_string(path).expect("default policy");
    // Two versions, as an operator editing a threshold would produce.
    let versions = [
        text.clone(),
        text.replace("jailbreak > 0.9", "jailbreak > 0.8"),
    ];
    let live = Arc::new(Live::new(compile(&versions[0])));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (live, stop) = (live.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut decisions = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let policy = live.current();
                let mut frame = policy.frame();
                let mut choices = policy.choices();
                for _ in 0..100 {
                    frame.reset();
                    policy.decide(&mut frame, &mut NoSignals, &mut choices);
                    decisions += 1;
                }
            }
            decisions
        })
    };
    let mut baseline = 0;
    for i in 0..10_000 {
        drop(live.replace(compile(&versions[i % 2])));
        if i == 1_000 {
            baseline = resident();
        }
    }
    let after = resident();
    stop.store(true, Ordering::Relaxed);
    let decisions = reader.join().expect("reader thread");
    assert!(decisions > 0);
    // A leak of the smallest code allocation (one page) per reload would be 36 MB.
    let grown = after.saturating_sub(baseline);
    assert!(
        grown < 8 << 20,
        "resident memory grew by {} KiB over 9,000 reloads",
        grown >> 10
    );
}
