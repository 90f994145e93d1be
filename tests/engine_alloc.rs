//! Deciding allocates nothing: a counting allocator around a million native decisions, with
//! signals given up front and with signals fetched lazily.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use routerc::engine::frame::{Frame, NoSignals, SignalSource};
use routerc::engine::CompiledPolicy;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Computes numbers on demand without allocating, like a length or a cached classifier score.
struct Numbers(u64);

impl SignalSource for Numbers {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        let _ = match signal {
            0 => frame.set_number(0, x),
            1 => frame.set_labels(1, if x > 0.5 { &[0] } else { &[] }),
            2 => frame.set_category_top(2, (self.0 % 14) as u32, x),
            _ => frame.set_number(3, x * 4000.0),
        };
    }
}

#[test]
fn a_million_decisions_allocate_nothing() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.route");
    let (_, checked) = routerc::check_file(&path, &routerc::source::FileSystem);
    let policy = checked.policy.expect("the default policy checks");
    let compiled = CompiledPolicy::from_policy(&policy).expect("compiles");
    let mut frame = compiled.frame();
    let mut choices = compiled.choices();
    let mut source = Numbers(1);
    let mut routes = vec![0u64; compiled.program().routes.len()];

    // Signals given up front.
    frame.set_number(0, 0.1).expect("jailbreak");
    frame.set_labels(1, &[]).expect("pii");
    frame.set_category_top(2, 9, 0.9).expect("domain");
    frame.set_number(3, 1500.0).expect("prompt_tokens");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..500_000 {
        frame.clear_reads();
        let r = compiled.decide(&mut frame, &mut NoSignals, &mut choices);
        routes[r] += 1;
    }
    // Signals fetched lazily, a different request each time.
    for _ in 0..500_000 {
        frame.reset();
        let r = compiled.decide(&mut frame, &mut source, &mut choices);
        routes[r] += 1;
    }
    let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocated, 0, "allocations during 1,000,000 decisions");
    // The lazy half spread over several routes, so it exercised more than one path.
    assert!(routes.iter().filter(|&&n| n > 0).count() >= 3, "{routes:?}");
}
