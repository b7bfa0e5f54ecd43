//! Billing (function 7): attendance recorded on reservations pre-fills a facility's monthly
//! claim; the summary groups it by the paying municipality (the coupon's) with its route —
//! directly or through the 国保連 — and exports PDF and formula-safe CSV; a submitted claim is
//! final; late claims show; every bad input is refused and changes nothing.

mod common;

use common::TestServer;
use common::api::{error_reason, expect_error_code};
use common::reservations::*;
use serde_json::{Value, json};

const ATTEND: &str = "mutation($r: ID!, $a: AttendanceKind!, $c: RecipientCategory, $h: Boolean) { recordAttendance(reservationId: $r, attendance: $a, category: $c, holiday: $h) }";
const DRAFT: &str = "query($f: ID!, $m: String!) { billingClaimDraft(facilityId: $f, month: $m) { municipalityCode municipalityName category counts { vaccinations screeningsOnly underSix outOfHours holidays } amount } }";
const SAVE: &str = "mutation($f: ID!, $m: String!, $l: [ClaimLineInput!]!) { saveBillingClaim(facilityId: $f, month: $m, lines: $l) { id status version } }";
const SUBMIT: &str = "mutation($f: ID!, $m: String!) { submitBillingClaim(facilityId: $f, month: $m) { status submittedAt } }";
const SUMMARY: &str = "query($f: ID!, $m: String!) { billingSummary(facilityId: $f, month: $m) { status dueOn late directAmount federationAmount totalAmount municipalities { municipalityCode inArea route amount counts { vaccinations screeningsOnly underSix holidays } } } }";
const EXPORT: &str = "mutation($f: ID!, $m: String!, $x: ExportFormat!) { exportBillingSummary(facilityId: $f, month: $m, format: $x) { fileName byteSize downloadUrl } }";

struct Clinic {
    server: TestServer,
    meguro: String,
    venue: Value,
    month: String,
    /// Bookings: Meguro elderly, Meguro child, Setagaya (out of area), Meguro screened only,
    /// Meguro no-show.
    bookings: Vec<Value>,
}

