//! Public statistics (issue #10, function 6) from the vaccination reports, their live counters
//! and open data; and the notices and FAQ the nation writes for the navigator.

mod common;

use common::TestServer;
use common::allocation::*;
use common::api::{assert_invalid, error_reason, expect_error_code, facility_id};
use common::db::audited;
use common::reservations::day;
use common::ws::subscribe;
use serde_json::{Value, json};

const REPORT: &str =
    "mutation($i: VaccinationReportInput!) { reportVaccinations(input: $i) { administered } }";
const STATISTICS: &str = "query($p: String, $m: String, $from: String, $to: String) { vaccinationStatistics(prefectureCode: $p, municipalityCode: $m, from: $from, to: $to) { area { areaCode areaName population administered doses { doseNumber administered percentOfPopulation } } days { date daily cumulative byDose { doseNumber daily cumulative } byCategory { category daily cumulative } } } }";
const COVERAGE: &str = "query($p: String) { vaccinationCoverage(prefectureCode: $p) { areaCode areaName population administered doses { doseNumber administered percentOfPopulation } } }";

fn report(facility: &Value, on: &str, first: i64, second: i64, correction: bool) -> Value {
    json!({ "i": {
        "facilityId": facility, "productCode": "PFIZER", "reportedOn": on,
        "correction": correction,
        "figures": [
            { "doseNumber": 1, "category": "ELDERLY", "administered": first },
            { "doseNumber": 2, "category": "ELDERLY", "administered": second }
        ],
    } })
}

#[tokio::test]
async fn statistics_come_from_the_reports_per_day_area_dose_and_category() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    delivered(&server, &c).await;
    let s = &server;
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    s.data_as(
        &c.hospital,
        REPORT,
        report(&hospital, &day(s, -2), 300, 0, false),
    )
    .await;
    s.data_as(
        &c.hospital,
        REPORT,
        report(&hospital, &day(s, 0), 500, 100, false),
    )
    .await;
    // A correction today: 480 first doses, not 500.
    s.data_as(
        &c.hospital,
        REPORT,
        report(&hospital, &day(s, 0), 480, 100, true),
    )
    .await;

    let nation = s
        .data(STATISTICS, json!({ "from": day(s, -3), "to": day(s, 0) }))
        .await["vaccinationStatistics"]
        .clone();
    let days = nation["days"].as_array().unwrap();
    assert_eq!(days.len(), 4);
    assert_eq!(days[0]["cumulative"], 0);
    assert_eq!(days[1]["daily"], 300);
    assert_eq!(days[1]["cumulative"], 300);
    assert_eq!(days[2]["daily"], 0);
    assert_eq!(days[3]["daily"], 280);
    assert_eq!(days[3]["cumulative"], 580);
    let dose_two = days[3]["byDose"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["doseNumber"] == 2)
        .unwrap();
    assert_eq!(dose_two["cumulative"], 100);
    assert_eq!(days[3]["byCategory"][0]["category"], "ELDERLY");
    assert_eq!(nation["area"]["areaName"], "全国 / Japan");
    assert_eq!(nation["area"]["administered"], 580);

    // Tokyo, Meguro: the same; Kanagawa: none. Coverage of the population.
    let meguro = s
        .data(STATISTICS, json!({ "m": "131105", "to": day(s, 0) }))
        .await["vaccinationStatistics"]["area"]
        .clone();
    assert_eq!(meguro["areaName"], "目黒区");
    assert_eq!(meguro["administered"], 580);
    let population = meguro["population"].as_f64().unwrap();
    let first = &meguro["doses"][0];
    assert_eq!(first["administered"], 480);
    let expected = (480.0 * 1000.0 / population).round() / 10.0;
    assert_eq!(first["percentOfPopulation"].as_f64().unwrap(), expected);
    let kanagawa = s.data(STATISTICS, json!({ "p": "14" })).await;
    assert_eq!(kanagawa["vaccinationStatistics"]["area"]["administered"], 0);

    let coverage = s.data(COVERAGE, json!({})).await["vaccinationCoverage"].clone();
    let areas = coverage.as_array().unwrap();
    assert_eq!(areas[0]["areaName"], "全国 / Japan");
    assert_eq!(areas.len(), 48);
    let tokyo = areas.iter().find(|a| a["areaCode"] == "13").unwrap();
    assert_eq!(tokyo["administered"], 580);
    let in_tokyo = s.data(COVERAGE, json!({ "p": "13" })).await["vaccinationCoverage"].clone();
    let meguro_row = in_tokyo
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["areaCode"] == "131105")
        .unwrap()
        .clone();
    assert_eq!(meguro_row["administered"], 580);

    // Open data: CSV and NDJSON at stable URLs.
    let csv = s.get("/open-data/vaccinations.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("date,prefecture_code,prefecture_name,dose_number,category,daily,cumulative")
    );
    assert!(
        text.contains(&format!("{},13,東京都,1,ELDERLY,180,480", day(s, 0))),
        "{text}"
    );
    let ndjson = s
        .get("/open-data/vaccinations.ndjson")
        .await
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), text.lines().count() - 1);

    // Bad input.
    assert_invalid(
        &s.graphql(
            STATISTICS,
            json!({ "from": "2020-01-01", "to": "2021-12-31" }),
        )
        .await,
        "to",
    );
    assert_eq!(
        expect_error_code(&s.graphql(STATISTICS, json!({ "p": "99" })).await),
        "NOT_FOUND"
    );
    assert_invalid(
        &s.graphql(STATISTICS, json!({ "p": "13", "m": "131105" }))
            .await,
        "municipalityCode",
    );
    server.stop().await;
}

