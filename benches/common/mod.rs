//! The generated policy the benchmarks share, shaped like a large real one: per-tenant routes
//! keyed on a header, refined by domain, length and a jailbreak score, with conditional values,
//! spread over a few priorities.

/// A policy of `routes` routes (plus its declarations and the default route).
pub fn policy(routes: usize) -> String {
    let domains = [
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
    let mut s = format!(
        "signal domain: category({}) = classifier(\"domain\")\n\
         signal jailbreak: score = classifier(\"jailbreak\", label: \"jailbreak\")\n\
         signal tenant: string = header(\"x-tenant\")\n\
         signal tokens: int = length.tokens\n\
         signal pii: set(email, phone, ssn) = token_classifier(\"pii\")\n\
         backend small {{ url: \"http://127.0.0.1:8001/v1\", model: \"small\" }}\n\
         backend large {{ url: \"http://127.0.0.1:8002/v1\", model: \"large\", reasoning: effort }}\n\
         prompt expert = \"You are an expert. Answer precisely.\"\n",
        domains.join(", ")
    );
    for i in 0..routes {
        let d = domains[i % domains.len()];
        let tenant = i / domains.len();
        let priority = (i % 4) * 100;
        s.push_str(&format!(
            "# route {i}\nroute r{i} priority {priority} when tenant == \"t{tenant}\" and (domain == {d} and domain.confidence > 0.{c}) and not (ssn in pii) and jailbreak < 0.8\n  => {b} {{ reasoning_effort: if tokens > {t} then high else low, max_tokens: {m}, system_prompt: expert }}\n",
            c = 5 + i % 4,
            b = if i % 2 == 0 { "small" } else { "large" },
            t = 500 + i % 1000,
            m = 256 + i % 4096,
        ));
    }
    s.push_str("default => small\n");
    s
}
