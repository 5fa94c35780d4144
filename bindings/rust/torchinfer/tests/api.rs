//! The safe API against the shared fixtures. Every test holds a `LeakCheck` (declared first,
//! dropped last), which serializes the tests of this binary and asserts that the live-handle
//! count is back at its starting value.

mod common;

use std::fmt::Debug;

use common::{model_path, LeakCheck, TempDir};
use torchinfer::{Code, DType, Element, Error, Model, Outputs, Tensor};

fn load(name: &str) -> Model {
    Model::load(model_path(name)).unwrap_or_else(|e| panic!("load {name}: {e}"))
}

fn f32s(outputs: &Outputs, name: &str) -> Vec<f32> {
    outputs.get_by_name(name).unwrap().to_vec::<f32>().unwrap()
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Model>();
    send_sync::<Tensor>();
    send_sync::<Outputs>();
    send_sync::<Error>();
    send_sync::<torchinfer::LoadOptions>();
    send_sync::<torchinfer::RunOptions>();
    send_sync::<torchinfer::CancelHandle>();
}

#[test]
fn runtime_info() {
    let _leaks = LeakCheck::new();
    assert_eq!(torchinfer::version(), "0.1.0");
    assert_eq!(torchinfer::version(), torchinfer::header_version());
    assert!(
        torchinfer::torch_version().starts_with(char::is_numeric),
        "{}",
        torchinfer::torch_version()
    );
    let before = torchinfer::num_threads();
    assert!(before >= 1);
    torchinfer::set_num_threads(2).unwrap();
    assert_eq!(torchinfer::num_threads(), 2);
    torchinfer::set_num_threads(before).unwrap();
    assert_eq!(torchinfer::num_threads(), before);
    let err = torchinfer::set_num_threads(0).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(DType::Float64.size(), 8);
    assert_eq!(DType::BFloat16.name(), "bfloat16");
    assert_eq!(DType::from_name("bool"), Some(DType::Bool));
    for d in DType::ALL {
        assert_eq!(DType::from_raw(d.to_raw()), d);
    }
    assert_eq!(DType::from_raw(77), DType::Unknown(77));
    assert_eq!(DType::Unknown(77).name(), "unknown");
}

#[test]
fn tensor_accessors() {
    let _leaks = LeakCheck::new();
    let t = Tensor::from_slice(&[1.5f32, 2.5, 3.5, 4.5, 5.5, 6.5], &[2, 3]).unwrap();
    assert_eq!(t.dtype(), DType::Float32);
    assert_eq!(t.shape(), &[2, 3]);
    assert_eq!(t.ndim(), 2);
    assert_eq!(t.numel(), 6);
    assert_eq!(t.nbytes(), 24);
    assert_eq!(t.device(), "cpu");
    assert_eq!(
        t.as_slice::<f32>().unwrap(),
        &[1.5, 2.5, 3.5, 4.5, 5.5, 6.5]
    );
    assert_eq!(t.to_bytes().unwrap()[..4], 1.5f32.to_ne_bytes());
    assert_eq!(
        format!("{t:?}"),
        r#"Tensor { dtype: Float32, shape: [2, 3], device: "cpu" }"#
    );

    let s = Tensor::scalar(7i64).unwrap();
    assert_eq!(s.shape(), &[] as &[i64]);
    assert_eq!(s.numel(), 1);
    assert_eq!(s.to_vec::<i64>().unwrap(), [7]);

    let empty = Tensor::from_slice::<f64>(&[], &[0, 3]).unwrap();
    assert_eq!(empty.numel(), 0);
    assert_eq!(empty.to_vec::<f64>().unwrap(), Vec::<f64>::new());
    assert_eq!(empty.as_slice::<f64>().unwrap(), &[] as &[f64]);

    let raw = Tensor::from_bytes(DType::Int16, &[2], &[1, 0, 2, 0]).unwrap();
    assert_eq!(
        raw.to_vec::<i16>().unwrap(),
        [i16::from_ne_bytes([1, 0]), i16::from_ne_bytes([2, 0])]
    );

    let err = t.to_vec::<i32>().unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("float32"), "{err}");
    assert_eq!(
        t.as_slice::<f64>().unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(t.to_half_bits().unwrap_err().code(), Code::InvalidArgument);
}

#[test]
fn from_vec_is_zero_copy_and_outlives_outputs() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let data: Vec<i32> = (0..12).collect();
    let ptr = data.as_ptr();
    let t = Tensor::from_vec(data, &[3, 4]).unwrap();
    assert_eq!(
        t.as_slice::<i32>().unwrap().as_ptr(),
        ptr,
        "from_vec must not copy"
    );
    let out = model.predict(&[&t]).unwrap();
    drop(t);
    drop(model);
    let y = out.get(0).unwrap();
    drop(out);
    assert_eq!(y.to_vec::<i32>().unwrap(), (0..12).collect::<Vec<_>>());
    // A size mismatch is reported (and the Vec is released by the library).
    assert_eq!(
        Tensor::from_vec(vec![1u8; 3], &[2, 2]).unwrap_err().code(),
        Code::InvalidArgument
    );
}

