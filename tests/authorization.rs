//! The authorization matrix: every mutation in the schema, called by every role (and by an
//! anonymous caller), is allowed or denied as the table says. A mutation missing from the table
//! fails the test, so no new mutation ships without a decision.

mod common;

use std::collections::BTreeMap;

use common::TestServer;
use common::api::{facility_id, hospital, organization_id, sign_in_accepting_policy};
use serde_json::{Value, json};
use vsys::identity::demo::DEMO_ACCOUNTS;

/// Who may reach a mutation's own logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone, signed in or not (the steps of signing in and recovering an account).
    Public,
    /// Any signed-in user, for its own account.
    SignedIn,
    /// The service desk, and an organisation's administrators for their own organisation.
    Administrators,
    /// Exactly these demo users, for the objects the test prepares (Meguro Hospital 01, its
    /// pending change request and its contract).
    Only(&'static [&'static str]),
}

/// The facility's own user, and nobody else (Meguro has not been granted proxy input).
const HOSPITAL: &[&str] = &["meguro-hospital.admin"];
/// The facility's municipality decides its change requests.
const MEGURO: &[&str] = &["meguro.admin", "meguro.staff"];
/// The service desk alone: bulk facility registration and its own account work.
const DESK: &[&str] = &["helpdesk.admin"];
/// Contracts: the facility itself and the service desk.
const HOSPITAL_AND_DESK: &[&str] = &["meguro-hospital.admin", "helpdesk.admin"];
/// The delivering wholesaler: the facility, or its municipality without the proxy flag.
const HOSPITAL_AND_MEGURO: &[&str] = &["meguro-hospital.admin", "meguro.admin", "meguro.staff"];
/// The product master: the nation, and the manufacturer for its own vaccine.
const PRODUCT_KEEPERS: &[&str] = &["nation.admin", "pfizer.admin"];
/// Powers of attorney: the organisations holding collective contracts for the hospital.
const CONTRACT_HOLDERS: &[&str] = &[
    "meguro.admin",
    "meguro.staff",
    "meguro-ma.admin",
    "tokyo-ma.admin",
];

/// The organisations that allocate down: the nation, prefectures, municipalities.
const ALLOCATORS: &[&str] = &[
    "nation.admin",
    "tokyo.admin",
    "kanagawa.admin",
    "meguro.admin",
    "meguro.staff",
    "yokohama.admin",
];
/// The organisations that confirm what they received: prefectures and municipalities.
const RECEIVERS: &[&str] = &[
    "tokyo.admin",
    "kanagawa.admin",
    "meguro.admin",
    "meguro.staff",
    "yokohama.admin",
];
/// Meguro's staff and its booking call centre.
const MEGURO_BOOKING: &[&str] = &["meguro.admin", "meguro.staff", "meguro.callcenter"];
/// Prefectures lock their own area.
const PREFECTURES: &[&str] = &["tokyo.admin", "kanagawa.admin"];

