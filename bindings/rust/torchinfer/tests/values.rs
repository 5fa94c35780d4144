//! Structured values (issue 16): the cases of the shared values_reference.json run three ways
//! (set by path through `Inputs`, as a `Value` tree rebuilt from the paths, and as native Rust
//! values through the `From` impls), every value kind round-tripped, every bad input with its
//! code and its path in the message, the schema, the native-code load option, and one `Inputs`
//! shared by threads. Every test holds a `LeakCheck` (declared first, dropped last).

mod common;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;
use torchinfer::{escape_path_segment, Code, Inputs, Key, Kind, Model, Outputs, Tensor, Value};

use common::{assert_leaf_matches, model_path, tensor_from_json, LeakCheck};

fn load(name: &str) -> Model {
    Model::load(model_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn reference() -> Json {
    let text = std::fs::read_to_string(model_path("values_reference.json"))
        .expect("values_reference.json in the fixtures");
    serde_json::from_str(&text).unwrap()
}

/// Loads torchvision's operator library (the path in torchvision_ops.txt).
fn load_ops() {
    let path = std::fs::read_to_string(model_path("torchvision_ops.txt")).unwrap();
    torchinfer::load_op_library(path.trim()).unwrap();
}

/// The tensors of a case's inputs, by path.
fn case_tensors(case: &Json) -> HashMap<String, Tensor> {
    case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "tensor")
        .map(|i| (i["path"].as_str().unwrap().to_string(), tensor_from_json(i)))
        .collect()
}

/// A reference input entry as a `Value` (an "empty" as an empty list).
fn leaf_value<'a>(spec: &Json, tensors: &'a HashMap<String, Tensor>) -> Value<'a> {
    match spec["kind"].as_str().unwrap() {
        "tensor" => Value::Tensor(&tensors[spec["path"].as_str().unwrap()]),
        "int" => Value::Int(spec["value"].as_i64().unwrap()),
        "float" => Value::Float(spec["value"].as_f64().unwrap()),
        "bool" => Value::Bool(spec["value"].as_bool().unwrap()),
        "string" => Value::from(spec["value"].as_str().unwrap().to_string()),
        "none" => Value::None,
        "empty" => Value::List(Vec::new()),
        other => panic!("unknown input kind {other}"),
    }
}

/// Compares outputs with a case's expected leaves: names in order, kinds, dtypes, shapes,
/// values (floats within rel 1e-5, abs 1e-6; the detection case rel 1e-4, abs 1e-3).
fn check_outputs(case: &Json, out: &Outputs, how: &str) {
    let name = case["name"].as_str().unwrap();
    let (rel, abs) = if case["model"] == "detection.pt" {
        (1e-4, 1e-3)
    } else {
        (1e-5, 1e-6)
    };
    let expected = case["outputs"].as_array().unwrap();
    let want_names: Vec<&str> = expected
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        out.names().collect::<Vec<_>>(),
        want_names,
        "case {name} ({how}): leaf names"
    );
    for (i, want) in expected.iter().enumerate() {
        let leaf = want_names[i];
        match want["kind"].as_str().unwrap() {
            "tensor" => {
                assert_eq!(out.kind(i), Some(Kind::Tensor), "case {name} leaf {leaf}");
                let got = out.get(i).unwrap();
                assert_leaf_matches(
                    &got,
                    want,
                    rel,
                    abs,
                    &format!("case {name} ({how}) leaf {leaf}"),
                );
            }
            "string" => {
                assert_eq!(out.kind(i), Some(Kind::String), "case {name} leaf {leaf}");
                assert_eq!(
                    out.string(i).unwrap(),
                    want["value"].as_str().unwrap(),
                    "case {name} ({how}) leaf {leaf}"
                );
            }
            "none" => {
                assert_eq!(out.kind(i), Some(Kind::None), "case {name} leaf {leaf}");
                assert!(out.is_none(i));
            }
            other => panic!("unknown output kind {other}"),
        }
    }
}

/// Splits a path into its segments, undoing the escapes (`\.` and `\\`).
fn split_path(path: &str) -> Vec<String> {
    let mut segments = vec![String::new()];
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => segments
                .last_mut()
                .unwrap()
                .push(chars.next().expect("a complete escape")),
            '.' => segments.push(String::new()),
            c => segments.last_mut().unwrap().push(c),
        }
    }
    segments
}