fn roundtrip<T: Element + PartialEq + Debug>(model: &Model, data: &[T], shape: &[i64]) {
    let x = Tensor::from_slice(data, shape).unwrap();
    assert_eq!(x.dtype(), T::DTYPE);
    let out = model.predict(&[&x]).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out.name(0), Some("0"));
    let y = out.get(0).unwrap();
    assert_eq!(y.dtype(), T::DTYPE, "{}", std::any::type_name::<T>());
    assert_eq!(y.shape(), shape);
    assert_eq!(y.to_vec::<T>().unwrap(), data);
    assert_eq!(y.as_slice::<T>().unwrap(), data);
    // The same leaf read without a tensor handle.
    assert_eq!(out.dtype(0), Some(T::DTYPE));
    assert_eq!(out.shape(0), Some(shape));
    assert_eq!(out.nbytes(0), Some(std::mem::size_of_val(data)));
    assert_eq!(out.to_vec::<T>(0).unwrap(), data);
    let mut dst = data.to_vec();
    dst.reverse();
    out.copy_to(0, &mut dst).unwrap();
    assert_eq!(dst, data);
}

#[test]
fn every_dtype_round_trips_through_identity() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    roundtrip(&model, &[1.5f32, -2.25, 3.0e30, f32::MIN_POSITIVE], &[2, 2]);
    roundtrip(&model, &[1.5f64, -2.25, 1e300], &[3]);
    roundtrip(&model, &[i8::MIN, -1, 0, i8::MAX], &[4, 1]);
    roundtrip(&model, &[0u8, 1, 200, u8::MAX], &[1, 4]);
    roundtrip(&model, &[i16::MIN, -7, i16::MAX], &[3]);
    roundtrip(&model, &[i32::MIN, -7, 0, i32::MAX], &[2, 1, 2]);
    roundtrip(&model, &[i64::MIN, -7, 1 << 40, i64::MAX], &[4]);
    roundtrip(&model, &[true, false, false, true, true, false], &[2, 3]);

    // float16: 1.0, -2.0, 0.5 ; bfloat16: 1.0, -2.0, 0.5
    for (dtype, bits) in [
        (DType::Float16, [0x3C00u16, 0xC000, 0x3800]),
        (DType::BFloat16, [0x3F80u16, 0xC000, 0x3F00]),
    ] {
        let x = Tensor::from_half_bits(dtype, &bits, &[3]).unwrap();
        assert_eq!(x.dtype(), dtype);
        assert_eq!(x.nbytes(), 6);
        let y = model.predict(&[&x]).unwrap().get(0).unwrap();
        assert_eq!(y.dtype(), dtype);
        assert_eq!(y.to_half_bits().unwrap(), bits);
        assert_eq!(y.to_vec::<f32>().unwrap_err().code(), Code::InvalidArgument);
    }
    assert_eq!(
        Tensor::from_half_bits(DType::Float32, &[1, 2], &[2])
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
}

