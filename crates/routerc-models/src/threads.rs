//! How many CPU threads one inference uses.
//!
//! routerc runs one inference per request on the request's own thread and gets parallelism
//! from serving several requests at once. A second thread inside one inference can shorten a
//! lone long request (see docs/models.md for measurements), but under load every core is
//! already busy with another request, and candle's shared worker pool would make concurrent
//! requests queue behind each other. So one inference uses one thread.
//!
//! candle (0.11) decides its CPU threading in three places, none of which takes an argument:
//! - matrix products (the `gemm` crate) split across `RAYON_NUM_THREADS` threads, read from
//!   the environment on every call, defaulting to the number of physical cores;
//! - large element-wise operations use candle's own worker pool, sized once from
//!   `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`), and serialise on a lock when two requests
//!   use it at the same moment;
//! - softmax and layer norm in candle-nn use rayon's global pool, sized once from
//!   `RAYON_NUM_THREADS` when it is first used.
//!
//! routerc's own attention kernel (`kernels::attention`) follows the same number: above one
//! thread it splits the heads of a request over that many scoped threads.
//!
//! So the only switch is the environment, and it must be set before any of those is first
//! used and before the process starts other threads (changing the environment while other
//! threads read it is not safe on every platform). [`use_one_thread_per_inference`] does that
//! and is meant to be the first call in `main`. An explicit `RAYON_NUM_THREADS` or
//! `CANDLE_NUM_THREADS` from the user wins, which is how benchmarks measure two threads.
//!
//! This module does not create threads or pools itself.

const RAYON: &str = "RAYON_NUM_THREADS";
const CANDLE: &str = "CANDLE_NUM_THREADS";

/// Makes each inference single-threaded unless the user chose otherwise in the environment.
///
/// Call it at the start of `main`, before any thread is spawned and before any model is
/// loaded. Returns the number of threads one inference will use.
pub fn use_one_thread_per_inference() -> usize {
    for variable in [RAYON, CANDLE] {
        if std::env::var_os(variable).is_none() {
            std::env::set_var(variable, "1");
        }
    }
    inference_threads()
}

/// The number of threads candle's matrix products use, as the environment now says.
pub fn inference_threads() -> usize {
    candle_core::utils::get_num_threads()
}