fn matrix() -> BTreeMap<&'static str, Rule> {
    BTreeMap::from([
        ("signIn", Rule::Public),
        ("verifySecondFactor", Rule::Public),
        ("requestPasswordReset", Rule::Public),
        ("resetPasswordWithSecurityAnswer", Rule::Public),
        ("requestFirstLoginCode", Rule::Public),
        ("completeFirstLogin", Rule::Public),
        ("signOut", Rule::SignedIn),
        ("changePassword", Rule::SignedIn),
        ("acceptPrivacyPolicy", Rule::SignedIn),
        ("enrollTotp", Rule::SignedIn),
        ("confirmTotp", Rule::SignedIn),
        ("inviteUser", Rule::Administrators),
        ("unlockUser", Rule::Administrators),
        ("reissueSetupLink", Rule::Administrators),
        ("setUserStatus", Rule::Administrators),
        ("resetSecurityAnswer", Rule::Only(DESK)),
        ("inviteUsers", Rule::Only(DESK)),
        ("setSecurityQuestion", Rule::SignedIn),
        ("updateFacility", Rule::Only(HOSPITAL)),
        ("registerDoctor", Rule::Only(HOSPITAL)),
        ("updateDoctor", Rule::Only(HOSPITAL)),
        ("withdrawDoctor", Rule::Only(HOSPITAL)),
        ("setDeliveringWholesaler", Rule::Only(HOSPITAL_AND_MEGURO)),
        ("recordPowerOfAttorney", Rule::Only(CONTRACT_HOLDERS)),
        ("approveFacilityChange", Rule::Only(MEGURO)),
        ("rejectFacilityChange", Rule::Only(MEGURO)),
        ("registerContract", Rule::Only(HOSPITAL_AND_DESK)),
        ("withdrawContract", Rule::Only(HOSPITAL_AND_DESK)),
        ("registerFacilities", Rule::Only(DESK)),
        // A municipality, for a venue in its own area (Meguro's, here).
        ("registerSpecialVenue", Rule::Only(MEGURO)),
        ("upsertProduct", Rule::Only(PRODUCT_KEEPERS)),
        ("openCool", Rule::Only(&["nation.admin"])),
        ("registerSupply", Rule::Only(&["warehouse.admin"])),
        ("registerDesiredQuantity", Rule::Only(HOSPITAL)),
        // Meguro Hospital 01's amount is Meguro's to set.
        ("setAllocation", Rule::Only(MEGURO)),
        ("proposeAllocations", Rule::Only(ALLOCATORS)),
        ("confirmAllocation", Rule::Only(RECEIVERS)),
        ("completeAllocation", Rule::Only(ALLOCATORS)),
        ("lockAllocations", Rule::Only(PREFECTURES)),
        // Meguro Hospital 01's delivery is its wholesaler's to enter.
        ("scheduleDelivery", Rule::Only(&["wholesaler.admin"])),
        ("recordDelivery", Rule::Only(&["wholesaler.admin"])),
        // The vaccine goes to wholesalers from its manufacturer; the wholesaler records receipt.
        ("recordShipment", Rule::Only(&["pfizer.admin"])),
        ("receiveShipment", Rule::Only(&["wholesaler.admin"])),
        // A facility reports and hands over its own doses (Meguro has no proxy flag for it).
        ("reportVaccinations", Rule::Only(HOSPITAL)),
        ("importPriorityAllocations", Rule::Only(DESK)),
        ("transferStock", Rule::Only(HOSPITAL)),
        // A venue's bookings are run by the venue or its municipality.
        ("setReservationMode", Rule::Only(HOSPITAL_AND_MEGURO)),
        ("createReservationSlots", Rule::Only(HOSPITAL_AND_MEGURO)),
        ("setReservationStatus", Rule::Only(HOSPITAL_AND_MEGURO)),
        ("publishOnNavigator", Rule::Only(HOSPITAL_AND_MEGURO)),
        // What the public reads is the nation's word.
        ("publishNotice", Rule::Only(&["nation.admin"])),
        (
            "importQuestionnaireRecipients",
            Rule::Only(&[
                "tokyo.admin",
                "kanagawa.admin",
                "meguro.admin",
                "meguro.staff",
                "yokohama.admin",
                "meguro-hospital.admin",
                "tokyo-ma.admin",
            ]),
        ),
        // Each prints what it imported; with nothing imported, the allowed are told so.
        (
            "generateQuestionnaires",
            Rule::Only(&[
                "tokyo.admin",
                "kanagawa.admin",
                "meguro.admin",
                "meguro.staff",
                "yokohama.admin",
                "meguro-hospital.admin",
                "tokyo-ma.admin",
            ]),
        ),
        // The municipality's own ledger and queue; residents submit without an account.
        (
            "registerCoupons",
            Rule::Only(&["meguro.admin", "meguro.staff", "yokohama.admin"]),
        ),
        ("submitOutOfAreaNotification", Rule::Public),
        ("requestCouponReissue", Rule::Public),
        ("decideOutOfAreaNotification", Rule::Only(MEGURO)),
        ("decideCouponReissue", Rule::Only(MEGURO)),
        // Billing: the facility's own (a special venue's: its operating municipality's).
        ("recordAttendance", Rule::Only(MEGURO)),
        ("saveBillingClaim", Rule::Only(HOSPITAL)),
        ("submitBillingClaim", Rule::Only(HOSPITAL)),
        ("exportBillingSummary", Rule::Only(HOSPITAL)),
        ("setBillingFees", Rule::Only(&["nation.admin"])),
        (
            "setClaimsRoute",
            Rule::Only(&["meguro.admin", "meguro.staff", "yokohama.admin"]),
        ),
        ("attachKnowledgeFile", Rule::Only(&["nation.admin"])),
        ("removeKnowledgeAttachment", Rule::Only(&["nation.admin"])),
        ("withdrawNotice", Rule::Only(&["nation.admin"])),
        ("upsertFaq", Rule::Only(&["nation.admin"])),
        ("upsertKnowledgeArticle", Rule::Only(&["nation.admin"])),
        ("deleteKnowledgeArticle", Rule::Only(&["nation.admin"])),
        // Residents are booked by their municipality's call centre or staff; the booking
        // prepared at Meguro's special venue is theirs to change or cancel.
        ("bookReservation", Rule::Only(MEGURO_BOOKING)),
        ("changeReservation", Rule::Only(MEGURO_BOOKING)),
        ("cancelReservation", Rule::Only(MEGURO_BOOKING)),
    ])
}