#[cfg(feature = "half")]
#[test]
fn half_crate_elements() {
    use half::{bf16, f16};
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let h = [
        f16::from_f32(1.0),
        f16::from_f32(-2.5),
        f16::from_f32(0.125),
    ];
    roundtrip(&model, &h, &[3]);
    let b = [
        bf16::from_f32(1.0),
        bf16::from_f32(-2.5),
        bf16::from_f32(0.125),
    ];
    roundtrip(&model, &b, &[1, 3]);
    let doubled = model
        .run_method("double", &[&Tensor::from_slice(&h, &[3]).unwrap()])
        .unwrap();
    let got: Vec<f32> = doubled
        .get(0)
        .unwrap()
        .to_vec::<f16>()
        .unwrap()
        .into_iter()
        .map(f32::from)
        .collect();
    assert_eq!(got, [2.0, -5.0, 0.25]);
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_conversions() {
    use ndarray::{array, ArrayD};
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let a = array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let transposed = a.t(); // not contiguous: copied row-major
    let x = Tensor::from_array(&transposed).unwrap();
    assert_eq!(x.shape(), &[3, 2]);
    assert_eq!(x.to_vec::<f64>().unwrap(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let y = model.run_method("double", &[&x]).unwrap().get(0).unwrap();
    let back: ArrayD<f64> = ArrayD::try_from(&y).unwrap();
    assert_eq!(back, (&transposed * 2.0).into_dyn());
    let t2 = Tensor::try_from(&array![true, false]).unwrap();
    assert_eq!(
        t2.to_array::<bool>().unwrap(),
        array![true, false].into_dyn()
    );
    assert_eq!(
        y.to_array::<f32>().unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_empty_tensors() {
    // The crate's own re-export: no separate (possibly incompatible) ndarray dependency.
    use torchinfer::ndarray::{Array2, ArrayD, IxDyn};
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    for shape in [[0i64, 3], [3, 0]] {
        let dims = [shape[0] as usize, shape[1] as usize];
        let empty = Tensor::from_slice::<f32>(&[], &shape).unwrap();
        assert_eq!(
            empty.to_array::<f32>().unwrap(),
            ArrayD::<f32>::zeros(IxDyn(&dims))
        );
        // An empty model output, and an empty array going in.
        let x = Tensor::from_array(&Array2::<i64>::zeros(dims)).unwrap();
        assert_eq!(x.shape(), &shape);
        let y = model.run_method("double", &[&x]).unwrap().get(0).unwrap();
        let back: ArrayD<i64> = ArrayD::try_from(&y).unwrap();
        assert_eq!(back.shape(), &dims);
        assert_eq!(back.len(), 0);
    }
    let b = Tensor::from_slice::<bool>(&[], &[2, 0, 5]).unwrap();
    assert_eq!(b.to_array::<bool>().unwrap().shape(), &[2, 0, 5]);
    // An empty tensor whose non-zero sizes multiply past isize::MAX: the library may refuse
    // the shape (InvalidArgument); if it accepts it, ndarray cannot hold it: Unsupported, never
    // Internal.
    match Tensor::from_slice::<f32>(&[], &[0, 1 << 62, 4]) {
        Err(err) => assert_eq!(err.code(), Code::InvalidArgument, "{err}"),
        Ok(wide) => {
            assert_eq!(wide.numel(), 0);
            let err = wide.to_array::<f32>().unwrap_err();
            assert_eq!(err.code(), Code::Unsupported, "{err}");
        }
    }
    // The element type is still checked for an empty tensor.
    assert_eq!(
        Tensor::from_slice::<f32>(&[], &[0, 3])
            .unwrap()
            .to_array::<i32>()
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
}

#[test]
fn input_types() {
    let _leaks = LeakCheck::new();
    let named = load("named.pt");
    assert_eq!(
        named.input_types(),
        ["Tensor", "Tensor", "Optional[Tensor]", "float"]
    );
    assert_eq!(named.input_types().len(), named.inputs().len());
    let slow = load("slow.pt");
    assert_eq!(slow.inputs(), ["x", "n"]);
    assert_eq!(slow.input_types(), ["Tensor", "int"]);
    assert_eq!(load("mlp.pt").input_types(), ["Tensor"]);
    assert!(format!("{named:?}").contains("Optional[Tensor]"));
    if !model_path("dynamic.pt2").exists() {
        eprintln!("input_types: skipping the .pt2 part: dynamic.pt2 is not in the fixtures");
        return;
    }
    // dynamic.pt2: x [B, 8], y [B, 4] with a dynamic batch B shared by both.
    let pt2 = load("dynamic.pt2");
    assert_eq!(pt2.inputs(), ["x", "y"]);
    let types = pt2.input_types();
    assert_eq!(types.len(), 2);
    for (ty, width) in types.iter().zip(["8", "4"]) {
        assert!(
            ty.starts_with("Tensor(float32, [s") && ty.ends_with(&format!(", {width}])")),
            "{types:?}"
        );
    }
    // One symbol for the shared batch size.
    assert_eq!(
        types[0].split(',').nth(1),
        types[1].split(',').nth(1),
        "{types:?}"
    );
}

/// A NUL byte inside a path, device, method, input or output name cannot reach the C API
/// (it would silently cut the string): each is rejected with InvalidArgument before the call.
#[test]
fn embedded_nul_bytes_are_invalid_arguments() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let x = Tensor::from_slice(&[1f32, 2.], &[2]).unwrap();
    let nul = |r: Result<Outputs, Error>, what: &str| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err}");
        assert!(err.message().contains("NUL"), "{what}: {err}");
        assert!(err.as_raw().is_none(), "{what}: checked by the crate");
    };
    nul(model.run_method("double\0x", &[&x]), "run_method");
    nul(
        model.run_method_named("double\0x", &[("x", &x)]),
        "run_method_named method",
    );
    nul(
        model.run_method_named("double", &[("x\0y", &x)]),
        "run_method_named input",
    );
    nul(model.predict_named(&[("x\0", &x)]), "predict_named");
    let outputs = model.predict(&[&x]).unwrap();
    let err = outputs.get_by_name("0\0x").unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(err.message().contains("NUL"), "{err}");
    // Without the NUL each of these works (so it is the NUL that was rejected).
    assert_eq!(f32s(&outputs, "0"), [1., 2.]);
    assert_eq!(
        model
            .run_method_named("double", &[("x", &x)])
            .unwrap()
            .get(0)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        [2., 4.]
    );

    let demo = load("demo.pt");
    let features = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.1], &[1, 4]).unwrap();
    let out = demo.predict(&[&features]).unwrap();
    assert_eq!(
        out.get_by_name("probs\0x").unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(out.get_by_name("probs").unwrap().shape(), &[1, 3]);

    let path = model_path("mlp.pt");
    let mut with_nul = path.clone().into_os_string();
    with_nul.push("\0x");
    let load_err = |r: Result<Model, Error>, what: &str| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err}");
        assert!(err.message().contains("NUL"), "{what}: {err}");
    };
    load_err(Model::load(&with_nul), "path");
    load_err(Model::builder().device("cpu\0x").load(&path), "device");
    load_err(
        Model::builder()
            .device("cuda\0")
            .load_from_bytes(&std::fs::read(&path).unwrap()),
        "device (bytes)",
    );
    assert_eq!(
        Model::builder().device("cpu").load(&path).unwrap().device(),
        "cpu"
    );
}

