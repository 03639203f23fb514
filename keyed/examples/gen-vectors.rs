//! Writes `specs/vectors/v2.json` from the code (spec §8).

fn main() -> std::io::Result<()> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the keyed crate is inside the workspace")
        .join("specs/vectors/v2.json");
    std::fs::write(&path, pprl_keyed::vectors::generate())?;
    println!("wrote {}", path.display());
    Ok(())
}