/// Five bookings at Meguro's special venue tomorrow; then the clock moves two days on.
async fn clinic() -> Clinic {
    let MeguroVenue {
        server,
        operator,
        meguro,
        venue,
        slots,
    } = meguro_venue_tomorrow(("09:00", "12:00")).await;
    // A Setagaya resident staying in Meguro, accepted.
    let notice = server
        .data(
            "mutation($i: ResidentRequestInput!) { submitOutOfAreaNotification(destinationMunicipalityCode: \"131105\", input: $i) { id } }",
            json!({ "i": { "couponMunicipalityCode": "131121", "couponNumber": "0000000003",
                "name": "世田谷 花子", "nameKana": "セタガヤ ハナコ", "birthDate": "1950-04-01",
                "phone": "03-1234-5678", "reason": "里帰り" } }),
        )
        .await;
    server
        .data_as(
            &meguro,
            "mutation($r: ID!) { decideOutOfAreaNotification(requestId: $r, accept: true) { id } }",
            json!({ "r": notice["submitOutOfAreaNotification"]["id"] }),
        )
        .await;
    let mut bookings = Vec::new();
    // A child of about two at the visit, whatever the day the test runs.
    let toddler = day(&server, -800);
    for (n, (municipality, number, birth)) in [
        ("131105", "0000000001", "1950-04-01"),
        ("131105", "0000000002", toddler.as_str()),
        ("131121", "0000000003", "1950-04-01"),
        ("131105", "0000000004", "1960-04-01"),
        ("131105", "0000000005", "1970-04-01"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut variables = booking(&venue, &slots[n]["id"], number, 1);
        variables["i"]["couponMunicipalityCode"] = json!(municipality);
        variables["i"]["birthDate"] = json!(birth);
        let booked = server.data_as(&operator, BOOK, variables).await;
        bookings.push(booked["bookReservation"]["id"].clone());
    }
    let month = day(&server, 1)[..7].to_owned();
    // Attendance before the day is refused.
    let early = server
        .graphql_as(
            &meguro,
            ATTEND,
            json!({ "r": bookings[0], "a": "VACCINATED" }),
        )
        .await;
    assert_eq!(error_reason(&early), "NOT_YET", "{early}");
    server.advance_clock(time::Duration::days(2));
    let meguro = server.sign_in("meguro.admin").await;
    Clinic {
        server,
        meguro,
        venue,
        month,
        bookings,
    }
}

impl Clinic {
    async fn attend(&self, n: usize, attendance: &str, category: &str, holiday: bool) {
        self.server
            .data_as(
                &self.meguro,
                ATTEND,
                json!({ "r": self.bookings[n], "a": attendance, "c": category, "h": holiday }),
            )
            .await;
    }

    fn vars(&self) -> Value {
        json!({ "f": self.venue, "m": self.month })
    }
}

#[tokio::test]
async fn attendance_fills_the_claim_and_the_summary_routes_each_municipality() {
    let c = clinic().await;
    let s = &c.server;
    c.attend(0, "VACCINATED", "ELDERLY", false).await;
    c.attend(1, "VACCINATED", "CHILD", true).await;
    c.attend(2, "VACCINATED", "ELDERLY", false).await;
    c.attend(3, "SCREENED_ONLY", "GENERAL", false).await;
    c.attend(4, "NOT_ATTENDED", "GENERAL", false).await;

    let draft = s.data_as(&c.meguro, DRAFT, c.vars()).await;
    let lines = draft["billingClaimDraft"].as_array().unwrap().clone();
    let by = |code: &str, category: &str| -> Value {
        lines
            .iter()
            .find(|l| l["municipalityCode"] == code && l["category"] == category)
            .cloned()
            .unwrap_or_else(|| panic!("{code} {category} in {lines:?}"))
    };
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(by("131105", "ELDERLY")["counts"]["vaccinations"], 1);
    let child = by("131105", "CHILD");
    assert_eq!(child["counts"]["underSix"], 1);
    assert_eq!(child["counts"]["holidays"], 1);
    assert_eq!(child["amount"], 2070 + 660 + 2130);
    assert_eq!(by("131105", "GENERAL")["counts"]["screeningsOnly"], 1);
    assert_eq!(by("131121", "ELDERLY")["amount"], 2070);

    // The summary from the draft, before anything is saved.
    let summary = s.data_as(&c.meguro, SUMMARY, c.vars()).await;
    assert_eq!(summary["billingSummary"]["status"], "NOT_SAVED");

    // Saved as drafted.
    let input: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({ "municipalityCode": l["municipalityCode"], "category": l["category"],
                "counts": l["counts"] })
        })
        .collect();
    let mut save_vars = c.vars();
    save_vars["l"] = json!(input);
    let saved = s.data_as(&c.meguro, SAVE, save_vars.clone()).await;
    assert_eq!(saved["saveBillingClaim"]["status"], "DRAFT");
    let summary = s.data_as(&c.meguro, SUMMARY, c.vars()).await;
    let summary = &summary["billingSummary"];
    assert_eq!(summary["status"], "DRAFT");
    let meguro = &summary["municipalities"][0];
    assert_eq!(meguro["municipalityCode"], "131105");
    assert_eq!(meguro["inArea"], true);
    assert_eq!(meguro["route"], "DIRECT");
    assert_eq!(meguro["amount"], 2070 + (2070 + 660 + 2130) + 1540);
    let setagaya = &summary["municipalities"][1];
    assert_eq!(setagaya["inArea"], false);
    assert_eq!(setagaya["route"], "FEDERATION");
    assert_eq!(summary["federationAmount"], 2070);
    assert_eq!(summary["totalAmount"], 2070 * 3 + 660 + 2130 + 1540);

    // Meguro entrusts its in-area claims to the 国保連: its share goes that way too.
    s.data_as(
        &c.meguro,
        "mutation { setClaimsRoute(viaFederation: true) }",
        json!({}),
    )
    .await;
    let entrusted = s.data_as(&c.meguro, SUMMARY, c.vars()).await;
    assert_eq!(
        entrusted["billingSummary"]["municipalities"][0]["route"],
        "FEDERATION"
    );
    assert_eq!(entrusted["billingSummary"]["directAmount"], 0);

    // Exports: the CSV and the PDF download through their links.
    let mut csv_vars = c.vars();
    csv_vars["x"] = json!("CSV");
    let csv = s.data_as(&c.meguro, EXPORT, csv_vars).await;
    let url = csv["exportBillingSummary"]["downloadUrl"].as_str().unwrap();
    let path = &url[url.find("/files/").unwrap()..];
    let text = s.get(path).await.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(
        text.contains("世田谷区") && text.contains("国保連経由"),
        "{text}"
    );
    let mut pdf_vars = c.vars();
    pdf_vars["x"] = json!("PDF");
    let pdf = s.data_as(&c.meguro, EXPORT, pdf_vars).await;
    let url = pdf["exportBillingSummary"]["downloadUrl"].as_str().unwrap();
    let bytes = s
        .get(&url[url.find("/files/").unwrap()..])
        .await
        .bytes()
        .await
        .unwrap();
    let document = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    assert_eq!(
        pages.len(),
        3,
        "a claim per municipality and the summary sheet"
    );
    let text = document.extract_text(&pages).unwrap();
    assert!(
        text.contains("請求総括書") && text.contains("世田谷区"),
        "{text}"
    );

    // Submitted: final.
    let submitted = s.data_as(&c.meguro, SUBMIT, c.vars()).await;
    assert_eq!(submitted["submitBillingClaim"]["status"], "SUBMITTED");
    let again = s.graphql_as(&c.meguro, SUBMIT, c.vars()).await;
    assert_eq!(error_reason(&again), "CLAIM_SUBMITTED", "{again}");
    let resave = s.graphql_as(&c.meguro, SAVE, save_vars).await;
    assert_eq!(error_reason(&resave), "CLAIM_SUBMITTED", "{resave}");
    let change = s
        .graphql_as(
            &c.meguro,
            ATTEND,
            json!({ "r": c.bookings[4], "a": "VACCINATED" }),
        )
        .await;
    assert_eq!(error_reason(&change), "CLAIM_SUBMITTED", "{change}");
    let summary = s.data_as(&c.meguro, SUMMARY, c.vars()).await;
    assert_eq!(summary["billingSummary"]["late"], false);
    c.server.stop().await;
}