#[test]
fn second_method_and_metadata() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    assert_eq!(model.methods(), ["double", "forward"]);
    assert_eq!(model.inputs(), ["x"]);
    assert_eq!(model.device(), "cpu");
    let x = Tensor::from_slice(&[1i64, -2, 3], &[3]).unwrap();
    let out = model.run_method("double", &[&x]).unwrap();
    assert_eq!(out.get(0).unwrap().to_vec::<i64>().unwrap(), [2, -4, 6]);
    let fwd = model.run_method("forward", &[&x]).unwrap();
    assert_eq!(fwd.get(0).unwrap().to_vec::<i64>().unwrap(), [1, -2, 3]);
    let named = load("named.pt");
    assert_eq!(named.inputs(), ["ids", "mask", "bias", "scale"]);
    assert!(format!("{named:?}").contains("\"ids\""));
}

#[test]
fn model_format() {
    let _leaks = LeakCheck::new();
    assert_eq!(load("mlp.pt").format(), "torchscript");
    if !model_path("dynamic.pt2").exists() {
        // Rust has no runtime skip: say so on stderr (shown with --nocapture) and pass.
        eprintln!(
            "model_format: skipping the .pt2 part: dynamic.pt2 is not in the fixtures \
             (LibTorch without AOTInductor packages, e.g. 1.13)"
        );
        return;
    }
    let model = load("dynamic.pt2");
    assert_eq!(model.format(), "aotinductor");
    assert_eq!(model.inputs(), ["x", "y"]);
    assert!(format!("{model:?}").contains("aotinductor"));
    let x = Tensor::from_slice(&[0f32; 3 * 8], &[3, 8]).unwrap();
    let y = Tensor::from_slice(&[0f32; 5 * 4], &[5, 4]).unwrap();
    let err = model.predict(&[&x, &y]).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(err.message().contains("input 'y'"), "{err}");
}

