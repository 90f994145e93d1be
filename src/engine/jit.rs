//! The Cranelift JIT: a whole policy becomes one native function.
//!
//! ```text
//! decide(frame: *mut u8, choices: *mut u32, ctx: *mut c_void, fetch: fn(ctx, signal) -> status) -> route
//! ```
//!
//! Conditions are jumping code: every `and`/`or`/`not` is branches between blocks, never a
//! boolean value, so evaluation stops at the first operand that settles it. Each test loads
//! the signal's status byte; an unknown signal is fetched through `fetch` (a cold block), then
//! the read byte is set and the value compared. The first route whose condition holds writes
//! the chosen leaf of each of its parameter slots to `choices` and returns its index. The
//! function touches only the frame and the choice buffer: no allocation, no lock.

use std::ffi::c_void;
use std::sync::Arc;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, InstBuilder, MemFlagsData, SigRef, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use super::frame::{self, Frame, Layout, SignalSource};
use super::ir::{self, Action, Choice, Expr, Op, Program, Read, Test};

type FetchFn = unsafe extern "C" fn(*mut c_void, u32) -> u32;
type DecideFn = unsafe extern "C" fn(*mut u8, *mut u32, *mut c_void, FetchFn) -> u32;

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
    entry: DecideFn,
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

struct FetchCtx<'a> {
    frame: *mut Frame,
    source: &'a mut dyn SignalSource,
}

