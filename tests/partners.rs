//! Contracts and partners through the API: contract events and the paginated, filtered list;
//! the counterpart municipality; the delivering wholesaler and what it sees; an aggregator's
//! members and the powers of attorney it received.

mod common;

use common::TestServer;
use common::api::{
    assert_error, assert_invalid, data_or_panic, error_code, facility, nodes, organization_id,
};
use common::db::{count, last_outcome};
use common::ws::next_event;
use serde_json::{Value, json};

const REGISTER: &str = "mutation($rows: [RegisterContractInput!]) { registerContract(contracts: $rows) { id kind counterpartMunicipality { code name } aggregator { name } } }";
const LIST: &str = "query($f: ContractListFilter, $first: Int, $after: String) { contracts(filter: $f, first: $first, after: $after) {
    edges { cursor node { id kind current facility { name } } } pageInfo { hasNextPage endCursor } } }";
const WITHDRAW: &str = "mutation($ids: [ID!]!, $d: String!) { withdrawContract(contractIds: $ids, withdrawalDate: $d) { id } }";

/// The demo has 7 contracts: Meguro Hospital 01's collective one through the Meguro medical
/// association and an individual one for every other facility but Minato Clinic 01.
const DEMO_CONTRACTS: usize = 7;

/// The contracts `registerContract` registered; panics with the response when it failed.
fn registered(response: &Value) -> Vec<Value> {
    data_or_panic(response)["registerContract"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .clone()
}

/// Three contracts beside the demo's, and who registered them.
struct Registered {
    hospital: Value,
    /// The Meguro medical association's session.
    aggregator: String,
    /// The hospital's session.
    token: String,
    /// The clinic's and the venue's collective contracts, in that order.
    collective: Vec<Value>,
    /// The hospital's individual contract.
    individual: Value,
}

/// The Meguro medical association registers collective contracts for Meguro Clinic 01 and
/// Meguro Special Venue 01 (which have individual contracts only, so they may join; the
/// hospital already has), and the hospital registers an individual one.
async fn register_three_contracts(server: &TestServer) -> Registered {
    let (hospital, hospital_code) = facility(server, "Meguro Hospital 01").await;
    let (_, clinic_code) = facility(server, "Meguro Clinic 01").await;
    let (_, venue_code) = facility(server, "Meguro Special Venue 01").await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let collective = registered(
        &server
            .graphql_as(
                &aggregator,
                REGISTER,
                json!({ "rows": [
                    { "facilityCode": clinic_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15" },
                    { "facilityCode": venue_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15" },
                ] }),
            )
            .await,
    );
    let token = common::api::hospital(server).await;
    let individual = registered(
        &server
            .graphql_as(
                &token,
                REGISTER,
                json!({ "rows": [{ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01" }] }),
            )
            .await,
    )[0]
    .clone();
    Registered {
        hospital,
        aggregator,
        token,
        collective,
        individual,
    }
}

/// The three contracts of [`register_three_contracts`], the venue's collective one withdrawn.
async fn register_three_and_withdraw_one(server: &TestServer) -> Registered {
    let registered = register_three_contracts(server).await;
    let withdrawn = server
        .graphql_as(
            &registered.aggregator,
            WITHDRAW,
            json!({ "ids": [registered.collective[1]["id"]], "d": "2021-06-30" }),
        )
        .await;
    data_or_panic(&withdrawn);
    registered
}

/// (visibility, payload, organization id) of the events of `topic`, oldest first.
async fn events(server: &TestServer, topic: &str) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT visibility, payload, organization_id FROM events WHERE topic = $1 ORDER BY seq",
    )
    .bind(topic)
    .fetch_all(server.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_collective_contract_has_no_counterpart_municipality() {
    let server = TestServer::start().await;
    let registered = register_three_contracts(&server).await;
    assert_eq!(
        registered.collective[0]["counterpartMunicipality"],
        Value::Null
    );
    server.stop().await;
}

#[tokio::test]
async fn an_individual_contract_is_made_with_the_facilitys_own_municipality_by_default() {
    let server = TestServer::start().await;
    let registered = register_three_contracts(&server).await;
    assert_eq!(
        registered.individual["counterpartMunicipality"],
        json!({ "code": "131105", "name": "目黒区" }),
    );
    server.stop().await;
}

#[tokio::test]
async fn each_registered_contract_appends_one_restricted_event_naming_its_facility() {
    let server = TestServer::start().await;
    register_three_contracts(&server).await;
    let registered = events(&server, "contract.registered").await;
    assert_eq!(registered.len(), 3);
    for (visibility, payload, organization) in &registered {
        assert_eq!(visibility, "RESTRICTED");
        let payload: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(payload["facilityId"].as_str(), organization.as_deref());
        assert!(payload["contractId"].is_string() && payload["joinDate"].is_string());
    }
    server.stop().await;
}

#[tokio::test]
async fn a_refused_registration_is_audited_and_appends_no_event() {
    let server = TestServer::start().await;
    let registered = register_three_contracts(&server).await;
    let (_, clinic_code) = facility(&server, "Meguro Clinic 01").await;
    let refused = server
        .graphql_as(
            &registered.aggregator,
            REGISTER,
            json!({ "rows": [{ "facilityCode": clinic_code, "kind": "COLLECTIVE", "joinDate": "2021-03-01" }] }),
        )
        .await;
    assert_eq!(
        error_code(&refused),
        "CONFLICT",
        "an open collective contract exists"
    );
    assert_eq!(last_outcome(&server, "registerContract").await, "FAILURE");
    assert_eq!(events(&server, "contract.registered").await.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn a_withdrawal_appends_an_event_with_its_date_and_aggregator() {
    let server = TestServer::start().await;
    register_three_and_withdraw_one(&server).await;
    let withdrawal_events = events(&server, "contract.withdrawn").await;
    assert_eq!(withdrawal_events.len(), 1);
    let payload: Value = serde_json::from_str(&withdrawal_events[0].1).unwrap();
    assert_eq!(payload["withdrawalDate"], "2021-06-30");
    assert!(payload["aggregatorId"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn the_nation_pages_through_every_contract_exactly_once() {
    let server = TestServer::start().await;
    register_three_and_withdraw_one(&server).await;
    let nation = server.sign_in("nation.admin").await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = server
            .data_as(&nation, LIST, json!({ "first": 2, "after": after }))
            .await;
        let connection = &page["contracts"];
        seen.extend(nodes(connection).into_iter().map(|node| node["id"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), DEMO_CONTRACTS + 3, "every contract once");
    seen.sort_by_key(|id| id.to_string());
    seen.dedup();
    assert_eq!(seen.len(), DEMO_CONTRACTS + 3);
    server.stop().await;
}

#[tokio::test]
async fn the_contract_list_filters_by_kind_facility_aggregator_and_being_in_force() {
    let server = TestServer::start().await;
    let registered = register_three_and_withdraw_one(&server).await;
    let nation = server.sign_in("nation.admin").await;
    let listed = |filter: Value| {
        let (server, nation) = (&server, &nation);
        async move {
            nodes(&server.data_as(nation, LIST, json!({ "f": filter })).await["contracts"]).len()
        }
    };
    // The demo's 1 collective and 6 individual contracts, all in force, are listed too.
    assert_eq!(listed(json!({ "kind": "COLLECTIVE" })).await, 1 + 2);
    assert_eq!(listed(json!({ "kind": "INDIVIDUAL" })).await, 6 + 1);
    assert_eq!(
        listed(json!({ "facilityId": registered.hospital })).await,
        2
    );
    let aggregator_id = organization_id(&server, "AGGREGATOR").await;
    assert_eq!(
        listed(json!({ "aggregatorId": aggregator_id })).await,
        1 + 2
    );
    assert_eq!(listed(json!({ "inForce": true })).await, DEMO_CONTRACTS + 2);
    assert_eq!(listed(json!({ "inForce": false })).await, 1);
    assert_eq!(
        listed(json!({ "inForce": true, "kind": "COLLECTIVE" })).await,
        1 + 1
    );
    server.stop().await;
}

#[tokio::test]
async fn a_facility_lists_only_its_own_contracts() {
    let server = TestServer::start().await;
    let registered = register_three_and_withdraw_one(&server).await;
    // The demo's collective one and its new individual one.
    let own = server.data_as(&registered.token, LIST, json!({})).await;
    assert_eq!(nodes(&own["contracts"]).len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn the_contract_list_refuses_more_than_100_a_page_and_a_bad_cursor() {
    let server = TestServer::start().await;
    register_three_and_withdraw_one(&server).await;
    let nation = server.sign_in("nation.admin").await;
    let too_many = server
        .graphql_as(&nation, LIST, json!({ "first": 101 }))
        .await;
    assert_eq!(error_code(&too_many), "INVALID_INPUT");
    let bad_cursor = server
        .graphql_as(&nation, LIST, json!({ "after": "bm90LWEtY3Vyc29y" }))
        .await;
    assert_eq!(error_code(&bad_cursor), "INVALID_INPUT");
    server.stop().await;
}

/// Registers one contract row as the holder of `token` and returns the whole response.
async fn register(server: &TestServer, token: &str, row: Value) -> Value {
    server
        .graphql_as(token, REGISTER, json!({ "rows": [row] }))
        .await
}

#[tokio::test]
async fn an_individual_contract_with_an_unknown_counterpart_is_invalid_and_registers_nothing() {
    let server = TestServer::start().await;
    let (_, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    let token = common::api::hospital(&server).await;
    let before = count(&server, "SELECT COUNT(*) FROM contracts").await;
    for municipality in [
        "131120",
        // Shibuya-ku: a valid code, but no such municipality in the registry.
        "131130",
    ] {
        let response = register(
            &server,
            &token,
            json!({ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01", "municipalityCode": municipality }),
        )
        .await;
        assert_invalid(&response, "municipalityCode");
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM contracts").await,
        before,
        "nothing registered"
    );
    assert_eq!(last_outcome(&server, "registerContract").await, "FAILURE");
    server.stop().await;
}

#[tokio::test]
async fn a_collective_contract_with_a_counterpart_is_invalid_and_registers_nothing() {
    let server = TestServer::start().await;
    let (_, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    let before = count(&server, "SELECT COUNT(*) FROM contracts").await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let collective = register(
        &server,
        &aggregator,
        json!({ "facilityCode": hospital_code, "kind": "COLLECTIVE", "joinDate": "2021-03-01", "municipalityCode": "131105" }),
    )
    .await;
    assert_invalid(&collective, "municipalityCode");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM contracts").await,
        before,
        "nothing registered"
    );
    assert_eq!(last_outcome(&server, "registerContract").await, "FAILURE");
    server.stop().await;
}

#[tokio::test]
async fn the_service_desk_may_not_hold_a_collective_contract() {
    let server = TestServer::start().await;
    let (_, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    // The service desk enters individual contracts but holds no collective one (it would
    // become the aggregator).
    let desk = server.sign_in("helpdesk.admin").await;
    let by_desk = register(
        &server,
        &desk,
        json!({ "facilityCode": hospital_code, "kind": "COLLECTIVE", "joinDate": "2021-03-01" }),
    )
    .await;
    assert_eq!(error_code(&by_desk), "FORBIDDEN");
    assert_eq!(last_outcome(&server, "registerContract").await, "DENIED");
    server.stop().await;
}

/// The hospital registers an individual contract with Yokohama, ending 2021-03-31; returns it
/// and the hospital's session.
async fn register_with_yokohama(server: &TestServer) -> (Value, String) {
    let (_, hospital_code) = facility(server, "Meguro Hospital 01").await;
    let token = common::api::hospital(server).await;
    let with_yokohama = register(
        server,
        &token,
        json!({ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01", "withdrawalDate": "2021-03-31", "municipalityCode": "141003" }),
    )
    .await;
    (registered(&with_yokohama)[0].clone(), token)
}

#[tokio::test]
async fn a_municipality_elsewhere_sees_the_individual_contract_made_with_it() {
    let server = TestServer::start().await;
    let (contract, _) = register_with_yokohama(&server).await;
    assert_eq!(contract["counterpartMunicipality"]["name"], "横浜市");
    let yokohama = server.sign_in("yokohama.admin").await;
    let seen = nodes(&server.data_as(&yokohama, LIST, json!({})).await["contracts"]);
    assert_eq!(seen[0]["id"], contract["id"], "{seen:?}");
    // Besides, the individual contracts of the demo's three Yokohama facilities.
    assert_eq!(seen.len(), 1 + 3, "{seen:?}");
    let node = server
        .data_as(
            &yokohama,
            "query($id: ID!) { node(id: $id) { ... on Contract { counterpartMunicipality { name } } } }",
            json!({ "id": contract["id"] }),
        )
        .await;
    assert_eq!(node["node"]["counterpartMunicipality"]["name"], "横浜市");
    server.stop().await;
}

#[tokio::test]
async fn a_counterpart_in_the_csvs_fifth_column_is_seen_by_no_other_municipality() {
    let server = TestServer::start().await;
    let (_, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    // The contract with Yokohama ends, so a second individual one may start.
    let (_, token) = register_with_yokohama(&server).await;
    let csv = format!(
        "facilityCode,kind,joinDate,withdrawalDate,municipalityCode\n{hospital_code},INDIVIDUAL,2021-04-01,,131121\n"
    );
    let created = server
        .data_as(
            &token,
            "mutation($csv: String) { registerContract(csv: $csv) { counterpartMunicipality { name } } }",
            json!({ "csv": csv }),
        )
        .await;
    assert_eq!(
        created["registerContract"][0]["counterpartMunicipality"]["name"],
        "世田谷区"
    );
    let yokohama = server.sign_in("yokohama.admin").await;
    let later = server.data_as(&yokohama, LIST, json!({})).await;
    assert_eq!(
        nodes(&later["contracts"]).len(),
        1 + 3,
        "Yokohama does not see Setagaya's contract"
    );
    server.stop().await;
}

/// The demo's facilities, by code: WS-KANTO-01 delivers to every one.
const DEMO_FACILITIES: [&str; 8] = [
    "目黒区病院01",
    "目黒区診療所01",
    "世田谷区病院01",
    "港区診療所01",
    "目黒区特設会場01",
    "横浜病院01",
    "横浜診療所01",
    "横浜特設会場01",
];

const DESTINATIONS: &str = "query($w: ID) { deliveryDestinations(wholesalerId: $w) { edges { node { id name address phone openingHours } } } }";
const SET_WHOLESALER: &str = "mutation($f: ID!, $w: ID) { setDeliveringWholesaler(facilityId: $f, wholesalerId: $w) { id deliveringWholesaler { name } } }";

/// The names of the delivery destinations the holder of `token` lists.
async fn destination_names(server: &TestServer, token: &str) -> Vec<String> {
    nodes(&server.data_as(token, DESTINATIONS, json!({})).await["deliveryDestinations"])
        .iter()
        .map(|node| node["name"].as_str().unwrap().to_owned())
        .collect()
}

/// How many facilities name a delivering wholesaler: every demo facility, unless changed.
async fn facilities_naming_a_wholesaler(server: &TestServer) -> i64 {
    count(
        server,
        "SELECT COUNT(*) FROM facilities WHERE delivering_wholesaler_id IS NOT NULL",
    )
    .await
}

#[tokio::test]
async fn a_facility_clears_and_names_its_delivering_wholesaler_again() {
    let server = TestServer::start().await;
    let (hospital, _) = facility(&server, "Meguro Hospital 01").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let token = common::api::hospital(&server).await;
    let unset = server
        .data_as(&token, SET_WHOLESALER, json!({ "f": hospital }))
        .await;
    assert_eq!(
        unset["setDeliveringWholesaler"]["deliveringWholesaler"],
        Value::Null
    );
    let set = server
        .data_as(
            &token,
            SET_WHOLESALER,
            json!({ "f": hospital, "w": wholesaler }),
        )
        .await;
    assert_eq!(
        set["setDeliveringWholesaler"]["deliveringWholesaler"]["name"],
        "関東医薬品卸株式会社"
    );
    let seller = server.sign_in("wholesaler.admin").await;
    assert_eq!(
        destination_names(&server, &seller).await,
        DEMO_FACILITIES,
        "named again, the hospital is a destination again"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_municipality_clears_and_names_a_facilitys_wholesaler_without_the_proxy_flag() {
    let server = TestServer::start().await;
    let (clinic, _) = facility(&server, "Meguro Clinic 01").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let meguro = server.sign_in("meguro.admin").await;
    let unset_by_municipality = server
        .graphql_as(&meguro, SET_WHOLESALER, json!({ "f": clinic }))
        .await;
    data_or_panic(&unset_by_municipality);
    let by_municipality = server
        .graphql_as(
            &meguro,
            SET_WHOLESALER,
            json!({ "f": clinic, "w": wholesaler }),
        )
        .await;
    data_or_panic(&by_municipality);
    server.stop().await;
}

#[tokio::test]
async fn a_wholesaler_lists_every_facility_naming_it_with_its_address_and_phone() {
    let server = TestServer::start().await;
    let seller = server.sign_in("wholesaler.admin").await;
    let seen =
        nodes(&server.data_as(&seller, DESTINATIONS, json!({})).await["deliveryDestinations"]);
    let names: Vec<&str> = seen
        .iter()
        .map(|node| node["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_FACILITIES);
    assert!(seen[0]["address"].is_string() && seen[0]["phone"].is_string());
    let own = server
        .data_as(
            &seller,
            "{ deliveryDestinations { edges { node { deliveringWholesaler { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        nodes(&own["deliveryDestinations"])[1]["deliveringWholesaler"]["name"],
        "関東医薬品卸株式会社",
        "the wholesaler sees that it delivers there"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wholesaler_sees_neither_the_doctors_nor_the_contracts_of_its_destinations() {
    let server = TestServer::start().await;
    let seller = server.sign_in("wholesaler.admin").await;
    // Doctors and contracts stay with the facility's area.
    let private = server
        .graphql_as(
            &seller,
            "{ deliveryDestinations { edges { node { doctors { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&private), "FORBIDDEN");
    let contracts = server
        .data_as(
            &seller,
            "{ contracts { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(nodes(&contracts["contracts"]), Vec::<Value>::new());
    server.stop().await;
}

#[tokio::test]
async fn other_partners_neither_list_nor_guess_a_wholesalers_destinations() {
    let server = TestServer::start().await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let dry_ice = server.sign_in("dryice.admin").await;
    assert_eq!(
        server.code_as(&dry_ice, DESTINATIONS, json!({})).await,
        "INVALID_INPUT"
    );
    assert_eq!(
        server
            .code_as(&dry_ice, DESTINATIONS, json!({ "w": wholesaler }))
            .await,
        "NOT_FOUND"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_nation_oversees_a_wholesalers_destinations() {
    let server = TestServer::start().await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let nation = server.sign_in("nation.admin").await;
    let overseen = server
        .data_as(&nation, DESTINATIONS, json!({ "w": wholesaler }))
        .await;
    assert_eq!(
        nodes(&overseen["deliveryDestinations"]).len(),
        DEMO_FACILITIES.len()
    );
    server.stop().await;
}

#[tokio::test]
async fn naming_what_is_not_a_wholesaler_is_invalid_audited_and_changes_nothing() {
    let server = TestServer::start().await;
    let (hospital, _) = facility(&server, "Meguro Hospital 01").await;
    let aggregator = organization_id(&server, "AGGREGATOR").await;
    let token = common::api::hospital(&server).await;
    let not_wholesaler = server
        .graphql_as(
            &token,
            SET_WHOLESALER,
            json!({ "f": hospital, "w": aggregator }),
        )
        .await;
    assert_invalid(&not_wholesaler, "wholesalerId");
    assert_eq!(
        last_outcome(&server, "setDeliveringWholesaler").await,
        "FAILURE"
    );
    let garbage = server
        .graphql_as(
            &token,
            SET_WHOLESALER,
            json!({ "f": hospital, "w": "not-an-id" }),
        )
        .await;
    assert_invalid(&garbage, "wholesalerId");
    assert_eq!(
        last_outcome(&server, "setDeliveringWholesaler").await,
        "FAILURE",
        "a malformed id is audited too"
    );
    assert_eq!(
        facilities_naming_a_wholesaler(&server).await,
        DEMO_FACILITIES.len() as i64
    );
    server.stop().await;
}

#[tokio::test]
async fn a_municipality_cannot_name_the_wholesaler_of_another_areas_facility() {
    let server = TestServer::start().await;
    let (yokohama_hospital, _) = facility(&server, "Yokohama Hospital 01").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let meguro = server.sign_in("meguro.admin").await;
    let foreign = server
        .graphql_as(
            &meguro,
            SET_WHOLESALER,
            json!({ "f": yokohama_hospital, "w": wholesaler }),
        )
        .await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    assert_eq!(
        last_outcome(&server, "setDeliveringWholesaler").await,
        "DENIED"
    );
    assert_eq!(
        facilities_naming_a_wholesaler(&server).await,
        DEMO_FACILITIES.len() as i64
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wholesaler_cannot_name_itself_for_a_facility() {
    let server = TestServer::start().await;
    let (yokohama_hospital, _) = facility(&server, "Yokohama Hospital 01").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let seller = server.sign_in("wholesaler.admin").await;
    let by_seller = server
        .graphql_as(
            &seller,
            SET_WHOLESALER,
            json!({ "f": yokohama_hospital, "w": wholesaler }),
        )
        .await;
    assert_eq!(error_code(&by_seller), "NOT_FOUND");
    assert_eq!(
        facilities_naming_a_wholesaler(&server).await,
        DEMO_FACILITIES.len() as i64
    );
    server.stop().await;
}

#[tokio::test]
async fn a_facility_whose_wholesaler_is_cleared_leaves_its_destinations() {
    let server = TestServer::start().await;
    let (clinic, _) = facility(&server, "Meguro Clinic 01").await;
    let meguro = server.sign_in("meguro.admin").await;
    let cleared = server
        .data_as(&meguro, SET_WHOLESALER, json!({ "f": clinic }))
        .await;
    assert_eq!(
        cleared["setDeliveringWholesaler"]["deliveringWholesaler"],
        Value::Null
    );
    let seller = server.sign_in("wholesaler.admin").await;
    let expected: Vec<&str> = DEMO_FACILITIES
        .into_iter()
        .filter(|name| *name != "目黒区診療所01")
        .collect();
    assert_eq!(destination_names(&server, &seller).await, expected);
    server.stop().await;
}

#[tokio::test]
async fn a_facilitys_delivering_wholesaler_is_not_public() {
    let server = TestServer::start().await;
    let (hospital, _) = facility(&server, "Meguro Hospital 01").await;
    assert_eq!(
        server.code_anonymously(
                    "query($f: ID!) { node(id: $f) { ... on Facility { deliveringWholesaler { name } } } }",
                    json!({ "f": hospital }),
                ).await,
        "UNAUTHENTICATED"
    );
    server.stop().await;
}

const RECORD: &str = "mutation($f: ID!, $d: String!, $s: PowerOfAttorneyStatus, $n: String) { recordPowerOfAttorney(facilityId: $f, receivedDate: $d, status: $s, note: $n) { id receivedDate status note version facility { name } aggregator { name } } }";
const POWERS: &str = "query($a: ID, $s: PowerOfAttorneyStatus) { powersOfAttorney(aggregatorId: $a, status: $s) { edges { node { id status receivedDate facility { name } } } } }";
const MEMBERS: &str =
    "query($a: ID) { memberFacilities(aggregatorId: $a) { edges { node { name } } } }";
const POWER_NODE: &str = "query($id: ID!) { node(id: $id) { ... on PowerOfAttorney { status } } }";

/// The demo's Meguro Hospital 01 is already a member of the Meguro medical association, with a
/// power of attorney received; Meguro Clinic 01 and Meguro Special Venue 01 are not members.
/// The association (whose session this is) records Meguro Clinic 01's power of attorney.
struct Recorded {
    aggregator: String,
    clinic: Value,
    /// The recorded power of attorney.
    power: Value,
}

async fn record_the_clinics_power(server: &TestServer) -> Recorded {
    let (clinic, _) = facility(server, "Meguro Clinic 01").await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let recorded = server
        .data_as(
            &aggregator,
            RECORD,
            json!({ "f": clinic, "d": "2021-02-10" }),
        )
        .await;
    Recorded {
        aggregator,
        clinic,
        power: recorded["recordPowerOfAttorney"].clone(),
    }
}

/// Records the clinic's power of attorney, then records it again as deficient; returns the
/// second answer's `recordPowerOfAttorney` too.
async fn record_the_clinics_power_twice(server: &TestServer) -> (Recorded, Value) {
    let recorded = record_the_clinics_power(server).await;
    let deficient = server
        .data_as(
            &recorded.aggregator,
            RECORD,
            json!({ "f": recorded.clinic, "d": "2021-02-12", "s": "DEFICIENT", "n": "押印なし" }),
        )
        .await;
    (recorded, deficient["recordPowerOfAttorney"].clone())
}

#[tokio::test]
async fn a_recorded_power_of_attorney_is_received_from_the_facility_by_the_aggregator() {
    let server = TestServer::start().await;
    let Recorded { power, .. } = record_the_clinics_power(&server).await;
    assert_eq!(power["status"], "RECEIVED");
    assert_eq!(power["facility"]["name"], "目黒区診療所01");
    assert_eq!(power["aggregator"]["name"], "目黒区医師会");
    assert_eq!(power["version"], 1);
    server.stop().await;
}

#[tokio::test]
async fn an_aggregator_lists_its_current_members_and_not_one_that_has_left() {
    let server = TestServer::start().await;
    // A power of attorney first, then the contract it allows.
    let Recorded { aggregator, .. } = record_the_clinics_power(&server).await;
    let (_, clinic_code) = facility(&server, "Meguro Clinic 01").await;
    let (_, venue_code) = facility(&server, "Meguro Special Venue 01").await;
    let joined = server
        .graphql_as(
            &aggregator,
            REGISTER,
            json!({ "rows": [
                { "facilityCode": clinic_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15" },
                { "facilityCode": venue_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15", "withdrawalDate": "2021-03-31" },
            ] }),
        )
        .await;
    data_or_panic(&joined);
    let members = server.data_as(&aggregator, MEMBERS, json!({})).await;
    assert_eq!(
        nodes(&members["memberFacilities"]),
        [
            json!({ "name": "目黒区病院01" }),
            json!({ "name": "目黒区診療所01" })
        ],
        "a member that has left is no longer listed"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_power_of_attorney_recorded_again_is_the_same_record_updated() {
    let server = TestServer::start().await;
    let (Recorded { power, .. }, deficient) = record_the_clinics_power_twice(&server).await;
    assert_eq!(deficient["id"], power["id"]);
    assert_eq!(deficient["version"], 2);
    assert_eq!(deficient["note"], "押印なし");
    server.stop().await;
}

#[tokio::test]
async fn an_aggregator_lists_the_powers_of_attorney_it_received_by_status() {
    let server = TestServer::start().await;
    let (
        Recorded {
            aggregator, power, ..
        },
        _,
    ) = record_the_clinics_power_twice(&server).await;
    let listed = nodes(&server.data_as(&aggregator, POWERS, json!({})).await["powersOfAttorney"]);
    assert_eq!(listed.len(), 2, "the demo hospital's and the clinic's");
    let demo_power = listed
        .iter()
        .find(|node| node["id"] != power["id"])
        .unwrap()
        .clone();
    assert!(
        listed.contains(&json!({ "id": power["id"], "status": "DEFICIENT", "receivedDate": "2021-02-12", "facility": { "name": "目黒区診療所01" } })),
        "{listed:?}"
    );
    assert_eq!(
        demo_power,
        json!({ "id": demo_power["id"], "status": "RECEIVED", "receivedDate": "2021-02-15", "facility": { "name": "目黒区病院01" } })
    );
    let received_only = server
        .data_as(&aggregator, POWERS, json!({ "s": "RECEIVED" }))
        .await;
    assert_eq!(
        nodes(&received_only["powersOfAttorney"]),
        [demo_power],
        "only the demo hospital's"
    );
    server.stop().await;
}

/// The statuses of every power of attorney, by facility code.
async fn power_statuses(server: &TestServer) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT p.status FROM powers_of_attorney p JOIN organizations o ON o.id = p.facility_id \
         ORDER BY o.code",
    )
    .fetch_all(server.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_bad_power_of_attorney_is_refused_audited_and_changes_nothing() {
    let server = TestServer::start().await;
    let (
        Recorded {
            aggregator, clinic, ..
        },
        _,
    ) = record_the_clinics_power_twice(&server).await;
    let (yokohama_hospital, _) = facility(&server, "Yokohama Hospital 01").await;
    let before = count(&server, "SELECT COUNT(*) FROM powers_of_attorney").await;
    for (variables, expected, field) in [
        (
            json!({ "f": clinic, "d": "2999-01-01" }),
            "INVALID_INPUT",
            Some("receivedDate"),
        ),
        (
            json!({ "f": clinic, "d": "2021-13-01" }),
            "INVALID_INPUT",
            Some("receivedDate"),
        ),
        (
            json!({ "f": clinic, "d": "2021-02-01", "n": "x".repeat(501) }),
            "INVALID_INPUT",
            Some("note"),
        ),
        (
            json!({ "f": yokohama_hospital, "d": "2021-02-01" }),
            "FORBIDDEN",
            None,
        ),
    ] {
        let response = server
            .graphql_as(&aggregator, RECORD, variables.clone())
            .await;
        assert_error(&response, expected, field);
        let outcome = last_outcome(&server, "recordPowerOfAttorney").await;
        assert_eq!(
            outcome,
            if expected == "FORBIDDEN" {
                "DENIED"
            } else {
                "FAILURE"
            }
        );
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM powers_of_attorney").await,
        before
    );
    assert_eq!(
        power_statuses(&server).await,
        ["RECEIVED", "DEFICIENT"],
        "the hospital's, the clinic's"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wholesaler_cannot_record_a_power_of_attorney() {
    let server = TestServer::start().await;
    let (clinic, _) = facility(&server, "Meguro Clinic 01").await;
    let before = count(&server, "SELECT COUNT(*) FROM powers_of_attorney").await;
    let seller = server.sign_in("wholesaler.admin").await;
    assert_eq!(
        server
            .code_as(&seller, RECORD, json!({ "f": clinic, "d": "2021-02-01" }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM powers_of_attorney").await,
        before
    );
    assert_eq!(
        power_statuses(&server).await,
        ["RECEIVED"],
        "the hospital's"
    );
    server.stop().await;
}

#[tokio::test]
async fn another_aggregator_sees_neither_the_powers_of_attorney_nor_the_members() {
    let server = TestServer::start().await;
    let aggregator_id = organization_id(&server, "AGGREGATOR").await;
    let association = server.sign_in("tokyo-ma.admin").await;
    assert_eq!(
        server
            .code_as(&association, POWERS, json!({ "a": aggregator_id }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        server
            .code_as(&association, MEMBERS, json!({ "a": aggregator_id }))
            .await,
        "NOT_FOUND"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_nation_oversees_an_aggregators_powers_of_attorney() {
    let server = TestServer::start().await;
    record_the_clinics_power(&server).await;
    let aggregator_id = organization_id(&server, "AGGREGATOR").await;
    let nation = server.sign_in("nation.admin").await;
    let overseen = server
        .data_as(&nation, POWERS, json!({ "a": aggregator_id }))
        .await;
    assert_eq!(nodes(&overseen["powersOfAttorney"]).len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_power_of_attorney_is_a_node_its_aggregator_sees_and_a_wholesaler_does_not() {
    let server = TestServer::start().await;
    let (
        Recorded {
            aggregator, power, ..
        },
        _,
    ) = record_the_clinics_power_twice(&server).await;
    assert_eq!(
        server
            .data_as(&aggregator, POWER_NODE, json!({ "id": power["id"] }))
            .await["node"]["status"],
        "DEFICIENT"
    );
    let seller = server.sign_in("wholesaler.admin").await;
    assert_eq!(
        server
            .code_as(&seller, POWER_NODE, json!({ "id": power["id"] }))
            .await,
        "NOT_FOUND"
    );
    server.stop().await;
}

async fn subscribe_as(server: &TestServer, token: &str) -> common::WsClient {
    let payload = json!({ "query": "subscription { events(after: 0, topics: [\"contract.registered\", \"contract.withdrawn\"]) { topic payload } }" });
    common::ws::subscribe(server, Some(token), "s", payload).await
}

/// The service desk (which enters individual contracts for any facility) registers one for
/// the facility with `code`, from `join` to 2021-03-31.
async fn desk_registers(server: &TestServer, desk: &str, code: &str, join: &str) {
    let response = register(
        server,
        desk,
        json!({ "facilityCode": code, "kind": "INDIVIDUAL", "joinDate": join, "withdrawalDate": "2021-03-31" }),
    )
    .await;
    registered(&response);
}

/// The row id inside a facility's global id: what event payloads name.
fn facility_row(id: &Value) -> String {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().unwrap())
        .unwrap();
    String::from_utf8(decoded).unwrap()["Facility:".len()..].to_owned()
}

/// Contract events in both areas, in order: a contract registered for Meguro Hospital 01; the
/// demo's contract of Yokohama Hospital 01 withdrawn and a new one registered. Returns the
/// hospitals' global ids, Meguro's first, and the desk's session.
async fn contract_events_in_meguro_and_then_yokohama(
    server: &TestServer,
) -> (Value, Value, String) {
    let (meguro_hospital, meguro_code) = facility(server, "Meguro Hospital 01").await;
    let (yokohama_hospital, yokohama_code) = facility(server, "Yokohama Hospital 01").await;
    let desk = server.sign_in("helpdesk.admin").await;
    desk_registers(server, &desk, &meguro_code, "2021-03-01").await;
    // Yokohama Hospital 01's individual contract in the demo ends first (an event in Yokohama's
    // area, after Meguro's), so that a new one may start.
    let nation = server.sign_in("nation.admin").await;
    let demo_contract = server
        .data_as(
            &nation,
            LIST,
            json!({ "f": { "facilityId": yokohama_hospital } }),
        )
        .await;
    let demo_contract = nodes(&demo_contract["contracts"])[0]["id"].clone();
    let ended = server
        .graphql_as(
            &desk,
            WITHDRAW,
            json!({ "ids": [demo_contract], "d": "2021-02-28" }),
        )
        .await;
    data_or_panic(&ended);
    desk_registers(server, &desk, &yokohama_code, "2021-03-01").await;
    (meguro_hospital, yokohama_hospital, desk)
}

#[tokio::test]
async fn a_municipality_replays_the_contract_events_of_its_own_facilities_only() {
    let server = TestServer::start().await;
    let (meguro_hospital, yokohama_hospital, _) =
        contract_events_in_meguro_and_then_yokohama(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let yokohama = server.sign_in("yokohama.admin").await;
    let mut meguro_ws = subscribe_as(&server, &meguro).await;
    let mut yokohama_ws = subscribe_as(&server, &yokohama).await;
    let first = next_event(&mut meguro_ws).await;
    assert_eq!(first["topic"], "contract.registered");
    assert_eq!(
        first["payload"]["facilityId"],
        facility_row(&meguro_hospital)
    );
    let theirs = next_event(&mut yokohama_ws).await;
    assert_eq!(theirs["topic"], "contract.withdrawn");
    assert_eq!(
        theirs["payload"]["facilityId"],
        facility_row(&yokohama_hospital),
        "Yokohama skips Meguro's contract"
    );
    let registered = next_event(&mut yokohama_ws).await;
    assert_eq!(registered["topic"], "contract.registered");
    assert_eq!(
        registered["payload"]["facilityId"],
        facility_row(&yokohama_hospital)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_live_contract_event_follows_the_areas_replayed_ones_skipping_other_areas() {
    let server = TestServer::start().await;
    let (meguro_hospital, _, desk) = contract_events_in_meguro_and_then_yokohama(&server).await;
    let meguro = server.sign_in("meguro.admin").await;
    let mut meguro_ws = subscribe_as(&server, &meguro).await;
    let first = next_event(&mut meguro_ws).await;
    // A later Meguro contract is Meguro's next event (Yokohama's were skipped).
    let (_, meguro_code) = facility(&server, "Meguro Hospital 01").await;
    desk_registers(&server, &desk, &meguro_code, "2021-03-31").await;
    let live = next_event(&mut meguro_ws).await;
    assert_eq!(
        live["payload"]["facilityId"],
        facility_row(&meguro_hospital)
    );
    assert_eq!(live["payload"]["kind"], "INDIVIDUAL");
    assert_ne!(
        live["payload"]["contractId"],
        first["payload"]["contractId"]
    );
    server.stop().await;
}

#[tokio::test]
async fn an_approved_collective_date_change_is_a_contract_event_too() {
    let server = TestServer::start().await;
    let (hospital, _) = facility(&server, "Meguro Hospital 01").await;
    // The demo hospital is in the Meguro medical association's collective contract.
    let token = common::api::hospital(&server).await;
    let contracts = server
        .graphql_as(
            &token,
            "query($f: ID!) { node(id: $f) { ... on Facility { contracts { kind current withdrawalDate aggregator { name } } } } }",
            json!({ "f": hospital }),
        )
        .await;
    assert_eq!(
        contracts["data"]["node"]["contracts"],
        json!([{ "kind": "COLLECTIVE", "current": true, "withdrawalDate": null, "aggregator": { "name": "目黒区医師会" } }]),
        "{contracts}"
    );
    // The facility changes its collective withdrawal date: an approval field.
    let filed = server
        .graphql_as(
            &token,
            "mutation($f: ID!) { updateFacility(facilityId: $f, input: { collectiveWithdrawalDate: \"2021-09-30\" }) { changeRequest { id } } }",
            json!({ "f": hospital }),
        )
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let withdrawn = "SELECT COUNT(*) FROM events WHERE topic = 'contract.withdrawn'";
    assert_eq!(count(&server, withdrawn).await, 0, "not before approval");
    let meguro = server.sign_in("meguro.admin").await;
    let approved = server
        .graphql_as(
            &meguro,
            "mutation($r: ID!) { approveFacilityChange(requestId: $r) { status } }",
            json!({ "r": request }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveFacilityChange"]["status"], "APPROVED",
        "{approved}"
    );
    let payload: String =
        sqlx::query_scalar("SELECT payload FROM events WHERE topic = 'contract.withdrawn'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["withdrawalDate"], "2021-09-30");
    assert_eq!(payload["kind"], "COLLECTIVE");
    server.stop().await;
}