#[test]
fn leaves_without_tensor_handles() {
    let _leaks = LeakCheck::new();
    let model = load("structured.pt");
    let x = Tensor::from_slice(&[1f32, -2., 3.5, 0.5], &[2, 2]).unwrap();
    let out = model.predict(&[&x]).unwrap();
    let handles = torchinfer::live_handles();

    assert_eq!(out.index_of("1.0"), Some(1));
    assert_eq!(out.index_of("nope"), None);
    assert_eq!(out.to_vec::<f32>(1).unwrap(), [2., -4., 7., 1.]);
    let mut y = [0f32; 4];
    out.copy_to(0, &mut y).unwrap();
    assert_eq!(y, [2., -1., 4.5, 1.5]);
    // The 0-dim sum: an empty shape, one element.
    assert_eq!(out.shape(2), Some(&[] as &[i64]));
    assert_eq!(out.nbytes(2), Some(4));
    assert_eq!(out.to_vec::<f32>(2).unwrap(), [3.0]);
    // None of these made a handle.
    assert_eq!(torchinfer::live_handles(), handles);

    // Out of range.
    assert_eq!(
        (out.dtype(3), out.shape(3), out.nbytes(3)),
        (None, None, None)
    );
    let err = out.to_vec::<f32>(3).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("out of range"), "{err}");
    drop(err);
    assert_eq!(
        out.to_vec::<i64>(3).unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(
        out.copy_to(usize::MAX, &mut y).unwrap_err().code(),
        Code::InvalidArgument
    );
    // Wrong element type: nothing is written.
    let mut wrong = [7i32; 4];
    let err = out.copy_to(0, &mut wrong).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("float32"), "{err}");
    assert_eq!(wrong, [7; 4]);
    assert_eq!(
        out.to_vec::<f64>(0).unwrap_err().code(),
        Code::InvalidArgument
    );
    // Wrong length: the library checks the byte count.
    let mut short = [0f32; 3];
    assert_eq!(
        out.copy_to(0, &mut short).unwrap_err().code(),
        Code::InvalidArgument
    );
    let mut long = [0f32; 5];
    assert_eq!(
        out.copy_to(0, &mut long).unwrap_err().code(),
        Code::InvalidArgument
    );
    // Errors own library handles until dropped.
    drop(err);
    assert_eq!(torchinfer::live_handles(), handles);

    // int64, float64 and bool scalars.
    let scalars = model.run_method("scalars", &[&x]).unwrap();
    assert_eq!(scalars.dtype(0), Some(DType::Int64));
    assert_eq!(scalars.to_vec::<i64>(0).unwrap(), [4]);
    assert_eq!(scalars.to_vec::<f64>(1).unwrap(), [3.0]);
    assert_eq!(scalars.to_vec::<bool>(2).unwrap(), [true]);
    let mut b = [false];
    scalars.copy_to(2, &mut b).unwrap();
    assert_eq!(b, [true]);
    assert_eq!(
        scalars.copy_to(2, &mut [false, false]).unwrap_err().code(),
        Code::InvalidArgument
    );

    // An empty leaf.
    let identity = load("identity.pt");
    let empty = Tensor::from_slice::<f32>(&[], &[0, 3]).unwrap();
    let out = identity.predict(&[&empty]).unwrap();
    assert_eq!(out.shape(0), Some(&[0i64, 3][..]));
    assert_eq!(out.nbytes(0), Some(0));
    assert_eq!(out.to_vec::<f32>(0).unwrap(), Vec::<f32>::new());
    out.copy_to::<f32>(0, &mut []).unwrap();
    assert_eq!(
        out.copy_to(0, &mut [0f32]).unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[test]
fn inputs_borrow_as_tensors() {
    use std::sync::Arc;
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let x = Tensor::from_slice(&[2f32, 3.], &[2]).unwrap();
    let by_ref = model
        .run_method("double", &[&x])
        .unwrap()
        .to_vec::<f32>(0)
        .unwrap();
    assert_eq!(by_ref, [4., 6.]);
    // Owned tensors, a Vec of them, Box and Arc: no Vec<&Tensor> needed.
    let owned = vec![Tensor::from_slice(&[2f32, 3.], &[2]).unwrap()];
    assert_eq!(
        model
            .run_method("double", &owned)
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        by_ref
    );
    let boxed = [Box::new(Tensor::from_slice(&[2f32, 3.], &[2]).unwrap())];
    assert_eq!(
        model
            .run_method("double", &boxed)
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        by_ref
    );
    let shared = [Arc::new(Tensor::from_slice(&[2f32, 3.], &[2]).unwrap())];
    assert_eq!(
        model.predict(&shared).unwrap().to_vec::<f32>(0).unwrap(),
        [2., 3.]
    );
    let opts = torchinfer::RunOptions::new();
    assert_eq!(
        model
            .run_with(Some("double"), &owned, &opts)
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        by_ref
    );
    // Named inputs: String or &str names, owned or borrowed tensors.
    let named = vec![(
        "x".to_string(),
        Tensor::from_slice(&[2f32, 3.], &[2]).unwrap(),
    )];
    assert_eq!(
        model
            .run_method_named("double", &named)
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        by_ref
    );
    assert_eq!(
        model
            .run_named_with(Some("double"), &named, &opts)
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        by_ref
    );
    assert_eq!(
        model
            .predict_named(&[("x", &x)])
            .unwrap()
            .to_vec::<f32>(0)
            .unwrap(),
        [2., 3.]
    );
    // More inputs than the stack array holds take the heap path (and are checked by count).
    let many: Vec<Tensor> = (0..9).map(|_| Tensor::scalar(1f32).unwrap()).collect();
    assert_eq!(
        model.predict(&many).unwrap_err().code(),
        Code::InvalidArgument
    );
}

/// Issue 19: a call without inputs compiles without type annotations (E0283 while the running
/// methods took `&[I]`), and the explicit form callers wrote meanwhile still compiles.
#[test]
fn calls_without_inputs_need_no_annotations() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt"); // forward(x), double(x): each needs its one input
    let opts = torchinfer::RunOptions::new();
    let codes = [
        code_of(model.predict(&[])),
        code_of(model.predict::<Tensor>(&[])),
        code_of(model.predict_named(&[])),
        code_of(model.run_method("double", &[])),
        code_of(model.run_method_named("double", &[])),
        code_of(model.run_with(None, &[], &opts)),
        code_of(model.run_with(Some("double"), &[], &opts)),
        code_of(model.run_named_with(None, &[], &opts)),
        code_of(model.run_values(None, &[])),
    ];
    assert!(
        codes.iter().all(|&c| c == Code::InvalidArgument),
        "{codes:?}"
    );
    // The other forms keep compiling: empty Vecs and slices of any element type.
    let none: Vec<&Tensor> = Vec::new();
    assert_eq!(code_of(model.predict(&none)), Code::InvalidArgument);
    assert_eq!(code_of(model.predict(&none[..])), Code::InvalidArgument);
    // An element type other than `Tensor` on an empty array literal (`predict::<&Tensor>(&[])`)
    // does not compile any more: only `[Tensor; 0]` is accepted, so that `&[]` needs no
    // annotation. An empty slice of any element type does.
    assert_eq!(
        code_of(model.predict::<&Tensor>(&[][..])),
        Code::InvalidArgument
    );
    let x = Tensor::from_slice(&[1f32], &[1]).unwrap();
    let boxed: Box<[&Tensor]> = vec![&x].into_boxed_slice();
    assert_eq!(
        model.predict(&boxed).unwrap().to_vec::<f32>(0).unwrap(),
        [1.]
    );
    let long: Vec<&Tensor> = vec![&x; 70];
    assert_eq!(code_of(model.predict(&long)), Code::InvalidArgument);
    let array = [&x; 64];
    assert_eq!(code_of(model.predict(&array)), Code::InvalidArgument);
}

