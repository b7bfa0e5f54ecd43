//! `schema.graphql` is the public contract: equal to what the server serves, and documented.

mod common;

use common::TestServer;
use serde_json::json;

fn checked_in_schema() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists")
}

#[tokio::test]
async fn checked_in_schema_equals_the_served_schema() {
    let server = TestServer::start().await;
    let served = server.state.schema.sdl();
    assert!(
        served == checked_in_schema(),
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
    assert_eq!(
        vsys::schema::sdl(),
        served,
        "`vsys schema` prints what the server serves"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let server = TestServer::start().await;
    let data = server
        .data(
            "{ __schema { types { name kind description
                 fields { name description args { name description } }
                 enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if t["description"].as_str().is_none_or(str::is_empty) {
            missing.push(name.to_owned());
        }
        for field in t["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap();
            if field["description"].as_str().is_none_or(str::is_empty) {
                missing.push(format!("{name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if arg["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{name}.{field_name}({})", arg["name"]));
                }
            }
        }
        for value in t["enumValues"].as_array().into_iter().flatten() {
            if value["description"].as_str().is_none_or(str::is_empty) {
                missing.push(format!("{name}.{}", value["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
    server.stop().await;
}
