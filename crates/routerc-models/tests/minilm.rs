//! The real all-MiniLM-L6-v2, as `scripts/install-minilm` installs it into `models/`.
//!
//! The test fails (it never skips) when the model is absent, and says how to install it.

mod common;

use std::path::PathBuf;

use routerc_models::{LoadOptions, Model, Task};

fn minilm() -> Model {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "all-MiniLM-L6-v2 is not installed in `{}`: run `scripts/install-minilm` from the repository root",
        dir.display()
    );
    Model::load(&dir, &LoadOptions::default()).expect("all-MiniLM-L6-v2 loads")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn minilm_loads_as_a_384_dimension_embedder() {
    let model = minilm();
    let info = model.info();
    assert_eq!(info.task, Task::SentenceEmbedding);
    assert_eq!(info.embedding_size, Some(384));
    assert_eq!(info.layers, 6);
    assert_eq!(info.max_length, 512);
    assert_eq!(info.weights_dtype, "float32");
    assert!(
        (22_000_000..23_000_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
}

#[test]
fn minilm_embeddings_are_unit_length_and_rank_related_sentences_first() {
    let model = minilm();
    let texts = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The new movie is awesome.",
        "How do I reset my password?",
        "I forgot my login credentials and cannot sign in.",
        "What is the capital of France?",
    ];
    let embeddings = model.embed(&texts).expect("embeds");
    for (text, embedding) in texts.iter().zip(&embeddings) {
        assert_eq!(embedding.len(), 384);
        let norm = cosine(embedding, embedding).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{text:?} has norm {norm}");
    }
    let food = cosine(&embeddings[0], &embeddings[1]);
    let unrelated = cosine(&embeddings[0], &embeddings[2]);
    assert!(food > 0.6, "related pair scores {food}");
    assert!(
        food > unrelated + 0.4,
        "related {food} vs unrelated {unrelated}"
    );
    let login = cosine(&embeddings[3], &embeddings[4]);
    for other in [0, 1, 2, 5] {
        let score = cosine(&embeddings[3], &embeddings[other]);
        assert!(
            login > score + 0.2,
            "paraphrase {login} vs unrelated {score}"
        );
    }
}

#[test]
fn minilm_gives_the_same_vector_alone_and_in_a_batch() {
    let model = minilm();
    let texts = [
        "short",
        "a considerably longer sentence about routing requests to models",
    ];
    let batch = model.embed(&texts).expect("embeds");
    for (text, batched) in texts.iter().zip(&batch) {
        let single = model.embed(&[text]).expect("embeds").remove(0);
        common::assert_close(batched, &single, 1e-5, text);
    }
}