#[test]
fn nested_and_dict_outputs_by_name() {
    let _leaks = LeakCheck::new();
    let model = load("structured.pt");
    let x = Tensor::from_slice(&[1f32, -2., 3.5, 0.5], &[2, 2]).unwrap();

    let out = model.predict(&[&x]).unwrap();
    assert_eq!(out.len(), 3);
    assert!(!out.is_empty());
    assert_eq!(out.names().collect::<Vec<_>>(), ["0", "1.0", "1.1"]);
    assert_eq!(f32s(&out, "0"), [2., -1., 4.5, 1.5]);
    assert_eq!(f32s(&out, "1.0"), [2., -4., 7., 1.]);
    let sum = out.get_by_name("1.1").unwrap();
    assert_eq!(sum.shape(), &[] as &[i64]);
    assert_eq!(sum.to_vec::<f32>().unwrap(), [3.0]);
    assert_eq!(out.name(3), None);
    assert_eq!(out.get(3).unwrap_err().code(), Code::InvalidArgument);
    // Iteration yields every leaf in order.
    let leaves: Vec<(String, Vec<i64>)> = out
        .iter()
        .map(|leaf| leaf.map(|(n, t)| (n.to_string(), t.shape().to_vec())))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        leaves,
        [
            ("0".into(), vec![2, 2]),
            ("1.0".into(), vec![2, 2]),
            ("1.1".into(), vec![])
        ]
    );
    assert_eq!((&out).into_iter().len(), 3);

    let dict = model.run_method("dict_out", &[&x]).unwrap();
    assert_eq!(
        dict.names().collect::<Vec<_>>(),
        ["boxes.0", "boxes.1", "boxes.2", "scores.0"]
    );
    assert_eq!(f32s(&dict, "boxes.2"), [3., 0., 5.5, 2.5]);
    assert_eq!(f32s(&dict, "scores.0"), [3.0]);

    let scalars = model.run_method("scalars", &[&x]).unwrap();
    let n = scalars.get_by_name("0").unwrap();
    assert_eq!((n.dtype(), n.ndim()), (DType::Int64, 0));
    assert_eq!(n.to_vec::<i64>().unwrap(), [4]);
    let s = scalars.get_by_name("1").unwrap();
    assert_eq!(
        (s.dtype(), s.to_vec::<f64>().unwrap()),
        (DType::Float64, vec![3.0])
    );
    let b = scalars.get_by_name("2").unwrap();
    assert_eq!(
        (b.dtype(), b.to_vec::<bool>().unwrap()),
        (DType::Bool, vec![true])
    );
}

#[test]
fn named_inputs() {
    let _leaks = LeakCheck::new();
    let model = load("named.pt");
    let ids = Tensor::from_slice(&[1f32, 2., 3.], &[1, 3]).unwrap();
    let mask = Tensor::from_slice(&[1f32, 0., 1.], &[1, 3]).unwrap();
    let bias = Tensor::from_slice(&[0.5f32, 0.5, 0.5], &[1, 3]).unwrap();
    let scale = Tensor::scalar(3.0f64).unwrap();

    let out = model
        .predict_named(&[("mask", &mask), ("ids", &ids)])
        .unwrap();
    assert_eq!(f32s(&out, "0"), [1., 0., 3.]);
    let out = model
        .predict_named(&[("bias", &bias), ("mask", &mask), ("ids", &ids)])
        .unwrap();
    assert_eq!(f32s(&out, "0"), [1.5, 0.5, 3.5]);
    let out = model
        .predict_named(&[
            ("scale", &scale),
            ("bias", &bias),
            ("ids", &ids),
            ("mask", &mask),
        ])
        .unwrap();
    assert_eq!(f32s(&out, "0"), [3.5, 0.5, 9.5]);
    // Positional, trailing defaults left out.
    let out = model.predict(&[&ids, &mask]).unwrap();
    assert_eq!(f32s(&out, "0"), [1., 0., 3.]);

    let err = model
        .predict_named(&[("ids", &ids), ("nope", &mask)])
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("mask"),
        "message should list valid names: {err}"
    );
    let err = model
        .predict_named(&[("ids", &ids), ("ids", &mask)])
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = model.predict_named(&[("ids", &ids)]).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "missing required input");
    let err = model.predict_named(&[("i\0ds", &ids)]).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.as_raw().is_none());
}

#[test]
fn run_method_named_inputs() {
    let _leaks = LeakCheck::new();
    let model = load("identity.pt");
    let x = Tensor::from_slice(&[2f32, 3.], &[2]).unwrap();

    // identity.pt: double(x) -> 2 * x, a bare tensor (leaf "0").
    let out = model.run_method_named("double", &[("x", &x)]).unwrap();
    assert_eq!(out.names().collect::<Vec<_>>(), ["0"]);
    let y = out.get_by_name("0").unwrap();
    assert_eq!((y.dtype(), y.shape()), (DType::Float32, &[2i64][..]));
    assert_eq!(y.to_vec::<f32>().unwrap(), [4., 6.]);
    // "forward" is a method like any other.
    let fwd = model.run_method_named("forward", &[("x", &x)]).unwrap();
    assert_eq!(f32s(&fwd, "0"), [2., 3.]);
    // The input was not changed by either call.
    assert_eq!(x.to_vec::<f32>().unwrap(), [2., 3.]);

    // Unknown argument name: INVALID_ARGUMENT from the library.
    let err = model.run_method_named("double", &[("y", &x)]).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().contains("takes: x"),
        "message should list valid names: {err}"
    );
    assert!(err.as_raw().is_some(), "reported by the library: {err}");
    assert_eq!(
        code_of(model.run_method_named("double", &[("x", &x), ("x", &x)])),
        Code::InvalidArgument
    );
    assert_eq!(
        code_of(model.run_method_named::<&str, Tensor>("double", &[])),
        Code::InvalidArgument
    );
    // Unknown method: NOT_FOUND.
    let err = model.run_method_named("nope", &[("x", &x)]).unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.as_raw().is_some(), "reported by the library: {err}");
    // NUL bytes are refused by the crate before any call.
    for err in [
        model
            .run_method_named("dou\0ble", &[("x", &x)])
            .unwrap_err(),
        model
            .run_method_named("double", &[("\0x", &x)])
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.as_raw().is_none());
    }
}