/// A call of each mutation, with harmless arguments; `$org` is the caller's organisation,
/// `$user` the caller's own account, `$n` a fresh suffix.
fn call(mutation: &str) -> &'static str {
    match mutation {
        "signIn" => {
            r#"mutation { signIn(username: "nobody.at.all", password: "Wrong-Pass-1") { challengeId } }"#
        }
        "verifySecondFactor" => {
            r#"mutation { verifySecondFactor(challengeId: "bogus", code: "000000") { token } }"#
        }
        "requestPasswordReset" => {
            r#"mutation { requestPasswordReset(username: "nobody.at.all") { resetToken } }"#
        }
        "resetPasswordWithSecurityAnswer" => {
            r#"mutation { resetPasswordWithSecurityAnswer(resetToken: "bogus", answer: "x", newPassword: "Valid-Pass-2021") }"#
        }
        "requestFirstLoginCode" => {
            r#"mutation { requestFirstLoginCode(setupToken: "bogus") { expiresAt } }"#
        }
        "completeFirstLogin" => {
            r#"mutation { completeFirstLogin(setupToken: "bogus", code: "000000", newPassword: "Valid-Pass-2021", securityQuestion: "q?", securityAnswer: "answer") { token } }"#
        }
        "signOut" => "mutation { signOut }",
        "changePassword" => {
            r#"mutation { changePassword(currentPassword: "Not-The-One-1", newPassword: "Valid-Pass-2021") }"#
        }
        "acceptPrivacyPolicy" => "mutation { acceptPrivacyPolicy { id } }",
        "enrollTotp" => "mutation { enrollTotp { secret } }",
        "confirmTotp" => r#"mutation { confirmTotp(code: "000000") { id } }"#,
        "inviteUser" => {
            "mutation($org: ID!, $role: Role!, $n: String!) { inviteUser(input: { organizationId: $org, username: $n, email: \"new@example.jp\", displayName: \"新規\", role: $role }) { id } }"
        }
        "unlockUser" => "mutation($user: ID!) { unlockUser(userId: $user) { id } }",
        // The caller's own account is active: the logic answers CONFLICT.
        "reissueSetupLink" => "mutation($user: ID!) { reissueSetupLink(userId: $user) { id } }",
        // Re-enabling an active account changes nothing.
        "setUserStatus" => {
            "mutation($user: ID!) { setUserStatus(userId: $user, status: ACTIVE) { id } }"
        }
        // The desk's own answer is refused as input (it uses setSecurityQuestion).
        "resetSecurityAnswer" => {
            "mutation($user: ID!) { resetSecurityAnswer(userId: $user) { id } }"
        }
        "inviteUsers" => {
            r#"mutation { inviteUsers(csv: "username,email,organizationCode,isOrganizationAdmin\nmatrix.bulk,matrix@meguro.example.jp,131105,false\n") { id } }"#
        }
        "setSecurityQuestion" => {
            r#"mutation { setSecurityQuestion(currentPassword: "Not-The-One-1", securityQuestion: "好きな色は？ / Favourite colour?", securityAnswer: "red") { id } }"#
        }
        "updateFacility" => {
            "mutation($facility: ID!) { updateFacility(facilityId: $facility, input: { openingHours: \"9:00-17:00\" }) { facility { id } } }"
        }
        "registerDoctor" => {
            "mutation($facility: ID!) { registerDoctor(facilityId: $facility, name: \"医師 太郎\", licenceNumber: \"123456\", roles: [VACCINATING]) { id } }"
        }
        "updateDoctor" => {
            "mutation($doctor: ID!) { updateDoctor(doctorId: $doctor, input: { name: \"医師 次郎\" }) { id } }"
        }
        "withdrawDoctor" => {
            "mutation($doctor: ID!) { withdrawDoctor(doctorId: $doctor, withdrawalDate: \"2021-12-31\") { id } }"
        }
        "setDeliveringWholesaler" => {
            "mutation($facility: ID!, $wholesaler: ID!) { setDeliveringWholesaler(facilityId: $facility, wholesalerId: $wholesaler) { id } }"
        }
        "recordPowerOfAttorney" => {
            "mutation($facility: ID!) { recordPowerOfAttorney(facilityId: $facility, receivedDate: \"2021-02-01\") { id } }"
        }
        "approveFacilityChange" => {
            "mutation($request: ID!) { approveFacilityChange(requestId: $request) { status } }"
        }
        "rejectFacilityChange" => {
            "mutation($request: ID!) { rejectFacilityChange(requestId: $request, reason: \"不備\") { status } }"
        }
        "registerContract" => {
            "mutation { registerContract(contracts: [{ facilityCode: \"1311000010\", kind: INDIVIDUAL, joinDate: \"2021-03-01\" }]) { id } }"
        }
        "withdrawContract" => {
            "mutation($contract: ID!) { withdrawContract(contractIds: [$contract], withdrawalDate: \"2021-12-31\") { id } }"
        }
        "registerFacilities" => {
            "mutation { registerFacilities(facilities: [{ code: \"1311000069\", name: \"新規診療所\", municipalityCode: \"131105\", facilityType: CLINIC, address: \"東京都目黒区\", latitude: 35.63, longitude: 139.69 }]) { id } }"
        }
        "registerSpecialVenue" => {
            "mutation { registerSpecialVenue(input: { municipalityCode: \"131105\", code: \"1319000020\", name: \"目黒区特設会場02\", address: \"東京都目黒区\", latitude: 35.62, longitude: 139.67 }) { id } }"
        }
        "upsertProduct" => {
            "mutation($manufacturer: ID!) { upsertProduct(input: { code: \"PFIZER\", kind: VACCINE, name: \"ファイザー社製ワクチン\", manufacturerId: $manufacturer, unitsPerBox: 195, dosesPerUnit: 6 }) { id } }"
        }
        "registerDesiredQuantity" => {
            "mutation($cool: ID!, $facility: ID!) { registerDesiredQuantity(coolId: $cool, facilityId: $facility, boxes: 2) { boxes } }"
        }
        "registerSupply" => {
            r#"mutation($cool: ID!) { registerSupply(coolId: $cool, productCode: "NEEDLE", boxes: 100) { boxes } }"#
        }
        "setAllocation" => {
            "mutation($cool: ID!, $facility: ID!) { setAllocation(input: { coolId: $cool, recipientId: $facility, boxes: 0 }) { boxes } }"
        }
        "proposeAllocations" => {
            "mutation($cool: ID!) { proposeAllocations(input: { coolId: $cool, weighting: EQUAL }) { warnings { code } } }"
        }
        "confirmAllocation" => {
            "mutation($cool: ID!) { confirmAllocation(coolId: $cool) { confirmedAt } }"
        }
        "completeAllocation" => {
            "mutation($cool: ID!) { completeAllocation(coolId: $cool) { completedAt } }"
        }
        "lockAllocations" => "mutation($cool: ID!) { lockAllocations(coolId: $cool) { locked } }",
        "scheduleDelivery" => {
            r#"mutation($delivery: ID!) { scheduleDelivery(deliveryId: $delivery, scheduledOn: "2099-01-01") { status } }"#
        }
        "recordDelivery" => {
            r#"mutation($delivery: ID!) { recordDelivery(deliveryId: $delivery, deliveredOn: "2099-01-01", lots: [{ lotNumber: "EW0150", boxes: 1 }]) { status } }"#
        }
        "recordShipment" => {
            r#"mutation($cool: ID!, $wholesaler: ID!) { recordShipment(input: { coolId: $cool, productCode: "PFIZER", wholesalerId: $wholesaler, boxes: 1, shippedOn: "2021-05-20" }) { id } }"#
        }
        "receiveShipment" => {
            r#"mutation($shipment: ID!) { receiveShipment(shipmentId: $shipment, receivedOn: "2099-01-01") { receivedOn } }"#
        }
        "importPriorityAllocations" => {
            "mutation($cool: ID!) { importPriorityAllocations(coolId: $cool, csv: \"facilityCode,vaccineBoxes\\n1311000010,1\\n\") { facilities } }"
        }
        "reportVaccinations" => {
            r#"mutation($facility: ID!) { reportVaccinations(input: { facilityId: $facility, productCode: "PFIZER", figures: [{ doseNumber: 1, category: HEALTHCARE_WORKER, administered: 1 }] }) { administered } }"#
        }
        "transferStock" => {
            r#"mutation($facility: ID!) { transferStock(input: { fromFacilityId: $facility, toFacilityId: $facility, productCode: "PFIZER", doses: 1 }) }"#
        }
        "setReservationMode" => {
            "mutation($facility: ID!) { setReservationMode(facilityId: $facility, mode: EXTERNAL) { id } }"
        }
        // No file arrives over JSON: the allowed get past the rule and are told so.
        "importQuestionnaireRecipients" => {
            r##"mutation { importQuestionnaireRecipients(file: "#__graphql_file__:0") { id } }"##
        }
        "generateQuestionnaires" => "mutation { generateQuestionnaires { id } }",
        // No file arrives over JSON: the nation gets past the rule and is told so.
        "attachKnowledgeFile" => {
            r##"mutation($article: ID!) { attachKnowledgeFile(articleId: $article, title: "手引き", file: "#__graphql_file__:0") { id } }"##
        }
        // The attachment prepared in the article.
        "removeKnowledgeAttachment" => {
            "mutation($attachment: ID!) { removeKnowledgeAttachment(attachmentId: $attachment) }"
        }
        // Tomorrow's booking: the allowed are told its day has not come.
        "recordAttendance" => {
            "mutation($reservation: ID!) { recordAttendance(reservationId: $reservation, attendance: VACCINATED) }"
        }
        // A month not yet begun: the allowed are told so.
        "saveBillingClaim" => {
            r#"mutation($facility: ID!) { saveBillingClaim(facilityId: $facility, month: "2099-01", lines: []) { id } }"#
        }
        // Nothing saved: the allowed are told to save first.
        "submitBillingClaim" => {
            r#"mutation($facility: ID!) { submitBillingClaim(facilityId: $facility, month: "2021-06") { id } }"#
        }
        "exportBillingSummary" => {
            r#"mutation($facility: ID!) { exportBillingSummary(facilityId: $facility, month: "2021-06", format: CSV) { fileName } }"#
        }
        // A negative fee: the nation is told what is wrong.
        "setBillingFees" => {
            r#"mutation { setBillingFees(fees: { validFrom: "2022-04-01", vaccination: -1, screeningOnly: 1540, underSix: 660, outOfHours: 730, holiday: 2130 }) { validFrom } }"#
        }
        "setClaimsRoute" => "mutation { setClaimsRoute(viaFederation: false) }",
        // A bad number: the allowed get past the rule and are told what is wrong.
        "registerCoupons" => {
            r#"mutation { registerCoupons(coupons: [{ number: "12", residentReference: "r-1" }]) }"#
        }
        // A coupon number too short: refused as bad input, nothing stored.
        "submitOutOfAreaNotification" => {
            r#"mutation { submitOutOfAreaNotification(destinationMunicipalityCode: "131105", input: { couponMunicipalityCode: "131121", couponNumber: "1", name: "世田谷 花子", nameKana: "セタガヤ ハナコ", birthDate: "1950-04-01", phone: "03-1234-5678", reason: "入院" }) { id } }"#
        }
        "requestCouponReissue" => {
            r#"mutation { requestCouponReissue(input: { couponMunicipalityCode: "131105", couponNumber: "1", name: "目黒 花子", nameKana: "メグロ ハナコ", birthDate: "1950-04-01", phone: "03-1234-5678", reason: "紛失" }) { id } }"#
        }
        // Returning without a reason: the allowed are told the reason is missing.
        "decideOutOfAreaNotification" => {
            "mutation($outOfArea: ID!) { decideOutOfAreaNotification(requestId: $outOfArea, accept: false) { id } }"
        }
        "decideCouponReissue" => {
            "mutation($reissue: ID!) { decideCouponReissue(requestId: $reissue, approve: false) { id } }"
        }
        "publishNotice" => {
            r#"mutation { publishNotice(input: { titleJa: "お知らせ", titleEn: "Notice", bodyJa: "本文", bodyEn: "Text" }) { id } }"#
        }
        // The notice prepared by the nation.
        "withdrawNotice" => "mutation($notice: ID!) { withdrawNotice(noticeId: $notice) }",
        "upsertKnowledgeArticle" => {
            r#"mutation { upsertKnowledgeArticle(input: { kind: MANUAL, titleJa: "手引き", titleEn: "Guide", bodyJa: "本文", bodyEn: "Text" }) { id } }"#
        }
        "deleteKnowledgeArticle" => {
            "mutation($article: ID!) { deleteKnowledgeArticle(articleId: $article) }"
        }
        "upsertFaq" => {
            r#"mutation { upsertFaq(input: { category: "予約", questionJa: "質問", questionEn: "Question", answerJa: "回答", answerEn: "Answer" }) { id } }"#
        }
        "setReservationStatus" => {
            "mutation($facility: ID!) { setReservationStatus(facilityId: $facility, status: BOOKABLE) }"
        }
        "publishOnNavigator" => {
            "mutation($facility: ID!) { publishOnNavigator(facilityId: $facility, published: true) }"
        }
        // The hospital books elsewhere: the logic refuses slots (CONFLICT) once allowed.
        "createReservationSlots" => {
            r#"mutation($facility: ID!) { createReservationSlots(input: { facilityId: $facility, productCode: "PFIZER", from: "2099-01-01", to: "2099-01-02", daysOfWeek: [MONDAY], openingHours: [{ opens: "09:00", closes: "10:00" }], slotMinutes: 30, capacityPerSlot: 1 }) { created } }"#
        }
        // A coupon number of the wrong length: BAD_USER_INPUT once allowed.
        "bookReservation" => {
            r#"mutation($venue: ID!) { bookReservation(input: { facilityId: $venue, slotId: "UmVzZXJ2YXRpb25TbG90Ong", productCode: "PFIZER", couponMunicipalityCode: "131105", couponNumber: "123", name: "目黒 花子", nameKana: "メグロ ハナコ", birthDate: "1950-04-01", phone: "03-1234-5678", doseNumber: 1 }) { id } }"#
        }
        // The first allowed caller cancels the prepared booking; later ones are told it was
        // cancelled already (CONFLICT), as is a change of it.
        "cancelReservation" => {
            "mutation($reservation: ID!) { cancelReservation(reservationId: $reservation) { id } }"
        }
        "changeReservation" => {
            "mutation($reservation: ID!, $slot: ID!) { changeReservation(reservationId: $reservation, slotId: $slot) { id } }"
        }
        "openCool" => {
            r#"mutation { openCool(input: { number: 99, productCode: "PFIZER", startsOn: "2021-05-10" }) { id } }"#
        }
        other => panic!("no call written for {other}: add one, and a row in the matrix"),
    }
}

