//! The checked-in bindings (src/bindings.rs) match include/torchinfer.h:
//!
//! - always: every `ti_*` function the header declares is bound with the same parameter names
//!   and types and the same return type, and nothing else is; every enumerator is bound with
//!   its value; the version constants match the build's torchinfer/version.h (when found);
//! - with the `bindgen` feature (run-tests.sh runs `--all-features`): the file bindgen
//!   generates from the header now is the checked-in file, up to whitespace.
//!
//! Regenerate src/bindings.rs after changing the header:
//!
//!     cd bindings/rust && TORCHINFER_SYS_BLESS=1 cargo test -p torchinfer-sys --features bindgen --test header

use std::collections::BTreeMap;

use torchinfer_sys as sys;

const HEADER_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../include/torchinfer.h");
const CHECKED_IN: &str = include_str!("../src/bindings.rs");

fn header() -> String {
    strip_comments(&std::fs::read_to_string(HEADER_PATH).expect("the repository's header"))
}

fn strip_comments(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = &rest[i + 2..];
        rest = &rest[rest.find("*/").map_or(rest.len(), |j| j + 2)..];
    }
    out.push_str(rest);
    // Drop preprocessor lines (`#define TI_API ...`) and line comments.
    out.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits at commas that are not nested in (), <> or [].
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            // `->` in a Rust fn type is not a closing bracket.
            '>' if prev == '-' => {}
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
                prev = c;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        prev = c;
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    parts
}

/// The index of the parenthesis closing the one at `open`.
fn matching_paren(s: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return open + i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {s:?}")
}

/// A function signature as bindgen spells it: parameter names with Rust types, and the
/// return type ("" for void).
#[derive(Debug, PartialEq, Eq)]
struct Sig {
    params: Vec<(String, String)>,
    ret: String,
}

/// Rust spelling of a C scalar or typedef name.
fn rust_base(c: &str) -> String {
    match c {
        "void" => "c_void",
        "char" => "c_char",
        "int" => "c_int",
        "unsigned" => "c_uint",
        "long" => "c_long",
        "double" => "f64",
        "float" => "f32",
        "size_t" => "usize",
        "int8_t" => "i8",
        "uint8_t" => "u8",
        "int16_t" => "i16",
        "uint16_t" => "u16",
        "int32_t" => "i32",
        "uint32_t" => "u32",
        "int64_t" => "i64",
        "uint64_t" => "u64",
        other => {
            assert!(
                other.starts_with("ti_") && other.ends_with("_t"),
                "C type {other:?} has no mapping in this test"
            );
            other
        }
    }
    .to_string()
}

