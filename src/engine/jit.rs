//! The Cranelift JIT: a policy becomes native functions, one per part of its routes.
//!
//! ```text
//! decide_k(frame: *mut u8, choices: *mut u32) -> route | NEED_SIGNAL | signal | u32::MAX
//! ```
//!
//! Conditions are jumping code: every `and`/`or`/`not` is branches between blocks, never a
//! boolean value, so evaluation stops at the first operand that settles it. Each test loads
//! the signal's status byte, sets its read byte and compares the value. The first route
//! whose condition holds writes the chosen leaf of each of its parameter slots to `choices`
//! and returns its index. The function touches only the frame and the choice buffer: no
//! allocation, no lock, and no call.
//!
//! **Lazy signals without calls.** A test of a signal whose status is unknown returns
//! `NEED_SIGNAL | signal`; [`Jit::decide`] fetches it and runs the part again. Conditions have
//! no effects, so the rerun takes the same path up to that test and then goes further: the
//! signals read and their fetch order are those of one straight evaluation. A call back into
//! the runtime at every such test would cost a call site per test, and call sites (their
//! clobbered registers) were most of the register allocator's work; a signal computed before
//! deciding, as the gateway does for expensive ones, costs nothing either way.
//!
//! **Parts.** A policy of up to [`PART_WEIGHT`] tests is one function; a larger one is cut
//! between routes into parts compiled in parallel. `Jit::decide` runs the parts in order
//! until one returns a route (a part that falls through returns `u32::MAX`). What an earlier
//! part certainly read is known to later ones: the frame is shared, and the analysis is done
//! once for the whole policy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, InstBuilder, MemFlagsData, Signature, UserFuncName, Value,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module, ModuleReloc};

use super::frame::{self, Frame, Layout, SignalSource};
use super::interp;
use super::ir::{self, Action, Choice, Expr, Op, Program, Read, Test};
use crate::policy::Selection;

type DecideFn = unsafe extern "C" fn(*mut u8, *mut u32) -> u32;

/// A part's result with this bit set asks for the signal in the low bits to be fetched; the
/// part is then run again. Route indices and signal ids stay below it (`engine::validate`).
pub const NEED_SIGNAL: u32 = 1 << 31;

/// A part's result when none of its routes matched.
const NO_ROUTE: u32 = u32::MAX;

/// What to keep of the compilation besides the code.
#[derive(Clone, Copy, Debug, Default)]
pub struct Emit {
    /// The Cranelift IR, before optimisation.
    pub clif: bool,
    /// The machine instructions, after register allocation.
    pub asm: bool,
}

/// A compiled decision function with its code memory.
pub struct Jit {
    module: Option<JITModule>,
    /// The parts in route order; the first that returns a route decides.
    entries: Box<[DecideFn]>,
    /// `entries[0]`, kept inline: most decisions call only it.
    first: DecideFn,
    layout: Arc<Layout>,
    slots: usize,
    pub clif: Option<String>,
    pub asm: Option<String>,
    /// Bytes of machine code.
    pub code_size: usize,
}

// SAFETY: after `finalize_definitions` the module is never touched again until it is dropped
// (which needs exclusive ownership), and the code it holds is immutable, so sharing the entry
// point between threads is sound. The module itself is only kept to free its memory.
unsafe impl Send for Jit {}
unsafe impl Sync for Jit {}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: `decide` borrows `self`, so no decision is running on this code, and
            // nothing else holds a pointer into it.
            unsafe { module.free_memory() };
        }
    }
}

#[derive(Debug)]
pub struct JitError(pub String);

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "native code generation failed: {}", self.0)
    }
}

impl std::error::Error for JitError {}

fn err(e: impl std::fmt::Display) -> JitError {
    JitError(e.to_string())
}

/// How a policy is cut into native functions.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub emit: Emit,
    /// A function holds consecutive routes until their conditions and parameters count this
    /// many tests (see [`weight`]); the next route starts a new function. Register allocation
    /// grows faster than linearly with a function's size, so a 1,000-route policy compiles
    /// faster as a dozen functions, and the functions compile in parallel.
    pub part_weight: usize,
}

/// Measured with `cargo bench --bench engine -- compile` (BENCHMARKS.md): parts of about
/// this size keep the call between parts rare while register allocation stays near linear.
pub const PART_WEIGHT: usize = 1_500;

impl Default for Options {
    fn default() -> Options {
        Options {
            emit: Emit::default(),
            part_weight: PART_WEIGHT,
        }
    }
}

