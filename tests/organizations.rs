//! The organisation hierarchy through the API: the demo data, pagination, filters, global ids,
//! and batching (a list costs a constant number of statements, however long).

mod common;

use common::TestServer;
use serde_json::{Value, json};
use vsys::organizations::{FacilityType, NewFacility, NewOrganization, OrganizationKind, store};

fn edges(value: &Value) -> Vec<Value> {
    value["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn the_demo_has_the_seed_documents_example() {
    let server = TestServer::start().await;
    let data = server
        .data(
            "{ prefectures(first: 100) { edges { node { code name nameRomaji localGovernmentCode } } pageInfo { hasNextPage } }
               tokyo: municipalities(prefectureCode: \"13\") { edges { node { code name nameRomaji prefecture { name } } } }
               kanagawa: municipalities(prefectureCode: \"14\") { edges { node { code name nameRomaji } } }
               meguro: facilities(nameContains: \"Meguro Hospital 01\") { edges { node { name nameRomaji facilityType latitude longitude address municipality { code name } prefecture { code } } } }
               yokohama: facilities(municipalityCode: \"141003\", facilityType: HOSPITAL) { edges { node { name nameRomaji } } }
               manufacturers: organizations(kind: MANUFACTURER) { edges { node { name nameRomaji } } }
               wholesalers: organizations(kind: WHOLESALER) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    let prefectures = edges(&data["prefectures"]);
    assert_eq!(prefectures.len(), 47);
    assert_eq!(prefectures[0]["name"], "北海道");
    assert_eq!(prefectures[12]["nameRomaji"], "Tokyo");
    assert_eq!(prefectures[12]["localGovernmentCode"], "130001");
    assert_eq!(prefectures[46]["code"], "47");
    assert_eq!(data["prefectures"]["pageInfo"]["hasNextPage"], false);

    let tokyo: Vec<_> = edges(&data["tokyo"])
        .iter()
        .map(|m| m["nameRomaji"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        tokyo,
        ["Minato-ku", "Meguro-ku", "Setagaya-ku"],
        "ordered by code"
    );
    assert_eq!(edges(&data["kanagawa"])[0]["name"], "横浜市");

    let meguro = &edges(&data["meguro"])[0];
    assert_eq!(meguro["name"], "目黒区病院01");
    assert_eq!(meguro["facilityType"], "HOSPITAL");
    assert_eq!(meguro["municipality"]["code"], "131105");
    assert_eq!(meguro["prefecture"]["code"], "13");
    assert!((35.0..36.0).contains(&meguro["latitude"].as_f64().unwrap()));
    assert!(
        meguro["address"]
            .as_str()
            .unwrap()
            .starts_with("東京都目黒区")
    );

    assert_eq!(edges(&data["yokohama"])[0]["name"], "横浜病院01");
    assert_eq!(
        edges(&data["manufacturers"])[0]["nameRomaji"],
        "Pfizer Japan Inc."
    );
    assert_eq!(edges(&data["wholesalers"]).len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn pages_follow_each_other_without_overlap() {
    let server = TestServer::start().await;
    let query = "query($after: String) { prefectures(first: 10, after: $after) { edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let mut after = Value::Null;
    let mut codes = Vec::new();
    loop {
        let data = server.data(query, json!({ "after": after })).await;
        let page = &data["prefectures"];
        codes.extend(
            edges(page)
                .iter()
                .map(|p| p["code"].as_str().unwrap().to_owned()),
        );
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (1..=47).map(|n| format!("{n:02}")).collect();
    assert_eq!(codes, expected);
    server.stop().await;
}

#[tokio::test]
async fn global_ids_resolve_through_node_and_organization() {
    let server = TestServer::start().await;
    let data = server
        .data(
            "{ facilities(first: 1) { edges { node { id name municipality { id prefecture { id parent { id __typename } } } } } } }",
            json!({}),
        )
        .await;
    let facility = &edges(&data["facilities"])[0];
    let ids = [
        (facility["id"].clone(), "Facility"),
        (facility["municipality"]["id"].clone(), "Municipality"),
        (
            facility["municipality"]["prefecture"]["id"].clone(),
            "Prefecture",
        ),
        (
            facility["municipality"]["prefecture"]["parent"]["id"].clone(),
            "Nation",
        ),
    ];
    for (id, type_name) in ids {
        let data = server
            .data("query($id: ID!) { node(id: $id) { id __typename } organization(id: $id) { id kind } }", json!({ "id": id }))
            .await;
        assert_eq!(data["node"]["__typename"], type_name);
        assert_eq!(data["node"]["id"], id);
        assert_eq!(data["organization"]["id"], id);
    }
    assert_eq!(
        facility["municipality"]["prefecture"]["parent"]["__typename"],
        "Nation"
    );

    // An id whose type does not match its row is forged: not found.
    let (_, row) = vsys::graphql::ids::parse_global_id(facility["id"].as_str().unwrap()).unwrap();
    let forged = vsys::graphql::ids::global_id("Prefecture", &row);
    let code = server
        .error_code(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": forged.0 }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn filters_narrow_lists_and_unknown_areas_give_empty_lists() {
    let server = TestServer::start().await;
    let data = server
        .data(
            "{ venues: facilities(facilityType: SPECIAL_VENUE) { edges { node { nameRomaji } } }
               kanagawa: facilities(prefectureCode: \"14\") { edges { node { nameRomaji } } }
               nowhere: facilities(municipalityCode: \"011002\") { edges { node { name } } }
               search: facilities(nameContains: \"clinic\") { edges { node { nameRomaji } } }
               wards: municipalities(nameContains: \"ku\") { edges { node { nameRomaji } } } }",
            json!({}),
        )
        .await;
    assert_eq!(edges(&data["venues"]).len(), 2);
    assert_eq!(edges(&data["kanagawa"]).len(), 3);
    assert!(edges(&data["nowhere"]).is_empty());
    assert_eq!(
        edges(&data["search"]).len(),
        3,
        "case-insensitive on romanised names"
    );
    assert_eq!(edges(&data["wards"]).len(), 3);
    let too_long = "x".repeat(101);
    let code = server
        .error_code(
            "query($q: String) { facilities(nameContains: $q) { edges { cursor } } }",
            json!({ "q": too_long }),
        )
        .await;
    assert_eq!(code, "INVALID_INPUT");
    // LIKE wildcards are matched literally.
    let data = server
        .data(
            r#"{ facilities(nameContains: "%") { edges { cursor } } }"#,
            json!({}),
        )
        .await;
    assert!(edges(&data["facilities"]).is_empty());
    server.stop().await;
}

/// 500 facilities with their municipality and prefecture: each page of 100 costs the same
/// handful of statements as a page of 5, because the loaders batch the look-ups.
#[tokio::test]
async fn listing_500_facilities_with_their_areas_costs_a_constant_number_of_statements() {
    // No safety-net polling during the count.
    let server = TestServer::start_with(&["--event-poll-secs", "3600"]).await;
    let db = &server.state.db;
    let tokyo = store::find_by_code(db, OrganizationKind::Prefecture, "13")
        .await
        .unwrap()
        .unwrap();
    let wards = ["131105", "131121", "131032"];
    let mut municipality_ids = Vec::new();
    for code in wards {
        municipality_ids.push(
            store::find_by_code(db, OrganizationKind::Municipality, code)
                .await
                .unwrap()
                .unwrap()
                .id,
        );
    }
    let rows: Vec<NewOrganization> = (0..500)
        .map(|n| {
            let municipality = municipality_ids[n % 3].clone();
            NewOrganization {
                id: vsys::db::new_id(),
                kind: OrganizationKind::Facility,
                code: format!("13180{n:05}"),
                name: format!("負荷試験診療所{n:03}"),
                name_kana: None,
                name_romaji: Some(format!("Load Clinic {n:03}")),
                parent_id: Some(municipality.clone()),
                prefecture_id: Some(tokyo.id.clone()),
                municipality_id: Some(municipality),
                facility: Some(NewFacility {
                    facility_type: FacilityType::Clinic,
                    postal_code: None,
                    address: "東京都".into(),
                    latitude: 35.6,
                    longitude: 139.7,
                    phone: None,
                    supply_type: vsys::organizations::SupplyType::Basic,
                    basic_facility_id: None,
                    operating_municipality_id: None,
                }),
            }
        })
        .collect();
    store::insert_all(db, &rows).await.unwrap();

    let query = "query($first: Int, $after: String) { facilities(prefectureCode: \"13\", first: $first, after: $after) {
        edges { node { name municipality { name prefecture { name } } prefecture { code } parent { name } } }
        pageInfo { hasNextPage endCursor } } }";
    let before = db.statements_executed();
    server.data(query, json!({ "first": 5 })).await;
    let small_page = db.statements_executed() - before;

    let mut after = Value::Null;
    let mut listed = 0;
    let before = db.statements_executed();
    let mut pages = 0;
    loop {
        let data = server
            .data(query, json!({ "first": 100, "after": after }))
            .await;
        listed += edges(&data["facilities"]).len();
        pages += 1;
        if data["facilities"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = data["facilities"]["pageInfo"]["endCursor"].clone();
    }
    let total = db.statements_executed() - before;
    assert!(listed >= 500);
    assert_eq!(
        small_page, 2,
        "the page (its area code resolved inside it), one prefetch of its references"
    );
    assert_eq!(
        total,
        small_page * pages,
        "every page of 100 costs what a page of 5 costs"
    );
    server.stop().await;
}

/// The query plans of the hot lists (SQLite, whose planner is deterministic on a small
/// database): each is an index range in the list's order, never a scan of every row or a sort.
#[tokio::test]
async fn every_list_is_served_by_an_index_in_its_order() {
    let server = TestServer::start().await;
    if server.db.as_ref().unwrap().is_postgres() {
        // PostgreSQL's planner prefers a sequential scan on a table this small; the same
        // indexes serve it at national scale (see docs/performance.md).
        server.stop().await;
        return;
    }
    let plans = [
        (
            "SELECT o.id FROM organizations o LEFT JOIN facilities f ON f.organization_id = o.id \
             WHERE o.kind IN ('FACILITY') AND o.prefecture_id = \
             (SELECT a.id FROM organizations a WHERE a.kind = 'PREFECTURE' AND a.code = '13') \
             AND (o.kind, o.code) > ('FACILITY', '0') ORDER BY o.kind, o.code LIMIT 101",
            "organizations_prefecture_order",
        ),
        (
            "SELECT o.id FROM organizations o LEFT JOIN facilities f ON f.organization_id = o.id \
             WHERE o.kind IN ('FACILITY') AND o.municipality_id = \
             (SELECT a.id FROM organizations a WHERE a.kind = 'MUNICIPALITY' AND a.code = '131105') \
             ORDER BY o.kind, o.code LIMIT 101",
            "organizations_municipality_order",
        ),
        (
            "SELECT r.id FROM facility_change_requests r WHERE r.status = 'PENDING' \
             ORDER BY r.requested_at DESC, r.id DESC LIMIT 21",
            "facility_change_requests_status_time",
        ),
        (
            "SELECT id FROM audit_log ORDER BY occurred_at DESC, id DESC LIMIT 21",
            "audit_log_time_id",
        ),
    ];
    for (sql, index) in plans {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(server.state.db.pool())
                .await
                .unwrap();
        let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        assert!(
            plan.iter().any(|step| step.contains(index)),
            "{index} serves {sql}: {plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "no sort for {sql}: {plan:?}"
        );
    }
    server.stop().await;
}

/// A cursor names its list: one list's cursor given to another is refused, never misread as a
/// position in it.
#[tokio::test]
async fn a_cursor_from_another_list_is_refused() {
    let server = TestServer::start().await;
    let municipalities = server
        .data(
            "{ municipalities(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = municipalities["municipalities"]["pageInfo"]["endCursor"].clone();
    let nation = server.sign_in("nation.admin").await;
    let audit = server
        .graphql_as(
            &nation,
            "{ auditLog(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let audit_cursor = audit["data"]["auditLog"]["pageInfo"]["endCursor"].clone();
    assert!(audit_cursor.is_string(), "{audit}");
    for foreign in [cursor.clone(), audit_cursor] {
        let response = server
            .graphql(
                "query($a: String) { facilities(first: 5, after: $a) { edges { node { name } } } }",
                json!({ "a": foreign }),
            )
            .await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{response}"
        );
        assert_eq!(response["errors"][0]["extensions"]["field"], "after");
    }
    // Its own list takes it.
    let next = server
        .data(
            "query($a: String) { municipalities(first: 1, after: $a) { edges { node { name } } } }",
            json!({ "a": cursor }),
        )
        .await;
    assert_eq!(
        next["municipalities"]["edges"].as_array().map(Vec::len),
        Some(1)
    );
    server.stop().await;
}

/// Statuses, kinds and roles are decoded once at the database edge: a value the code does not
/// know is an error, never silently another value.
#[tokio::test]
async fn an_unknown_kind_or_role_read_from_the_database_is_an_error() {
    let server = TestServer::start().await;
    let pool = server.state.db.pool();
    let known: OrganizationKind = sqlx::query_scalar("SELECT 'MUNICIPALITY'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(known, OrganizationKind::Municipality);
    let unknown = sqlx::query_scalar::<_, OrganizationKind>("SELECT 'CASTLE'")
        .fetch_one(pool)
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
    let role = sqlx::query_scalar::<_, vsys::identity::Role>("SELECT 'SHOGUN'")
        .fetch_one(pool)
        .await;
    assert!(role.is_err(), "{role:?}");
    server.stop().await;
}
