//! Finds libtorchinfer and tells Cargo how to link it. The bindings are pre-generated
//! (src/bindings.rs), so no header and no libclang are needed; with the `bindgen` feature they
//! are generated again from torchinfer.h into OUT_DIR and used instead.
//!
//! Where the library is looked for (the first that is set or found wins):
//!   1. TORCHINFER_LIB_DIR: a directory holding libtorchinfer.so, e.g. any CMake build tree.
//!   2. TORCHINFER_DIR: an install prefix (`cmake --install <build> --prefix <dir>`), with the
//!      library in <dir>/lib (or lib64, lib/<multiarch>) and the headers in <dir>/include.
//!   3. pkg-config (`torchinfer.pc`): the install prefix's lib/pkgconfig or a build tree, through
//!      PKG_CONFIG_PATH.
//!   4. The repository's build tree next to this crate (../../../build), when building in the
//!      repository.
//!
//! The headers (only read with the `bindgen` feature) come from TORCHINFER_INCLUDE_DIR (a path
//! list), else the prefix's or pkg-config's include directories, else <lib dir>/include (a
//! build tree's generated version.h) plus the repository's include/.
//!
//! Printed for Cargo: the link search path and `-ltorchinfer`; an rpath to the library
//! directory for this package's own tests (Cargo applies link arguments only to the package
//! whose build script prints them); and, through `links = "torchinfer"`, metadata that the
//! build scripts of packages depending directly on this one read as
//!   DEP_TORCHINFER_ROOT     the prefix (or build tree) the library was found in
//!   DEP_TORCHINFER_LIB_DIR  the directory holding libtorchinfer.so (one path)
//!   DEP_TORCHINFER_INCLUDE  the include directories found (a path list; may be empty)
//! A downstream binary embeds the rpath with a three-line build.rs (see README.md).

use std::env;
use std::path::{Path, PathBuf};

struct Found {
    /// Where it was found: "TORCHINFER_LIB_DIR", "TORCHINFER_DIR", "pkg-config", "repository".
    how: &'static str,
    root: PathBuf,
    lib_dir: PathBuf,
    include_dirs: Vec<PathBuf>,
}

const LIB_NAMES: [&str; 3] = ["libtorchinfer.so", "libtorchinfer.dylib", "torchinfer.lib"];

fn has_library(dir: &Path) -> bool {
    LIB_NAMES.iter().any(|n| dir.join(n).exists())
}

fn absolute(p: PathBuf) -> PathBuf {
    p.canonicalize().unwrap_or(p)
}