/// One part's machine code, compiled on a worker thread, to be placed in the module.
struct PartCode {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    clif: Option<String>,
    asm: Option<String>,
}

/// What code generation needs to know about the whole policy, shared by the parts.
struct Plan<'a> {
    program: &'a Program,
    layout: &'a Layout,
    /// Per route, the signals certainly in the frame when it is tested.
    known_before: Vec<Vec<bool>>,
    /// The policy as runs of routes, each compiled as a unit.
    segments: Vec<Segment>,
}

/// A unit of code generation: one route tested alone, or a run behind a jump table.
#[derive(Clone, Debug)]
enum Segment {
    Single(usize),
    Indexed {
        routes: std::ops::Range<usize>,
        signal: u32,
    },
    /// A tier whose routes are all evaluated and ranked by confidence.
    Tier(std::ops::Range<usize>),
}

impl Segment {
    fn routes(&self) -> std::ops::Range<usize> {
        match self {
            Segment::Single(i) => *i..*i + 1,
            Segment::Indexed { routes, .. } | Segment::Tier(routes) => routes.clone(),
        }
    }
}

/// The size of a route's code, counted in tests (each a few blocks).
fn weight(route: &ir::Route) -> usize {
    fn expr(e: &Expr) -> usize {
        match e {
            Expr::True | Expr::False => 1,
            Expr::And(items) | Expr::Or(items) => items.iter().map(expr).sum::<usize>().max(1),
            Expr::Not(inner) => expr(inner),
            Expr::Test(_) => 1,
        }
    }
    fn choice(c: &Choice) -> usize {
        match c {
            Choice::Leaf(_) => 1,
            Choice::If {
                cond,
                then,
                otherwise,
            } => expr(cond) + choice(then) + choice(otherwise),
        }
    }
    let slots = match &route.action {
        Action::Forward(f) => f.slots.iter().map(|s| choice(&s.choice)).sum(),
        Action::Reject { .. } => 0,
    };
    1 + expr(&route.cond) + slots
}

impl<'a> Plan<'a> {
    fn new(program: &'a Program, layout: &'a Layout) -> Plan<'a> {
        let routes = &program.routes;
        // Which signals are in the frame before each route: those every earlier route's
        // condition reads first (it was evaluated, and failed).
        let mut known = vec![false; layout.signal_count()];
        let mut known_before = Vec::with_capacity(routes.len());
        let mut read = Vec::new();
        for r in routes {
            known_before.push(known.clone());
            read.clear();
            ir::certainly_read(&r.cond, &mut read);
            for &s in &read {
                known[s as usize] = true;
            }
        }
        let mut segments = Vec::new();
        let mut i = 0;
        while i < routes.len() {
            if program.selection == Selection::Confidence {
                // Tiers ranked by confidence evaluate every route; the jump tables, which
                // skip routes, are left to selection by priority.
                let end = program.tier_end(i);
                if program.by_confidence(i..end) {
                    segments.push(Segment::Tier(i..end));
                } else {
                    segments.extend((i..end).map(Segment::Single));
                }
                i = end;
                continue;
            }
            let run = guard(&routes[i].cond)
                .filter(|(s, _)| known_before[i][*s as usize])
                .map(|(s, _)| {
                    let end = (i..routes.len())
                        .find(|&j| guard(&routes[j].cond).is_none_or(|(x, _)| x != s))
                        .unwrap_or(routes.len());
                    (s, end)
                })
                .filter(|&(_, end)| end - i >= MIN_INDEXED_RUN);
            match run {
                Some((signal, end)) => {
                    segments.push(Segment::Indexed {
                        routes: i..end,
                        signal,
                    });
                    i = end;
                }
                None => {
                    segments.push(Segment::Single(i));
                    i += 1;
                }
            }
        }
        Plan {
            program,
            layout,
            known_before,
            segments,
        }
    }

    /// Consecutive segments grouped into functions of about `part_weight` each. A jump
    /// table's run is cut too when it alone is larger, so no function grows without bound.
    fn parts(&self, part_weight: usize) -> Vec<Vec<Segment>> {
        let routes = &self.program.routes;
        let mut parts = Vec::new();
        let mut current = Vec::new();
        let mut size = 0;
        let mut close = |current: &mut Vec<Segment>, size: &mut usize| {
            if !current.is_empty() {
                parts.push(std::mem::take(current));
                *size = 0;
            }
        };
        for seg in &self.segments {
            match seg {
                Segment::Tier(tier) => {
                    let w: usize = tier.clone().map(|i| 2 * weight(&routes[i])).sum();
                    if size > 0 && size + w > part_weight {
                        close(&mut current, &mut size);
                    }
                    current.push(seg.clone());
                    size += w;
                }
                Segment::Single(i) => {
                    let w = weight(&routes[*i]);
                    if size > 0 && size + w > part_weight {
                        close(&mut current, &mut size);
                    }
                    current.push(seg.clone());
                    size += w;
                }
                Segment::Indexed {
                    routes: run,
                    signal,
                } => {
                    let mut start = run.start;
                    let mut w = 0;
                    for r in run.clone() {
                        let rw = weight(&routes[r]);
                        if w > 0 && w + rw > part_weight {
                            self.push_run(&mut current, start..r, *signal);
                            close(&mut current, &mut size);
                            start = r;
                            w = 0;
                        }
                        w += rw;
                    }
                    if size > 0 && size + w > part_weight {
                        close(&mut current, &mut size);
                    }
                    self.push_run(&mut current, start..run.end, *signal);
                    size += w;
                }
            }
        }
        close(&mut current, &mut size);
        parts
    }

    /// A piece of a jump-table run: still a table when long enough, else routes one by one.
    fn push_run(&self, out: &mut Vec<Segment>, run: std::ops::Range<usize>, signal: u32) {
        if run.len() >= MIN_INDEXED_RUN {
            out.push(Segment::Indexed {
                routes: run,
                signal,
            });
        } else {
            out.extend(run.map(Segment::Single));
        }
    }
}

