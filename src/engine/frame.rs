//! The signal frame: one request's signal values, laid out for the engines.
//!
//! Both engines read signals from a flat buffer of 8-byte words, so the JIT can load a value
//! with one instruction at an offset fixed when the policy is compiled. Per signal there is a
//! status byte (unknown, present, absent), a read byte (set when evaluation reached a test of
//! the signal) and a value area:
//!
//! | type | value area |
//! |---|---|
//! | bool | `u8` 0 or 1 |
//! | int, float, score, similarity | `f64` |
//! | string | `u32` index into the program's strings, or [`NO_STRING`] |
//! | category(L labels) | `u32` top label, `f64` confidence, then `f64` × L probabilities |
//! | set(L labels) | `f64` count, then ⌈L/64⌉ `u64` words of membership bits |
//!
//! A status of *unknown* means the signal has not been computed for this request: the engine
//! asks the [`SignalSource`] for it when evaluation first reaches it (lazy signals).
//!
//! An absent signal's value area holds a value every test rejects: a bool byte of 2, NaN for
//! numbers, counts, confidences and probabilities, [`NO_LABEL`] / [`NO_STRING`] for labels and
//! strings, no set members. Native code relies on it to test a signal that is certainly
//! computed (an earlier test read it) with one load and one compare, status unseen.

use std::collections::HashMap;
use std::sync::Arc;

use crate::policy::{LabelId, SignalValue, TestValue, Type};

use super::ir::{Program, NO_STRING};

pub const UNKNOWN: u8 = 0;
pub const PRESENT: u8 = 1;
pub const ABSENT: u8 = 2;

/// The top label of a category whose probabilities hold a NaN: no label is on top.
pub const NO_LABEL: u32 = u32::MAX;

/// An absent bool's value byte: neither true (1) nor false (0).
pub const ABSENT_BOOL: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Number,
    String,
    Category(u32),
    Set(u32),
}

impl Kind {
    fn of(ty: &Type) -> Kind {
        match ty {
            Type::Bool => Kind::Bool,
            Type::Int | Type::Float | Type::Score | Type::Similarity => Kind::Number,
            Type::String => Kind::String,
            Type::Category(l) => Kind::Category(l.len() as u32),
            Type::Set(l) => Kind::Set(l.len() as u32),
        }
    }

    fn bytes(self) -> usize {
        match self {
            Kind::Bool | Kind::Number | Kind::String => 8,
            Kind::Category(l) => 16 + 8 * l as usize,
            Kind::Set(l) => 8 + 8 * (l as usize).div_ceil(64),
        }
    }
}

/// Where each signal lives in a frame; computed once per compiled policy.
#[derive(Debug)]
pub struct Layout {
    pub(crate) signals: usize,
    /// Byte offset of each signal's value area.
    pub(crate) offsets: Vec<usize>,
    pub(crate) kinds: Vec<Kind>,
    words: usize,
    names: Vec<String>,
    types: Vec<Type>,
    /// String constants of the program, for interning a string signal's value.
    strings: HashMap<String, u32>,
}

impl Layout {
    pub fn new(program: &Program) -> Layout {
        let n = program.signals.len();
        let mut offset = (2 * n).div_ceil(8) * 8;
        let mut offsets = Vec::with_capacity(n);
        let mut kinds = Vec::with_capacity(n);
        for s in &program.signals {
            let kind = Kind::of(&s.ty);
            offsets.push(offset);
            kinds.push(kind);
            offset += kind.bytes();
        }
        Layout {
            signals: n,
            offsets,
            kinds,
            words: offset / 8,
            names: program.signals.iter().map(|s| s.name.clone()).collect(),
            types: program.signals.iter().map(|s| s.ty.clone()).collect(),
            strings: program
                .strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect(),
        }
    }

    pub fn signal_count(&self) -> usize {
        self.signals
    }

    pub fn status_offset(&self, signal: u32) -> usize {
        signal as usize
    }

    pub fn read_offset(&self, signal: u32) -> usize {
        self.signals + signal as usize
    }
}

/// A signal value that does not fit its declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub signal: String,
    pub message: String,
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signal `{}`: {}", self.signal, self.message)
    }
}