fn main() {
    for var in [
        "TORCHINFER_LIB_DIR",
        "TORCHINFER_DIR",
        "TORCHINFER_INCLUDE_DIR",
        "PKG_CONFIG_PATH",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    if env::var_os("DOCS_RS").is_some() {
        return; // docs.rs builds documentation only, without the library
    }

    let found = find().unwrap_or_else(|why| panic!("torchinfer-sys: {why}"));

    println!("cargo:rustc-link-search=native={}", found.lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=torchinfer");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        // Reaches only this package's tests; dependents use DEP_TORCHINFER_LIB_DIR.
        println!(
            "cargo:rustc-link-arg=-Wl,-rpath,{}",
            found.lib_dir.display()
        );
    }

    println!("cargo:root={}", found.root.display());
    println!("cargo:lib_dir={}", found.lib_dir.display());
    println!(
        "cargo:include={}",
        env::join_paths(&found.include_dirs)
            .expect("an include directory contains the path separator")
            .to_string_lossy()
    );

    // For this package's header test (tests/header.rs compares the version constants).
    println!(
        "cargo:rustc-env=TORCHINFER_SYS_INCLUDE={}",
        env::join_paths(&found.include_dirs)
            .expect("an include directory contains the path separator")
            .to_string_lossy()
    );

    check_version(&found);

    #[cfg(feature = "bindgen")]
    generate(&found);
}

fn find() -> Result<Found, String> {
    if let Some(dir) = env::var_os("TORCHINFER_LIB_DIR").filter(|v| !v.is_empty()) {
        let lib_dir = absolute(PathBuf::from(dir));
        if !has_library(&lib_dir) {
            return Err(format!(
                "TORCHINFER_LIB_DIR={} holds no libtorchinfer.so",
                lib_dir.display()
            ));
        }
        let include_dirs = include_dir_override().unwrap_or_else(|| {
            let mut dirs = vec![lib_dir.join("include")];
            dirs.extend(repo_include());
            dirs
        });
        return Ok(Found {
            how: "TORCHINFER_LIB_DIR",
            root: lib_dir.clone(),
            lib_dir,
            include_dirs: existing(include_dirs),
        });
    }

    if let Some(prefix) = env::var_os("TORCHINFER_DIR").filter(|v| !v.is_empty()) {
        let prefix = absolute(PathBuf::from(prefix));
        let mut candidates = vec![prefix.join("lib"), prefix.join("lib64")];
        if let (Ok(arch), Ok(os)) = (
            env::var("CARGO_CFG_TARGET_ARCH"),
            env::var("CARGO_CFG_TARGET_OS"),
        ) {
            let env_ = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
            candidates.push(prefix.join("lib").join(format!("{arch}-{os}-{env_}")));
        }
        let lib_dir = candidates
            .into_iter()
            .find(|d| has_library(d))
            .ok_or_else(|| {
                format!(
                    "TORCHINFER_DIR={} holds no lib/libtorchinfer.so (nor lib64/); make it with \
                 `cmake --install <build dir> --prefix {}`",
                    prefix.display(),
                    prefix.display()
                )
            })?;
        let include_dirs = include_dir_override().unwrap_or_else(|| vec![prefix.join("include")]);
        return Ok(Found {
            how: "TORCHINFER_DIR",
            root: prefix,
            lib_dir,
            include_dirs: existing(include_dirs),
        });
    }

    let pkg_config_error = match from_pkg_config() {
        Ok(found) => return Ok(found),
        Err(e) => e,
    };

    if let Some(found) = from_repo_build_tree() {
        return Ok(found);
    }

    Err(format!(
        "libtorchinfer not found. Set TORCHINFER_DIR to an install prefix (`cmake --install \
         build --prefix <dir>`), TORCHINFER_LIB_DIR to a build directory holding \
         libtorchinfer.so, or PKG_CONFIG_PATH to a directory holding torchinfer.pc. \
         pkg-config said: {pkg_config_error}"
    ))
}

fn include_dir_override() -> Option<Vec<PathBuf>> {
    let v = env::var_os("TORCHINFER_INCLUDE_DIR").filter(|v| !v.is_empty())?;
    Some(env::split_paths(&v).map(absolute).collect())
}

fn existing(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if d.is_dir() && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// `<repo>/include` when this crate is built inside the repository.
fn repo_include() -> Option<PathBuf> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let dir = manifest.join("../../../include");
    dir.join("torchinfer.h").is_file().then(|| absolute(dir))
}

fn from_pkg_config() -> Result<Found, String> {
    let lib = pkg_config::Config::new()
        .atleast_version("0.1")
        .cargo_metadata(false)
        .env_metadata(true)
        .probe("torchinfer")
        .map_err(|e| e.to_string())?;
    let lib_dir = lib
        .link_paths
        .iter()
        .find(|d| has_library(d))
        .cloned()
        .ok_or_else(|| {
            format!(
                "torchinfer.pc names no directory holding libtorchinfer.so: {:?}",
                lib.link_paths
            )
        })?;
    let root = pkg_config::get_variable("torchinfer", "prefix")
        .ok()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| lib_dir.clone());
    let include_dirs = include_dir_override().unwrap_or(lib.include_paths);
    Ok(Found {
        how: "pkg-config",
        root: absolute(root),
        lib_dir: absolute(lib_dir),
        include_dirs: existing(include_dirs.into_iter().map(absolute).collect()),
    })
}

