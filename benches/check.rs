//! Front-end speed: parse, and parse + check (with lints), of generated policies of 1,000 and
//! 10,000 routes. Run with `cargo bench --bench check`; figures go to BENCHMARKS.md.
//!
//! The generated policy (`common::policy`) is shaped like a large real one.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

mod common;

// The allocator the `routerc` binary uses, so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use common::policy;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("front_end");
    group.sample_size(10);
    for routes in [1_000, 10_000] {
        let src = policy(routes);
        group.throughput(Throughput::Elements(routes as u64));
        group.bench_with_input(BenchmarkId::new("parse", routes), &src, |b, src| {
            b.iter(|| routerc::syntax::parse(src, routerc::syntax::FileId(0)))
        });
        group.bench_with_input(
            BenchmarkId::new("parse_and_check", routes),
            &src,
            |b, src| {
                b.iter(|| {
                    let (_, checked) = routerc::check_text("bench.route", src);
                    assert!(checked.policy.is_some());
                    checked
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
