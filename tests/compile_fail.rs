//! The typestate guarantees, and the API's room to grow (options with
//! private fields, error variants that need `..`), proven by programs that
//! must not compile (`tests/ui/fail/`, each with the compiler's message
//! pinned in its `.stderr`). Their well-formed counterpart is `tests/typestate.rs`: with
//! no passing case in that batch, trybuild only type-checks (`cargo check`),
//! it never builds nor links.
//!
//! A second, smaller batch must be built: an `Identity` that does not parse
//! is a constant evaluated when the item's manifest code is instantiated,
//! which `cargo check` does not do (`tests/ui/build_fail/`, with its
//! well-formed counterpart in `tests/ui/build_pass/`).
//!
//! A target outside `cargo test --all-targets` (`test = false` in
//! Cargo.toml): `cargo test --test compile_fail`, as CI runs it.

#[test]
fn misuse_does_not_compile() {
    // One batch after the other: both use trybuild's one project directory.
    {
        let checked = trybuild::TestCases::new();
        checked.compile_fail("tests/ui/fail/*.rs");
    }
    let built = trybuild::TestCases::new();
    built.pass("tests/ui/build_pass/*.rs");
    built.compile_fail("tests/ui/build_fail/*.rs");
}
