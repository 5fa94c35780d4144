//! Embeds an rpath to the libtorchinfer directory that torchinfer-sys found, so the binary
//! runs without LD_LIBRARY_PATH. (DEP_TORCHINFER_LIB_DIR reaches this script because the
//! crate depends on torchinfer-sys directly.)
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TORCHINFER_LIB_DIR");
    if let Some(dirs) = std::env::var_os("DEP_TORCHINFER_LIB_DIR") {
        for dir in std::env::split_paths(&dirs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
}