/// A tree of values by unescaped segment, in the order the paths came.
enum Node<'a> {
    Leaf(Value<'a>),
    Branch(Vec<(String, Node<'a>)>),
}

fn insert<'a>(children: &mut Vec<(String, Node<'a>)>, segments: &[String], value: Value<'a>) {
    let (first, rest) = segments.split_first().unwrap();
    if rest.is_empty() {
        children.push((first.clone(), Node::Leaf(value)));
        return;
    }
    let at = match children.iter().position(|(k, _)| k == first) {
        Some(at) => at,
        None => {
            children.push((first.clone(), Node::Branch(Vec::new())));
            children.len() - 1
        }
    };
    match &mut children[at].1 {
        Node::Branch(grand) => insert(grand, rest, value),
        Node::Leaf(_) => panic!("a path below a leaf"),
    }
}

/// Every branch as a dict keyed by its segments: the walk escapes them again, so the paths it
/// sets are the reference's (whether the declared type is a list, a tuple or a dict).
fn to_value(node: Node<'_>) -> Value<'_> {
    match node {
        Node::Leaf(v) => v,
        Node::Branch(children) => Value::Dict(
            children
                .into_iter()
                .map(|(k, n)| (Key::Str(Cow::Owned(k)), to_value(n)))
                .collect(),
        ),
    }
}

/// The case's arguments as native Rust values through the `From` impls, where this test knows
/// the case.
fn native_args<'a>(
    case: &str,
    t: &'a HashMap<String, Tensor>,
) -> Option<Vec<(&'static str, Value<'a>)>> {
    Some(match case {
        "values_all" => vec![
            (
                "pairs",
                vec![
                    (&t["pairs.0.0"], &t["pairs.0.1"]),
                    (&t["pairs.1.0"], &t["pairs.1.1"]),
                ]
                .into(),
            ),
            (
                "by_id",
                HashMap::from([
                    (5i64, Value::from(&t["by_id.5"])),
                    (-7, (&t["by_id.-7"]).into()),
                ])
                .into(),
            ),
            ("text", String::from("héllo wörld").into()),
            ("words", vec!["a.b", "c"].into()),
            ("maybe", Some(&t["maybe"]).into()),
            ("k", 3i32.into()),
            ("scale", 0.5.into()),
        ],
        "values_defaults" => vec![
            ("pairs", Vec::<(&Tensor, &Tensor)>::new().into()),
            ("by_id", HashMap::<i64, &Tensor>::new().into()),
            ("text", "".into()),
            ("words", Vec::<&str>::new().into()),
        ],
        "values_none" => vec![
            ("0", vec![(&t["0.0.0"], &t["0.0.1"])].into()),
            ("1", BTreeMap::from([(0i64, &t["1.0"])]).into()),
            ("2", "x".into()),
            ("3", (&["only"][..]).into()),
            ("maybe", None::<&Tensor>.into()),
        ],
        "values_echo" => vec![("s", "nul\0inside, ünïcode".into())],
        "dict_input" => vec![(
            "batch",
            HashMap::from([
                ("input_ids", &t["batch.input_ids"]),
                ("attention_mask", &t["batch.attention_mask"]),
            ])
            .into(),
        )],
        "detection" => vec![("images", vec![&t["images.0"], &t["images.1"]].into())],
        _ => return None,
    })
}