fn isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    let mut flags = settings::builder();
    // Lowering already does what the decision needs (cheap tests first, jump tables, one
    // load per signal already read), so Cranelift's mid-end finds nothing that moves a
    // decision: with `speed` decisions took the same time within the noise and a 1,000-route
    // policy took a third longer to compile (BENCHMARKS.md, compile time).
    flags.set("opt_level", "none").map_err(err)?;
    // The verifier checks our code generation; debug builds (and so every test) run it,
    // release builds trust the property tests and save its time.
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    flags.set("enable_verifier", verify).map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)
}

impl Jit {
    pub fn compile(program: &Program, layout: Arc<Layout>, emit: Emit) -> Result<Jit, JitError> {
        Self::compile_with(
            program,
            layout,
            Options {
                emit,
                ..Options::default()
            },
        )
    }

    pub fn compile_with(
        program: &Program,
        layout: Arc<Layout>,
        options: Options,
    ) -> Result<Jit, JitError> {
        let isa = isa()?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()));
        let result = Self::define(&mut module, &*isa, program, &layout, options);
        match result {
            Ok((ids, clif, asm, code_size)) => {
                module.finalize_definitions().map_err(err)?;
                let entries = ids
                    .iter()
                    .map(|&id| {
                        let ptr = module.get_finalized_function(id);
                        // SAFETY: every part was declared with exactly `DecideFn`'s signature.
                        unsafe { std::mem::transmute::<*const u8, DecideFn>(ptr) }
                    })
                    .collect();
                let entries: Box<[DecideFn]> = entries;
                let Some(&first) = entries.first() else {
                    // SAFETY: no pointer into the module was kept.
                    unsafe { module.free_memory() };
                    return Err(JitError("the policy has no routes".into()));
                };
                Ok(Jit {
                    module: Some(module),
                    entries,
                    first,
                    layout,
                    slots: program.max_slots(),
                    clif,
                    asm,
                    code_size,
                })
            }
            Err(e) => {
                // SAFETY: nothing was finalized, so no pointer into the module exists.
                unsafe { module.free_memory() };
                Err(e)
            }
        }
    }

    /// Number of native functions the policy was compiled to.
    pub fn parts(&self) -> usize {
        self.entries.len()
    }

    #[allow(clippy::type_complexity)]
    fn define(
        module: &mut JITModule,
        isa: &dyn TargetIsa,
        program: &Program,
        layout: &Layout,
        options: Options,
    ) -> Result<
        (
            Vec<cranelift_module::FuncId>,
            Option<String>,
            Option<String>,
            usize,
        ),
        JitError,
    > {
        let ptr = module.target_config().pointer_type();
        let mut sig = module.make_signature();
        for _ in 0..2 {
            sig.params.push(AbiParam::new(ptr));
        }
        sig.returns.push(AbiParam::new(types::I32));
        let plan = Plan::new(program, layout);
        let parts = plan.parts(options.part_weight.max(1));
        let ids = (0..parts.len())
            .map(|k| {
                module
                    .declare_function(&format!("decide_{k}"), Linkage::Local, &sig)
                    .map_err(err)
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Parts are independent functions: compile them on every core. Each worker owns its
        // Cranelift contexts; the module is only touched here, once all are done.
        let next = AtomicUsize::new(0);
        let work = || -> Vec<(usize, Result<PartCode, JitError>)> {
            let mut ctx = Context::new();
            let mut fctx = FunctionBuilderContext::new();
            let mut done = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= parts.len() {
                    return done;
                }
                let code = compile_part(
                    &plan,
                    &parts[k],
                    isa,
                    &sig,
                    ids[k],
                    options.emit,
                    &mut ctx,
                    &mut fctx,
                );
                done.push((k, code));
            }
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(parts.len());
        let mut done = if workers <= 1 {
            work()
        } else {
            std::thread::scope(|scope| {
                let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
                let mut done = work();
                for h in helpers {
                    match h.join() {
                        Ok(d) => done.extend(d),
                        Err(_) => done.push((
                            usize::MAX,
                            Err(JitError("a code generation thread panicked".into())),
                        )),
                    }
                }
                done
            })
        };
        done.sort_by_key(|(k, _)| *k);
        let mut clif = options.emit.clif.then(String::new);
        let mut asm = options.emit.asm.then(String::new);
        let mut code_size = 0;
        for (k, code) in done {
            let code = code?;
            module
                .define_function_bytes(ids[k], code.alignment, &code.bytes, &code.relocs)
                .map_err(err)?;
            code_size += code.bytes.len();
            if let (Some(all), Some(part)) = (&mut clif, code.clif) {
                all.push_str(&part);
            }
            if let (Some(all), Some(part)) = (&mut asm, code.asm) {
                if parts.len() > 1 {
                    all.push_str(&format!("; decide_{k}\n"));
                }
                all.push_str(&part);
            }
        }
        Ok((ids, clif, asm, code_size))
    }

    /// Decides on `frame`, fetching unknown signals from `source`; writes the chosen leaf of
    /// each of the route's slots to `choices` and returns the route's index.
    ///
    /// Panics if `frame` was not made for this policy or `choices` is too short: native code
    /// trusts both.
    pub fn decide(
        &self,
        frame: &mut Frame,
        source: &mut dyn SignalSource,
        choices: &mut [u32],
    ) -> u32 {
        assert!(
            std::ptr::eq(frame.layout(), &*self.layout),
            "frame from another policy"
        );
        assert!(choices.len() >= self.slots, "choice buffer too short");
        let mut part = 0;
        let mut entry = self.first;
        let slots = choices.as_mut_ptr();
        loop {
            // SAFETY: the frame's buffer has the layout the code was generated for (checked
            // above) and `choices` holds every slot; the code touches nothing else.
            let result = unsafe { entry(frame.as_mut_ptr(), slots) };
            // The common case first: a route, decided by the first part.
            if result < NEED_SIGNAL {
                return result;
            }
            if result == NO_ROUTE {
                part += 1;
                match self.entries.get(part) {
                    Some(next) => entry = *next,
                    None => return NO_ROUTE,
                }
            } else {
                // The part stopped at a test of a signal not yet computed. Running it again
                // once the signal is in the frame repeats the same tests (the code has no
                // other effects) and goes on from there, so the signals read and the order
                // they are fetched in are those of evaluating straight through. Each retry
                // adds a signal to the frame, so this ends.
                frame::fetch(source, frame, result & !NEED_SIGNAL);
            }
        }
    }
}

/// Builds one part's function and compiles it to machine code.
#[allow(clippy::too_many_arguments)]
fn compile_part(
    plan: &Plan<'_>,
    segments: &[Segment],
    isa: &dyn TargetIsa,
    sig: &Signature,
    id: FuncId,
    emit: Emit,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<PartCode, JitError> {
    ctx.clear();
    ctx.func.signature = sig.clone();
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let mut g = Gen {
            b,
            layout: plan.layout,
            known: vec![false; plan.layout.signal_count()],
            frame: params[0],
            choices: params[1],
            need: vec![None; plan.layout.signal_count()],
        };
        g.part(plan, segments);
        g.need_blocks();
        g.b.seal_all_blocks();
        g.b.finalize(isa.frontend_config());
    }
    let clif = emit.clif.then(|| ctx.func.display().to_string());
    ctx.set_disasm(emit.asm);
    let res = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| err(e.inner))?;
    let alignment = u64::from(res.buffer.alignment)
        .max(u64::from(isa.function_alignment().minimum))
        .max(isa.symbol_alignment());
    let compiled = ctx
        .compiled_code()
        .ok_or_else(|| JitError("no code after compilation".into()))?;
    let relocs = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    Ok(PartCode {
        bytes: compiled.code_buffer().to_vec(),
        alignment,
        relocs,
        clif,
        asm: compiled.vcode.clone(),
    })
}

