//! The modules import only downward. Each rule below is one the code base holds today; a new
//! import that breaks one fails here, naming the file and the line.
//!
//! Layers, bottom up: the shared machinery (`clock`, `error`, `db`, `graphql`, `actor`), the
//! hierarchy (`organizations`), the rules (`authz`), the areas (`audit`, `events`, `identity`,
//! `mail`, `facilities`), the schema assembled from the areas (`schema`), and the transport and
//! process on top (`http`, `server`, `cli`).

use std::path::{Path, PathBuf};

/// `(module, modules it must not import, why)`.
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "graphql",
        &[
            "organizations",
            "facilities",
            "identity",
            "audit",
            "events",
            "authz",
            "schema",
            "http",
        ],
        "the GraphQL machinery serves every area and knows none",
    ),
    (
        "clock",
        &["db", "organizations", "facilities", "identity", "graphql"],
        "time is the lowest layer",
    ),
    (
        "actor",
        &[
            "identity",
            "facilities",
            "audit",
            "events",
            "schema",
            "http",
        ],
        "the request's actor is below the areas that act",
    ),
    (
        "authz",
        &["identity", "facilities", "audit", "schema", "http"],
        "the rules are below the areas that ask them",
    ),
    (
        "audit",
        &["identity", "facilities", "schema", "http"],
        "every area audits; audit knows none of them",
    ),
    (
        "events",
        &["identity", "facilities", "schema", "http"],
        "every area publishes; events know none of them",
    ),
    (
        "documents",
        &["schema", "http", "server", "seed", "identity"],
        "documents build on the areas below; never the schema or transport",
    ),
    (
        "billing",
        &["schema", "http", "server", "seed", "identity"],
        "billing builds on reservations and documents; never the schema or transport",
    ),
    (
        "residents",
        &[
            "schema",
            "http",
            "server",
            "seed",
            "identity",
            "reservations",
            "navigator",
            "documents",
        ],
        "residents' coupons and requests sit below the bookings that check them",
    ),
    (
        "knowledge",
        &["schema", "http", "server", "seed", "identity"],
        "the knowledge base is an area; never the schema or transport",
    ),
    (
        "jobs",
        &[
            "identity",
            "facilities",
            "organizations",
            "mail",
            "events",
            "schema",
            "http",
            "server",
        ],
        "the queue runs every area's jobs and knows none of them",
    ),
    (
        "organizations",
        &["facilities", "identity", "schema", "http", "server", "seed"],
        "the hierarchy is below the areas built on it",
    ),
    (
        "facilities",
        &["identity", "schema", "http", "server", "seed"],
        "an area imports the machinery and the areas below it, never the schema or transport",
    ),
    (
        "identity",
        &["facilities", "schema", "http", "server", "seed"],
        "accounts do not depend on the registry",
    ),
    (
        "reports",
        &["schema", "http", "server", "seed", "identity"],
        "reports build on deliveries; never the schema or transport",
    ),
    (
        "navigator",
        &["schema", "http", "server", "seed", "identity"],
        "the navigator builds on reservations; never the schema or transport",
    ),
    (
        "reservations",
        &["schema", "http", "server", "seed", "identity", "navigator"],
        "reservations build on facilities and allocation; the navigator builds on them",
    ),
    (
        "delivery",
        &["schema", "http", "server", "seed", "identity", "reports"],
        "deliveries build on allocation; never the schema or transport",
    ),
    (
        "allocation",
        &["schema", "http", "server", "seed", "delivery"],
        "an area imports the machinery and the areas below it, never the schema or transport",
    ),
    (
        "config",
        &[
            "identity",
            "facilities",
            "organizations",
            "schema",
            "http",
            "server",
        ],
        "configuration is read before any area starts",
    ),
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The files of a module: `src/<name>.rs` or everything under `src/<name>/`.
fn files_of(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        found.push(file);
    }
    let dir = src.join(module);
    if dir.is_dir() {
        rust_files(&dir, &mut found);
    }
    assert!(!found.is_empty(), "no module {module}");
    found
}

/// Lines (outside comments) that name `crate::<forbidden>`, as `file:line: text`.
fn imports_of(module: &str, forbidden: &str) -> Vec<String> {
    let needle = format!("crate::{forbidden}::");
    let braced = format!("crate::{{{forbidden}");
    let mut hits = Vec::new();
    for file in files_of(module) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains(&needle)
                || code.contains(&braced)
                || code.contains(&format!("crate::{forbidden};"))
            {
                hits.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    hits
}

#[test]
fn modules_import_only_downward() {
    let mut broken = Vec::new();
    for (module, forbidden, why) in RULES {
        for other in *forbidden {
            for hit in imports_of(module, other) {
                broken.push(format!("{module} must not import {other} ({why}): {hit}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_an_import() {
    // The rule above would be vacuous if the scan found nothing anywhere.
    assert!(!imports_of("facilities", "organizations").is_empty());
    assert!(!imports_of("schema", "facilities").is_empty());
}