#[test]
fn values_reference_cases() {
    let _leaks = LeakCheck::new();
    let reference = reference();
    let cases = reference["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for want in [
        "values_all",
        "values_defaults",
        "values_none",
        "values_echo",
        "dict_input",
    ] {
        assert!(names.contains(&want), "case {want} missing from {names:?}");
    }
    if !names.contains(&"detection") {
        eprintln!("values_reference_cases: no detection case (torchvision missing when the fixtures were made)");
    }
    let mut models: HashMap<String, Model> = HashMap::new();
    let mut native_runs = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let file = case["model"].as_str().unwrap();
        if case["ops"].as_bool().unwrap_or(false) {
            load_ops();
        }
        let model = models.entry(file.to_string()).or_insert_with(|| load(file));
        let method = case["method"].as_str().unwrap();
        let tensors = case_tensors(case);
        let inputs_spec = case["inputs"].as_array().unwrap();

        // 1. Set by path, exactly the reference's paths.
        let mut inputs = Inputs::new(model, Some(method)).unwrap();
        for spec in inputs_spec {
            let path = spec["path"].as_str().unwrap();
            inputs
                .set(path, leaf_value(spec, &tensors))
                .unwrap_or_else(|e| panic!("case {name}: set {path}: {e}"));
        }
        let out = inputs.run().unwrap_or_else(|e| panic!("case {name}: {e}"));
        check_outputs(case, &out, "by path");

        // 2. One value tree per argument, rebuilt from the paths and walked by run_values.
        let mut root = Vec::new();
        for spec in inputs_spec {
            let path = spec["path"].as_str().unwrap();
            insert(&mut root, &split_path(path), leaf_value(spec, &tensors));
        }
        let arg_names: Vec<String> = root
            .iter()
            .map(|(k, _)| escape_path_segment(k).into_owned())
            .collect();
        let args: Vec<(&str, Value)> = arg_names
            .iter()
            .map(String::as_str)
            .zip(root.into_iter().map(|(_, n)| to_value(n)))
            .collect();
        let out = model
            .run_values(Some(method), &args)
            .unwrap_or_else(|e| panic!("case {name} (tree): {e}"));
        check_outputs(case, &out, "value tree");

        // 3. Native values through the From impls.
        if let Some(args) = native_args(name, &tensors) {
            let out = model
                .run_values(Some(method), &args)
                .unwrap_or_else(|e| panic!("case {name} (native): {e}"));
            check_outputs(case, &out, "native values");
            native_runs += 1;
        }
    }
    assert!(
        native_runs >= 5,
        "native values ran for {native_runs} cases"
    );
}

/// values.pt's results computed here, for values chosen by this test.
#[test]
fn native_values_compute_what_the_model_says() {
    let _leaks = LeakCheck::new();
    let model = load("values.pt");
    let a = Tensor::from_slice(&[1f32, 2., 3.], &[3]).unwrap();
    let b = Tensor::from_slice(&[0.5f32, -1., 2.], &[3]).unwrap();
    let c = Tensor::from_slice(&[2f32, 2.], &[1, 2]).unwrap();
    let m = Tensor::from_slice(&[1.5f32, -4.], &[2]).unwrap();
    let by_id: HashMap<i64, Value> = HashMap::from([(10, (&c).into()), (-3, (&a).into())]);
    let words: Vec<&str> = vec!["x.y", "z\\w", "ü"];
    let out = model
        .run_values(
            None,
            &[
                ("pairs", vec![(&a, &b), (&c, &c)].into()),
                ("by_id", by_id.into()),
                ("text", "Mixed Case".into()),
                ("words", words.into()),
                ("maybe", Some(&m).into()),
                ("k", 1i64.into()),
                ("scale", 2.0f64.into()),
            ],
        )
        .unwrap();
    assert_eq!(
        out.names().collect::<Vec<_>>(),
        ["0", r"1.p\.q", "1.n", "2", "3.0", "3.1", "3.2", "4"]
    );
    // (0.5 - 2 + 6) + (4 + 4) = 12.5; * 2 + 1
    assert_eq!(out.to_vec::<f32>(0).unwrap(), [26.0]);
    // (4 + 10) + (6 - 3)
    assert_eq!(out.to_vec::<f32>(1).unwrap(), [17.0]);
    assert_eq!(out.to_vec::<i64>(2).unwrap(), [2]);
    assert_eq!(out.string(3).unwrap(), "MIXED CASE!");
    assert_eq!(
        [
            out.string(4).unwrap(),
            out.string(5).unwrap(),
            out.string(6).unwrap()
        ],
        ["ü", "z\\w", "x.y"]
    );
    assert_eq!(out.to_vec::<f32>(7).unwrap(), [3.0, -8.0]);

    // The same through a map of owned keys and values, tuples of three and more: From impls.
    let named: HashMap<String, &Tensor> = HashMap::from([
        ("input_ids".to_string(), &a),
        ("attention_mask".to_string(), &b),
    ]);
    let dict = load("dict_input.pt");
    let out = dict.run_values(None, &[("batch", named.into())]).unwrap();
    assert_eq!(out.to_vec::<f32>(0).unwrap(), [0.5 - 2.0 + 6.0]);
    let t3: Value = (1i64, "two", Some(&a)).into();
    assert!(matches!(&t3, Value::Tuple(v) if v.len() == 3));
    assert!(matches!(Value::from(Option::<i64>::None), Value::None));
    assert!(matches!(Value::from(&[&a, &b][..]), Value::List(v) if v.len() == 2));
    assert!(matches!(Value::from(true), Value::Bool(true)));
    assert!(matches!(Value::from(7i32), Value::Int(7)));
    assert!(matches!(Value::from(String::from("s")), Value::Str(s) if s == "s"));
    assert_eq!(Key::from(true).to_segment(), "True");
    assert_eq!(Key::from(-4i64).to_segment(), "-4");
    assert_eq!(Key::from(r"a.b\c").to_segment(), r"a\.b\\c");
}

