//! Embeds an rpath to the libtorchinfer directory found by torchinfer-sys into this crate's
//! own tests, doc tests and benchmarks, so `cargo test` runs without LD_LIBRARY_PATH.
//! (Cargo applies link args only to the package that prints them; binaries of other crates
//! need their own build.rs: see the README.)
fn main() {
    // Unset only where torchinfer-sys skips the search (docs.rs).
    if let Ok(lib_dir) = std::env::var("DEP_TORCHINFER_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
}