#[tokio::test]
async fn a_claim_after_the_tenth_is_late_and_bad_input_changes_nothing() {
    let c = clinic().await;
    let s = &c.server;
    c.attend(0, "VACCINATED", "ELDERLY", false).await;
    let bad_month = s
        .graphql_as(&c.meguro, SUMMARY, json!({ "f": c.venue, "m": "2021-13" }))
        .await;
    assert_eq!(expect_error_code(&bad_month), "INVALID_INPUT");
    let no_show_holiday = s
        .graphql_as(
            &c.meguro,
            ATTEND,
            json!({ "r": c.bookings[4], "a": "NOT_ATTENDED", "h": true }),
        )
        .await;
    assert_eq!(expect_error_code(&no_show_holiday), "INVALID_INPUT");
    let mut vars = c.vars();
    vars["l"] = json!([
        { "municipalityCode": "131105", "category": "ELDERLY",
          "counts": { "vaccinations": -1, "screeningsOnly": 0, "underSix": 0, "outOfHours": 0, "holidays": 0 } },
        { "municipalityCode": "999999", "category": "ELDERLY",
          "counts": { "vaccinations": 1, "screeningsOnly": 0, "underSix": 0, "outOfHours": 0, "holidays": 0 } },
        { "municipalityCode": "131121", "category": "GENERAL",
          "counts": { "vaccinations": 1, "screeningsOnly": 0, "underSix": 0, "outOfHours": 0, "holidays": 2 } },
    ]);
    let refused = s.graphql_as(&c.meguro, SAVE, vars).await;
    let rows = &refused["errors"][0]["extensions"]["rows"];
    assert_eq!(rows.as_array().map(Vec::len), Some(3), "{refused}");
    assert_eq!(rows[1]["field"], "municipalityCode");
    let claims = common::db::count(s, "SELECT COUNT(*) FROM billing_claims").await;
    assert_eq!(claims, 0, "nothing saved");
    // Another facility's claim is not even visible.
    let hospital = s.sign_in("meguro-hospital.admin").await;
    let foreign = s.graphql_as(&hospital, SUMMARY, c.vars()).await;
    assert!(
        matches!(expect_error_code(&foreign), "NOT_FOUND" | "FORBIDDEN"),
        "{foreign}"
    );

    // Saved and submitted after the 10th of the next month: late.
    let mut vars = c.vars();
    vars["l"] = json!([{ "municipalityCode": "131105", "category": "ELDERLY",
        "counts": { "vaccinations": 1, "screeningsOnly": 0, "underSix": 0, "outOfHours": 0, "holidays": 0 } }]);
    s.data_as(&c.meguro, SAVE, vars).await;
    s.advance_clock(time::Duration::days(45));
    let meguro = s.sign_in("meguro.admin").await;
    let summary = s.data_as(&meguro, SUMMARY, c.vars()).await;
    assert_eq!(summary["billingSummary"]["late"], true, "{summary}");
    s.data_as(&meguro, SUBMIT, c.vars()).await;
    let summary = s.data_as(&meguro, SUMMARY, c.vars()).await;
    assert_eq!(summary["billingSummary"]["status"], "SUBMITTED");
    assert_eq!(summary["billingSummary"]["late"], true);
    c.server.stop().await;
}

#[tokio::test]
async fn the_nation_sets_the_fees_of_a_new_period() {
    let server = TestServer::start_signing_in_freely().await;
    let nation = server.sign_in("nation.admin").await;
    let set = "mutation($f: FeeTableInput!) { setBillingFees(fees: $f) { validFrom vaccination } }";
    let fees = json!({ "validFrom": "2022-04-01", "vaccination": 2100, "screeningOnly": 1540,
        "underSix": 660, "outOfHours": 730, "holiday": 2130 });
    server.data_as(&nation, set, json!({ "f": fees })).await;
    let listed = server
        .data_as(
            &nation,
            "{ billingFees { validFrom vaccination } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["billingFees"],
        json!([
            { "validFrom": "2021-02-17", "vaccination": 2070 },
            { "validFrom": "2022-04-01", "vaccination": 2100 }
        ])
    );
    let mut bad = fees.clone();
    bad["validFrom"] = json!("April");
    let refused = server.graphql_as(&nation, set, json!({ "f": bad })).await;
    assert_eq!(expect_error_code(&refused), "INVALID_INPUT");
    server.stop().await;
}
