//! Lazy signals: how many expensive signals a realistic policy computes per request when the
//! engine asks for them as evaluation reaches them, against computing every signal the policy
//! mentions before deciding (what the vLLM Semantic Router does).
//!
//! `cargo bench --bench lazy`. The 64-route policy and the traffic mix are those of the
//! engine benchmark (tests/support/realistic.rs). Extraction is simulated at its real cost on
//! this machine (docs/models.md, one thread, 128 tokens): a ModernBERT-base sequence or
//! token classifier 1,050 ms, an all-MiniLM-L6-v2 embedding 112 ms; keywords, headers, length
//! and language are counted as free. Signals are computed one after another, as a single
//! inference thread per request does; the simulated latency is the sum of what was computed.

#[path = "../tests/support/gen.rs"]
mod gen;
#[path = "../tests/support/realistic.rs"]
mod realistic;

use routerc::engine::frame::{Frame, SignalSource};
use routerc::engine::CompiledPolicy;
use routerc::policy::{Cost, SignalValue};

const REQUESTS: usize = 10_000;

fn cost_ms(signal: u32) -> f64 {
    match signal {
        realistic::JAILBREAK | realistic::PII_SET | realistic::DOMAIN => 1050.0,
        realistic::HR => 112.0,
        _ => 0.0,
    }
}

struct Extract<'a> {
    values: &'a [Option<SignalValue>],
    expensive: usize,
    ms: f64,
}

impl SignalSource for Extract<'_> {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        if realistic::EXPENSIVE.contains(&signal) {
            self.expensive += 1;
        }
        self.ms += cost_ms(signal);
        let _ = frame.set(signal, self.values[signal as usize].as_ref());
    }
}

fn main() {
    println!("| routes | signals per request, lazy | expensive, lazy | expensive, up front | simulated extraction, lazy | up front |");
    println!("|---|---|---|---|---|---|");
    for routes in [8, 64, 512] {
        let (_, checked) = routerc::check_text("lazy.route", &realistic::policy(routes));
        let policy = checked.policy.expect("checks");
        let engine = CompiledPolicy::from_policy(&policy).expect("compiles");
        // Up front: every signal some condition mentions.
        let mut mentioned = Vec::new();
        for r in &engine.program().routes {
            routerc::engine::ir::signals_of(&r.cond, &mut mentioned);
        }
        let upfront_expensive = mentioned
            .iter()
            .filter(|&&s| engine.program().signals[s as usize].cost == Cost::Expensive)
            .count();
        let upfront_ms: f64 = mentioned.iter().map(|&s| cost_ms(s)).sum();

        let mut rng = gen::Rng::new(7);
        let mut frame = engine.frame();
        let mut choices = engine.choices();
        let (mut expensive, mut read, mut ms) = (0usize, 0usize, 0.0);
        for _ in 0..REQUESTS {
            let values = realistic::request(&mut rng);
            let mut source = Extract {
                values: &values,
                expensive: 0,
                ms: 0.0,
            };
            frame.reset();
            engine.decide(&mut frame, &mut source, &mut choices);
            expensive += source.expensive;
            ms += source.ms;
            read += frame.reads().count();
        }
        let n = REQUESTS as f64;
        println!(
            "| {routes} | {:.2} | {:.2} | {upfront_expensive} | {:.0} ms | {upfront_ms:.0} ms |",
            read as f64 / n,
            expensive as f64 / n,
            ms / n,
        );
    }
}