#[test]
fn every_kind_round_trips() {
    let _leaks = LeakCheck::new();
    let model = load("values.pt");

    // str in and out through echo: NUL bytes, UTF-8, empty, long.
    let long = "ß.\\".repeat(10_000);
    for s in [
        "",
        "\0",
        "a\0b\0",
        "héllo wörld 😀",
        "dots.and\\slashes",
        long.as_str(),
    ] {
        let out = model.run_values(Some("echo"), &[("s", s.into())]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out.kind(0), Some(Kind::String));
        assert_eq!(out.string(0).unwrap(), s);
        assert_eq!(out.string_bytes(0).unwrap(), s.as_bytes());
        assert!(!out.is_none(0));
        // Not a tensor: the tensor accessors say so.
        let err = out.get(0).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err}");
        assert_eq!(
            out.to_vec::<i64>(0).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(
            out.to_vec::<f32>(0).unwrap_err().code(),
            Code::InvalidArgument
        );
        assert_eq!(
            out.get_by_name("0").unwrap_err().code(),
            Code::InvalidArgument
        );
        assert!(out.iter().next().unwrap().is_err());
    }

    // None in (and the default), None out; empty lists and dicts in, no leaves out.
    let empty_pairs: Vec<(&Tensor, &Tensor)> = Vec::new();
    let run = |maybe: Value| {
        model
            .run_values(
                None,
                &[
                    ("pairs", empty_pairs.clone().into()),
                    ("by_id", BTreeMap::<i64, &Tensor>::new().into()),
                    ("text", "".into()),
                    ("words", Vec::<String>::new().into()),
                    ("maybe", maybe),
                ],
            )
            .unwrap()
    };
    for out in [run(Value::None), run(None::<&Tensor>.into())] {
        // No "3.*" leaf: an empty list gives none.
        assert_eq!(
            out.names().collect::<Vec<_>>(),
            ["0", r"1.p\.q", "1.n", "2", "4"]
        );
        assert_eq!(out.to_vec::<f32>(0).unwrap(), [2.0]); // no pairs: 0 * 1 + k
        assert_eq!(out.to_vec::<f32>(1).unwrap(), [0.0]);
        assert_eq!(out.to_vec::<i64>(2).unwrap(), [0]);
        assert_eq!(out.string(3).unwrap(), "!!");
        assert_eq!(out.kind(4), Some(Kind::None));
        assert!(out.is_none(4));
        assert_eq!(out.get(4).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(out.string(4).unwrap_err().code(), Code::InvalidArgument);
        assert_eq!(out.string(0).unwrap_err().code(), Code::InvalidArgument);
        // Out of range.
        assert_eq!(out.kind(5), None);
        assert!(!out.is_none(5));
        assert_eq!(out.string(5).unwrap_err().code(), Code::InvalidArgument);
    }
    // Left out, `maybe` takes its default (None) as well.
    let inputs = {
        let mut i = Inputs::new(&model, None).unwrap();
        i.set("pairs", Value::List(vec![])).unwrap();
        i.set("by_id", Value::Dict(vec![])).unwrap();
        i.set("text", "t").unwrap();
        i.set("words", Value::List(vec![])).unwrap();
        i
    };
    let out = inputs.run().unwrap();
    assert!(out.is_none(out.index_of("4").unwrap()));
    assert_eq!(out.string(3).unwrap(), "T!!");
    // int / float / bool arguments take one-element tensors too.
    let mut inputs = inputs;
    let k = Tensor::scalar(0i64).unwrap();
    inputs.set("k", &k).unwrap();
    drop(k); // the inputs keep their own reference
    inputs.set("scale", 3i64).unwrap(); // an int where a float is declared
    let out = inputs.run().unwrap();
    assert_eq!(out.string(3).unwrap(), "T");
}

/// Every bad input: its exact code, and its path in the message; a failed set leaves the
/// inputs usable.
#[test]
fn bad_inputs_name_their_path() {
    let _leaks = LeakCheck::new();
    let model = load("values.pt");
    let t = Tensor::from_slice(&[1f32, 2.], &[2]).unwrap();

    let mut inputs = Inputs::new(&model, None).unwrap();
    // (path, value, the path the message names, the segment it names below that path). The
    // library names the deepest path that exists in the schema, with its declared type, and the
    // segment that does not fit: "input 'pairs.0' (Tuple[Tensor, Tensor]): '2' is not a tuple
    // index".
    let set_time: Vec<(&str, Value, &str, Option<&str>)> = vec![
        ("nope", 1i64.into(), "nope", None), // unknown argument
        ("pairs.0.2", (&t).into(), "pairs.0", Some("2")), // past the tuple's arity
        ("pairs.x.0", (&t).into(), "pairs", Some("x")), // a non-decimal index
        ("by_id.abc", (&t).into(), "by_id", Some("abc")), // a key that is not an int
        ("maybe.0", (&t).into(), "maybe", Some("0")), // below a Tensor
        ("text.0", "x".into(), "text", Some("0")), // below a str
        ("k.1", 1i64.into(), "k", Some("1")), // below an int
        ("maybe", "a string".into(), "maybe", None), // a string for a Tensor
        ("by_id", (&t).into(), "by_id", None), // a tensor for a Dict
        ("text", Value::None, "text", None), // None where not Optional
        ("k", Value::List(vec![]), "k", None), // empty for a non-container
        ("words.0", (&t).into(), "words.0", None), // a tensor for a str
        ("pairs.0", 3.5.into(), "pairs.0", None), // a float for a tuple
    ];
    for (path, value, named, segment) in set_time {
        let err = inputs.set(path, value).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "set {path}: {err}");
        let message = err.message();
        assert!(
            message.contains(&format!("'{named}'")),
            "set {path}: names {named}: {err}"
        );
        if let Some(segment) = segment {
            assert!(
                message.contains(&format!("'{segment}'")),
                "set {path}: names {segment}: {err}"
            );
        }
    }
    // The unknown argument's message lists the valid ones.
    let err = inputs.set("nope", 1i64).unwrap_err();
    for valid in ["pairs", "by_id", "text", "words", "maybe", "k", "scale"] {
        assert!(err.message().contains(valid), "{err}");
    }
    // A NUL byte in a path never reaches the library.
    let err = inputs.set("te\0xt", "x").unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.as_raw().is_none(), "checked by the crate");

    // Run-time checks.
    let mut gap = Inputs::new(&model, None).unwrap();
    for path in ["pairs.0.0", "pairs.0.1", "pairs.2.0", "pairs.2.1"] {
        gap.set(path, &t).unwrap();
    }
    gap.set("by_id.1", &t).unwrap();
    gap.set("text", "x").unwrap();
    gap.set("words", Value::List(vec![])).unwrap();
    let err = gap.run().unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(err.message().contains("pairs"), "a list with a gap: {err}");
    // Filling the gap makes it run.
    gap.set("pairs.1", (&t, &t)).unwrap();
    let out = gap.run().unwrap();
    assert_eq!(
        out.names().collect::<Vec<_>>(),
        ["0", r"1.p\.q", "1.n", "2", "4"]
    );
    assert_eq!(out.to_vec::<f32>(0).unwrap(), [17.0]); // 3 * (1 + 4) + k = 2

    let mut tuple = Inputs::new(&model, None).unwrap();
    tuple.set("pairs.0.0", &t).unwrap();
    tuple.set("by_id", Value::Dict(vec![])).unwrap();
    tuple.set("text", "x").unwrap();
    tuple.set("words", Value::List(vec![])).unwrap();
    let err = tuple.run().unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(
        err.message().contains("pairs.0"),
        "a tuple with a missing element: {err}"
    );

    let mut missing = Inputs::new(&model, None).unwrap();
    missing.set("pairs", Value::List(vec![])).unwrap();
    missing.set("by_id", Value::Dict(vec![])).unwrap();
    missing.set("words", Value::List(vec![])).unwrap();
    let err = missing.run().unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(
        err.message().contains("text"),
        "a required argument not set: {err}"
    );
    let err = model
        .run_values(None, &[("pairs", Value::List(vec![]))])
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");

    // After all those failed sets, the first inputs object is still usable.
    inputs.set("pairs", vec![(&t, &t)]).unwrap();
    inputs.set("by_id", HashMap::from([(2i64, &t)])).unwrap();
    inputs.set("text", "ok").unwrap();
    inputs.set("words", vec!["w"]).unwrap();
    let out = inputs.run().unwrap();
    assert_eq!(out.to_vec::<f32>(0).unwrap(), [7.0]); // 1 + 4 + k = 2
    assert_eq!(out.string(3).unwrap(), "OK!!");

    // An unknown method, a NUL byte in a method name.
    let err = Inputs::new(&model, Some("nope")).unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err}");
    assert_eq!(
        model.run_values(Some("nope"), &[]).unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        Inputs::new(&model, Some("ec\0ho")).unwrap_err().code(),
        Code::InvalidArgument
    );
    // The run options are honoured: a cancelled call fails before it starts.
    let opts = torchinfer::RunOptions::new();
    opts.cancel();
    let err = model
        .run_values_with(Some("echo"), &[("s", "x".into())], &opts)
        .unwrap_err();
    assert_eq!(err.code(), Code::Cancelled, "{err}");
}