struct Gen<'a, 'f> {
    b: FunctionBuilder<'f>,
    layout: &'a Layout,
    /// Signals certainly computed and marked read where code is being emitted: their tests
    /// skip the status check and the read mark (absent values fail every test by layout).
    known: Vec<bool>,
    frame: Value,
    choices: Value,
    /// Per signal, the block that returns "fetch this signal" (shared by all its tests).
    need: Vec<Option<Block>>,
}

/// Shorter runs of guarded routes are cheaper tested one by one than through a jump table.
const MIN_INDEXED_RUN: usize = 4;

/// The label or string test a condition starts with, as (signal, values).
fn guard(e: &Expr) -> Option<(u32, &[u32])> {
    let first = match e {
        Expr::And(items) => items.first()?,
        e => e,
    };
    match first {
        Expr::Test(Test::LabelIn { signal, labels }) => Some((*signal, labels)),
        Expr::Test(Test::StrIn { signal, strings }) => Some((*signal, strings)),
        _ => None,
    }
}

/// Every access is to the frame or the choice buffer, which are aligned and valid.
fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn offset(at: usize) -> i32 {
    // Frames are far smaller than 2 GiB: a policy would need hundreds of millions of labels.
    i32::try_from(at).unwrap_or(i32::MAX)
}

impl Gen<'_, '_> {
    /// One part: its routes tested in order, each route's parameters chosen where its
    /// condition held. Falling through returns `u32::MAX`, so the caller tries the next part
    /// (the last part ends with the default route, which always matches).
    fn part(&mut self, plan: &Plan<'_>, segments: &[Segment]) {
        let routes = &plan.program.routes;
        let first = segments.first().map_or(0, |s| s.routes().start);
        let end = segments.last().map_or(0, |s| s.routes().end);
        let taken: Vec<Block> = (first..end).map(|_| self.b.create_block()).collect();
        for seg in segments {
            match seg {
                Segment::Indexed {
                    routes: run,
                    signal,
                } => {
                    self.indexed_run(
                        routes,
                        run.clone(),
                        *signal,
                        &taken,
                        first,
                        &plan.known_before,
                    );
                }
                Segment::Tier(tier) => self.tier(plan, tier.clone(), &taken, first),
                Segment::Single(i) => {
                    let next = self.b.create_block();
                    self.known.clone_from(&plan.known_before[*i]);
                    self.cond(&routes[*i].cond, taken[*i - first], next);
                    self.b.switch_to_block(next);
                }
            }
        }
        // No route of this part matched.
        let none = self.b.ins().iconst(types::I32, i64::from(u32::MAX));
        self.b.ins().return_(&[none]);

        let mut read = Vec::new();
        for i in first..end {
            let route = &routes[i];
            self.b.switch_to_block(taken[i - first]);
            // The route's condition held: it was evaluated, its first test included.
            self.known.clone_from(&plan.known_before[i]);
            read.clear();
            ir::certainly_read(&route.cond, &mut read);
            for &s in &read {
                self.known[s as usize] = true;
            }
            if let Action::Forward(f) = &route.action {
                for (k, slot) in f.slots.iter().enumerate() {
                    let done = self.b.create_block();
                    self.choice(&slot.choice, k, done);
                    self.b.switch_to_block(done);
                }
            }
            let r = self.b.ins().iconst(types::I32, i as i64);
            self.b.ins().return_(&[r]);
        }
    }

