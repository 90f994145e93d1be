//! Generates the policy parser from grammar/policy.lalrpop.

fn main() {
    println!("cargo:rerun-if-changed=grammar/policy.lalrpop");
    lalrpop::Configuration::new()
        .set_in_dir("grammar")
        .set_out_dir(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .emit_rerun_directives(true)
        .process()
        .expect("the grammar in grammar/policy.lalrpop must be valid");
}
