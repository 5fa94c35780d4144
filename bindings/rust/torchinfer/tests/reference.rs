//! Runs every case of the shared reference.json and compares names, dtypes, shapes, values.

mod common;

use std::collections::HashMap;

use serde_json::Value;
use torchinfer::{Model, Tensor};

use common::{assert_leaf_matches, tensor_from_json, LeakCheck};

#[test]
fn all_reference_cases() {
    let _leaks = LeakCheck::new();
    let text = std::fs::read_to_string(common::model_path("reference.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(
        cases.len() >= 12,
        "expected the shared cases, got {}",
        cases.len()
    );

    let mut models: HashMap<String, Model> = HashMap::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let file = case["model"].as_str().unwrap();
        let model = models
            .entry(file.to_string())
            .or_insert_with(|| Model::load(common::model_path(file)).unwrap());
        let inputs: Vec<(String, Tensor)> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["name"].as_str().unwrap().to_string(), tensor_from_json(i)))
            .collect();
        let method = case["method"].as_str().unwrap();
        let outputs = if case["named"].as_bool().unwrap() {
            assert_eq!(method, "forward");
            let named: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (n.as_str(), t)).collect();
            model.predict_named(&named)
        } else {
            let positional: Vec<&Tensor> = inputs.iter().map(|(_, t)| t).collect();
            if method == "forward" {
                model.predict(&positional)
            } else {
                model.run_method(method, &positional)
            }
        }
        .unwrap_or_else(|e| panic!("case {name}: {e}"));

        let expected = case["outputs"].as_array().unwrap();
        let names: Vec<&str> = outputs.names().collect();
        let expected_names: Vec<&str> = expected
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected_names, "case {name}: leaf names");
        for want in expected {
            let leaf = want["name"].as_str().unwrap();
            let got = outputs.get_by_name(leaf).unwrap();
            assert_leaf_matches(&got, want, 1e-5, 1e-6, &format!("case {name} leaf {leaf}"));
        }
    }
}
