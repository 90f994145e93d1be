//! Realistic policies of any size and a realistic traffic mix, for the engine benchmarks.
//!
//! The policy looks like the shipped ones grown large: safety routes first (jailbreak, PII),
//! with two routes decided by cheap signals (a tenant header, a greeting keyword), then
//! per-domain routes refined by confidence, prompt length, a project keyword, the
//! caller's role, an example-based intent and the detected language, with conditional
//! parameters. Traffic is mostly ordinary questions: few jailbreaks, little PII, a spread of
//! domains and lengths.
#![allow(dead_code)]

use std::fmt::Write;

use routerc::policy::{LabelId, SignalValue};

use super::gen::Rng;

pub const DOMAINS: [&str; 14] = [
    "biology",
    "business",
    "chemistry",
    "computer_science",
    "economics",
    "engineering",
    "health",
    "history",
    "law",
    "math",
    "other",
    "philosophy",
    "physics",
    "psychology",
];
pub const PII: [&str; 5] = ["email", "phone", "ssn", "credit_card", "person"];
pub const ROLES: [&str; 4] = ["user", "staff", "analyst", "admin"];
pub const LANGS: [&str; 4] = ["en", "de", "fr", "es"];

/// Signal order in the policy, which is also the frame order.
pub const JAILBREAK: u32 = 0;
pub const PII_SET: u32 = 1;
pub const DOMAIN: u32 = 2;
pub const TITAN: u32 = 3;
pub const ROLE: u32 = 4;
pub const TOKENS: u32 = 5;
pub const HR: u32 = 6;
pub const LANG: u32 = 7;
pub const TENANT: u32 = 8;
pub const GREETING: u32 = 9;
pub const EXPENSIVE: [u32; 4] = [JAILBREAK, PII_SET, DOMAIN, HR];

/// A policy with `routes` routes besides the two cheap ones and the default.
pub fn policy(routes: usize) -> String {
    let mut s = String::new();
    s.push_str(
        r#"signal jailbreak: score = classifier("jailbreak", label: "jailbreak")
signal pii: set(email, phone, ssn, credit_card, person) = token_classifier("pii")
signal domain: category(biology, business, chemistry, computer_science, economics, engineering, health, history, law, math, other, philosophy, physics, psychology) = classifier("domain")
signal titan: bool = keyword("Project Titan")
signal role: string = identity.role
signal prompt_tokens: int = length.tokens
signal hr: similarity = examples(["How many vacation days do I have left?", "Who approves parental leave?"], model: "minilm")
signal lang: string = language
signal tenant: string = header("x-tenant")
signal greeting: bool = keyword(["hello", "hi", "thanks", "good morning"])

backend b0 { url: "http://127.0.0.1:8001/v1", model: "small" }
backend b1 { url: "http://127.0.0.1:8002/v1", model: "medium", reasoning: effort }
backend b2 { url: "http://127.0.0.1:8003/v1", model: "large", reasoning: effort }
backend b3 { url: "http://127.0.0.1:8004/v1", model: "qwen", reasoning: enable_thinking }

prompt expert = "You are an expert. Be precise."

# Internal batch jobs and bare greetings are decided by cheap signals alone.
route batch priority 2000 when tenant == "batch" => b0 { max_tokens: 256 }
route hello priority 1990 when greeting and prompt_tokens < 12 => b0 { max_tokens: 64 }
"#,
    );
    for i in 0..routes {
        let d = DOMAINS[i % 14];
        let d2 = DOMAINS[(i * 5 + 3) % 14];
        let k = i / 14;
        let cond = match i {
            0 => "jailbreak > 0.9".to_string(),
            1 => "ssn in pii or credit_card in pii".to_string(),
            _ => match k % 6 {
                0 => format!("domain == {d} and domain.confidence > 0.{}", 5 + k % 5),
                1 => format!("domain == {d} and prompt_tokens > {}", 500 + 97 * k),
                2 => format!("titan and domain in [{d}, {d2}]"),
                3 => format!(
                    "role in [\"analyst\", \"admin\"] and domain == {d} and not (lang == \"fr\")"
                ),
                4 => format!(
                    "hr > 0.{} and role != \"admin\" and domain == {d}",
                    6 + k % 3
                ),
                _ => format!(
                    "lang == \"{}\" and (domain == {d} or prompt_tokens < {})",
                    LANGS[k % 4],
                    50 + k
                ),
            },
        };
        let action = match i {
            0 => "reject 403 \"request blocked by policy\"".to_string(),
            1 => "reject 400 \"remove card numbers and SSNs\"".to_string(),
            _ if i % 3 == 0 => format!(
                "b{} {{ system_prompt: expert, reasoning_effort: if prompt_tokens > 2000 then high else medium, max_tokens: 4096 }}",
                1 + i % 3
            ),
            _ => format!("b{} {{ max_tokens: {} }}", i % 4, 512 * (1 + i % 4)),
        };
        let priority = if i < 2 {
            format!(" priority {}", 1000 - i)
        } else {
            String::new()
        };
        let _ = writeln!(s, "route r{i}{priority} when {cond}\n  => {action}");
    }
    s.push_str("default => b0 { max_tokens: 1024 }\n");
    s
}

/// One request's signal values, indexed like the policy's signals.
pub fn request(rng: &mut Rng) -> Vec<Option<SignalValue>> {
    let mut v = vec![None; 10];
    v[TENANT as usize] = Some(SignalValue::String(
        if rng.chance(20) { "batch" } else { "web" }.into(),
    ));
    let greeting = rng.chance(5);
    v[GREETING as usize] = Some(SignalValue::Bool(greeting));
    v[JAILBREAK as usize] = Some(SignalValue::Number(if rng.chance(2) {
        0.97
    } else {
        (rng.below(50) as f64) / 100.0
    }));
    let pii: Vec<LabelId> = if rng.chance(10) {
        vec![rng.below(PII.len()) as u32]
    } else {
        Vec::new()
    };
    v[PII_SET as usize] = Some(SignalValue::Set(pii));
    let top = rng.below(14);
    let conf = 0.4 + (rng.below(60) as f64) / 100.0;
    let rest = (1.0 - conf) / 13.0;
    v[DOMAIN as usize] = Some(SignalValue::Category(
        (0..14)
            .map(|i| if i == top { conf } else { rest })
            .collect(),
    ));
    v[TITAN as usize] = Some(SignalValue::Bool(rng.chance(5)));
    let role = if rng.chance(80) {
        "user"
    } else {
        ROLES[rng.below(4)]
    };
    v[ROLE as usize] = Some(SignalValue::String(role.into()));
    let tokens = if greeting {
        3 + rng.below(10)
    } else {
        10 + rng.below(4000)
    };
    v[TOKENS as usize] = Some(SignalValue::Number(tokens as f64));
    v[HR as usize] = Some(SignalValue::Number(if rng.chance(10) { 0.8 } else { 0.2 }));
    let lang = if rng.chance(80) {
        "en"
    } else {
        LANGS[rng.below(4)]
    };
    v[LANG as usize] = Some(SignalValue::String(lang.into()));
    v
}