#[test]
fn load_from_bytes_matches_file() {
    let _leaks = LeakCheck::new();
    let bytes = std::fs::read(model_path("mlp.pt")).unwrap();
    let from_bytes = Model::load_from_bytes(&bytes).unwrap();
    drop(bytes);
    let from_file = load("mlp.pt");
    let x = Tensor::from_slice(
        &(0..32).map(|i| i as f32 / 10.0).collect::<Vec<_>>(),
        &[2, 16],
    )
    .unwrap();
    let a = from_bytes
        .predict(&[&x])
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let b = from_file
        .predict(&[&x])
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(a.len(), 8);
    assert_eq!(a, b);
    let via_builder = Model::builder()
        .device("cpu")
        .load_from_bytes(&std::fs::read(model_path("mlp.pt")).unwrap())
        .unwrap();
    assert_eq!(via_builder.device(), "cpu");
}

fn code_of<T: Debug>(r: Result<T, Error>) -> Code {
    let err = r.unwrap_err();
    // Display and Debug both carry the code and the message.
    let shown = err.to_string();
    assert!(shown.starts_with(err.code().name()), "{shown}");
    assert!(shown.contains(&*err.message()));
    let debug = format!("{err:?}");
    assert!(
        debug.contains(&format!("{:?}", err.code())) && debug.contains("message"),
        "{debug}"
    );
    err.code()
}

#[test]
fn every_error_code() {
    let _leaks = LeakCheck::new();
    let mlp = load("mlp.pt");
    let x16 = Tensor::from_slice(&[0.25f32; 16], &[1, 16]).unwrap();

    // INVALID_ARGUMENT: wrong input count, unknown input name, nbytes mismatch.
    assert_eq!(code_of(mlp.predict(&[&x16, &x16])), Code::InvalidArgument);
    assert_eq!(code_of(mlp.predict::<Tensor>(&[])), Code::InvalidArgument);
    assert_eq!(
        code_of(mlp.predict_named(&[("y", &x16)])),
        Code::InvalidArgument
    );
    assert_eq!(
        code_of(Tensor::from_slice(&[1f32, 2., 3.], &[2, 2])),
        Code::InvalidArgument
    );
    assert_eq!(
        code_of(Tensor::from_slice(&[1f32, 2.], &[-1, -2])),
        Code::InvalidArgument
    );

    // NOT_FOUND: missing file, missing method, missing output name.
    assert_eq!(
        code_of(Model::load(model_path("no-such-model.pt"))),
        Code::NotFound
    );
    assert_eq!(code_of(mlp.run_method("nope", &[&x16])), Code::NotFound);
    let out = mlp.predict(&[&x16]).unwrap();
    let err = out.get_by_name("logits").unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains('0'),
        "message lists the names: {err}"
    );

    // MODEL_FORMAT: garbage, truncated, newer.
    let tmp = TempDir::new("format");
    let garbage = tmp.0.join("garbage.pt");
    std::fs::write(
        &garbage,
        b"this is not a zip archive at all, just bytes".repeat(20),
    )
    .unwrap();
    assert_eq!(code_of(Model::load(&garbage)), Code::ModelFormat);
    let mlp_bytes = std::fs::read(model_path("mlp.pt")).unwrap();
    let truncated = tmp.0.join("truncated.pt");
    std::fs::write(&truncated, &mlp_bytes[..mlp_bytes.len() / 2]).unwrap();
    assert_eq!(code_of(Model::load(&truncated)), Code::ModelFormat);
    assert_eq!(
        code_of(Model::load(model_path("newer.pt"))),
        Code::ModelFormat
    );
    assert_eq!(
        code_of(Model::load_from_bytes(b"garbage")),
        Code::ModelFormat
    );
    assert_eq!(
        code_of(Model::load_from_bytes(&mlp_bytes[..100])),
        Code::ModelFormat
    );

    // RUNTIME: a raising model (which stays usable), a shape mismatch.
    let faulty = load("faulty.pt");
    let neg = Tensor::from_slice(&[-1f32, -2.], &[2]).unwrap();
    let err = faulty.predict(&[&neg]).unwrap_err();
    assert_eq!(err.code(), Code::Runtime);
    assert!(err.message().contains("non-negative"), "{err}");
    let pos = Tensor::from_slice(&[1f32, 2.], &[2]).unwrap();
    assert_eq!(
        faulty
            .predict(&[&pos])
            .unwrap()
            .get(0)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        [2., 4.]
    );
    let x7 = Tensor::from_slice(&[1f32; 7], &[1, 7]).unwrap();
    assert_eq!(code_of(mlp.predict(&[&x7])), Code::Runtime);

    // OUT_OF_MEMORY: faulty.allocate(10^15), and the model stays usable.
    let huge = Tensor::scalar(1_000_000_000_000_000i64).unwrap();
    assert_eq!(
        code_of(faulty.run_method("allocate", &[&huge])),
        Code::OutOfMemory
    );
    let three = Tensor::scalar(3i64).unwrap();
    assert_eq!(
        faulty
            .run_method("allocate", &[&three])
            .unwrap()
            .get(0)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        [1., 1., 1.]
    );

    // DEVICE: CUDA requested where there is none (never a CPU fallback).
    if torchinfer::cuda_device_count() == 0 {
        assert_eq!(
            code_of(Model::builder().device("cuda").load(model_path("mlp.pt"))),
            Code::Device
        );
        assert_eq!(
            code_of(
                Model::builder()
                    .device("cuda:0")
                    .load_from_bytes(&mlp_bytes)
            ),
            Code::Device
        );
    }

    // UNSUPPORTED: a .pt2 (native code) when native code is not allowed; a device type other
    // than cpu/cuda. (A str result is a string leaf now, no longer UNSUPPORTED.)
    let structured = load("structured.pt");
    let text = structured.run_method("text", &[&x16]).unwrap();
    assert_eq!(text.string(0).unwrap(), "not a tensor");
    assert_eq!(
        code_of(
            Model::builder()
                .allow_native_code(false)
                .load(model_path("fake.pt2"))
        ),
        Code::Unsupported
    );
    assert_eq!(
        code_of(Model::builder().device("mps").load(model_path("mlp.pt"))),
        Code::Unsupported
    );
    assert_eq!(
        code_of(
            Model::builder()
                .device("not a device")
                .load(model_path("mlp.pt"))
        ),
        Code::InvalidArgument
    );

    // INTERNAL and unknown codes: mapped, not reachable.
    assert_eq!(
        Code::from_raw(torchinfer::sys::TI_ERR_INTERNAL),
        Code::Internal
    );
    assert_eq!(Code::Internal.name(), "TI_ERR_INTERNAL");
    assert_eq!(Code::from_raw(99), Code::Unknown(99));
    assert_eq!(Code::Unknown(99).name(), "TI_ERR_UNKNOWN");
    for code in [
        Code::InvalidArgument,
        Code::NotFound,
        Code::ModelFormat,
        Code::Runtime,
        Code::OutOfMemory,
        Code::Device,
        Code::Unsupported,
        Code::Internal,
        Code::Cancelled,
        Code::DeadlineExceeded,
        Code::Unavailable,
    ] {
        assert_eq!(Code::from_raw(code.to_raw()), code);
        assert!(code.name().starts_with("TI_ERR_") && code.name() != "TI_ERR_UNKNOWN");
    }
}