impl std::error::Error for ValueError {}

/// One request's signals. Reuse a frame across requests with [`Frame::reset`]: deciding does
/// not allocate.
pub struct Frame {
    buf: Box<[u64]>,
    layout: Arc<Layout>,
}

impl Frame {
    pub fn new(layout: Arc<Layout>) -> Frame {
        Frame {
            buf: vec![0u64; layout.words.max(1)].into_boxed_slice(),
            layout,
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.buf)
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.buf)
    }

    /// For the JIT: the frame's first byte. Valid while `self` is neither moved nor dropped.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        self.buf.as_mut_ptr().cast()
    }

    /// Forgets every signal: all unknown, none read.
    pub fn reset(&mut self) {
        let n = self.layout.signals;
        self.bytes_mut()[..2 * n].fill(0);
    }

    /// Clears the read marks only, keeping the values (for deciding again on the same
    /// signals).
    pub fn clear_reads(&mut self) {
        let n = self.layout.signals;
        self.bytes_mut()[n..2 * n].fill(0);
    }

    pub fn status(&self, signal: u32) -> u8 {
        self.bytes()[signal as usize]
    }

    pub fn was_read(&self, signal: u32) -> bool {
        self.bytes()[self.layout.signals + signal as usize] != 0
    }

    pub(crate) fn mark_read(&mut self, signal: u32) {
        let n = self.layout.signals;
        self.bytes_mut()[n + signal as usize] = 1;
    }

    /// The signals evaluation read, in signal order.
    pub fn reads(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.layout.signals as u32).filter(|&s| self.was_read(s))
    }

    fn set_status(&mut self, signal: u32, status: u8) {
        self.bytes_mut()[signal as usize] = status;
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        self.bytes_mut()[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }

    fn put_f64(&mut self, at: usize, v: f64) {
        self.bytes_mut()[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    }

    fn put_u64(&mut self, at: usize, v: u64) {
        self.bytes_mut()[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    }

    pub(crate) fn get_u32(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.bytes()[at..at + 4]);
        u32::from_ne_bytes(b)
    }

    pub(crate) fn get_f64(&self, at: usize) -> f64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes()[at..at + 8]);
        f64::from_ne_bytes(b)
    }

    pub(crate) fn get_u64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes()[at..at + 8]);
        u64::from_ne_bytes(b)
    }

    pub(crate) fn get_u8(&self, at: usize) -> u8 {
        self.bytes()[at]
    }

    fn check(
        &self,
        signal: u32,
        want: &str,
        ok: impl Fn(Kind) -> bool,
    ) -> Result<usize, ValueError> {
        let Some(&kind) = self.layout.kinds.get(signal as usize) else {
            return Err(ValueError {
                signal: format!("#{signal}"),
                message: "no such signal".into(),
            });
        };
        if ok(kind) {
            Ok(self.layout.offsets[signal as usize])
        } else {
            Err(self.error(
                signal,
                format!(
                    "expected {} (it is declared {}), found {want}",
                    expected_value(&self.layout.types[signal as usize]),
                    self.layout.types[signal as usize]
                ),
            ))
        }
    }

    fn error(&self, signal: u32, message: String) -> ValueError {
        ValueError {
            signal: self.layout.names[signal as usize].clone(),
            message,
        }
    }

    /// Marks a signal absent. The value area gets a value no test accepts (see the module
    /// documentation), so native code can test a signal it knows to be computed without
    /// looking at its status.
    pub fn set_absent(&mut self, signal: u32) {
        let Some(&kind) = self.layout.kinds.get(signal as usize) else {
            return;
        };
        let at = self.layout.offsets[signal as usize];
        match kind {
            Kind::Bool => self.bytes_mut()[at] = ABSENT_BOOL,
            Kind::Number => self.put_f64(at, f64::NAN),
            Kind::String => self.put_u32(at, NO_STRING),
            Kind::Category(n) => {
                self.put_u32(at, NO_LABEL);
                for i in 0..=n as usize {
                    self.put_f64(at + 8 + 8 * i, f64::NAN);
                }
            }
            Kind::Set(n) => {
                self.put_f64(at, f64::NAN);
                for w in 0..(n as usize).div_ceil(64) {
                    self.put_u64(at + 8 + 8 * w, 0);
                }
            }
        }
        self.set_status(signal, ABSENT);
    }

    pub fn set_bool(&mut self, signal: u32, value: bool) -> Result<(), ValueError> {
        let at = self.check(signal, "a bool", |k| k == Kind::Bool)?;
        self.bytes_mut()[at] = u8::from(value);
        self.set_status(signal, PRESENT);
        Ok(())
    }

    /// A number; NaN makes the signal absent.
    pub fn set_number(&mut self, signal: u32, value: f64) -> Result<(), ValueError> {
        let at = self.check(signal, "a number", |k| k == Kind::Number)?;
        if value.is_nan() {
            self.set_absent(signal);
        } else {
            self.put_f64(at, value);
            self.set_status(signal, PRESENT);
        }
        Ok(())
    }

    /// A string; looked up among the policy's string constants without allocating.
    pub fn set_string(&mut self, signal: u32, value: &str) -> Result<(), ValueError> {
        let at = self.check(signal, "a string", |k| k == Kind::String)?;
        let id = self.layout.strings.get(value).copied().unwrap_or(NO_STRING);
        self.put_u32(at, id);
        self.set_status(signal, PRESENT);
        Ok(())
    }

    /// A category from the probability of each label, in declaration order. The top label is
    /// the most probable (the first on ties); a NaN leaves no label on top.
    pub fn set_category(&mut self, signal: u32, probs: &[f64]) -> Result<(), ValueError> {
        let at = self.check(signal, "a category", |k| matches!(k, Kind::Category(_)))?;
        let Kind::Category(n) = self.layout.kinds[signal as usize] else {
            unreachable!("checked above")
        };
        if probs.len() != n as usize {
            return Err(self.error(
                signal,
                format!(
                    "expected {n} probabilities (one per label), found {}",
                    probs.len()
                ),
            ));
        }
        let (top, conf) = match SignalValue::top_label(probs) {
            Some((l, p)) => (l, p),
            None => (NO_LABEL, f64::NAN),
        };
        self.put_u32(at, top);
        self.put_f64(at + 8, conf);
        for (i, &p) in probs.iter().enumerate() {
            self.put_f64(at + 16 + 8 * i, p);
        }
        self.set_status(signal, PRESENT);
        Ok(())
    }

    /// A category whose top label the caller chose: `Some(label)` takes its probability as
    /// the confidence, `None` leaves no label on top (a classifier whose most probable label
    /// is one the policy does not declare), while each declared label's probability stays
    /// readable.
    pub fn set_category_with_top(
        &mut self,
        signal: u32,
        probs: &[f64],
        top: Option<LabelId>,
    ) -> Result<(), ValueError> {
        self.set_category(signal, probs)?;
        let at = self.layout.offsets[signal as usize];
        match top {
            Some(label) if (label as usize) < probs.len() => {
                self.put_u32(at, label);
                self.put_f64(at + 8, probs[label as usize]);
            }
            Some(label) => {
                return Err(self.error(
                    signal,
                    format!("label #{label} is not one of its {} labels", probs.len()),
                ))
            }
            None => {
                self.put_u32(at, NO_LABEL);
                self.put_f64(at + 8, f64::NAN);
            }
        }
        Ok(())
    }

    /// A category given as its top label and confidence (as tests write it): the other labels
    /// share the rest of the probability equally, never more than the top label.
    pub fn set_category_top(
        &mut self,
        signal: u32,
        label: LabelId,
        confidence: f64,
    ) -> Result<(), ValueError> {
        let at = self.check(signal, "a category", |k| matches!(k, Kind::Category(_)))?;
        let Kind::Category(n) = self.layout.kinds[signal as usize] else {
            unreachable!("checked above")
        };
        if label >= n {
            return Err(self.error(
                signal,
                format!("label #{label} is not one of its {n} labels"),
            ));
        }
        let rest = if n > 1 {
            ((1.0 - confidence) / f64::from(n - 1)).clamp(0.0, confidence.max(0.0))
        } else {
            0.0
        };
        self.put_u32(at, label);
        self.put_f64(at + 8, confidence);
        for i in 0..n {
            let p = if i == label { confidence } else { rest };
            self.put_f64(at + 16 + 8 * i as usize, p);
        }
        self.set_status(signal, PRESENT);
        Ok(())
    }

    /// A set of labels (duplicates count once).
    pub fn set_labels(&mut self, signal: u32, labels: &[LabelId]) -> Result<(), ValueError> {
        let at = self.check(signal, "a set", |k| matches!(k, Kind::Set(_)))?;
        let Kind::Set(n) = self.layout.kinds[signal as usize] else {
            unreachable!("checked above")
        };
        if let Some(bad) = labels.iter().find(|&&l| l >= n) {
            return Err(self.error(signal, format!("label #{bad} is not one of its {n} labels")));
        }
        let words = (n as usize).div_ceil(64);
        for w in 0..words {
            self.put_u64(at + 8 + 8 * w, 0);
        }
        for &l in labels {
            let w = at + 8 + 8 * (l as usize / 64);
            let bits = self.get_u64(w) | 1u64 << (l % 64);
            self.put_u64(w, bits);
        }
        let count: u32 = (0..words)
            .map(|w| self.get_u64(at + 8 + 8 * w).count_ones())
            .sum();
        self.put_f64(at, f64::from(count));
        self.set_status(signal, PRESENT);
        Ok(())
    }

    /// Any value; `None` is absent.
    pub fn set(&mut self, signal: u32, value: Option<&SignalValue>) -> Result<(), ValueError> {
        match value {
            None => {
                self.set_absent(signal);
                Ok(())
            }
            Some(SignalValue::Bool(b)) => self.set_bool(signal, *b),
            Some(SignalValue::Number(x)) => self.set_number(signal, *x),
            Some(SignalValue::String(s)) => self.set_string(signal, s),
            Some(SignalValue::Category(p)) => self.set_category(signal, p),
            Some(SignalValue::Set(l)) => self.set_labels(signal, l),
        }
    }

    /// A value as a policy test gives it.
    pub fn set_test_value(&mut self, signal: u32, value: &TestValue) -> Result<(), ValueError> {
        match value {
            TestValue::Bool(b) => self.set_bool(signal, *b),
            TestValue::Number(x) => self.set_number(signal, *x),
            TestValue::String(s) => self.set_string(signal, s),
            TestValue::Label(l, c) => self.set_category_top(signal, *l, *c),
            TestValue::Set(l) => self.set_labels(signal, l),
            TestValue::Absent => {
                self.set_absent(signal);
                Ok(())
            }
        }
    }
}

