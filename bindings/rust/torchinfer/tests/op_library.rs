//! Operator libraries (issue 16): `detection.pt` (a scripted torchvision detection model) uses
//! `torchvision::nms` & co., registered by torchvision's compiled library (its path is the line
//! in torchvision_ops.txt). Its own test binary, so that nothing loaded the library before.

mod common;

use common::{model_path, LeakCheck};
use torchinfer::{Code, Model};

#[test]
fn detection_loads_once_its_operator_library_is_loaded() {
    let _leaks = LeakCheck::new();
    let Ok(ops) = std::fs::read_to_string(model_path("torchvision_ops.txt")) else {
        // Rust has no runtime skip: say so on stderr (shown with --nocapture) and pass.
        eprintln!("skipping: no torchvision_ops.txt in the fixtures (torchvision missing)");
        return;
    };
    let ops = ops.trim();

    let err = Model::load(model_path("detection.pt")).unwrap_err();
    assert_eq!(err.code(), Code::ModelFormat, "{err}");
    assert!(
        err.message().contains("torchvision::"),
        "names the operator: {err}"
    );
    assert!(
        err.message().len() < 2048,
        "a short message, not a traceback: {err}"
    );

    let err = torchinfer::load_op_library("/no/such/dir/libops.so").unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err}");
    let err = torchinfer::load_op_library(model_path("mlp.pt")).unwrap_err();
    assert_eq!(err.code(), Code::Runtime, "not a shared library: {err}");
    let err = torchinfer::load_op_library("lib\0ops.so").unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");

    torchinfer::load_op_library(ops).unwrap();
    torchinfer::load_op_library(ops).unwrap(); // again: nothing happens
    let model = Model::load(model_path("detection.pt")).unwrap();
    let schema = model.schema(None).unwrap();
    assert!(schema.starts_with("forward(Tensor[] images"), "{schema}");
    assert_eq!(model.inputs(), ["images", "targets"]);
}