    /// Consecutive routes whose conditions all start with a test of which label (or string)
    /// one signal holds, when that signal is certainly in the frame: one jump table on its
    /// value leads to the few routes that label can match, instead of testing every route.
    /// The interpreter tests each guard in turn; the result and the signals read are the
    /// same, because the guard's signal was read already and a failed guard reads nothing
    /// else.
    fn indexed_run(
        &mut self,
        routes: &[ir::Route],
        run: std::ops::Range<usize>,
        signal: u32,
        taken: &[Block],
        first: usize,
        known_before: &[Vec<bool>],
    ) {
        let after = self.b.create_block();
        // The signal is certainly computed; absent, its value is no label and no string, so
        // the jump table's default skips the whole run.
        let value = self.b.ins().load(
            types::I32,
            mem(),
            self.frame,
            offset(self.layout.offsets[signal as usize]),
        );
        let mut values: Vec<u32> = run
            .clone()
            .flat_map(|r| {
                guard(&routes[r].cond)
                    .map_or(&[][..], |(_, ids)| ids)
                    .to_vec()
            })
            .collect();
        values.sort_unstable();
        values.dedup();
        let mut switch = Switch::new();
        let chains: Vec<(u32, Block)> = values
            .iter()
            .map(|&v| {
                let block = self.b.create_block();
                switch.set_entry(u128::from(v), block);
                (v, block)
            })
            .collect();
        switch.emit(&mut self.b, value, after);
        for (v, block) in chains {
            self.b.switch_to_block(block);
            // Later tests of each route run after its guard, which reads nothing new. The
            // routes of one chain run in turn, so what an earlier one certainly read is in the
            // frame for the later ones: their tests of it skip the status check and the fetch.
            let mut chain_read = Vec::new();
            for r in run.clone() {
                let Some((_, ids)) = guard(&routes[r].cond) else {
                    continue;
                };
                if !ids.contains(&v) {
                    continue;
                }
                match &routes[r].cond {
                    Expr::And(items) => {
                        self.known.clone_from(&known_before[r]);
                        for &s in &chain_read {
                            self.known[s as usize] = true;
                        }
                        let next = self.b.create_block();
                        self.junction(&items[1..], true, taken[r - first], next);
                        self.b.switch_to_block(next);
                        ir::certainly_read(&items[1], &mut chain_read);
                    }
                    _ => {
                        self.b.ins().jump(taken[r - first], &[]);
                        // Later routes of the chain are unreachable for this value; the
                        // block keeps the builder's invariant of a current open block.
                        let dead = self.b.create_block();
                        self.b.switch_to_block(dead);
                    }
                }
            }
            self.b.ins().jump(after, &[]);
        }
        self.b.switch_to_block(after);
    }

