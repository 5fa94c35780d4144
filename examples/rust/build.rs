//! Embeds an rpath to the libtorchinfer directory that torchinfer-sys found, so the binaries
//! run without LD_LIBRARY_PATH: the three lines the README gives downstream crates.
//! (DEP_TORCHINFER_LIB_DIR reaches this script because the crate depends on torchinfer-sys
//! directly, and it changes, rerunning this script, whenever torchinfer-sys finds the library
//! somewhere else.)
fn main() {
    let lib_dir = std::env::var("DEP_TORCHINFER_LIB_DIR").unwrap();
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
}