/// Called by native code for a signal whose status is unknown.
unsafe extern "C" fn fetch_trampoline(ctx: *mut c_void, signal: u32) -> u32 {
    // SAFETY: `ctx` is the `FetchCtx` that `Jit::decide` put on its stack for this call.
    let ctx = unsafe { &mut *ctx.cast::<FetchCtx<'_>>() };
    // SAFETY: the frame outlives the decision, and native code does not touch it while the
    // callback runs. `fetch` catches panics, so none unwinds into native code.
    u32::from(frame::fetch(ctx.source, unsafe { &mut *ctx.frame }, signal))
}

impl Jit {
    pub fn compile(program: &Program, layout: Arc<Layout>, emit: Emit) -> Result<Jit, JitError> {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(err)?;
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
        let isa = cranelift_native::builder()
            .map_err(err)?
            .finish(settings::Flags::new(flags))
            .map_err(err)?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        match Self::define(&mut module, program, &layout, emit) {
            Ok((id, clif, asm, code_size)) => {
                module.finalize_definitions().map_err(err)?;
                let ptr = module.get_finalized_function(id);
                // SAFETY: the function was declared with exactly `DecideFn`'s signature.
                let entry = unsafe { std::mem::transmute::<*const u8, DecideFn>(ptr) };
                Ok(Jit {
                    module: Some(module),
                    entry,
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

    #[allow(clippy::type_complexity)]
    fn define(
        module: &mut JITModule,
        program: &Program,
        layout: &Layout,
        emit: Emit,
    ) -> Result<
        (
            cranelift_module::FuncId,
            Option<String>,
            Option<String>,
            usize,
        ),
        JitError,
    > {
        let frontend = module.target_config();
        let ptr = frontend.pointer_type();
        let mut sig = module.make_signature();
        for _ in 0..4 {
            sig.params.push(AbiParam::new(ptr));
        }
        sig.returns.push(AbiParam::new(types::I32));
        let id = module
            .declare_function("decide", Linkage::Local, &sig)
            .map_err(err)?;

        let mut fetch_sig = module.make_signature();
        fetch_sig.params.push(AbiParam::new(ptr));
        fetch_sig.params.push(AbiParam::new(types::I32));
        fetch_sig.returns.push(AbiParam::new(types::I32));

        let mut ctx: Context = module.make_context();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let params = b.block_params(entry).to_vec();
            let fetch_sig = b.import_signature(fetch_sig);
            let mut g = Gen {
                b,
                layout,
                known: vec![false; layout.signal_count()],
                frame: params[0],
                choices: params[1],
                ctx: params[2],
                fetch: params[3],
                fetch_sig,
            };
            g.policy(program);
            g.b.seal_all_blocks();
            g.b.finalize(frontend);
        }
        let clif = emit.clif.then(|| ctx.func.display().to_string());
        ctx.set_disasm(emit.asm);
        module.define_function(id, &mut ctx).map_err(err)?;
        let compiled = ctx.compiled_code();
        let asm = compiled.and_then(|c| c.vcode.clone());
        let code_size = compiled.map_or(0, |c| c.code_buffer().len());
        module.clear_context(&mut ctx);
        Ok((id, clif, asm, code_size))
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
        let frame_ptr: *mut Frame = frame;
        let mut ctx = FetchCtx {
            frame: frame_ptr,
            source,
        };
        // SAFETY: the frame's buffer has the layout the code was generated for (checked
        // above), `choices` holds every slot, and `ctx` lives until the call returns.
        unsafe {
            let buf = (*frame_ptr).as_mut_ptr();
            (self.entry)(
                buf,
                choices.as_mut_ptr(),
                (&mut ctx as *mut FetchCtx<'_>).cast(),
                fetch_trampoline,
            )
        }
    }
}

struct Gen<'a, 'f> {
    b: FunctionBuilder<'f>,
    layout: &'a Layout,
    /// Signals certainly computed and marked read where code is being emitted: their tests
    /// skip the status check and the read mark (absent values fail every test by layout).
    known: Vec<bool>,
    frame: Value,
    choices: Value,
    ctx: Value,
    fetch: Value,
    fetch_sig: SigRef,
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
    fn policy(&mut self, program: &Program) {
        let routes = &program.routes;
        let taken: Vec<Block> = routes.iter().map(|_| self.b.create_block()).collect();
        // Which signals are in the frame before each route: those every earlier route's
        // condition reads first (it was evaluated, and failed).
        let mut known = vec![false; self.layout.signal_count()];
        let mut known_before = Vec::with_capacity(routes.len());
        for r in routes {
            known_before.push(known.clone());
            let mut read = Vec::new();
            ir::certainly_read(&r.cond, &mut read);
            for s in read {
                known[s as usize] = true;
            }
        }
        let mut i = 0;
        while i < routes.len() {
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
                    self.indexed_run(routes, i..end, signal, &taken);
                    i = end;
                }
                None => {
                    let next = self.b.create_block();
                    self.known.clone_from(&known_before[i]);
                    self.cond(&routes[i].cond, taken[i], next);
                    self.b.switch_to_block(next);
                    i += 1;
                }
            }
        }
        // No route matched: only possible for a program without a default route.
        let none = self.b.ins().iconst(types::I32, i64::from(u32::MAX));
        self.b.ins().return_(&[none]);

        for (i, route) in routes.iter().enumerate() {
            self.b.switch_to_block(taken[i]);
            // The route's condition held: it was evaluated, its first test included.
            self.known.clone_from(&known_before[i]);
            let mut read = Vec::new();
            ir::certainly_read(&route.cond, &mut read);
            for s in read {
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
            // Later tests of each route run after its guard, which reads nothing new.
            for r in run.clone() {
                let Some((_, ids)) = guard(&routes[r].cond) else {
                    continue;
                };
                if !ids.contains(&v) {
                    continue;
                }
                match &routes[r].cond {
                    Expr::And(items) if items.len() > 2 => {
                        let next = self.b.create_block();
                        self.cond(&Expr::And(items[1..].to_vec()), taken[r], next);
                        self.b.switch_to_block(next);
                    }
                    Expr::And(items) => {
                        let next = self.b.create_block();
                        self.cond(&items[1], taken[r], next);
                        self.b.switch_to_block(next);
                    }
                    _ => {
                        self.b.ins().jump(taken[r], &[]);
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
            Expr::And(items) | Expr::Or(items) => {
                let and = matches!(e, Expr::And(_));
                if items.is_empty() {
                    self.b.ins().jump(if and { t } else { f }, &[]);
                    return;
                }
                // Operands after the first run only once it was evaluated, so the signals
                // it certainly reads are known to them.
                let saved = self.known.clone();
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
                        let mut read = Vec::new();
                        ir::certainly_read(item, &mut read);
                        for s in read {
                            self.known[s as usize] = true;
                        }
                    }
                }
                self.known = saved;
            }
            Expr::Not(inner) => self.cond(inner, f, t),
            Expr::Test(test) => self.test(test, t, f),
        }
    }

    fn test(&mut self, test: &Test, t: Block, f: Block) {
        let s = test.signal();
        if !self.known[s as usize] {
            let status = self.b.ins().uload8(
                types::I32,
                mem(),
                self.frame,
                offset(self.layout.status_offset(s)),
            );
            let fetch = self.b.create_block();
            let value = self.b.create_block();
            self.b.ins().brif(status, value, &[], fetch, &[]);

            self.b.switch_to_block(fetch);
            self.b.set_cold_block(fetch);
            let signal = self.b.ins().iconst(types::I32, i64::from(s));
            // The callback stores the value (or the absent marker) in the frame; its status
            // result is not needed because absence is in the value.
            self.b
                .ins()
                .call_indirect(self.fetch_sig, self.fetch, &[self.ctx, signal]);
            self.b.ins().jump(value, &[]);

            self.b.switch_to_block(value);
            let one = self.b.ins().iconst(types::I32, 1);
            self.b
                .ins()
                .istore8(mem(), one, self.frame, offset(self.layout.read_offset(s)));
        }
        let at = self.layout.offsets[s as usize];
        let holds = match test {
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
        };
        self.b.ins().brif(holds, t, &[], f, &[]);
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