#[test]
fn schema_of_each_method() {
    let _leaks = LeakCheck::new();
    let model = load("values.pt");
    let forward = model.schema(None).unwrap();
    assert!(forward.starts_with("forward("), "{forward}");
    for arg in ["pairs", "by_id", "text", "words", "maybe", "k", "scale"] {
        assert!(forward.contains(arg), "{forward}");
    }
    assert!(!forward.contains("self"), "{forward}");
    assert_eq!(model.schema(Some("forward")), Some(forward));
    let echo = model.schema(Some("echo")).unwrap();
    assert!(
        echo.starts_with("echo(str s)") && echo.ends_with("str"),
        "{echo}"
    );
    assert_eq!(model.schema(Some("nope")), None);
    assert_eq!(model.schema(Some("ec\0ho")), None);
    let mlp = load("mlp.pt");
    assert!(mlp.schema(None).unwrap().contains("Tensor x"));
}

#[test]
fn native_code_can_be_refused() {
    let _leaks = LeakCheck::new();
    let strict = Model::builder().allow_native_code(false);
    let mlp = strict.load(model_path("mlp.pt")).unwrap();
    assert_eq!(mlp.format(), "torchscript");
    Model::builder()
        .allow_native_code(true)
        .device("cpu")
        .load(model_path("mlp.pt"))
        .unwrap();
    let pt2 = if model_path("dynamic.pt2").exists() {
        model_path("dynamic.pt2")
    } else {
        model_path("fake.pt2")
    };
    let err = strict.load(&pt2).unwrap_err();
    assert_eq!(err.code(), Code::Unsupported, "{err}");
    assert!(err.message().contains("native"), "{err}");
    let bytes = std::fs::read(&pt2).unwrap();
    let err = strict.load_from_bytes(&bytes).unwrap_err();
    assert_eq!(err.code(), Code::Unsupported, "{err}");
    assert!(err.message().contains("native"), "{err}");
}