/// How to write a value of this type, for error messages.
pub fn expected_value(ty: &Type) -> String {
    match ty {
        Type::Bool => "true or false".into(),
        Type::Int => "an integer".into(),
        Type::Float => "a number".into(),
        Type::Score => "a number from 0 to 1".into(),
        Type::Similarity => "a number from -1 to 1".into(),
        Type::String => "a string".into(),
        Type::Category(_) => "a label, or an object of label probabilities".into(),
        Type::Set(_) => "a list of labels".into(),
    }
}

/// Computes signals on demand. The engine calls [`SignalSource::fetch`] the first time
/// evaluation reaches a signal whose status is unknown; the source writes the value (or
/// absence) into the frame. A source that writes nothing leaves the signal absent.
pub trait SignalSource {
    fn fetch(&mut self, signal: u32, frame: &mut Frame);
}

/// A source with nothing to give: every signal not already in the frame is absent.
pub struct NoSignals;

impl SignalSource for NoSignals {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        frame.set_absent(signal);
    }
}

/// Fetches a signal through `source` and returns its status, which is never unknown after.
/// A source that panics leaves the signal absent: a crashed classifier must not take the
/// request (or, through native code, the process) down with it.
pub(crate) fn fetch(source: &mut dyn SignalSource, frame: &mut Frame, signal: u32) -> u8 {
    let fetched =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.fetch(signal, frame)));
    if fetched.is_err() || frame.status(signal) == UNKNOWN {
        frame.set_absent(signal);
    }
    frame.status(signal)
}