/// Rust spelling of a C type without a declarator name: `const ti_tensor_t *const *` is
/// `*const *const ti_tensor_t`, `ti_error_t *` is `*mut ti_error_t`.
fn rust_type(c: &str) -> String {
    let spaced = c.replace('*', " * ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let first_star = tokens
        .iter()
        .position(|t| *t == "*")
        .unwrap_or(tokens.len());
    let base_tokens: Vec<&str> = tokens[..first_star]
        .iter()
        .copied()
        .filter(|t| *t != "const")
        .collect();
    assert_eq!(base_tokens.len(), 1, "unexpected C type {c:?}");
    let mut ty = rust_base(base_tokens[0]);
    // Whether the thing the next '*' points to is const.
    let mut pointee_const = tokens[..first_star].contains(&"const");
    let mut i = first_star;
    while i < tokens.len() {
        assert_eq!(tokens[i], "*", "unexpected C type {c:?}");
        ty = format!("*{} {ty}", if pointee_const { "const" } else { "mut" });
        pointee_const = tokens.get(i + 1) == Some(&"const");
        i += if pointee_const { 2 } else { 1 };
    }
    if ty == "c_void" {
        String::new()
    } else {
        ty
    }
}

/// One C parameter: `const int64_t *shape` or `void (*release)(void *ctx)`.
fn c_param(p: &str) -> (String, String) {
    if let Some(open) = p.find("(*") {
        // A function pointer: RET (*name)(PARAMS).
        let close = matching_paren(p, open);
        let name = p[open + 2..close].trim().to_string();
        let params_open = p[close..].find('(').unwrap() + close;
        let params_close = matching_paren(p, params_open);
        let sig = c_sig(&p[..open], &p[params_open + 1..params_close]);
        let params: Vec<String> = sig
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect();
        let ret = if sig.ret.is_empty() {
            String::new()
        } else {
            format!(" -> {}", sig.ret)
        };
        let ty = format!("Option<unsafe extern \"C\" fn({}){ret}>", params.join(", "));
        return (name, ty);
    }
    let p = p.trim();
    let split = p
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .expect("a C parameter has a type and a name");
    (rust_ident(&p[split + 1..]), rust_type(&p[..=split]))
}

/// A C name as bindgen spells it in Rust: a Rust keyword gets a trailing `_` (`in` is `in_`).
fn rust_ident(c: &str) -> String {
    const KEYWORDS: [&str; 38] = [
        "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
        "enum", "extern", "false", "final", "fn", "for", "if", "impl", "in", "let", "loop",
        "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where",
    ];
    if KEYWORDS.contains(&c) {
        format!("{c}_")
    } else {
        c.to_string()
    }
}

fn c_sig(ret: &str, params: &str) -> Sig {
    let params = params.trim();
    Sig {
        params: if params.is_empty() || params == "void" {
            Vec::new()
        } else {
            split_top_level(params).iter().map(|p| c_param(p)).collect()
        },
        ret: rust_type(ret),
    }
}

/// Functions declared with TI_API in the header, with their signatures in Rust spelling.
fn header_functions() -> BTreeMap<String, Sig> {
    let header = header();
    let mut fns = BTreeMap::new();
    let mut rest = header.as_str();
    while let Some(i) = rest.find("TI_API ") {
        rest = &rest[i + 7..];
        let decl = &rest[..rest.find(';').expect("TI_API declaration without ';'")];
        let open = decl.find('(').expect("TI_API declaration without '('");
        let close = matching_paren(decl, open);
        let head = decl[..open].trim_end();
        let name_start = head
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let sig = c_sig(&head[..name_start], &decl[open + 1..close]);
        assert!(
            fns.insert(head[name_start..].to_string(), sig).is_none(),
            "{} declared twice",
            &head[name_start..]
        );
    }
    fns
}

/// Rust types as bindgen writes them, without paths and with single spaces.
fn normalize_rust(ty: &str) -> String {
    let ty = ty
        .replace("::std::os::raw::", "")
        .replace("::std::option::", "")
        .replace("::core::ffi::", "")
        .replace("::std::ffi::", "");
    let ty = ty.split_whitespace().collect::<Vec<_>>().join(" ");
    ty.replace("( ", "(")
        .replace(" )", ")")
        .replace("< ", "<")
        .replace(" >", ">")
}

/// The functions of the bindings' extern block, with their signatures.
fn binding_functions(bindings: &str) -> BTreeMap<String, Sig> {
    let mut fns = BTreeMap::new();
    let mut rest = bindings;
    while let Some(i) = rest.find("pub fn ") {
        rest = &rest[i + 7..];
        let open = rest.find('(').unwrap();
        let name = rest[..open].trim().to_string();
        let close = matching_paren(rest, open);
        let end = rest.find(';').unwrap();
        let ret = rest[close + 1..end].trim();
        let ret = ret.strip_prefix("->").unwrap_or(ret).trim();
        let params = split_top_level(&rest[open + 1..close])
            .into_iter()
            .map(|p| {
                let (n, t) = p
                    .split_once(':')
                    .expect("a Rust parameter has a name and a type");
                (n.trim().to_string(), normalize_rust(t))
            })
            .collect();
        fns.insert(
            name,
            Sig {
                params,
                ret: normalize_rust(ret),
            },
        );
    }
    fns
}

/// Enumerators of the header's `typedef enum { ... }` blocks, with their values.
fn header_enumerators() -> BTreeMap<String, u64> {
    let header = header();
    let mut values = BTreeMap::new();
    let mut rest = header.as_str();
    while let Some(i) = rest.find("typedef enum {") {
        rest = &rest[i + 14..];
        let body = &rest[..rest.find('}').unwrap()];
        let mut next = 0u64;
        for item in body.split(',') {
            let mut parts = item.split('=');
            let name = parts.next().unwrap().trim();
            if name.is_empty() {
                continue;
            }
            if let Some(v) = parts.next() {
                next = v.trim().parse().expect("an integer enumerator value");
            }
            values.insert(name.to_string(), next);
            next += 1;
        }
    }
    values
}

/// `pub const NAME: TYPE = VALUE;` items of the bindings.
fn binding_consts(bindings: &str) -> BTreeMap<String, String> {
    bindings
        .split("pub const ")
        .skip(1)
        .map(|s| {
            // Up to the `;` ending the line (`[u8; 6]` holds one too).
            let s = s
                .lines()
                .next()
                .unwrap()
                .trim_end()
                .strip_suffix(';')
                .unwrap();
            let (name, rest) = s.split_once(':').unwrap();
            let value = rest.split_once('=').unwrap().1.trim();
            (name.trim().to_string(), value.to_string())
        })
        .collect()
}

#[test]
fn checked_in_functions_match_the_header() {
    let declared = header_functions();
    let bound = binding_functions(CHECKED_IN);
    assert!(
        declared.len() >= 50,
        "parsed too few functions: {declared:?}"
    );
    assert!(
        declared.keys().all(|n| n.starts_with("ti_")),
        "{declared:?}"
    );
    let missing: Vec<_> = declared
        .keys()
        .filter(|n| !bound.contains_key(*n))
        .collect();
    let extra: Vec<_> = bound
        .keys()
        .filter(|n| !declared.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "src/bindings.rs is stale (regenerate it, see this file's header): missing {missing:?}, \
         not in the header {extra:?}"
    );
    for (name, sig) in &declared {
        assert_eq!(
            &bound[name], sig,
            "src/bindings.rs is stale (regenerate it, see this file's header): {name}"
        );
    }
}

#[test]
fn the_signature_parser_reads_what_it_should() {
    // A guard on the test itself: known declarations come out as bindgen spells them.
    let fns = header_functions();
    let wrap = &fns["ti_tensor_wrap"];
    let names: Vec<&str> = wrap.params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["dtype", "shape", "ndim", "data", "nbytes", "release", "ctx", "out"]
    );
    assert_eq!(wrap.params[1].1, "*const i64");
    assert_eq!(wrap.params[3].1, "*mut c_void");
    assert_eq!(
        wrap.params[5].1,
        "Option<unsafe extern \"C\" fn(ctx: *mut c_void)>"
    );
    assert_eq!(wrap.params[7].1, "*mut *mut ti_tensor_t");
    assert_eq!(wrap.ret, "*mut ti_error_t");
    assert_eq!(
        fns["ti_model_predict"].params[1].1,
        "*const *const ti_tensor_t"
    );
    assert_eq!(fns["ti_outputs_name"].ret, "*const c_char");
    assert_eq!(fns["ti_outputs_free"].ret, "");
    assert_eq!(fns["ti_version"].params, []);
    // A parameter named with a Rust keyword (`in`) is bound as bindgen renames it.
    assert_eq!(fns["ti_inputs_free"].params[0].0, "in_");
}

