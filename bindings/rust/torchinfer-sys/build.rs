//! Finds libtorchinfer and generates the raw bindings from include/torchinfer.h.
//!
//! Search order (the first that applies wins):
//!   1. TORCHINFER_LIB_DIR (directory of libtorchinfer.so) and TORCHINFER_INCLUDE_DIR
//!      (a path list, `:`-separated, holding torchinfer.h and torchinfer/version.h).
//!      When TORCHINFER_INCLUDE_DIR is unset: <lib dir>/include, <lib dir>/../include and
//!      <lib dir>/../../include are tried (a build tree has version.h in <build>/include and
//!      the header in <repo>/include; an install prefix has both in <prefix>/include).
//!   2. pkg-config (`torchinfer.pc`; point PKG_CONFIG_PATH at the build directory or the
//!      install prefix's lib/pkgconfig).
//!   3. The repository's build tree relative to this crate: ../../../build, if it exists.
//!
//! Exported to dependents' build scripts (through `links = "torchinfer"`):
//!   DEP_TORCHINFER_LIB_DIR, DEP_TORCHINFER_INCLUDE (path list), DEP_TORCHINFER_HEADER.
//! The library directory is also written as an rpath into this crate's own test binaries;
//! other binaries need LD_LIBRARY_PATH, an installed library, or a `build.rs` that reads
//! DEP_TORCHINFER_LIB_DIR (see the README).

use std::env;
use std::path::{Path, PathBuf};

struct Found {
    lib_dirs: Vec<PathBuf>,
    include_dirs: Vec<PathBuf>,
    /// Whether the link flags were already printed (pkg-config does that itself).
    linked: bool,
}

fn main() {
    for var in [
        "TORCHINFER_LIB_DIR",
        "TORCHINFER_INCLUDE_DIR",
        "PKG_CONFIG_PATH",
        "LIBCLANG_PATH",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let mut pkg_config_error = String::new();
    let found = from_env()
        .or_else(|| from_pkg_config().map_err(|e| pkg_config_error = e).ok())
        .or_else(from_repo_build_tree)
        .unwrap_or_else(|| {
            panic!(
                "torchinfer-sys: libtorchinfer not found. Build it (cmake -S . -B build -G Ninja && \
                 ninja -C build), then set PKG_CONFIG_PATH=<build dir>, or TORCHINFER_LIB_DIR \
                 (and TORCHINFER_INCLUDE_DIR). pkg-config said: {pkg_config_error}"
            )
        });

    if !found.linked {
        for dir in &found.lib_dirs {
            println!("cargo:rustc-link-search=native={}", dir.display());
        }
        println!("cargo:rustc-link-lib=dylib=torchinfer");
    }
    for dir in &found.lib_dirs {
        // Applies to this crate's own tests; dependents get DEP_TORCHINFER_LIB_DIR instead.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }

    let header = found
        .include_dirs
        .iter()
        .map(|d| d.join("torchinfer.h"))
        .find(|h| h.is_file())
        .unwrap_or_else(|| {
            panic!(
                "torchinfer-sys: torchinfer.h not found in {:?} (set TORCHINFER_INCLUDE_DIR)",
                found.include_dirs
            )
        });
    println!("cargo:rerun-if-changed={}", header.display());
    for dir in &found.include_dirs {
        let version_h = dir.join("torchinfer").join("version.h");
        if version_h.is_file() {
            println!("cargo:rerun-if-changed={}", version_h.display());
        }
    }

    let join = |dirs: &[PathBuf]| {
        env::join_paths(dirs)
            .expect("paths contain the separator")
            .into_string()
            .expect("non-UTF-8 path")
    };
    // Metadata for dependents' build scripts (DEP_TORCHINFER_*).
    println!("cargo:lib_dir={}", join(&found.lib_dirs));
    println!("cargo:include={}", join(&found.include_dirs));
    println!("cargo:header={}", header.display());
    // For this crate's header-consistency test.
    println!("cargo:rustc-env=TORCHINFER_SYS_HEADER={}", header.display());

    let mut builder = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .allowlist_function("ti_.*")
        .allowlist_type("ti_.*")
        .allowlist_var("TI_.*")
        // Constified enums: ti_code_t / ti_dtype_t are plain integers with named constants, so a
        // value this build does not know (a newer library adds a code) is never undefined behaviour.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate_comments(true)
        .merge_extern_blocks(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for dir in &found.include_dirs {
        builder = builder.clang_arg(format!("-I{}", dir.display()));
    }
    let bindings = builder
        .generate()
        .expect("torchinfer-sys: bindgen failed on torchinfer.h");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("bindings.rs");
    bindings
        .write_to_file(&out)
        .expect("torchinfer-sys: cannot write bindings.rs");
}

fn include_candidates(lib_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![lib_dir.join("include")];
    if let Some(parent) = lib_dir.parent() {
        dirs.push(parent.join("include"));
        if let Some(grand) = parent.parent() {
            dirs.push(grand.join("include"));
        }
    }
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

fn from_env() -> Option<Found> {
    let lib_dirs: Vec<PathBuf> = env::split_paths(&env::var_os("TORCHINFER_LIB_DIR")?)
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    let include_dirs = match env::var_os("TORCHINFER_INCLUDE_DIR") {
        Some(v) => env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => lib_dirs
            .iter()
            .flat_map(|d| include_candidates(d))
            .collect(),
    };
    Some(Found {
        lib_dirs,
        include_dirs,
        linked: false,
    })
}

fn from_pkg_config() -> Result<Found, String> {
    match pkg_config::Config::new()
        .atleast_version("0.1")
        .cargo_metadata(true)
        .probe("torchinfer")
    {
        Ok(lib) => Ok(Found {
            lib_dirs: lib.link_paths,
            include_dirs: lib.include_paths,
            linked: true,
        }),
        Err(e) => Err(e.to_string()),
    }
}

fn from_repo_build_tree() -> Option<Found> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let repo = manifest.join("../../..");
    let build = repo.join("build");
    if !build.join("libtorchinfer.so").exists() && !build.join("libtorchinfer.dylib").exists() {
        return None;
    }
    let build = build.canonicalize().ok()?;
    let repo = repo.canonicalize().ok()?;
    Some(Found {
        lib_dirs: vec![build.clone()],
        include_dirs: vec![repo.join("include"), build.join("include")],
        linked: false,
    })
}