/// Denied: refused before the mutation's own logic ran (no session, wrong role, outside the
/// area). A wrong password or code is the logic's own answer, not a denial.
fn denied(response: &Value) -> bool {
    let Some(error) = response["errors"].get(0) else {
        return false;
    };
    let code = error["extensions"]["code"].as_str().unwrap_or_default();
    let reason = error["extensions"]["reason"].as_str().unwrap_or_default();
    matches!(code, "FORBIDDEN" | "NOT_FOUND")
        || (code == "UNAUTHENTICATED" && reason != "INVALID_CREDENTIALS")
}

#[tokio::test]
async fn every_mutation_by_every_role_is_allowed_or_denied_as_the_matrix_says() {
    let server = TestServer::start_signing_in_freely().await;
    let schema_mutations = server
        .data(
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<String> = schema_mutations["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let matrix = matrix();
    for name in &names {
        assert!(
            matrix.contains_key(name.as_str()),
            "mutation {name} has no row in the authorization matrix"
        );
    }
    assert_eq!(
        names.len(),
        matrix.len(),
        "the matrix lists a mutation the schema no longer has"
    );

    // signOut last: it ends the session the other calls use.
    let mut order: Vec<&str> = matrix.keys().copied().filter(|m| *m != "signOut").collect();
    order.push("signOut");

    // The objects the facility mutations act on: Meguro Hospital 01, a pending change request
    // of it, and a contract of it.
    let hospital = hospital(&server).await;
    let facility = facility_id(&server, "Meguro Hospital 01").await;
    let filed = server
        .graphql_as(&hospital, "mutation($f: ID!) { updateFacility(facilityId: $f, input: { representativeName: \"院長 花子\" }) { changeRequest { id } } }", json!({ "f": facility }))
        .await;
    let request = filed["data"]["updateFacility"]["changeRequest"]["id"].clone();
    let contract = server
        .graphql_as(&hospital, r#"mutation { registerContract(contracts: [{ facilityCode: "1311000010", kind: INDIVIDUAL, joinDate: "2021-02-01" }]) { id } }"#, json!({}))
        .await;
    let contract = contract["data"]["registerContract"][0]["id"].clone();
    let doctor = server
        .graphql_as(&hospital, r#"mutation($f: ID!) { registerDoctor(facilityId: $f, name: "医師 花子", licenceNumber: "654321", roles: [RESPONSIBLE]) { id } }"#, json!({ "f": facility }))
        .await;
    let doctor = doctor["data"]["registerDoctor"]["id"].clone();
    let wholesaler = organization_id(&server, "WHOLESALER").await;
    let manufacturer = organization_id(&server, "MANUFACTURER").await;
    // A cool run through the worked example and locked, with a delivery to the hospital and
    // a shipment to the wholesaler.
    let cast = common::allocation::cast(&server).await;
    let cool = common::allocation::up_to_meguro_complete(&server, &cast).await;
    server
        .data_as(&cast.tokyo, common::allocation::LOCK, json!({ "c": cool }))
        .await;
    let deliverer = sign_in_accepting_policy(&server, "wholesaler.admin").await;
    let deliveries = server
        .data_as(&deliverer, "query($c: ID!) { deliveries(coolId: $c) { edges { node { id facility { name } product { code } } } } }", json!({ "c": cool }))
        .await;
    let delivery = common::api::nodes(&deliveries["deliveries"])
        .into_iter()
        .find(|d| d["facility"]["name"] == "目黒区病院01" && d["product"]["code"] == "PFIZER")
        .unwrap()["id"]
        .clone();
    let pfizer = sign_in_accepting_policy(&server, "pfizer.admin").await;
    let shipment = server
        .data_as(&pfizer, "mutation($c: ID!, $w: ID!) { recordShipment(input: { coolId: $c, productCode: \"PFIZER\", wholesalerId: $w, boxes: 1, shippedOn: \"2021-05-20\" }) { id } }", json!({ "c": cool, "w": wholesaler }))
        .await["recordShipment"]["id"]
        .clone();
    // A booking at Meguro's special venue (it books in vsys), and a second slot to move it to.
    let venue = facility_id(&server, "目黒区特設会場01").await;
    let meguro = sign_in_accepting_policy(&server, "meguro.admin").await;
    let (reservation, slot) = common::reservations::booked_at(&server, &meguro, &venue).await;
    // A notice to withdraw.
    let nation = sign_in_accepting_policy(&server, "nation.admin").await;
    let notice = server
        .data_as(&nation, r#"mutation { publishNotice(input: { titleJa: "お知らせ", titleEn: "Notice", bodyJa: "本文", bodyEn: "Text" }) { id } }"#, json!({}))
        .await["publishNotice"]["id"]
        .clone();
    // An article to delete.
    let article = server
        .data_as(&nation, r#"mutation { upsertKnowledgeArticle(input: { kind: FAQ, titleJa: "質問", titleEn: "Question", bodyJa: "回答", bodyEn: "Answer" }) { id } }"#, json!({}))
        .await["upsertKnowledgeArticle"]["id"]
        .clone();
    // An attachment of another article (which no other call deletes), written as an upload
    // would leave it.
    let manual = server
        .data_as(&nation, r#"mutation { upsertKnowledgeArticle(input: { kind: MANUAL, titleJa: "手引き", titleEn: "Manual", bodyJa: "本文", bodyEn: "Text" }) { id } }"#, json!({}))
        .await["upsertKnowledgeArticle"]["id"]
        .clone();
    let article_row = vsys::graphql::ids::row_of(
        &async_graphql::ID::from(manual.as_str().unwrap()),
        &["KnowledgeArticle"],
        "article",
    )
    .unwrap();
    let nation_org: String =
        sqlx::query_scalar("SELECT id FROM organizations WHERE kind = 'NATION'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO generated_files (id, organization_id, part, file_name, content_type, byte_size, \
         sha256, items, content, created_at) VALUES ('att-file', $1, 1, 'manual.pdf', \
         'application/pdf', 8, '', 1, $2, '2026-01-01T00:00:00.000Z')",
    )
    .bind(&nation_org)
    .bind(b"%PDF-1.7".to_vec())
    .execute(server.state.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO knowledge_attachments (id, article_id, file_id, title, position, created_at) \
         VALUES ('att-1', $1, 'att-file', '手引き', 1, '2026-01-01T00:00:00.000Z')",
    )
    .bind(&article_row)
    .execute(server.state.db.pool())
    .await
    .unwrap();
    let attachment = vsys::graphql::ids::global_id("KnowledgeAttachment", "att-1");
    // Residents' requests waiting in Meguro's queue.
    let out_of_area = server
        .data(r#"mutation { submitOutOfAreaNotification(destinationMunicipalityCode: "131105", input: { couponMunicipalityCode: "131121", couponNumber: "0000000001", name: "世田谷 花子", nameKana: "セタガヤ ハナコ", birthDate: "1950-04-01", phone: "03-1234-5678", reason: "入院" }) { id } }"#, json!({}))
        .await["submitOutOfAreaNotification"]["id"]
        .clone();
    let reissue = server
        .data(r#"mutation { requestCouponReissue(input: { couponMunicipalityCode: "131105", couponNumber: "0000000001", name: "目黒 花子", nameKana: "メグロ ハナコ", birthDate: "1950-04-01", phone: "03-1234-5678", reason: "紛失" }) { id } }"#, json!({}))
        .await["requestCouponReissue"]["id"]
        .clone();
    assert!(
        request.is_string() && contract.is_string() && doctor.is_string() && wholesaler.is_string(),
        "{filed} {contract} {doctor} {wholesaler}"
    );
    let objects = json!({ "facility": facility, "request": request, "contract": contract, "doctor": doctor, "wholesaler": wholesaler, "manufacturer": manufacturer, "cool": cool, "delivery": delivery, "shipment": shipment, "venue": venue, "reservation": reservation, "slot": slot, "notice": notice, "article": article, "outOfArea": out_of_area, "reissue": reissue, "attachment": attachment });
    let with_objects = |mut variables: Value| {
        for (key, value) in objects.as_object().unwrap() {
            variables[key] = value.clone();
        }
        variables
    };

    // Anonymous.
    for mutation in &order {
        let response = server
            .graphql(
                call(mutation),
                with_objects(json!({ "org": "x", "user": "x", "role": "NATION", "n": "anon" })),
            )
            .await;
        let expected_denied = matrix[mutation] != Rule::Public;
        assert_eq!(
            denied(&response),
            expected_denied,
            "anonymous → {mutation}: {response}"
        );
    }

    for (n, (username, _, role, _, _, is_admin)) in DEMO_ACCOUNTS.iter().enumerate() {
        // Obligations would deny everything; the matrix is about roles, so meet them first.
        let token = sign_in_accepting_policy(&server, username).await;
        let me = server
            .graphql_as(&token, "{ me { id organization { id } } }", json!({}))
            .await;
        let variables = with_objects(json!({
            "org": me["data"]["me"]["organization"]["id"],
            "user": me["data"]["me"]["id"],
            "role": role_name(*role),
            "n": format!("invited.{n}"),
        }));
        for mutation in &order {
            let response = server
                .graphql_as(&token, call(mutation), variables.clone())
                .await;
            let allowed = match matrix[mutation] {
                Rule::Public | Rule::SignedIn => true,
                Rule::Administrators => *is_admin,
                Rule::Only(users) => users.contains(username),
            };
            assert_eq!(
                denied(&response),
                !allowed,
                "{username} ({role:?}) → {mutation}: {response}"
            );
        }
    }
    server.stop().await;
}

fn role_name(role: vsys::identity::Role) -> &'static str {
    role.as_db()
}
