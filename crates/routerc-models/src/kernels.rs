//! Hand-written CPU kernels for the inference path ([`Kernels::Fused`](crate::Kernels)) where
//! composing candle's generic operations costs more than the arithmetic:
//!
//! - [`attention`]: multi-head self-attention straight from the fused `Wqkv` projection, with
//!   rotary embeddings applied while the heads are gathered, and sliding-window layers computed
//!   block by block against only the keys in their window. Nothing of size `seq²` is allocated
//!   and no mask tensor is built: padding and the window are tested per key.
//! - [`gated_activation`]: ModernBERT's GeGLU, `act(input) * gate`, in one pass over the
//!   `Wi` output instead of two narrowed copies, an activation and a product.
//!
//! The matrix products inside attention call the `gemm` crate (candle's own CPU matmul)
//! directly, single-threaded; a lone request may split its heads across threads (see
//! [`crate::threads`]). Each kernel has a plain-tensor twin in [`crate::modernbert`] /
//! [`crate::blocks`] that training differentiates; the tests check that the two agree.

use crate::blocks::Activation;

/// The shape of one attention call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttentionShape {
    pub batch: usize,
    pub seq: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttentionShape {
    fn hidden(&self) -> usize {
        self.heads * self.head_dim
    }
}

/// Rotary tables for the positions `0..seq` (at least): `cos` and `sin`, each
/// `positions × head_dim / 2`, row-major.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RotaryTables<'a> {
    pub cos: &'a [f32],
    pub sin: &'a [f32],
}

/// How many queries are scored at once: enough to keep `gemm` efficient, few enough that the
/// scores of one block (`BLOCK × keys`) stay in cache and a sliding window wastes little.
const QUERY_BLOCK: usize = 64;