    /// A tier ranked by confidence: every route's condition is evaluated; each that holds is
    /// scored and kept if it is the first to hold or strictly more confident than the best so
    /// far (NaN compares false, as in the interpreter). The best route's parameters are
    /// chosen in its `taken` block; with no match, control goes on to the next tier.
    fn tier(
        &mut self,
        plan: &Plan<'_>,
        tier: std::ops::Range<usize>,
        taken: &[Block],
        first: usize,
    ) {
        let best_route = self.b.declare_var(types::I32);
        let best_conf = self.b.declare_var(types::F64);
        let none = self.b.ins().iconst(types::I32, i64::from(NO_ROUTE));
        let zero = self.b.ins().f64const(0.0);
        self.b.def_var(best_route, none);
        self.b.def_var(best_conf, zero);
        let mut read = Vec::new();
        for r in tier.clone() {
            let cond = &plan.program.routes[r].cond;
            self.known.clone_from(&plan.known_before[r]);
            let holds = self.b.create_block();
            let next = self.b.create_block();
            self.cond(cond, holds, next);

            self.b.switch_to_block(holds);
            read.clear();
            ir::certainly_read(cond, &mut read);
            for &s in &read {
                self.known[s as usize] = true;
            }
            let c = self.score(plan.program, plan.program.score(r));
            let route = self.b.use_var(best_route);
            let conf = self.b.use_var(best_conf);
            let first_match = self
                .b
                .ins()
                .icmp_imm_u(IntCC::Equal, route, i64::from(NO_ROUTE));
            // Ordered: false when either is NaN, like the interpreter's `>`.
            let better = self.b.ins().fcmp(FloatCC::GreaterThan, c, conf);
            let take = self.b.ins().bor(first_match, better);
            let this = self.b.ins().iconst(types::I32, r as i64);
            let route = self.b.ins().select(take, this, route);
            let conf = self.b.ins().select(take, c, conf);
            self.b.def_var(best_route, route);
            self.b.def_var(best_conf, conf);
            self.b.ins().jump(next, &[]);

            self.b.switch_to_block(next);
        }
        let route = self.b.use_var(best_route);
        let after = self.b.create_block();
        let mut switch = Switch::new();
        for r in tier {
            switch.set_entry(r as u128, taken[r - first]);
        }
        switch.emit(&mut self.b, route, after);
        self.b.switch_to_block(after);
    }

