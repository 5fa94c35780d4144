//! The generated bindings match include/torchinfer.h: every `ti_*` function the header
//! declares is exposed by the crate and vice versa, and so are the enumerators.

use std::collections::BTreeSet;

use torchinfer_sys as sys;

const HEADER_PATH: &str = env!("TORCHINFER_SYS_HEADER");
const BINDINGS: &str = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));

fn ident_at_end(s: &str) -> &str {
    let s = s.trim_end();
    let start = s
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    &s[start..]
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

/// Functions declared with TI_API in the header.
fn header_functions(header: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = header;
    while let Some(i) = rest.find("TI_API ") {
        rest = &rest[i + 7..];
        let decl = &rest[..rest.find('(').expect("TI_API declaration without '('")];
        names.insert(ident_at_end(decl).to_string());
    }
    names
}

/// Enumerators of the header's `typedef enum { ... }` blocks.
fn header_enumerators(header: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = header;
    while let Some(i) = rest.find("typedef enum {") {
        rest = &rest[i + 14..];
        let body = &rest[..rest.find('}').unwrap()];
        for item in body.split(',') {
            let name = item.split('=').next().unwrap().trim();
            if !name.is_empty() {
                names.insert(name.to_string());
            }
        }
    }
    names
}

fn binding_items(prefix: &str) -> BTreeSet<String> {
    BINDINGS
        .split(prefix)
        .skip(1)
        .map(|s| {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn every_header_function_is_bound_and_vice_versa() {
    let header = strip_comments(&std::fs::read_to_string(HEADER_PATH).unwrap());
    let declared = header_functions(&header);
    let bound = binding_items("pub fn ");
    assert!(
        declared.len() >= 40,
        "parsed too few functions: {declared:?}"
    );
    assert!(
        declared.iter().all(|n| n.starts_with("ti_")),
        "{declared:?}"
    );
    assert_eq!(declared, bound, "header functions vs bindings functions");
}

#[test]
fn every_enumerator_is_bound() {
    let header = strip_comments(&std::fs::read_to_string(HEADER_PATH).unwrap());
    let enumerators = header_enumerators(&header);
    assert!(enumerators.contains("TI_ERR_INTERNAL") && enumerators.contains("TI_DTYPE_BOOL"));
    let consts = binding_items("pub const ");
    let missing: Vec<_> = enumerators.difference(&consts).collect();
    assert!(
        missing.is_empty(),
        "enumerators missing from the bindings: {missing:?}"
    );
    for v in [
        "TI_VERSION_MAJOR",
        "TI_VERSION_MINOR",
        "TI_VERSION_PATCH",
        "TI_VERSION_STRING",
    ] {
        assert!(consts.contains(v), "{v} missing");
    }
}

#[test]
fn enumerator_values_follow_the_abi() {
    assert_eq!(sys::TI_OK, 0);
    assert_eq!(sys::TI_ERR_INTERNAL, 8);
    assert_eq!(sys::TI_ERR_CANCELLED, 9);
    assert_eq!(sys::TI_ERR_DEADLINE_EXCEEDED, 10);
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
        assert_eq!(sys::ti_live_handles(), 0);
    }
}