/// Self-attention over a `(batch, seq, 3 × hidden)` fused query/key/value projection laid out
/// as `(3, heads, head_dim)` per position (ModernBERT's `Wqkv`), returning the
/// `(batch, seq, hidden)` context with the heads side by side.
///
/// `keep[b * seq + j]` says whether position `j` of text `b` is a real token (padding is
/// never attended to). `half_window`, for sliding-window layers, lets position `i` see `j`
/// only when `|i - j| <= half_window`. A query that sees no real key (a padding position)
/// gets a zero context; it is padding, so nothing reads it.
///
/// `threads` > 1 splits the `(text, head)` pairs over scoped threads.
pub(crate) fn attention(
    qkv: &[f32],
    keep: &[bool],
    rotary: RotaryTables<'_>,
    shape: AttentionShape,
    half_window: Option<usize>,
    threads: usize,
) -> Vec<f32> {
    let AttentionShape {
        batch,
        seq,
        heads,
        head_dim,
    } = shape;
    let hidden = shape.hidden();
    debug_assert_eq!(qkv.len(), batch * seq * 3 * hidden);
    debug_assert_eq!(keep.len(), batch * seq);
    // 1 for a real token, 0 for padding: a factor the softmax multiplies by, so its loops
    // stay branch-free.
    let keep: Vec<f32> = keep.iter().map(|&k| if k { 1.0 } else { 0.0 }).collect();
    let keep = keep.as_slice();
    let jobs: Vec<(usize, usize)> = (0..batch)
        .flat_map(|b| (0..heads).map(move |h| (b, h)))
        .collect();
    let run = |jobs: &[(usize, usize)]| -> Vec<Vec<f32>> {
        let mut scratch = HeadScratch::new(seq, head_dim);
        jobs.iter()
            .map(|&(b, h)| {
                let text = &qkv[b * seq * 3 * hidden..(b + 1) * seq * 3 * hidden];
                let keep = &keep[b * seq..(b + 1) * seq];
                one_head(text, keep, rotary, shape, h, half_window, &mut scratch)
            })
            .collect()
    };
    let threads = threads.clamp(1, jobs.len().max(1));
    let contexts: Vec<Vec<f32>> = if threads == 1 {
        run(&jobs)
    } else {
        let per_thread = jobs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(per_thread)
                .map(|chunk| scope.spawn(move || run(chunk)))
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| match handle.join() {
                    Ok(contexts) => contexts,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    let mut out = vec![0f32; batch * seq * hidden];
    for (&(b, h), context) in jobs.iter().zip(&contexts) {
        for (i, row) in context.chunks_exact(head_dim).enumerate() {
            let start = (b * seq + i) * hidden + h * head_dim;
            out[start..start + head_dim].copy_from_slice(row);
        }
    }
    out
}

/// Buffers reused across the heads one thread computes.
struct HeadScratch {
    query: Vec<f32>,
    key: Vec<f32>,
    value: Vec<f32>,
    scores: Vec<f32>,
}

impl HeadScratch {
    fn new(seq: usize, head_dim: usize) -> Self {
        Self {
            query: vec![0.0; seq * head_dim],
            key: vec![0.0; seq * head_dim],
            value: vec![0.0; seq * head_dim],
            scores: vec![0.0; QUERY_BLOCK.min(seq) * seq],
        }
    }
}

/// One head of one text: gathers and rotates its queries and keys, then scores, normalises
/// and mixes the values block of queries by block of queries. Returns `seq × head_dim`.
fn one_head(
    text: &[f32],
    keep: &[f32],
    rotary: RotaryTables<'_>,
    shape: AttentionShape,
    head: usize,
    half_window: Option<usize>,
    scratch: &mut HeadScratch,
) -> Vec<f32> {
    let AttentionShape { seq, head_dim, .. } = shape;
    let hidden = shape.hidden();
    let half = head_dim / 2;
    let scale = 1.0 / (head_dim as f32).sqrt();
    let offset = head * head_dim;
    for i in 0..seq {
        let row = &text[i * 3 * hidden..(i + 1) * 3 * hidden];
        let (cos, sin) = (
            &rotary.cos[i * half..(i + 1) * half],
            &rotary.sin[i * half..(i + 1) * half],
        );
        let dst = i * head_dim..(i + 1) * head_dim;
        // Query: rotated, with the 1/sqrt(d) scale folded in.
        rotate(
            &row[offset..offset + head_dim],
            cos,
            sin,
            scale,
            &mut scratch.query[dst.clone()],
        );
        rotate(
            &row[hidden + offset..hidden + offset + head_dim],
            cos,
            sin,
            1.0,
            &mut scratch.key[dst.clone()],
        );
        scratch.value[dst]
            .copy_from_slice(&row[2 * hidden + offset..2 * hidden + offset + head_dim]);
    }

    let mut context = vec![0f32; seq * head_dim];
    let mut q0 = 0;
    while q0 < seq {
        let q1 = (q0 + QUERY_BLOCK).min(seq);
        let (k0, k1) = match half_window {
            Some(w) => (q0.saturating_sub(w), (q1 + w).min(seq)),
            None => (0, seq),
        };
        let (rows, keys) = (q1 - q0, k1 - k0);
        let scores = &mut scratch.scores[..rows * keys];
        // scores (rows × keys) = Q[q0..q1] (rows × d) · K[k0..k1]ᵀ (d × keys)
        // SAFETY: every pointer/stride pair addresses memory inside the slices, whose lengths
        // cover the `rows × keys`, `rows × d` and `keys × d` matrices described.
        unsafe {
            gemm::gemm(
                rows,
                keys,
                head_dim,
                scores.as_mut_ptr(),
                1,
                keys as isize,
                false,
                scratch.query[q0 * head_dim..].as_ptr(),
                1,
                head_dim as isize,
                scratch.key[k0 * head_dim..].as_ptr(),
                head_dim as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        for (r, row) in scores.chunks_exact_mut(keys).enumerate() {
            let i = q0 + r;
            // The window of query i, as a range of this block's keys.
            let (lo, hi) = match half_window {
                Some(w) => (i.saturating_sub(w).max(k0) - k0, (i + w + 1).min(k1) - k0),
                None => (0, keys),
            };
            row[..lo].fill(0.0);
            row[hi..].fill(0.0);
            softmax_kept(&mut row[lo..hi], &keep[k0 + lo..k0 + hi]);
        }
        // context[q0..q1] (rows × d) = P (rows × keys) · V[k0..k1] (keys × d)
        // SAFETY: as above.
        unsafe {
            gemm::gemm(
                rows,
                head_dim,
                keys,
                context[q0 * head_dim..].as_mut_ptr(),
                1,
                head_dim as isize,
                false,
                scores.as_ptr(),
                1,
                keys as isize,
                scratch.value[k0 * head_dim..].as_ptr(),
                1,
                head_dim as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        q0 = q1;
    }
    context
}

/// Rotary embedding in the "rotate half" convention ModernBERT uses: the first half of the
/// vector pairs with the second half. `scale` multiplies the result.
#[inline]
fn rotate(src: &[f32], cos: &[f32], sin: &[f32], scale: f32, dst: &mut [f32]) {
    let half = cos.len();
    let (x1, x2) = src.split_at(half);
    let (d1, d2) = dst.split_at_mut(half);
    for e in 0..half {
        d1[e] = (x1[e] * cos[e] - x2[e] * sin[e]) * scale;
        d2[e] = (x2[e] * cos[e] + x1[e] * sin[e]) * scale;
    }
}

/// Softmax in place over the scores whose `keep` factor is 1; the others (padding) get weight
/// 0. A row with no kept score becomes all zeros. Written as straight loops over slices with
/// eight partial sums, so that they vectorise.
#[inline]
fn softmax_kept(row: &mut [f32], keep: &[f32]) {
    let mut max = f32::NEG_INFINITY;
    for (&value, &k) in row.iter().zip(keep) {
        let candidate = if k > 0.0 { value } else { f32::NEG_INFINITY };
        max = max.max(candidate);
    }
    if max == f32::NEG_INFINITY {
        row.fill(0.0);
        return;
    }
    let mut sums = [0f32; 8];
    let mut rows = row.chunks_exact_mut(8);
    let mut keeps = keep.chunks_exact(8);
    for (chunk, k) in (&mut rows).zip(&mut keeps) {
        for lane in 0..8 {
            // Padding scores may be anything; multiplying by 0 removes them after the exp,
            // whose argument is clamped, so no infinity or NaN arises.
            let e = exp_nonpositive((chunk[lane] - max).min(0.0)) * k[lane];
            chunk[lane] = e;
            sums[lane] += e;
        }
    }
    for (value, &k) in rows.into_remainder().iter_mut().zip(keeps.remainder()) {
        let e = exp_nonpositive((*value - max).min(0.0)) * k;
        *value = e;
        sums[0] += e;
    }
    let inverse = 1.0 / sums.iter().sum::<f32>();
    for value in row.iter_mut() {
        *value *= inverse;
    }
}

/// `exp(x)` for `x <= 0` to about 2e-7 relative error, in plain arithmetic the compiler can
/// vectorise (libm's `expf` is a call per element). Results below `exp(-87)` flush to it.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f32) -> f32 {
    // Adding 1.5 × 2²³ rounds x·log2(e) to the nearest integer in the low mantissa bits,
    // without `round`, which needs SSE4.1 to inline.
    const SHIFTER: f32 = 12_582_912.0;
    let x = x.max(-87.0);
    let shifted = x * std::f32::consts::LOG2_E + SHIFTER;
    let n = shifted - SHIFTER;
    // r = x - n·ln2, with ln2 split in two so the product is exact enough (Cody–Waite).
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n from the integer in `shifted`'s low bits: n ∈ [-126, 0], so n + 127 ∈ [1, 127].
    let exponent = (shifted.to_bits().wrapping_sub(SHIFTER.to_bits()) as i32 + 127) as u32;
    p * f32::from_bits(exponent << 23)
}

/// `erf(x)` to about 1.5e-7 absolute error (Abramowitz & Stegun 7.1.26), vectorisable.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp_nonpositive(-a * a);
    y.copysign(x)
}

/// One activation of a value, as the fused kernels compute it.
#[inline(always)]
fn activate(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Gelu => 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)),
        Activation::GeluTanh => {
            // tanh(u) = 1 - 2 / (exp(2u) + 1), with exp of a non-positive argument only.
            let u = 0.797_884_6 * (x + 0.044_715 * x * x * x);
            let e = exp_nonpositive(-2.0 * u.abs());
            let tanh = ((1.0 - e) / (1.0 + e)).copysign(u);
            0.5 * x * (1.0 + tanh)
        }
        Activation::Relu => x.max(0.0),
        Activation::Silu => {
            let e = exp_nonpositive(-x.abs());
            // sigmoid(x) for either sign from exp(-|x|).
            let sigmoid = if x >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            x * sigmoid
        }
    }
}

/// The gated MLP's middle step over `rows × 2·width` values (each row: `input`, then `gate`):
/// `act(input) * gate`, `rows × width`.
pub(crate) fn gated_activation(both: &[f32], width: usize, activation: Activation) -> Vec<f32> {
    let mut out = vec![0f32; both.len() / 2];
    for (row, out_row) in both
        .chunks_exact(2 * width)
        .zip(out.chunks_exact_mut(width))
    {
        let (input, gate) = row.split_at(width);
        // One loop per activation so each is a straight vectorisable loop.
        macro_rules! apply {
            ($act:expr) => {
                for ((out, &x), &g) in out_row.iter_mut().zip(input).zip(gate) {
                    *out = activate($act, x) * g;
                }
            };
        }
        match activation {
            Activation::Gelu => apply!(Activation::Gelu),
            Activation::GeluTanh => apply!(Activation::GeluTanh),
            Activation::Relu => apply!(Activation::Relu),
            Activation::Silu => apply!(Activation::Silu),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_the_standard_library() {
        let mut worst = 0f32;
        let mut x = -80.0f32;
        while x <= 0.0 {
            let relative = (exp_nonpositive(x) - x.exp()).abs() / x.exp();
            worst = worst.max(relative);
            x += 0.0137;
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn fast_erf_matches_the_series() {
        // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)), fine for |x| <= 2 in f64.
        let series = |x: f64| {
            let (mut term, mut sum) = (x, 0.0);
            for n in 0..60 {
                sum += term / (2 * n + 1) as f64;
                term *= -x * x / (n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        let mut x = -2.0f64;
        while x <= 2.0 {
            let error = (f64::from(erf(x as f32)) - series(x)).abs();
            assert!(error < 5e-7, "erf({x}) off by {error}");
            x += 0.01;
        }
    }

    /// Attention written the obvious way, in f64: every query against every key, with the
    /// window and padding as conditions.
    fn reference_attention(
        qkv: &[f32],
        keep: &[bool],
        rotary: RotaryTables<'_>,
        shape: AttentionShape,
        half_window: Option<usize>,
    ) -> Vec<f32> {
        let AttentionShape {
            batch,
            seq,
            heads,
            head_dim,
        } = shape;
        let hidden = heads * head_dim;
        let half = head_dim / 2;
        let rotated = |b: usize, i: usize, part: usize, h: usize| -> Vec<f64> {
            let base = (b * seq + i) * 3 * hidden + part * hidden + h * head_dim;
            let x = &qkv[base..base + head_dim];
            (0..head_dim)
                .map(|e| {
                    let (c, s) = (
                        rotary.cos[i * half + e % half],
                        rotary.sin[i * half + e % half],
                    );
                    let value = if e < half {
                        x[e] * c - x[e + half] * s
                    } else {
                        x[e] * c + x[e - half] * s
                    };
                    f64::from(value)
                })
                .collect()
        };
        let mut out = vec![0f32; batch * seq * hidden];
        for b in 0..batch {
            for h in 0..heads {
                for i in 0..seq {
                    let q = rotated(b, i, 0, h);
                    let visible: Vec<usize> = (0..seq)
                        .filter(|&j| keep[b * seq + j])
                        .filter(|&j| half_window.is_none_or(|w| i.abs_diff(j) <= w))
                        .collect();
                    let scores: Vec<f64> = visible
                        .iter()
                        .map(|&j| {
                            let k = rotated(b, j, 1, h);
                            q.iter().zip(&k).map(|(a, b)| a * b).sum::<f64>()
                                / (head_dim as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for e in 0..head_dim {
                        let mixed: f64 = visible
                            .iter()
                            .zip(&weights)
                            .map(|(&j, w)| {
                                w / total
                                    * f64::from(
                                        qkv[(b * seq + j) * 3 * hidden
                                            + 2 * hidden
                                            + h * head_dim
                                            + e],
                                    )
                            })
                            .sum();
                        out[(b * seq + i) * hidden + h * head_dim + e] = mixed as f32;
                    }
                }
            }
        }
        out
    }

    /// A deterministic spread of values in [-2, 2).
    fn values(count: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn attention_matches_the_obvious_computation() {
        let (heads, head_dim) = (3, 8);
        let positions = 200;
        let cos: Vec<f32> = (0..positions * head_dim / 2)
            .map(|n| ((n % 97) as f32 * 0.1).cos())
            .collect();
        let sin: Vec<f32> = (0..positions * head_dim / 2)
            .map(|n| ((n % 97) as f32 * 0.1).sin())
            .collect();
        let rotary = RotaryTables {
            cos: &cos,
            sin: &sin,
        };
        for (batch, seq) in [(1, 1), (1, 5), (2, 63), (1, 64), (2, 65), (1, 150)] {
            let shape = AttentionShape {
                batch,
                seq,
                heads,
                head_dim,
            };
            let qkv = values(batch * seq * 3 * heads * head_dim, seq as u64);
            // The second text (if any) ends in padding; one padding hole in the middle too.
            let keep: Vec<bool> = (0..batch * seq)
                .map(|n| {
                    let (b, j) = (n / seq, n % seq);
                    !(b == 1 && (j >= seq / 2 || j == 3))
                })
                .collect();
            for half_window in [None, Some(0), Some(4), Some(70)] {
                let want = reference_attention(&qkv, &keep, rotary, shape, half_window);
                let got = attention(&qkv, &keep, rotary, shape, half_window, 1);
                for (n, (a, b)) in got.iter().zip(&want).enumerate() {
                    // Rows of padding see no key when the window holds only padding; they
                    // come out as zeros and are never read, so only real rows are compared.
                    let row = n / (heads * head_dim);
                    if !keep[row] {
                        continue;
                    }
                    assert!(
                        (a - b).abs() < 1e-4,
                        "batch {batch}, seq {seq}, window {half_window:?}, value {n}: {a} vs {b}"
                    );
                }
                let threaded = attention(&qkv, &keep, rotary, shape, half_window, 3);
                assert_eq!(got, threaded, "threads change the result");
            }
        }
    }

    #[test]
    fn gated_activation_matches_the_formulas() {
        let both = values(2 * 3 * 10, 7);
        for activation in [
            Activation::Gelu,
            Activation::GeluTanh,
            Activation::Relu,
            Activation::Silu,
        ] {
            let out = gated_activation(&both, 10, activation);
            for (r, row) in both.chunks_exact(20).enumerate() {
                for c in 0..10 {
                    let x = f64::from(row[c]);
                    let act = match activation {
                        Activation::Gelu => {
                            // erf from its series, exact enough for |x| <= 2.
                            let z = x / 2f64.sqrt();
                            let (mut term, mut sum) = (z, 0.0);
                            for n in 0..60 {
                                sum += term / (2 * n + 1) as f64;
                                term *= -z * z / (n + 1) as f64;
                            }
                            0.5 * x * (1.0 + sum * 2.0 / std::f64::consts::PI.sqrt())
                        }
                        Activation::GeluTanh => {
                            let u =
                                (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3));
                            0.5 * x * (1.0 + u.tanh())
                        }
                        Activation::Relu => x.max(0.0),
                        Activation::Silu => x / (1.0 + (-x).exp()),
                    };
                    let want = act * f64::from(row[10 + c]);
                    let got = f64::from(out[r * 10 + c]);
                    assert!(
                        (got - want).abs() < 1e-5,
                        "{activation:?}({x}): {got} vs {want}"
                    );
                }
            }
        }
    }
}