fn from_repo_build_tree() -> Option<Found> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let build = manifest.join("../../../build");
    if !has_library(&build) {
        return None;
    }
    let build = absolute(build);
    let mut include_dirs = vec![build.join("include")];
    include_dirs.extend(repo_include());
    Some(Found {
        how: "repository",
        root: build.clone(),
        lib_dir: build,
        include_dirs: existing(include_dir_override().unwrap_or(include_dirs)),
    })
}

/// `#define NAME <integer>` from torchinfer/version.h.
fn version_macro(version_h: &str, name: &str) -> Option<u64> {
    version_h.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("#define") && words.next() == Some(name))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

/// Warns when the library's headers (if found) are of another ABI than the bindings: a
/// different major version, or an older minor version that may lack functions they declare.
fn check_version(found: &Found) {
    let Some(version_h) = found
        .include_dirs
        .iter()
        .map(|d| d.join("torchinfer").join("version.h"))
        .find(|p| p.is_file())
    else {
        return;
    };
    println!("cargo:rerun-if-changed={}", version_h.display());
    let Ok(text) = std::fs::read_to_string(&version_h) else {
        return;
    };
    let bindings = include_str!("src/bindings.rs");
    let theirs = (
        version_macro(&text, "TI_VERSION_MAJOR"),
        version_macro(&text, "TI_VERSION_MINOR"),
    );
    let const_value = |name: &str| -> Option<u64> {
        let start = bindings.find(&format!("pub const {name}: "))?;
        let rest = &bindings[start..];
        rest[rest.find('=')? + 1..rest.find(';')?]
            .trim()
            .parse()
            .ok()
    };
    let ours = (
        const_value("TI_VERSION_MAJOR"),
        const_value("TI_VERSION_MINOR"),
    );
    if let ((Some(maj), Some(min)), (Some(our_maj), Some(our_min))) = (theirs, ours) {
        if maj != our_maj || min < our_min {
            println!(
                "cargo:warning=torchinfer-sys: the library found through {} ({}) is version \
                 {maj}.{min}, the bindings are for {our_maj}.{our_min}",
                found.how,
                found.lib_dir.display()
            );
        }
    }
}

#[cfg(feature = "bindgen")]
fn generate(found: &Found) {
    let header = found
        .include_dirs
        .iter()
        .map(|d| d.join("torchinfer.h"))
        .find(|h| h.is_file())
        .unwrap_or_else(|| {
            panic!(
                "torchinfer-sys (feature `bindgen`): torchinfer.h not found in {:?}; set \
                 TORCHINFER_INCLUDE_DIR",
                found.include_dirs
            )
        });
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:header={}", header.display());

    let mut builder = builder().header(header.to_string_lossy());
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

/// The one bindgen configuration; src/bindings.rs is its output (see tests/header.rs for how
/// to regenerate it). Everything that could vary with the toolchain is fixed here.
#[cfg(feature = "bindgen")]
fn builder() -> bindgen::Builder {
    bindgen::Builder::default()
        .raw_line("// Generated by bindgen from include/torchinfer.h; do not edit. Regenerate with")
        .raw_line("//   cd bindings/rust && TORCHINFER_SYS_BLESS=1 cargo test -p torchinfer-sys --features bindgen --test header")
        .rust_target(bindgen::RustTarget::stable(82, 0).expect("a known Rust version"))
        .rust_edition(bindgen::RustEdition::Edition2021)
        .allowlist_function("ti_.*")
        .allowlist_type("ti_.*")
        .allowlist_var("TI_.*")
        // Constified enums: ti_code_t / ti_dtype_t / ti_kind_t are plain integers with named
        // constants, so a value this build does not know (a newer library adds a code) is never
        // undefined behaviour.
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate_comments(true)
        .merge_extern_blocks(true)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
}
