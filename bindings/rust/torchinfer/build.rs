//! Embeds an rpath to the libtorchinfer directory found by torchinfer-sys into this crate's
//! own tests, doc tests and benchmarks, so `cargo test` runs without LD_LIBRARY_PATH.
//! (Cargo applies link args only to the package that prints them; binaries of other crates
//! need LD_LIBRARY_PATH or their own build.rs: see the README.)
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TORCHINFER_LIB_DIR");
    if let Some(dirs) = std::env::var_os("DEP_TORCHINFER_LIB_DIR") {
        for dir in std::env::split_paths(&dirs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
}