#[test]
fn errors_cross_threads_and_box_dyn() {
    let _leaks = LeakCheck::new();
    let err = Model::load(model_path("no-such-model.pt")).unwrap_err();
    assert!(err.as_raw().is_some());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    let msg = std::thread::spawn(move || boxed.to_string())
        .join()
        .unwrap();
    assert!(msg.starts_with("TI_ERR_NOT_FOUND: "), "{msg}");
}

#[test]
fn sixteen_threads_share_one_model() {
    let _leaks = LeakCheck::new();
    let model = load("mlp.pt");
    let inputs: Vec<Tensor> = (0..8)
        .map(|k| {
            let data: Vec<f32> = (0..16)
                .map(|i| ((i * 7 + k * 13) % 11) as f32 / 5.0 - 1.0)
                .collect();
            Tensor::from_slice(&data, &[1, 16]).unwrap()
        })
        .collect();
    let reference: Vec<Vec<f32>> = inputs
        .iter()
        .map(|x| {
            model
                .predict(&[x])
                .unwrap()
                .get(0)
                .unwrap()
                .to_vec::<f32>()
                .unwrap()
        })
        .collect();
    assert!(reference.iter().all(|r| r.len() == 4));
    assert_ne!(reference[0], reference[1]);

    let (model, inputs, reference) = (&model, &inputs, &reference);
    let mismatches: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..16)
            .map(|t| {
                s.spawn(move || {
                    let mut bad = 0;
                    for iter in 0..40 {
                        let k = (t + iter) % inputs.len();
                        // Tensors are shared too: every thread reads the same input handles.
                        let y = model.predict(&[&inputs[k]]).unwrap().get(0).unwrap();
                        if y.to_vec::<f32>().unwrap() != reference[k] {
                            bad += 1;
                        }
                    }
                    bad
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert_eq!(
        mismatches, 0,
        "concurrent results differ from the single-thread reference"
    );
}

#[test]
fn leak_check_everything_freed_ends_at_zero() {
    let leaks = LeakCheck::new();
    // Holding the lock, no other test of this binary has handles alive.
    assert_eq!(leaks.start(), 0);
    {
        let model = Model::builder()
            .device("cpu")
            .load(model_path("structured.pt"))
            .unwrap();
        let x = Tensor::from_slice(&[1f32, 2.], &[2]).unwrap();
        let out = model.predict(&[&x]).unwrap();
        let leaf = out.get_by_name("1.0").unwrap();
        let _err = model.run_method("nope", &[&x]).unwrap_err();
        let _err2 = Model::builder()
            .device("mps")
            .load(model_path("mlp.pt"))
            .unwrap_err();
        // model, x, out, leaf, _err, _err2 (the load options were freed inside the load)
        assert_eq!(torchinfer::live_handles(), 6);
        drop(model);
        drop(out);
        // The leaf outlives its outputs and model.
        assert_eq!(leaf.to_vec::<f32>().unwrap(), [2., 4.]);
        assert_eq!(torchinfer::live_handles(), 4);
    }
    assert_eq!(torchinfer::live_handles(), 0);
}
