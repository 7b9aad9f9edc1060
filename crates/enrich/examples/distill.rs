//! Distils the static embedding table: `cargo run -p waterline-enrich --features distill
//! --example distill -- MODEL_DIR DATA_DIR OUT [DIMS]` (development shortcut for
//! `waterline train embeddings`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, data, out, rest @ ..] = args.as_slice() else {
        return Err("usage: distill MODEL_DIR DATA_DIR OUT [DIMS]".into());
    };
    let mut options = waterline_enrich::distill::DistillOptions::new(model.into(), data.into());
    if let Some(dims) = rest.first() {
        options.dims = dims.parse()?;
    }
    let table = waterline_enrich::distill::distill(&options, &|done, all| {
        if done % 8192 < options.batch || done == all {
            eprintln!("{done}/{all} words");
        }
    })?;
    std::fs::write(out, table.to_bytes())?;
    eprintln!("{} words, {} dims", table.len(), table.dims);
    Ok(())
}