/// One `Inputs`, set once, run by 8 threads at once: every result equals the single-thread one.
#[test]
fn one_inputs_object_shared_by_threads() {
    let _leaks = LeakCheck::new();
    let model = load("values.pt");
    let a = Tensor::from_slice(&[0.25f32; 64], &[8, 8]).unwrap();
    let mut inputs = Inputs::new(&model, None).unwrap();
    inputs.set("pairs", vec![(&a, &a), (&a, &a)]).unwrap();
    inputs
        .set("by_id", HashMap::from([(1i64, &a), (2, &a)]))
        .unwrap();
    inputs.set("text", "threads").unwrap();
    inputs.set("words", vec!["a", "b", "c"]).unwrap();
    inputs.set("maybe", &a).unwrap();
    drop(a);
    let want = inputs.run().unwrap();
    let want_0 = want.to_vec::<f32>(0).unwrap();
    let want_4 = want.to_vec::<f32>(7).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..25 {
                    let out = inputs.run().unwrap();
                    assert_eq!(out.to_vec::<f32>(0).unwrap(), want_0);
                    assert_eq!(out.string(3).unwrap(), "THREADS!!");
                    assert_eq!(out.string(4).unwrap(), "c");
                    assert_eq!(out.to_vec::<f32>(7).unwrap(), want_4);
                }
            });
        }
    });
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Inputs<'static>>();
    send_sync::<Value<'static>>();
    send_sync::<Key<'static>>();
}
