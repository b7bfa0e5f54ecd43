//! Contracts and partners through the API: contract events and the paginated, filtered list;
//! the counterpart municipality; the delivering wholesaler and what it sees; an aggregator's
//! members and the powers of attorney it received.

mod common;

use common::TestServer;
use common::api::{error_code, facility, organization_id};
use common::db::{count, last_outcome};
use common::ws::next_event;
use serde_json::{Value, json};

const REGISTER: &str = "mutation($rows: [RegisterContractInput!]) { registerContract(contracts: $rows) { id kind counterpartMunicipality { code name } aggregator { name } } }";
const LIST: &str = "query($f: ContractListFilter, $first: Int, $after: String) { contracts(filter: $f, first: $first, after: $after) {
    edges { cursor node { id kind current facility { name } } } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn contracts_append_events_in_their_transaction_and_list_page_by_page_with_filters() {
    let server = TestServer::start().await;
    // The demo has 7 contracts: Meguro Hospital 01's collective one through the Meguro medical
    // association and an individual one for every other facility but Minato Clinic 01.
    const DEMO_CONTRACTS: usize = 7;
    let (hospital, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    let (_, clinic_code) = facility(&server, "Meguro Clinic 01").await;
    let (_, venue_code) = facility(&server, "Meguro Special Venue 01").await;
    let aggregator = server.sign_in("meguro-ma.admin").await;
    // The clinic and the venue have individual contracts only, so they may join the
    // collective one (the hospital already has).
    let collective = server
        .graphql_as(
            &aggregator,
            REGISTER,
            json!({ "rows": [
                { "facilityCode": clinic_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15" },
                { "facilityCode": venue_code, "kind": "COLLECTIVE", "joinDate": "2021-02-15" },
            ] }),
        )
        .await;
    let collective = collective["data"]["registerContract"]
        .as_array()
        .unwrap_or_else(|| panic!("{collective}"))
        .clone();
    assert_eq!(collective[0]["counterpartMunicipality"], Value::Null);
    let token = common::api::hospital(&server).await;
    let individual = server
        .graphql_as(
            &token,
            REGISTER,
            json!({ "rows": [{ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01" }] }),
        )
        .await;
    assert_eq!(
        individual["data"]["registerContract"][0]["counterpartMunicipality"],
        json!({ "code": "131105", "name": "目黒区" }),
        "an individual contract is made with the facility's own municipality by default: {individual}"
    );

    // One event per contract, in the registration's transaction.
    let events = |topic: &'static str| {
        let server = &server;
        async move {
            sqlx::query_as::<_, (String, String, Option<String>)>(
                "SELECT visibility, payload, organization_id FROM events WHERE topic = $1 ORDER BY seq",
            )
            .bind(topic)
            .fetch_all(server.state.db.pool())
            .await
            .unwrap()
        }
    };
    let registered = events("contract.registered").await;
    assert_eq!(registered.len(), 3);
    for (visibility, payload, organization) in &registered {
        assert_eq!(visibility, "RESTRICTED");
        let payload: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(payload["facilityId"].as_str(), organization.as_deref());
        assert!(payload["contractId"].is_string() && payload["joinDate"].is_string());
    }
    // A refused registration appends nothing.
    let refused = server
        .graphql_as(
            &aggregator,
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
    assert_eq!(events("contract.registered").await.len(), 3);

    let withdrawn = server
        .graphql_as(
            &aggregator,
            "mutation($ids: [ID!]!) { withdrawContract(contractIds: $ids, withdrawalDate: \"2021-06-30\") { id } }",
            json!({ "ids": [collective[1]["id"]] }),
        )
        .await;
    assert!(withdrawn["errors"].is_null(), "{withdrawn}");
    let withdrawal_events = events("contract.withdrawn").await;
    assert_eq!(withdrawal_events.len(), 1);
    let payload: Value = serde_json::from_str(&withdrawal_events[0].1).unwrap();
    assert_eq!(payload["withdrawalDate"], "2021-06-30");
    assert!(payload["aggregatorId"].is_string());

    // Page by page, as the nation (which sees every contract).
    let nation = server.sign_in("nation.admin").await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = server
            .graphql_as(&nation, LIST, json!({ "first": 2, "after": after }))
            .await;
        let connection = &page["data"]["contracts"];
        for edge in connection["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), DEMO_CONTRACTS + 3, "every contract once");
    seen.sort_by_key(|id| id.to_string());
    seen.dedup();
    assert_eq!(seen.len(), DEMO_CONTRACTS + 3);

    let listed = |filter: Value| {
        let (server, nation) = (&server, &nation);
        async move {
            let page = server
                .graphql_as(nation, LIST, json!({ "f": filter }))
                .await;
            page["data"]["contracts"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{page}"))
                .len()
        }
    };
    // The demo's 1 collective and 6 individual contracts, all in force, are listed too.
    assert_eq!(listed(json!({ "kind": "COLLECTIVE" })).await, 1 + 2);
    assert_eq!(listed(json!({ "kind": "INDIVIDUAL" })).await, 6 + 1);
    assert_eq!(listed(json!({ "facilityId": hospital })).await, 2);
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

    // The facility sees its own (the demo's collective one and its new individual one); bad
    // paging is refused.
    let own = server.graphql_as(&token, LIST, json!({})).await;
    assert_eq!(
        own["data"]["contracts"]["edges"].as_array().unwrap().len(),
        2
    );
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

#[tokio::test]
async fn an_individual_contract_names_its_counterpart_and_a_collective_one_none() {
    let server = TestServer::start().await;
    let (_, hospital_code) = facility(&server, "Meguro Hospital 01").await;
    let token = common::api::hospital(&server).await;
    let before = count(&server, "SELECT COUNT(*) FROM contracts").await;
    for (municipality, field) in [
        ("131120", "municipalityCode"),
        // Shibuya-ku: a valid code, but no such municipality in the registry.
        ("131130", "municipalityCode"),
    ] {
        let response = server
            .graphql_as(
                &token,
                REGISTER,
                json!({ "rows": [{ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01", "municipalityCode": municipality }] }),
            )
            .await;
        assert_eq!(
            error_code(&response),
            "INVALID_INPUT",
            "{municipality}: {response}"
        );
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let aggregator = server.sign_in("meguro-ma.admin").await;
    let collective = server
        .graphql_as(
            &aggregator,
            REGISTER,
            json!({ "rows": [{ "facilityCode": hospital_code, "kind": "COLLECTIVE", "joinDate": "2021-03-01", "municipalityCode": "131105" }] }),
        )
        .await;
    assert_eq!(error_code(&collective), "INVALID_INPUT");
    assert_eq!(
        collective["errors"][0]["extensions"]["field"],
        "municipalityCode"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM contracts").await,
        before,
        "nothing registered"
    );
    assert_eq!(last_outcome(&server, "registerContract").await, "FAILURE");

    // The service desk enters individual contracts but holds no collective one (it would
    // become the aggregator).
    let desk = server.sign_in("helpdesk.admin").await;
    let by_desk = server
        .graphql_as(
            &desk,
            REGISTER,
            json!({ "rows": [{ "facilityCode": hospital_code, "kind": "COLLECTIVE", "joinDate": "2021-03-01" }] }),
        )
        .await;
    assert_eq!(error_code(&by_desk), "FORBIDDEN");
    assert_eq!(last_outcome(&server, "registerContract").await, "DENIED");

    // A municipality elsewhere as counterpart: it sees the contract made with it.
    let with_yokohama = server
        .graphql_as(
            &token,
            REGISTER,
            json!({ "rows": [{ "facilityCode": hospital_code, "kind": "INDIVIDUAL", "joinDate": "2021-03-01", "withdrawalDate": "2021-03-31", "municipalityCode": "141003" }] }),
        )
        .await;
    let contract = with_yokohama["data"]["registerContract"][0].clone();
    assert_eq!(
        contract["counterpartMunicipality"]["name"], "横浜市",
        "{with_yokohama}"
    );
    let yokohama = server.sign_in("yokohama.admin").await;
    let seen = server.graphql_as(&yokohama, LIST, json!({})).await;
    assert_eq!(
        seen["data"]["contracts"]["edges"][0]["node"]["id"], contract["id"],
        "{seen}"
    );
    // Besides, the individual contracts of the demo's three Yokohama facilities.
    assert_eq!(
        seen["data"]["contracts"]["edges"].as_array().unwrap().len(),
        1 + 3,
        "{seen}"
    );
    let node = server
        .graphql_as(
            &yokohama,
            "query($id: ID!) { node(id: $id) { ... on Contract { counterpartMunicipality { name } } } }",
            json!({ "id": contract["id"] }),
        )
        .await;
    assert_eq!(
        node["data"]["node"]["counterpartMunicipality"]["name"], "横浜市",
        "{node}"
    );
    let setagaya_seen_by_yokohama =
        |page: &Value| page["data"]["contracts"]["edges"].as_array().unwrap().len();

    // Another municipality as counterpart, in the CSV's fifth column (the first contract
    // ended, so a second individual one may start).
    let csv = format!(
        "facilityCode,kind,joinDate,withdrawalDate,municipalityCode\n{hospital_code},INDIVIDUAL,2021-04-01,,131121\n"
    );
    let created = server
        .graphql_as(
            &token,
            "mutation($csv: String) { registerContract(csv: $csv) { counterpartMunicipality { name } } }",
            json!({ "csv": csv }),
        )
        .await;
    assert_eq!(
        created["data"]["registerContract"][0]["counterpartMunicipality"]["name"], "世田谷区",
        "{created}"
    );
    let later = server.graphql_as(&yokohama, LIST, json!({})).await;
    assert_eq!(
        setagaya_seen_by_yokohama(&later),
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

#[tokio::test]
async fn a_wholesaler_sees_the_facilities_naming_it_and_nothing_private() {
    let server = TestServer::start().await;
    let (hospital, _) = facility(&server, "Meguro Hospital 01").await;
    let (clinic, _) = facility(&server, "Meguro Clinic 01").await;
    let (yokohama_hospital, _) = facility(&server, "Yokohama Hospital 01").await;
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let aggregator = organization_id(&server, "AGGREGATOR").await;

    // Every demo facility names the wholesaler. The facility clears and names it again; its
    // municipality may do the same, without the proxy flag.
    let token = common::api::hospital(&server).await;
    let unset = server
        .graphql_as(&token, SET_WHOLESALER, json!({ "f": hospital }))
        .await;
    assert_eq!(
        unset["data"]["setDeliveringWholesaler"]["deliveringWholesaler"],
        Value::Null,
        "{unset}"
    );
    let set = server
        .graphql_as(
            &token,
            SET_WHOLESALER,
            json!({ "f": hospital, "w": wholesaler }),
        )
        .await;
    assert_eq!(
        set["data"]["setDeliveringWholesaler"]["deliveringWholesaler"]["name"],
        "関東医薬品卸株式会社",
        "{set}"
    );
    let meguro = server.sign_in("meguro.admin").await;
    let unset_by_municipality = server
        .graphql_as(&meguro, SET_WHOLESALER, json!({ "f": clinic }))
        .await;
    assert!(
        unset_by_municipality["errors"].is_null(),
        "{unset_by_municipality}"
    );
    let by_municipality = server
        .graphql_as(
            &meguro,
            SET_WHOLESALER,
            json!({ "f": clinic, "w": wholesaler }),
        )
        .await;
    assert!(by_municipality["errors"].is_null(), "{by_municipality}");

    let seller = server.sign_in("wholesaler.admin").await;
    let seen = server.graphql_as(&seller, DESTINATIONS, json!({})).await;
    let edges = seen["data"]["deliveryDestinations"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{seen}"))
        .clone();
    let names: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_FACILITIES);
    let own = server
        .graphql_as(
            &seller,
            "{ deliveryDestinations { edges { node { deliveringWholesaler { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["data"]["deliveryDestinations"]["edges"][1]["node"]["deliveringWholesaler"]["name"],
        "関東医薬品卸株式会社",
        "the wholesaler sees that it delivers there: {own}"
    );
    assert!(edges[0]["node"]["address"].is_string() && edges[0]["node"]["phone"].is_string());
    // Nothing private: doctors and contracts stay with the facility's area.
    let private = server
        .graphql_as(
            &seller,
            "{ deliveryDestinations { edges { node { doctors { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&private), "FORBIDDEN");
    let contracts = server
        .graphql_as(
            &seller,
            "{ contracts { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        contracts["data"]["contracts"]["edges"],
        json!([]),
        "{contracts}"
    );

    // Other partners neither list nor guess another's destinations.
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
    let nation = server.sign_in("nation.admin").await;
    let overseen = server
        .graphql_as(&nation, DESTINATIONS, json!({ "w": wholesaler }))
        .await;
    assert_eq!(
        overseen["data"]["deliveryDestinations"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        DEMO_FACILITIES.len()
    );

    // Bad input: not a wholesaler, another area's facility, no right; nothing changes.
    let not_wholesaler = server
        .graphql_as(
            &token,
            SET_WHOLESALER,
            json!({ "f": hospital, "w": aggregator }),
        )
        .await;
    assert_eq!(error_code(&not_wholesaler), "INVALID_INPUT");
    assert_eq!(
        not_wholesaler["errors"][0]["extensions"]["field"],
        "wholesalerId"
    );
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
    assert_eq!(error_code(&garbage), "INVALID_INPUT");
    assert_eq!(garbage["errors"][0]["extensions"]["field"], "wholesalerId");
    assert_eq!(
        last_outcome(&server, "setDeliveringWholesaler").await,
        "FAILURE",
        "a malformed id is audited too"
    );
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
    let by_seller = server
        .graphql_as(
            &seller,
            SET_WHOLESALER,
            json!({ "f": yokohama_hospital, "w": wholesaler }),
        )
        .await;
    assert_eq!(error_code(&by_seller), "NOT_FOUND");
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM facilities WHERE delivering_wholesaler_id IS NOT NULL"
        )
        .await,
        DEMO_FACILITIES.len() as i64
    );

    // Cleared: the wholesaler no longer sees it.
    let cleared = server
        .graphql_as(&meguro, SET_WHOLESALER, json!({ "f": clinic }))
        .await;
    assert_eq!(
        cleared["data"]["setDeliveringWholesaler"]["deliveringWholesaler"],
        Value::Null,
        "{cleared}"
    );
    let after = server.graphql_as(&seller, DESTINATIONS, json!({})).await;
    let names: Vec<&str> = after["data"]["deliveryDestinations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = DEMO_FACILITIES
        .into_iter()
        .filter(|name| *name != "目黒区診療所01")
        .collect();
    assert_eq!(names, expected);
    // The facility's delivering wholesaler is not public.
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

#[tokio::test]
async fn an_aggregator_sees_its_members_and_records_the_powers_of_attorney_it_received() {
    let server = TestServer::start().await;
    // The demo's Meguro Hospital 01 is already a member, with a power of attorney received;
    // Meguro Clinic 01 and Meguro Special Venue 01 are not members.
    let (clinic, clinic_code) = facility(&server, "Meguro Clinic 01").await;
    let (_, venue_code) = facility(&server, "Meguro Special Venue 01").await;
    let (yokohama_hospital, _) = facility(&server, "Yokohama Hospital 01").await;
    let aggregator_id = organization_id(&server, "AGGREGATOR").await;
    let aggregator = server.sign_in("meguro-ma.admin").await;

    // A power of attorney first, then the contract it allows.
    let recorded = server
        .graphql_as(
            &aggregator,
            RECORD,
            json!({ "f": clinic, "d": "2021-02-10" }),
        )
        .await;
    let power = recorded["data"]["recordPowerOfAttorney"].clone();
    assert_eq!(power["status"], "RECEIVED", "{recorded}");
    assert_eq!(power["facility"]["name"], "目黒区診療所01");
    assert_eq!(power["aggregator"]["name"], "目黒区医師会");
    assert_eq!(power["version"], 1);

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
    assert!(joined["errors"].is_null(), "{joined}");
    let members = server.graphql_as(&aggregator, MEMBERS, json!({})).await;
    assert_eq!(
        members["data"]["memberFacilities"]["edges"],
        json!([{ "node": { "name": "目黒区病院01" } }, { "node": { "name": "目黒区診療所01" } }]),
        "a member that has left is no longer listed: {members}"
    );

    // Recorded again: the same record, updated.
    let deficient = server
        .graphql_as(
            &aggregator,
            RECORD,
            json!({ "f": clinic, "d": "2021-02-12", "s": "DEFICIENT", "n": "押印なし" }),
        )
        .await;
    assert_eq!(
        deficient["data"]["recordPowerOfAttorney"]["id"], power["id"],
        "{deficient}"
    );
    assert_eq!(deficient["data"]["recordPowerOfAttorney"]["version"], 2);
    assert_eq!(
        deficient["data"]["recordPowerOfAttorney"]["note"],
        "押印なし"
    );
    let listed = server.graphql_as(&aggregator, POWERS, json!({})).await;
    let listed = listed["data"]["powersOfAttorney"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .clone();
    assert_eq!(listed.len(), 2, "the demo hospital's and the clinic's");
    let demo_power = listed
        .iter()
        .find(|edge| edge["node"]["id"] != power["id"])
        .unwrap()["node"]
        .clone();
    assert!(
        listed.contains(&json!({ "node": { "id": power["id"], "status": "DEFICIENT", "receivedDate": "2021-02-12", "facility": { "name": "目黒区診療所01" } } })),
        "{listed:?}"
    );
    assert_eq!(
        demo_power,
        json!({ "id": demo_power["id"], "status": "RECEIVED", "receivedDate": "2021-02-15", "facility": { "name": "目黒区病院01" } })
    );
    let received_only = server
        .graphql_as(&aggregator, POWERS, json!({ "s": "RECEIVED" }))
        .await;
    assert_eq!(
        received_only["data"]["powersOfAttorney"]["edges"],
        json!([{ "node": demo_power }]),
        "only the demo hospital's"
    );

    // Bad input: nothing changes, and the attempt is audited.
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
        assert_eq!(error_code(&response), expected, "{variables}: {response}");
        if let Some(field) = field {
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
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
    let status: Vec<String> = sqlx::query_scalar(
        "SELECT p.status FROM powers_of_attorney p JOIN organizations o ON o.id = p.facility_id \
         ORDER BY o.code",
    )
    .fetch_all(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(
        status,
        ["RECEIVED", "DEFICIENT"],
        "the hospital's, the clinic's"
    );

    // The roster is the aggregator's own: another holder does not see it; the nation does.
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
    let nation = server.sign_in("nation.admin").await;
    let overseen = server
        .graphql_as(&nation, POWERS, json!({ "a": aggregator_id }))
        .await;
    assert_eq!(
        overseen["data"]["powersOfAttorney"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let node = "query($id: ID!) { node(id: $id) { ... on PowerOfAttorney { status } } }";
    assert_eq!(
        server
            .graphql_as(&aggregator, node, json!({ "id": power["id"] }))
            .await["data"]["node"]["status"],
        "DEFICIENT"
    );
    assert_eq!(
        server
            .code_as(&seller, node, json!({ "id": power["id"] }))
            .await,
        "NOT_FOUND"
    );
    server.stop().await;
}

async fn subscribe_as(server: &TestServer, token: &str) -> common::WsClient {
    let payload = json!({ "query": "subscription { events(after: 0, topics: [\"contract.registered\", \"contract.withdrawn\"]) { topic payload } }" });
    common::ws::subscribe(server, Some(token), "s", payload).await
}

#[tokio::test]
async fn contract_events_reach_the_facilitys_area_and_no_one_else() {
    let server = TestServer::start().await;
    let (meguro_hospital, meguro_code) = facility(&server, "Meguro Hospital 01").await;
    let (yokohama_hospital, yokohama_code) = facility(&server, "Yokohama Hospital 01").await;
    // The service desk enters individual contracts for any facility.
    let desk = server.sign_in("helpdesk.admin").await;
    let register = |code: String, join: &'static str| {
        let (server, desk) = (&server, &desk);
        async move {
            let response = server
                .graphql_as(
                    desk,
                    REGISTER,
                    json!({ "rows": [{ "facilityCode": code, "kind": "INDIVIDUAL", "joinDate": join, "withdrawalDate": "2021-03-31" }] }),
                )
                .await;
            response["data"]["registerContract"][0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{response}"))
                .to_owned()
        }
    };
    register(meguro_code.clone(), "2021-03-01").await;
    // Yokohama Hospital 01's individual contract in the demo ends first (an event in Yokohama's
    // area, after Meguro's), so that a new one may start.
    let nation = server.sign_in("nation.admin").await;
    let demo_contract = server
        .graphql_as(
            &nation,
            LIST,
            json!({ "f": { "facilityId": yokohama_hospital } }),
        )
        .await;
    let demo_contract = demo_contract["data"]["contracts"]["edges"][0]["node"]["id"].clone();
    let ended = server
        .graphql_as(
            &desk,
            "mutation($ids: [ID!]!) { withdrawContract(contractIds: $ids, withdrawalDate: \"2021-02-28\") { id } }",
            json!({ "ids": [demo_contract] }),
        )
        .await;
    assert!(ended["errors"].is_null(), "{ended}");
    register(yokohama_code, "2021-03-01").await;

    let meguro = server.sign_in("meguro.admin").await;
    let yokohama = server.sign_in("yokohama.admin").await;
    let mut meguro_ws = subscribe_as(&server, &meguro).await;
    let mut yokohama_ws = subscribe_as(&server, &yokohama).await;
    let facility_row = |id: &Value| {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id.as_str().unwrap())
            .unwrap();
        String::from_utf8(decoded).unwrap()["Facility:".len()..].to_owned()
    };
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
    // Live: a later Meguro contract is Meguro's next event (Yokohama's was skipped).
    register(meguro_code, "2021-03-31").await;
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
