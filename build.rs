//! Embeds the playground's example operations (playground/operations/<role>/<name>.graphql).

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let root = Path::new("playground/operations");
    println!("cargo:rerun-if-changed=playground/operations");
    let mut entries = Vec::new();
    if let Ok(roles) = fs::read_dir(root) {
        for role in roles.flatten().filter(|e| e.path().is_dir()) {
            println!("cargo:rerun-if-changed={}", role.path().display());
            for file in fs::read_dir(role.path())
                .expect("readable role folder")
                .flatten()
            {
                let path = file.path();
                if path.extension().is_some_and(|ext| ext == "graphql") {
                    let role_name = role.file_name().to_string_lossy().into_owned();
                    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                    entries.push((role_name, name, path));
                }
            }
        }
    }
    entries.sort();
    let mut code = String::from("pub static OPERATIONS: &[(&str, &str, &str, &str)] = &[\n");
    for (role, name, path) in entries {
        let absolute = fs::canonicalize(&path).expect("existing file");
        writeln!(
            code,
            "    ({role:?}, {name:?}, \"{role}/{name}.graphql\", include_str!({:?})),",
            absolute.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("playground_operations.rs");
    fs::write(out, code).expect("writable OUT_DIR");
}