    /// The confidence of `e`, which holds where this code runs (as `interp::score`).
    fn score(&mut self, program: &Program, e: &Expr) -> Value {
        match e {
            Expr::True | Expr::Not(_) => self.b.ins().f64const(1.0),
            Expr::False => self.b.ins().f64const(0.0),
            Expr::And(items) => match items.split_first() {
                Some((first, rest)) => {
                    let mut sum = self.score(program, first);
                    for i in rest {
                        let x = self.score(program, i);
                        sum = self.b.ins().fadd(sum, x);
                    }
                    let n = self.b.ins().f64const(items.len() as f64);
                    self.b.ins().fdiv(sum, n)
                }
                None => self.b.ins().f64const(1.0),
            },
            Expr::Or(items) => {
                let best = self.b.declare_var(types::F64);
                let found = self.b.declare_var(types::I8);
                let zero = self.b.ins().f64const(0.0);
                let no = self.b.ins().iconst(types::I8, 0);
                self.b.def_var(best, zero);
                self.b.def_var(found, no);
                for item in items {
                    let holds = self.b.create_block();
                    let next = self.b.create_block();
                    self.cond(item, holds, next);
                    self.b.switch_to_block(holds);
                    let x = self.score(program, item);
                    let b = self.b.use_var(best);
                    let seen = self.b.use_var(found);
                    let unseen = self.b.ins().icmp_imm_u(IntCC::Equal, seen, 0);
                    let better = self.b.ins().fcmp(FloatCC::GreaterThan, x, b);
                    let take = self.b.ins().bor(unseen, better);
                    let b = self.b.ins().select(take, x, b);
                    self.b.def_var(best, b);
                    let yes = self.b.ins().iconst(types::I8, 1);
                    self.b.def_var(found, yes);
                    self.b.ins().jump(next, &[]);
                    self.b.switch_to_block(next);
                }
                self.b.use_var(best)
            }
            Expr::Test(t) => {
                self.ensure(t.signal());
                match interp::leaf_score(program, t) {
                    Some(field) => {
                        let at = self.layout.offsets[t.signal() as usize] + field;
                        self.b.ins().load(types::F64, mem(), self.frame, offset(at))
                    }
                    None => self.b.ins().f64const(1.0),
                }
            }
        }
    }

    fn choice(&mut self, c: &Choice, slot: usize, done: Block) {
        match c {
            Choice::Leaf(i) => {
                let v = self.b.ins().iconst(types::I32, i64::from(*i));
                self.b.ins().store(mem(), v, self.choices, offset(4 * slot));
                self.b.ins().jump(done, &[]);
            }
            Choice::If {
                cond,
                then,
                otherwise,
            } => {
                let t = self.b.create_block();
                let f = self.b.create_block();
                self.cond(cond, t, f);
                self.b.switch_to_block(t);
                self.choice(then, slot, done);
                self.b.switch_to_block(f);
                self.choice(otherwise, slot, done);
            }
        }
    }

    /// Jumping code: control reaches `t` if `e` holds, `f` otherwise.
    fn cond(&mut self, e: &Expr, t: Block, f: Block) {
        match e {
            Expr::True => {
                self.b.ins().jump(t, &[]);
            }
            Expr::False => {
                self.b.ins().jump(f, &[]);
            }
            Expr::And(items) => self.junction(items, true, t, f),
            Expr::Or(items) => self.junction(items, false, t, f),
            Expr::Not(inner) => self.cond(inner, f, t),
            Expr::Test(test) => self.test(test, t, f),
        }
    }