#[tokio::test]
async fn live_counters_follow_new_reports() {
    let server = TestServer::start().await;
    let c = cast(&server).await;
    delivered(&server, &c).await;
    let s = &server;
    let hospital = facility_id(s, "Meguro Hospital 01").await;
    let feed = json!({ "query": "subscription { statisticsUpdated(prefectureCode: \"13\") { area { areaName administered } updatedAt } }" });
    let mut page = subscribe(s, None, "1", feed).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.data_as(
        &c.hospital,
        REPORT,
        report(&hospital, &day(s, 0), 120, 0, false),
    )
    .await;
    let message = page.next_json().await;
    assert_eq!(message["type"], "next", "{message}");
    let update = &message["payload"]["data"]["statisticsUpdated"];
    assert_eq!(update["area"]["areaName"], "東京都");
    assert_eq!(update["area"]["administered"], 120);
    server.stop().await;
}

const PUBLISH: &str =
    "mutation($i: NoticeInput!) { publishNotice(input: $i) { id titleJa titleEn publishedAt } }";
const NOTICES: &str = "{ notices { id titleJa titleEn bodyJa bodyEn expiresOn } }";
const UPSERT_FAQ: &str = "mutation($i: FaqInput!) { upsertFaq(input: $i) { id category position questionJa answerEn version } }";

fn notice(expires_on: Option<String>) -> Value {
    json!({ "i": {
        "titleJa": "第2クールの予約受付を開始しました", "titleEn": "Bookings for cool 2 are open",
        "bodyJa": "お住まいの市区町村のコールセンターへお電話ください。",
        "bodyEn": "Call your municipality's call centre.",
        "expiresOn": expires_on,
    } })
}

#[tokio::test]
async fn the_nation_writes_notices_and_the_faq_in_two_languages_for_everyone() {
    let server = TestServer::start().await;
    let s = &server;
    let nation = s.sign_in("nation.admin").await;
    let published = s.data_as(&nation, PUBLISH, notice(None)).await;
    let id = published["publishNotice"]["id"].clone();
    s.data_as(&nation, PUBLISH, notice(Some(day(s, 1)))).await;
    let notices = s.data(NOTICES, json!({})).await["notices"].clone();
    assert_eq!(notices.as_array().unwrap().len(), 2);
    assert_eq!(notices[1]["titleEn"], "Bookings for cool 2 are open");
    // Expired ones and withdrawn ones are gone.
    s.advance_clock(time::Duration::days(2));
    assert_eq!(
        s.data(NOTICES, json!({})).await["notices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let nation = s.sign_in("nation.admin").await;
    s.data_as(
        &nation,
        "mutation($n: ID!) { withdrawNotice(noticeId: $n) }",
        json!({ "n": id }),
    )
    .await;
    assert!(
        s.data(NOTICES, json!({})).await["notices"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(audited(s, "publishNotice", "SUCCESS").await, 2);
    assert_eq!(audited(s, "withdrawNotice", "SUCCESS").await, 1);

    // Both languages are required; nobody but the nation writes, not even the service desk.
    let mut no_english = notice(None);
    no_english["i"]["titleEn"] = json!("  ");
    assert_invalid(&s.graphql_as(&nation, PUBLISH, no_english).await, "titleEn");
    let desk = s.sign_in("helpdesk.admin").await;
    assert_eq!(
        expect_error_code(&s.graphql_as(&desk, PUBLISH, notice(None)).await),
        "FORBIDDEN"
    );

    let faq = json!({ "i": {
        "category": "予約 / Booking", "position": 1,
        "questionJa": "予約の変更はできますか。", "questionEn": "Can I change my booking?",
        "answerJa": "コールセンターで変更できます。", "answerEn": "Yes, through the call centre.",
    } });
    let added = s.data_as(&nation, UPSERT_FAQ, faq.clone()).await["upsertFaq"].clone();
    assert_eq!(added["version"], 1);
    let mut change = faq.clone();
    change["i"]["faqId"] = added["id"].clone();
    change["i"]["answerEn"] = json!("Yes: call your municipality's call centre.");
    change["i"]["expectedVersion"] = json!(1);
    let changed = s.data_as(&nation, UPSERT_FAQ, change.clone()).await["upsertFaq"].clone();
    assert_eq!(changed["version"], 2);
    let stale = s.graphql_as(&nation, UPSERT_FAQ, change).await;
    assert_eq!(error_reason(&stale), "STALE_VERSION");
    let faqs = s
        .data(
            "{ faqs(category: \"予約 / Booking\") { questionEn answerEn } }",
            json!({}),
        )
        .await;
    assert_eq!(
        faqs["faqs"][0]["answerEn"],
        "Yes: call your municipality's call centre."
    );
    server.stop().await;
}