#[test]
fn checked_in_enumerators_match_the_header() {
    let enumerators = header_enumerators();
    assert!(
        enumerators.contains_key("TI_ERR_INTERNAL") && enumerators.contains_key("TI_DTYPE_BOOL")
    );
    let consts = binding_consts(CHECKED_IN);
    for (name, value) in &enumerators {
        assert_eq!(
            consts.get(name),
            Some(&value.to_string()),
            "src/bindings.rs is stale (regenerate it, see this file's header): {name}"
        );
    }
    let known = [
        "TI_VERSION_MAJOR",
        "TI_VERSION_MINOR",
        "TI_VERSION_PATCH",
        "TI_VERSION_STRING",
    ];
    let extra: Vec<_> = consts
        .keys()
        .filter(|k| !enumerators.contains_key(*k) && !known.contains(&k.as_str()))
        .collect();
    assert!(extra.is_empty(), "constants not in the header: {extra:?}");
}

#[test]
fn version_constants_match_the_build() {
    // torchinfer/version.h is generated by CMake into <build>/include (or installed into
    // <prefix>/include): compare with it where the build script found one.
    let include = env!("TORCHINFER_SYS_INCLUDE");
    let Some(version_h) = std::env::split_paths(include)
        .map(|d| d.join("torchinfer/version.h"))
        .find(|p| p.is_file())
    else {
        eprintln!("no torchinfer/version.h among {include:?}; skipped");
        return;
    };
    let text = std::fs::read_to_string(version_h).unwrap();
    let define = |name: &str| -> String {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} missing from version.h"))
            .trim()
            .to_string()
    };
    assert_eq!(
        sys::TI_VERSION_MAJOR.to_string(),
        define("TI_VERSION_MAJOR")
    );
    assert_eq!(
        sys::TI_VERSION_MINOR.to_string(),
        define("TI_VERSION_MINOR")
    );
    assert_eq!(
        sys::TI_VERSION_PATCH.to_string(),
        define("TI_VERSION_PATCH")
    );
    let string = define("TI_VERSION_STRING");
    assert_eq!(
        format!(
            "\"{}\"",
            std::str::from_utf8(&sys::TI_VERSION_STRING[..sys::TI_VERSION_STRING.len() - 1])
                .unwrap()
        ),
        string
    );
}

