//! One loaded model serves many threads: it is `Send + Sync`, and concurrent requests get the
//! answers a lone request gets.

mod common;

use std::sync::Arc;
use std::thread;

use common::fixture;
use routerc_models::{LoadOptions, Model};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn a_model_is_send_and_sync() {
    assert_send_sync::<Model>();
    assert_send_sync::<routerc_models::ModelError>();
}

#[test]
fn concurrent_requests_get_the_answers_of_a_lone_request() {
    let model = Arc::new(
        Model::load(fixture("modernbert-domain"), &LoadOptions::default()).expect("loads"),
    );
    let texts = [
        "What is the derivative of x^3 + 2x?",
        "Is it legal to break a lease early in California?",
        "Explain photosynthesis in plants.",
        "Which index fund has the lowest fees?",
    ];
    let alone: Vec<Vec<f32>> = texts
        .iter()
        .map(|text| {
            model
                .classify(&[text])
                .expect("classifies")
                .remove(0)
                .logits
        })
        .collect();
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let model = Arc::clone(&model);
            thread::spawn(move || {
                (0..10)
                    .map(|round| {
                        let index = (worker + round) % texts.len();
                        (
                            index,
                            model
                                .classify(&[texts[index]])
                                .expect("classifies")
                                .remove(0)
                                .logits,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        for (index, logits) in worker.join().expect("worker finished") {
            assert_eq!(logits, alone[index], "text {index} under concurrency");
        }
    }
}
