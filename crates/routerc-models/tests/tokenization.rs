//! Tokenization policy: tokenizer.json's own padding and truncation are ignored, long inputs
//! are truncated by the configured policy around the special tokens, and batching never
//! changes an answer.

mod common;

use common::{assert_close, expected, fixture, scratch_copy, shared_dir};
use routerc_models::{LoadOptions, Model, Truncation};

/// The longest text of a fixture and its full input ids.
fn long_case(name: &str) -> (String, Vec<u32>) {
    let expected = expected(&fixture(name));
    let case = expected
        .cases
        .into_iter()
        .max_by_key(|case| case.input_ids.len())
        .expect("cases");
    (case.text, case.input_ids)
}

fn load(name: &str, max_length: usize, truncation: Truncation) -> Model {
    let options = LoadOptions {
        max_length: Some(max_length),
        truncation,
    };
    Model::load(fixture(name), &options).expect("loads")
}

#[test]
fn the_tokenizers_own_fixed_padding_is_ignored() {
    // The copy at the top of the fixtures pads every input to 128 and truncates there.
    let dir = scratch_copy("bert-embed", "minilm-tokenizer-as-shipped");
    std::fs::copy(
        shared_dir().join("data/fixtures/tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .expect("copy tokenizer");
    let model = Model::load(&dir, &LoadOptions::default()).expect("loads");
    for case in expected(&fixture("bert-embed")).cases {
        assert_eq!(
            model.tokenize(&case.text).expect("tokenizes").ids,
            case.input_ids
        );
    }
    // And its truncation at 128 does not apply: a long text keeps all its tokens.
    let long = "word ".repeat(300);
    assert_eq!(model.tokenize(&long).expect("tokenizes").len(), 302);
}

#[test]
fn head_truncation_keeps_the_beginning() {
    let (text, full) = long_case("modernbert-domain");
    let model = load("modernbert-domain", 16, Truncation::Head);
    let tokens = model.tokenize(&text).expect("tokenizes");
    let mut wanted = full[..15].to_vec();
    wanted.push(*full.last().expect("[SEP]"));
    assert_eq!(tokens.ids, wanted);
    assert_eq!(tokens.dropped, full.len() - 16);
}

#[test]
fn tail_truncation_keeps_the_end() {
    let (text, full) = long_case("modernbert-domain");
    let model = load("modernbert-domain", 16, Truncation::Tail);
    let tokens = model.tokenize(&text).expect("tokenizes");
    let mut wanted = vec![full[0]];
    wanted.extend_from_slice(&full[full.len() - 15..]);
    assert_eq!(tokens.ids, wanted);
    // The kept tokens still point at the end of the text.
    let last_word = tokens.offsets[tokens.len() - 2];
    assert_eq!(&text[last_word.0..last_word.1], ".");
}

#[test]
fn head_and_tail_truncation_keeps_both_ends() {
    let (text, full) = long_case("modernbert-domain");
    let model = load("modernbert-domain", 16, Truncation::HeadAndTail { head: 4 });
    let tokens = model.tokenize(&text).expect("tokenizes");
    // [CLS] + 4 head tokens + 10 tail tokens + [SEP]
    let content = &full[1..full.len() - 1];
    let mut wanted = vec![full[0]];
    wanted.extend_from_slice(&content[..4]);
    wanted.extend_from_slice(&content[content.len() - 10..]);
    wanted.push(*full.last().expect("[SEP]"));
    assert_eq!(tokens.ids, wanted);
    assert_eq!(tokens.len(), 16);
    assert!(tokens.special[0] && tokens.special[15] && !tokens.special[5]);
}

#[test]
fn head_and_tail_with_a_head_beyond_the_budget_is_head() {
    let (text, _) = long_case("modernbert-domain");
    let head = load("modernbert-domain", 16, Truncation::Head)
        .tokenize(&text)
        .expect("tokenizes");
    let both = load(
        "modernbert-domain",
        16,
        Truncation::HeadAndTail { head: 500 },
    )
    .tokenize(&text)
    .expect("tokenizes");
    assert_eq!(head, both);
}

#[test]
fn short_texts_are_never_truncated() {
    let model = load("modernbert-domain", 16, Truncation::Tail);
    let tokens = model.tokenize("What is law?").expect("tokenizes");
    assert_eq!(tokens.dropped, 0);
    assert_eq!(tokens.ids.first(), Some(&101));
    assert_eq!(tokens.ids.last(), Some(&102));
}

#[test]
fn truncated_inputs_classify_like_their_kept_tokens() {
    let (text, _) = long_case("modernbert-domain");
    let model = load("modernbert-domain", 24, Truncation::HeadAndTail { head: 8 });
    let result = model.classify(&[&text]).expect("classifies").remove(0);
    assert!(result.dropped_tokens > 0);
    assert_eq!(result.probs.len(), 14);
}

const TEXTS: [&str; 5] = [
    "What is the derivative of x^3 + 2x?",
    "hi",
    "Contact John Smith at john.smith@example.com or 555-867-5309.",
    "Is it legal to break a lease early in California? My landlord says no, but the contract has a clause about job relocation.",
    "",
];

#[test]
fn a_padded_batch_classifies_like_single_texts() {
    for name in ["modernbert-domain", "mmbert-style-jailbreak"] {
        // The fixtures' window is 16 tokens wide, so the longer texts span several windows.
        let model = Model::load(fixture(name), &LoadOptions::default()).expect("loads");
        let batch = model.classify(&TEXTS).expect("classifies a batch");
        for (text, batched) in TEXTS.iter().zip(&batch) {
            let single = model.classify(&[text]).expect("classifies").remove(0);
            assert_close(
                &batched.logits,
                &single.logits,
                1e-5,
                &format!("{name}: {text:?}"),
            );
            assert_eq!(batched.label, single.label);
        }
    }
}

#[test]
fn a_padded_batch_labels_tokens_like_single_texts() {
    let model = Model::load(fixture("modernbert-pii"), &LoadOptions::default()).expect("loads");
    let batch = model.classify_tokens(&TEXTS).expect("classifies a batch");
    for (text, batched) in TEXTS.iter().zip(&batch) {
        let single = model
            .classify_tokens(&[text])
            .expect("classifies")
            .remove(0);
        assert_eq!(
            batched.tokens.len(),
            single.tokens.len(),
            "padding is not reported as tokens"
        );
        for (a, b) in batched.tokens.iter().zip(&single.tokens) {
            assert_close(
                &a.logits,
                &b.logits,
                1e-5,
                &format!("{text:?} token {:?}", a.token),
            );
        }
        let spans = |result: &routerc_models::TokenClassification| -> Vec<(String, usize, usize)> {
            result
                .entities
                .iter()
                .map(|span| (span.label.clone(), span.start, span.end))
                .collect()
        };
        assert_eq!(spans(batched), spans(&single));
    }
}

#[test]
fn a_padded_batch_embeds_like_single_texts() {
    let model = Model::load(fixture("bert-embed"), &LoadOptions::default()).expect("loads");
    let batch = model.embed(&TEXTS).expect("embeds a batch");
    for (text, batched) in TEXTS.iter().zip(&batch) {
        let single = model.embed(&[text]).expect("embeds").remove(0);
        assert_close(batched, &single, 1e-5, &format!("{text:?}"));
    }
}

#[test]
fn an_empty_batch_is_empty() {
    let model = Model::load(fixture("bert-embed"), &LoadOptions::default()).expect("loads");
    assert!(model.embed(&[]).expect("embeds nothing").is_empty());
}
