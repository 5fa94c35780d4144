//! torchinfer-predict: load a TorchScript model and print its named outputs for one input row.
//!
//!     torchinfer-predict MODEL.pt [VALUE...]
//!
//! The values (default: 0.5 -1 2 0.1) form a float32 tensor of shape [1, N] passed as the
//! model's first input. Every output leaf is printed with its name, dtype, shape and values.

use std::process::ExitCode;

use torchinfer::{DType, Model, Tensor};

fn format_values(t: &Tensor) -> Result<String, torchinfer::Error> {
    fn join<T: ToString>(v: Vec<T>) -> String {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
    Ok(match t.dtype() {
        DType::Float32 => join(
            t.to_vec::<f32>()?
                .into_iter()
                .map(|x| format!("{x:.6}"))
                .collect(),
        ),
        DType::Float64 => join(
            t.to_vec::<f64>()?
                .into_iter()
                .map(|x| format!("{x:.6}"))
                .collect(),
        ),
        DType::Int64 => join(t.to_vec::<i64>()?),
        DType::Int32 => join(t.to_vec::<i32>()?),
        DType::Bool => join(t.to_vec::<bool>()?),
        other => format!("({other})"),
    })
}

fn run(path: &str, values: &[f32]) -> Result<(), torchinfer::Error> {
    println!(
        "libtorchinfer {} (LibTorch {})",
        torchinfer::version(),
        torchinfer::torch_version()
    );
    let model = Model::load(path)?;
    println!(
        "model {path} on {}, inputs: {}",
        model.device(),
        model.inputs().join(" ")
    );

    let input = Tensor::from_slice(values, &[1, values.len() as i64])?;
    let outputs = model.predict(&[&input])?;
    for leaf in &outputs {
        let (name, tensor) = leaf?;
        println!(
            "{name}: {} {:?} = {}",
            tensor.dtype(),
            tensor.shape(),
            format_values(&tensor)?
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 || args[1] == "-h" || args[1] == "--help" {
        eprintln!(
            "usage: {} MODEL.pt [VALUE...]",
            args.first().map_or("torchinfer-predict", |s| s)
        );
        return ExitCode::from(2);
    }
    let values: Vec<f32> = if args.len() > 2 {
        match args[2..].iter().map(|s| s.parse::<f32>()).collect() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("bad value: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        vec![0.5, -1.0, 2.0, 0.1]
    };
    match run(&args[1], &values) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
