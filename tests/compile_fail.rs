//! The typestate guarantees, proven by programs that must not compile
//! (`tests/ui/fail/`, each with the compiler's message pinned in its
//! `.stderr`). Their well-formed counterpart is `tests/typestate.rs`: with
//! no passing case here, trybuild only type-checks (`cargo check`), it never
//! builds nor links.
//!
//! A target outside `cargo test --all-targets` (`test = false` in
//! Cargo.toml): `cargo test --test compile_fail`, as CI runs it.

#[test]
fn misuse_does_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