    /// Jumping code for `and` (or `or`) of `items`.
    fn junction(&mut self, items: &[Expr], and: bool, t: Block, f: Block) {
        if items.is_empty() {
            self.b.ins().jump(if and { t } else { f }, &[]);
            return;
        }
        // Operands after the first run only once it was evaluated, so the signals it
        // certainly reads are known to them.
        let saved = self.known.clone();
        let mut read = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if i + 1 == items.len() {
                self.cond(item, t, f);
            } else {
                let next = self.b.create_block();
                if and {
                    self.cond(item, next, f);
                } else {
                    self.cond(item, t, next);
                }
                self.b.switch_to_block(next);
                read.clear();
                ir::certainly_read(item, &mut read);
                for &s in &read {
                    self.known[s as usize] = true;
                }
            }
        }
        self.known = saved;
    }

    /// The block that asks the caller to fetch signal `s`.
    fn need_block(&mut self, s: u32) -> Block {
        if let Some(b) = self.need[s as usize] {
            return b;
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        self.need[s as usize] = Some(b);
        b
    }

    /// Fills in the blocks made by [`Gen::need_block`].
    fn need_blocks(&mut self) {
        for s in 0..self.need.len() {
            if let Some(b) = self.need[s] {
                self.b.switch_to_block(b);
                let r = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(NEED_SIGNAL | s as u32));
                self.b.ins().return_(&[r]);
            }
        }
    }

    fn test(&mut self, test: &Test, t: Block, f: Block) {
        let s = test.signal();
        self.ensure(s);
        let at = self.layout.offsets[s as usize];
        let holds = self.holds(test, at);
        self.b.ins().brif(holds, t, &[], f, &[]);
    }

    /// Makes sure signal `s` is in the frame (else returns "need signal") and marks it read.
    fn ensure(&mut self, s: u32) {
        if !self.known[s as usize] {
            let status = self.b.ins().uload8(
                types::I32,
                mem(),
                self.frame,
                offset(self.layout.status_offset(s)),
            );
            let value = self.b.create_block();
            let need = self.need_block(s);
            self.b.ins().brif(status, value, &[], need, &[]);

            self.b.switch_to_block(value);
            let one = self.b.ins().iconst(types::I32, 1);
            self.b
                .ins()
                .istore8(mem(), one, self.frame, offset(self.layout.read_offset(s)));
        }
    }

    /// Whether `test` holds, on the value of its signal at `at` (in the frame).
    fn holds(&mut self, test: &Test, at: usize) -> Value {
        match test {
            Test::Bool { value, .. } => {
                let v = self
                    .b
                    .ins()
                    .uload8(types::I32, mem(), self.frame, offset(at));
                self.b.ins().icmp_imm_u(IntCC::Equal, v, i64::from(*value))
            }
            Test::Cmp { read, op, value } => {
                let field = match *read {
                    Read::Value(_) | Read::Count(_) => at,
                    Read::Confidence(_) => at + 8,
                    Read::Prob(_, l) => at + 16 + 8 * l as usize,
                };
                let x = self
                    .b
                    .ins()
                    .load(types::F64, mem(), self.frame, offset(field));
                let c = self.b.ins().f64const(*value);
                // Cranelift's ordered conditions are false on NaN, as the language wants.
                let cc = match op {
                    Op::Eq => FloatCC::Equal,
                    Op::Lt => FloatCC::LessThan,
                    Op::Le => FloatCC::LessThanOrEqual,
                    Op::Gt => FloatCC::GreaterThan,
                    Op::Ge => FloatCC::GreaterThanOrEqual,
                };
                self.b.ins().fcmp(cc, x, c)
            }
            Test::LabelIn { labels: ids, .. } | Test::StrIn { strings: ids, .. } => {
                let v = self.b.ins().load(types::I32, mem(), self.frame, offset(at));
                self.member(v, ids)
            }
            Test::Contains { label, .. } => {
                let w = self.b.ins().load(
                    types::I64,
                    mem(),
                    self.frame,
                    offset(at + 8 + 8 * (*label as usize / 64)),
                );
                let bit = self.b.ins().band_imm_u(w, (1u64 << (label % 64)) as i64);
                self.b.ins().icmp_imm_u(IntCC::NotEqual, bit, 0)
            }
        }
    }

    /// `v` is one of `ids`: a bit test against a constant mask when every id is below 64,
    /// a few comparisons otherwise.
    fn member(&mut self, v: Value, ids: &[u32]) -> Value {
        if ids.is_empty() {
            return self.b.ins().iconst(types::I8, 0);
        }
        if ids.len() > 2 && ids.iter().all(|&i| i < 64) {
            let mask = ids.iter().fold(0u64, |m, &i| m | 1 << i);
            // The shift amount is taken modulo 64, so an id of 64 or more (such as the
            // "no label" marker) must be ruled out separately.
            let small = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, v, 64);
            let wide = self.b.ins().uextend(types::I64, v);
            let m = self.b.ins().iconst(types::I64, mask as i64);
            let shifted = self.b.ins().ushr(m, wide);
            let bit = self.b.ins().band_imm_u(shifted, 1);
            let set = self.b.ins().icmp_imm_u(IntCC::NotEqual, bit, 0);
            return self.b.ins().band(small, set);
        }
        let mut acc = self.b.ins().icmp_imm_u(IntCC::Equal, v, i64::from(ids[0]));
        for &id in &ids[1..] {
            let eq = self.b.ins().icmp_imm_u(IntCC::Equal, v, i64::from(id));
            acc = self.b.ins().bor(acc, eq);
        }
        acc
    }
}
