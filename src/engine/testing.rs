//! `routerc test`: runs a policy's `test` blocks on the compiled engine.
//!
//! Each test's `given` values become a lazy signal source (unmentioned signals are absent),
//! the JIT decides, and the route and the parameters the test names are compared with what
//! it expects. The interpreter decides too: a disagreement would be a compiler bug and is
//! reported as one.

use std::fmt::Write;

use serde_json::Value as Json;

use crate::policy::Policy;

use super::decision::{to_json, Outcome};
use super::signals::Signals;
use super::CompiledPolicy;

#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    /// `None` when the test passed; otherwise the lines of the difference.
    pub failure: Option<Vec<Mismatch>>,
}

/// One field that differs: what the test expects and what the policy decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub field: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub tests: Vec<TestOutcome>,
    /// Routes no test decided, in evaluation order.
    pub unexercised: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.failure.is_none()).count()
    }

    pub fn failed(&self) -> usize {
        self.tests.len() - self.passed()
    }

    /// The report as `routerc test` prints it.
    pub fn render(&self, policy_name: &str) -> String {
        let mut out = String::new();
        for t in &self.tests {
            match &t.failure {
                None => {
                    let _ = writeln!(out, "ok      {policy_name}: {}", t.name);
                }
                Some(diff) => {
                    let _ = writeln!(out, "FAILED  {policy_name}: {}", t.name);
                    for m in diff {
                        let _ = writeln!(out, "    {}:", m.field);
                        let _ = writeln!(out, "      - expected {}", m.expected);
                        let _ = writeln!(out, "      + decided  {}", m.actual);
                    }
                }
            }
        }
        if !self.unexercised.is_empty() {
            let _ = writeln!(
                out,
                "note: {policy_name}: no test exercises route{} {}",
                if self.unexercised.len() == 1 { "" } else { "s" },
                self.unexercised
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out
    }
}

pub fn run(policy: &Policy, compiled: &CompiledPolicy) -> Report {
    let program = compiled.program();
    let mut frame = compiled.frame();
    let mut choices = compiled.choices();
    let mut other_choices = compiled.choices();
    let mut hit = vec![false; program.routes.len()];
    let mut tests = Vec::with_capacity(policy.tests.len());
    for t in &policy.tests {
        let given = Signals::from_test(&t.given);
        frame.reset();
        let route = compiled.decide(&mut frame, &mut given.clone(), &mut choices);
        let reads: Vec<u32> = frame.reads().collect();
        frame.reset();
        let again = compiled.interpret(&mut frame, &mut given.clone(), &mut other_choices);
        let mut diff = Vec::new();
        if again != route || frame.reads().collect::<Vec<_>>() != reads {
            diff.push(Mismatch {
                field: "engine".into(),
                expected: format!("the interpreter's route `{}`", program.routes[again].name),
                actual: format!(
                    "native code chose `{}` (a compiler bug: please report it)",
                    program.routes[route].name
                ),
            });
        }
        hit[route] = true;
        let expected_route = &policy.routes[t.expect_route].name;
        let actual_route = &program.routes[route].name;
        if expected_route != actual_route {
            diff.push(Mismatch {
                field: "route".into(),
                expected: expected_route.clone(),
                actual: actual_route.clone(),
            });
        }
        let decision = compiled.decision(route, &choices, &frame);
        let fields = match &decision.outcome {
            Outcome::Forward(w) => w.parameters(),
            Outcome::Reject { status, message } => {
                let mut m = serde_json::Map::new();
                m.insert("status".into(), Json::from(*status));
                m.insert("message".into(), Json::from(message.clone()));
                m
            }
        };
        for (name, want) in &t.expect_params {
            let want = to_json(want);
            let got = fields.get(name);
            if !same(&want, got) {
                diff.push(Mismatch {
                    field: name.clone(),
                    expected: want.to_string(),
                    actual: got.map_or_else(|| "(not set)".to_string(), Json::to_string),
                });
            }
        }
        tests.push(TestOutcome {
            name: t.name.clone(),
            failure: (!diff.is_empty()).then_some(diff),
        });
    }
    let unexercised = program
        .routes
        .iter()
        .zip(&hit)
        .filter(|(_, h)| !**h)
        .map(|(r, _)| r.name.clone())
        .collect();
    Report { tests, unexercised }
}

/// Equal as values: numbers compare numerically, so `0.5` matches `0.50` and `8192` matches
/// `8192.0`.
fn same(want: &Json, got: Option<&Json>) -> bool {
    match (want, got) {
        (Json::Number(a), Some(Json::Number(b))) => a.as_f64() == b.as_f64(),
        (a, Some(b)) => a == b,
        (_, None) => false,
    }
}