/// With the `bindgen` feature the build script has just generated the bindings from the header
/// (and the crate uses those): they must be the checked-in file. TORCHINFER_SYS_BLESS=1 writes
/// them over it instead.
#[cfg(feature = "bindgen")]
#[test]
fn generated_bindings_equal_the_checked_in_file() {
    const CHECKED_IN_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bindings.rs");
    let generated = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    if std::env::var_os("TORCHINFER_SYS_BLESS").is_some_and(|v| v == "1") {
        if generated != CHECKED_IN {
            std::fs::write(CHECKED_IN_PATH, generated).expect("cannot write src/bindings.rs");
            eprintln!("wrote {CHECKED_IN_PATH}");
        }
        return;
    }
    assert!(
        squeeze(generated) == squeeze(CHECKED_IN),
        "src/bindings.rs differs from what bindgen generates from the header now; regenerate \
         it:\n  cd bindings/rust && TORCHINFER_SYS_BLESS=1 cargo test -p torchinfer-sys \
         --features bindgen --test header\nfirst differing line of the generated file: {:?}",
        generated
            .lines()
            .zip(CHECKED_IN.lines())
            .find(|(a, b)| a != b)
    );
}

#[test]
fn enumerator_values_follow_the_abi() {
    assert_eq!(sys::TI_OK, 0);
    assert_eq!(sys::TI_ERR_INTERNAL, 8);
    assert_eq!(sys::TI_ERR_CANCELLED, 9);
    assert_eq!(sys::TI_ERR_DEADLINE_EXCEEDED, 10);
    assert_eq!(sys::TI_ERR_UNAVAILABLE, 11);
    assert_eq!(sys::TI_KIND_TENSOR, 0);
    assert_eq!(sys::TI_KIND_STRING, 1);
    assert_eq!(sys::TI_KIND_NONE, 2);
    assert_eq!(sys::TI_DTYPE_FLOAT32, 0);
    assert_eq!(sys::TI_DTYPE_BOOL, 9);
}

#[test]
fn raw_calls_link_and_run() {
    // SAFETY: plain calls that take no handles; static strings.
    unsafe {
        let v = std::ffi::CStr::from_ptr(sys::ti_version());
        assert_eq!(v.to_bytes_with_nul(), sys::TI_VERSION_STRING);
        assert_eq!(sys::ti_dtype_size(sys::TI_DTYPE_FLOAT64), 8);
        assert_eq!(sys::ti_dtype_size(sys::TI_DTYPE_BFLOAT16), 2);
        assert_eq!(sys::ti_dtype_size(sys::TI_DTYPE_BOOL), 1);
        assert_eq!(sys::ti_dtype_size(1234), 0);
        let name = std::ffi::CStr::from_ptr(sys::ti_code_name(sys::TI_ERR_NOT_FOUND));
        assert_eq!(name.to_str().unwrap(), "TI_ERR_NOT_FOUND");
        assert_eq!(sys::ti_error_code(std::ptr::null()), sys::TI_OK);
        let name = std::ffi::CStr::from_ptr(sys::ti_code_name(sys::TI_ERR_DEADLINE_EXCEEDED));
        assert_eq!(name.to_str().unwrap(), "TI_ERR_DEADLINE_EXCEEDED");
        // Run options: NULL is accepted where the header says so; a negative timeout is not.
        sys::ti_run_options_cancel(std::ptr::null_mut());
        sys::ti_run_options_free(std::ptr::null_mut());
        let opts = sys::ti_run_options_create();
        assert!(!opts.is_null());
        let err = sys::ti_run_options_set_timeout_us(opts, -1);
        assert_eq!(sys::ti_error_code(err), sys::TI_ERR_INVALID_ARGUMENT);
        sys::ti_error_free(err);
        assert!(sys::ti_run_options_set_timeout_us(opts, 1000).is_null());
        sys::ti_run_options_cancel(opts);
        sys::ti_run_options_free(opts);
        assert!(sys::ti_model_input_type(std::ptr::null(), 0).is_null());
        // Leaf accessors without a tensor handle accept NULL outputs.
        assert_eq!(sys::ti_outputs_count(std::ptr::null()), 0);
        assert_eq!(sys::ti_outputs_nbytes(std::ptr::null(), 0), 0);
        assert!(sys::ti_outputs_shape(std::ptr::null(), 0).is_null());
        let err = sys::ti_outputs_copy_to(std::ptr::null(), 0, std::ptr::null_mut(), 0);
        assert_eq!(sys::ti_error_code(err), sys::TI_ERR_INVALID_ARGUMENT);
        sys::ti_error_free(err);
        assert_eq!(sys::ti_live_handles(), 0);
    }
}
