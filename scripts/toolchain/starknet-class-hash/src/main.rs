//! `starknet-class-hash FILE...`: for each Sierra contract class JSON (as `starknet-compile` writes it), prints
//! `FILE <compiled class hash>` where the hash is the Blake2s compiled class hash (hash version 2) of the CASM
//! that cairo-lang 2.19.4 produces. A declare transaction must carry this value; starknet-devnet 0.10.1 and
//! Starknet 0.14.1+ recompute it and refuse a declare whose value differs.
use cairo_lang_starknet_classes::casm_contract_class::CasmContractClass;
use cairo_lang_starknet_classes::contract_class::ContractClass;

fn hash(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let class: ContractClass =
        serde_json::from_str(&text).map_err(|e| format!("{path}: not a Sierra contract class: {e}"))?;
    let program = class
        .extract_sierra_program(false)
        .map_err(|e| format!("{path}: cannot read the Sierra program: {e:?}"))?;
    let casm = CasmContractClass::from_contract_class(class, program, false, usize::MAX)
        .map_err(|e| format!("{path}: Sierra to CASM failed: {e}"))?;
    Ok(format!("{:#x}", casm.compiled_class_hash()))
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: starknet-class-hash CONTRACT_CLASS.json...");
        std::process::exit(2);
    }
    let mut failed = false;
    for file in &files {
        match hash(file) {
            Ok(h) => println!("{file} {h}"),
            Err(e) => {
                eprintln!("starknet-class-hash: {e}");
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed));
}
