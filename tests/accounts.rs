//! Account administration through the API (seed pp. 2–15): reissued set-up links and re-sent
//! invitations, the service desk's reset of a forgotten security answer, invitations in bulk,
//! disabled accounts, and the versioned privacy policy.

mod common;

use common::TestServer;
use common::api::{
    data_or_panic, error_code, error_field, error_reason, meguro_id, municipality_id,
};
use common::db::{audited, count, execute};
use serde_json::{Value, json};
use vsys::identity::demo::DEMO_PASSWORD;
use vsys::identity::privacy;

async fn count_users(server: &TestServer) -> i64 {
    count(server, "SELECT COUNT(*) FROM users").await
}

/// The set-up token in the newest mail to `address`.
async fn setup_token(server: &TestServer, address: &str) -> String {
    let mail = server.last_mail_to(address).await;
    mail.split("Set-up token: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no set-up link in {mail}"))
        .trim()
        .to_owned()
}

/// A demo user's global id (signing the user in to ask).
async fn user_id(server: &TestServer, username: &str) -> Value {
    let token = server.sign_in(username).await;
    server.graphql_as(&token, "{ me { id } }", json!({})).await["data"]["me"]["id"].clone()
}

const INVITE: &str = "mutation($o: ID!, $u: String!, $e: String!) { inviteUser(input: { organizationId: $o, username: $u, email: $e, displayName: \"新任 職員\", role: MUNICIPALITY }) { id status email } }";
const REISSUE: &str = "mutation($u: ID!) { reissueSetupLink(userId: $u) { id status } }";
const REQUEST_CODE: &str =
    "mutation($t: String!) { requestFirstLoginCode(setupToken: $t) { expiresAt } }";
const COMPLETE: &str = "mutation($t: String!, $c: String!) { completeFirstLogin(setupToken: $t, code: $c, newPassword: \"First-Login-2021\", securityQuestion: \"好きな食べ物は？ / Favourite food?\", securityAnswer: \"Sakura\") { token user { status } } }";

/// Invites `username` into Meguro as the service desk; returns the desk's token and the user id.
async fn invite(server: &TestServer, username: &str, email: &str) -> (String, Value) {
    let desk = server.sign_in("helpdesk.admin").await;
    let invited = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": meguro_id(server).await, "u": username, "e": email }),
        )
        .await;
    let id = invited["data"]["inviteUser"]["id"].clone();
    assert!(id.is_string(), "{invited}");
    (desk, id)
}

/// Completes a first login with `token`; the whole response.
async fn first_login(server: &TestServer, token: &str, email: &str) -> Value {
    let started = server.graphql(REQUEST_CODE, json!({ "t": token })).await;
    if started.get("errors").is_some() {
        return started;
    }
    let code = server.last_code_to(email).await;
    server
        .graphql(COMPLETE, json!({ "t": token, "c": code }))
        .await
}

#[tokio::test]
async fn a_lost_set_up_link_is_reissued_and_only_the_newest_link_works_once() {
    let server = TestServer::start().await;
    let email = "lost@meguro.example.jp";
    let (_, user) = invite(&server, "meguro.lost", email).await;
    let first = setup_token(&server, email).await;
    // The organisation's administrator sends a new link.
    let admin = server.sign_in("meguro.admin").await;
    let reissued = server
        .graphql_as(&admin, REISSUE, json!({ "u": user }))
        .await;
    assert_eq!(
        reissued["data"]["reissueSetupLink"]["status"], "INVITED",
        "{reissued}"
    );
    let second = setup_token(&server, email).await;
    assert_ne!(first, second);
    assert_eq!(audited(&server, "reissueSetupLink", "SUCCESS").await, 1);

    let old = server.graphql(REQUEST_CODE, json!({ "t": first })).await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    assert_eq!(error_reason(&old), "SETUP_LINK_REPLACED");
    let done = first_login(&server, &second, email).await;
    assert_eq!(
        done["data"]["completeFirstLogin"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    // The reissued link used a second time: a clear error, nothing changes, audited.
    let failures_before = audited(&server, "requestFirstLoginCode", "FAILURE").await;
    let twice = server.graphql(REQUEST_CODE, json!({ "t": second })).await;
    assert_eq!(error_code(&twice), "UNAUTHENTICATED");
    assert_eq!(error_reason(&twice), "SETUP_LINK_USED");
    assert!(
        twice["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already been used"),
        "{twice}"
    );
    assert_eq!(
        audited(&server, "requestFirstLoginCode", "FAILURE").await,
        failures_before + 1
    );
    // An active account gets no set-up link.
    let active = server
        .graphql_as(&admin, REISSUE, json!({ "u": user }))
        .await;
    assert_eq!(error_code(&active), "CONFLICT");
    assert_eq!(audited(&server, "reissueSetupLink", "FAILURE").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn an_expired_link_says_so_and_the_desk_reissues_one_that_works() {
    let server = TestServer::start().await;
    let email = "late@meguro.example.jp";
    let (_, user) = invite(&server, "meguro.late", email).await;
    let expired = setup_token(&server, email).await;
    // A link lives 24 hours; a day and a minute later it has expired.
    server
        .state
        .db
        .clock()
        .advance(time::Duration::hours(24) + time::Duration::minutes(1));
    let refused = server.graphql(REQUEST_CODE, json!({ "t": expired })).await;
    assert_eq!(error_reason(&refused), "SETUP_LINK_EXPIRED", "{refused}");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("service desk")
    );
    // The desk's own session has idled out meanwhile; it signs in again.
    let desk = server.sign_in("helpdesk.admin").await;
    let reissued = server
        .graphql_as(&desk, REISSUE, json!({ "u": user }))
        .await;
    assert!(reissued.get("errors").is_none(), "{reissued}");
    let fresh = setup_token(&server, email).await;
    let done = first_login(&server, &fresh, email).await;
    assert_eq!(
        done["data"]["completeFirstLogin"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_code_requested_with_a_replaced_link_cannot_complete_the_first_login() {
    let server = TestServer::start().await;
    let email = "race@meguro.example.jp";
    let (desk, user) = invite(&server, "meguro.race", email).await;
    let first = setup_token(&server, email).await;
    let started = server.graphql(REQUEST_CODE, json!({ "t": first })).await;
    assert!(started.get("errors").is_none(), "{started}");
    let code_sent = server.last_code_to(email).await;
    server
        .graphql_as(&desk, REISSUE, json!({ "u": user }))
        .await;
    let second = setup_token(&server, email).await;
    // Neither the old link nor the new one completes with the code of the old one.
    let with_old = server
        .graphql(COMPLETE, json!({ "t": first, "c": code_sent }))
        .await;
    assert_eq!(error_reason(&with_old), "SETUP_LINK_REPLACED", "{with_old}");
    let with_new = server
        .graphql(COMPLETE, json!({ "t": second, "c": code_sent }))
        .await;
    assert_eq!(error_code(&with_new), "UNAUTHENTICATED", "{with_new}");
    server.stop().await;
}

#[tokio::test]
async fn reissuing_is_for_the_desk_and_the_organisations_administrators() {
    let server = TestServer::start().await;
    let (_, user) = invite(&server, "meguro.other", "other@meguro.example.jp").await;
    let staff = server.sign_in("meguro.staff").await;
    let response = server
        .graphql_as(&staff, REISSUE, json!({ "u": user }))
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
    let yokohama = server.sign_in("yokohama.admin").await;
    let response = server
        .graphql_as(&yokohama, REISSUE, json!({ "u": user }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    assert_eq!(audited(&server, "reissueSetupLink", "DENIED").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn inviting_an_unused_invitation_again_re_sends_it_and_the_first_link_stops_working() {
    let server = TestServer::start().await;
    let (desk, user) = invite(&server, "meguro.typo", "typo@meguro.exmaple.jp").await;
    let first = setup_token(&server, "typo@meguro.exmaple.jp").await;
    let organization = meguro_id(&server).await;
    let again = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": organization, "u": "meguro.typo", "e": "typo@meguro.example.jp" }),
        )
        .await;
    assert_eq!(again["data"]["inviteUser"]["id"], user, "{again}");
    assert_eq!(
        again["data"]["inviteUser"]["email"],
        "typo@meguro.example.jp"
    );
    let old = server.graphql(REQUEST_CODE, json!({ "t": first })).await;
    assert_eq!(error_reason(&old), "SETUP_LINK_REPLACED");
    let fresh = setup_token(&server, "typo@meguro.example.jp").await;
    let done = first_login(&server, &fresh, "typo@meguro.example.jp").await;
    assert_eq!(
        done["data"]["completeFirstLogin"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    // Once used, the username is taken: inviting it again is a conflict, as is an active
    // account's username or an invitation in another organisation.
    let used = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": organization, "u": "meguro.typo", "e": "x@meguro.example.jp" }),
        )
        .await;
    assert_eq!(error_code(&used), "CONFLICT");
    let active = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": organization, "u": "meguro.admin", "e": "x@meguro.example.jp" }),
        )
        .await;
    assert_eq!(error_code(&active), "CONFLICT");
    let (_, _) = invite(&server, "meguro.pending", "pending@meguro.example.jp").await;
    let setagaya = municipality_id(&server, "131121").await;
    let elsewhere = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": setagaya, "u": "meguro.pending", "e": "x@setagaya.example.jp" }),
        )
        .await;
    assert_eq!(error_code(&elsewhere), "CONFLICT");
    assert!(audited(&server, "inviteUser", "FAILURE").await >= 3);
    server.stop().await;
}

#[tokio::test]
async fn an_invitation_with_an_address_lettre_refuses_is_invalid_input_and_audited() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let organization = meguro_id(&server).await;
    for bad in [
        "no-at-sign",
        "two@@example.jp",
        "space in@example.jp",
        "user@localhost",
    ] {
        let response = server
            .graphql_as(
                &desk,
                INVITE,
                json!({ "o": organization, "u": "meguro.bad", "e": bad }),
            )
            .await;
        assert_eq!(error_code(&response), "INVALID_INPUT", "{bad}: {response}");
        assert_eq!(error_field(&response), "email");
    }
    assert_eq!(audited(&server, "inviteUser", "FAILURE").await, 4);
    server.stop().await;
}

const RESET_ANSWER: &str =
    "mutation($u: ID!) { resetSecurityAnswer(userId: $u) { securityQuestionSet } }";
const SET_QUESTION: &str = "mutation($p: String!, $q: String!, $a: String!) { setSecurityQuestion(currentPassword: $p, securityQuestion: $q, securityAnswer: $a) { securityQuestionSet } }";

/// The service desk resets tokyo.admin's security answer; returns the whole response.
async fn reset_tokyos_answer(server: &TestServer) -> Value {
    let tokyo = user_id(server, "tokyo.admin").await;
    let desk = server.sign_in("helpdesk.admin").await;
    server
        .graphql_as(&desk, RESET_ANSWER, json!({ "u": tokyo }))
        .await
}

/// After the reset, tokyo.admin signs in: (its session, the second question on the list).
async fn tokyo_signs_in_after_the_reset(server: &TestServer) -> (String, String) {
    data_or_panic(&reset_tokyos_answer(server).await);
    let token = server.sign_in("tokyo.admin").await;
    let questions = server
        .data_as(&token, "{ securityQuestions }", json!({}))
        .await;
    let question = questions["securityQuestions"][1]
        .as_str()
        .unwrap_or_else(|| panic!("{questions}"))
        .to_owned();
    (token, question)
}

/// Chooses `question` with the answer "Pochi"; returns the whole response.
async fn choose_question(
    server: &TestServer,
    token: &str,
    password: &str,
    question: &str,
) -> Value {
    server
        .graphql_as(
            token,
            SET_QUESTION,
            json!({ "p": password, "q": question, "a": "Pochi" }),
        )
        .await
}

const PREFECTURES: &str = "{ prefectures { edges { cursor } } }";

#[tokio::test]
async fn the_desk_resets_a_forgotten_security_answer_mails_the_user_and_is_audited() {
    let server = TestServer::start().await;
    let reset = reset_tokyos_answer(&server).await;
    assert_eq!(
        data_or_panic(&reset)["resetSecurityAnswer"]["securityQuestionSet"],
        false
    );
    assert!(
        server
            .last_mail_to("tokyo.admin@demo.vsys.invalid")
            .await
            .contains("security question and answer")
    );
    assert_eq!(audited(&server, "resetSecurityAnswer", "SUCCESS").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn after_a_reset_the_next_sign_in_can_only_read_the_questions_and_choose_one() {
    let server = TestServer::start().await;
    // Reading the list of questions works (the helper reads it).
    let (token, _) = tokyo_signs_in_after_the_reset(&server).await;
    let blocked = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert_eq!(error_code(&blocked), "FORBIDDEN");
    assert_eq!(error_reason(&blocked), "SECURITY_QUESTION_REQUIRED");
    server.stop().await;
}

#[tokio::test]
async fn a_new_security_question_needs_the_current_password_and_a_listed_question() {
    let server = TestServer::start().await;
    let (token, question) = tokyo_signs_in_after_the_reset(&server).await;
    let wrong_password = choose_question(&server, &token, "Not-The-One-1", &question).await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    let not_listed = choose_question(&server, &token, DEMO_PASSWORD, "What is my PIN?").await;
    assert_eq!(error_field(&not_listed), "securityQuestion");
    assert_eq!(audited(&server, "setSecurityQuestion", "FAILURE").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn choosing_a_new_security_question_opens_the_api_again() {
    let server = TestServer::start().await;
    let (token, question) = tokyo_signs_in_after_the_reset(&server).await;
    let chosen = choose_question(&server, &token, DEMO_PASSWORD, &question).await;
    assert_eq!(
        data_or_panic(&chosen)["setSecurityQuestion"]["securityQuestionSet"],
        true
    );
    server.data_as(&token, PREFECTURES, json!({})).await;
    server.stop().await;
}

#[tokio::test]
async fn the_new_security_answer_resets_a_forgotten_password() {
    let server = TestServer::start().await;
    let (token, question) = tokyo_signs_in_after_the_reset(&server).await;
    data_or_panic(&choose_question(&server, &token, DEMO_PASSWORD, &question).await);
    let challenge = server
        .data(
            "mutation { requestPasswordReset(username: \"tokyo.admin\") { resetToken securityQuestion } }",
            json!({}),
        )
        .await;
    assert_eq!(
        challenge["requestPasswordReset"]["securityQuestion"],
        question.as_str()
    );
    let done = server
        .data(
            "mutation($t: String!) { resetPasswordWithSecurityAnswer(resetToken: $t, answer: \"pochi\", newPassword: \"After-Reset-2021\") }",
            json!({ "t": challenge["requestPasswordReset"]["resetToken"] }),
        )
        .await;
    assert_eq!(done["resetPasswordWithSecurityAnswer"], true);
    server.stop().await;
}

#[tokio::test]
async fn only_the_desk_resets_security_answers_and_never_its_own() {
    let server = TestServer::start().await;
    let staff = user_id(&server, "meguro.staff").await;
    let admin = server.sign_in("meguro.admin").await;
    let response = server
        .graphql_as(&admin, RESET_ANSWER, json!({ "u": staff }))
        .await;
    assert_eq!(error_code(&response), "FORBIDDEN");
    let yokohama = server.sign_in("yokohama.admin").await;
    let response = server
        .graphql_as(&yokohama, RESET_ANSWER, json!({ "u": staff }))
        .await;
    assert_eq!(error_code(&response), "NOT_FOUND");
    assert_eq!(audited(&server, "resetSecurityAnswer", "DENIED").await, 2);
    let desk_id = user_id(&server, "helpdesk.admin").await;
    let desk = server.sign_in("helpdesk.admin").await;
    let own = server
        .graphql_as(&desk, RESET_ANSWER, json!({ "u": desk_id }))
        .await;
    assert_eq!(error_code(&own), "INVALID_INPUT");
    assert_eq!(error_field(&own), "userId");
    assert_eq!(audited(&server, "resetSecurityAnswer", "FAILURE").await, 1);
    server.stop().await;
}

const INVITE_USERS: &str = "mutation($csv: String!) { inviteUsers(csv: $csv) { username role status isOrganizationAdmin displayName organization { name } } }";

#[tokio::test]
async fn invitations_in_bulk_create_every_account_with_its_own_link() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let csv = "username,email,organizationCode,isOrganizationAdmin,displayName\n\
               meguro.bulk1,bulk1@meguro.example.jp,131105,true,目黒 一郎\n\
               \n\
               meguro.bulk2,bulk2@meguro.example.jp,131105,false,\n\
               wholesaler.bulk,bulk@wholesaler.example.jp,WS-KANTO-01,はい,\"卸, 担当\"\n";
    let response = server
        .graphql_as(&desk, INVITE_USERS, json!({ "csv": csv }))
        .await;
    let users = response["data"]["inviteUsers"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert_eq!(users.len(), 3);
    assert_eq!(users[0]["role"], "MUNICIPALITY");
    assert_eq!(users[0]["isOrganizationAdmin"], true);
    assert_eq!(users[0]["displayName"], "目黒 一郎");
    assert_eq!(users[1]["displayName"], "meguro.bulk2");
    assert_eq!(users[2]["role"], "WHOLESALER");
    assert_eq!(users[2]["displayName"], "卸, 担当");
    assert!(users.iter().all(|u| u["status"] == "INVITED"));
    for address in [
        "bulk1@meguro.example.jp",
        "bulk2@meguro.example.jp",
        "bulk@wholesaler.example.jp",
    ] {
        let token = setup_token(&server, address).await;
        let started = server.graphql(REQUEST_CODE, json!({ "t": token })).await;
        assert!(started.get("errors").is_none(), "{address}: {started}");
    }
    assert_eq!(audited(&server, "inviteUsers", "SUCCESS").await, 3);
    server.stop().await;
}

#[tokio::test]
async fn a_bulk_invitation_with_one_bad_email_invites_nobody_and_names_the_row() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let before = count_users(&server).await;
    let csv = "username,email,organizationCode,isOrganizationAdmin\n\
               meguro.fine,fine@meguro.example.jp,131105,false\n\
               meguro.broken,broken-at-meguro.example.jp,131105,false\n\
               meguro.fine2,fine2@meguro.example.jp,131105,false\n";
    let response = server
        .graphql_as(&desk, INVITE_USERS, json!({ "csv": csv }))
        .await;
    assert_eq!(error_code(&response), "INVALID_INPUT", "{response}");
    assert_eq!(error_field(&response), "csv");
    let rows = response["errors"][0]["extensions"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["row"], 2);
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["field"], "email");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("row 2"), "{message}");
    assert!(response["data"].is_null());
    assert_eq!(count_users(&server).await, before, "nothing is invited");
    let mails: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'mail' AND reference LIKE '%@meguro.example.jp'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(mails, 0);
    assert_eq!(audited(&server, "inviteUsers", "FAILURE").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_bulk_invitation_reports_every_bad_row_duplicates_taken_names_and_unknown_codes() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let before = count_users(&server).await;
    let csv = "username,email,organizationCode,isOrganizationAdmin,role\n\
               meguro.twin,twin@meguro.example.jp,131105,false,\n\
               meguro.twin,twin2@meguro.example.jp,131105,false,\n\
               tokyo.admin,t@tokyo.example.jp,13,false,\n\
               nowhere.user,n@example.jp,999999,false,\n\
               meguro.flag,f@meguro.example.jp,131105,perhaps,\n\
               meguro.role,r@meguro.example.jp,131105,false,WHOLESALER\n\
               x,x@meguro.example.jp,131105,false,\n";
    let response = server
        .graphql_as(&desk, INVITE_USERS, json!({ "csv": csv }))
        .await;
    let rows: Vec<(i64, String)> = response["errors"][0]["extensions"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (2, "username".to_owned()),
            (3, "username".to_owned()),
            (4, "organizationCode".to_owned()),
            (5, "isOrganizationAdmin".to_owned()),
            (6, "role".to_owned()),
            (7, "username".to_owned()),
        ]
    );
    assert_eq!(count_users(&server).await, before);

    let mut big = String::from("username,email,organizationCode,isOrganizationAdmin\n");
    for n in 1..=1001 {
        big.push_str(&format!(
            "bulk.{n},bulk{n}@meguro.example.jp,131105,false\n"
        ));
    }
    let response = server
        .graphql_as(&desk, INVITE_USERS, json!({ "csv": big }))
        .await;
    assert_eq!(error_code(&response), "INVALID_INPUT");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("row 1001"), "{message}");
    let header = server
        .graphql_as(
            &desk,
            INVITE_USERS,
            json!({ "csv": "username,email\na,b@example.jp\n" }),
        )
        .await;
    assert_eq!(error_code(&header), "INVALID_INPUT");
    assert_eq!(count_users(&server).await, before);
    assert_eq!(audited(&server, "inviteUsers", "FAILURE").await, 3);
    server.stop().await;
}

#[tokio::test]
async fn a_file_of_exactly_1000_accounts_is_invited() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let before = count_users(&server).await;
    let mut csv = String::from("username,email,organizationCode,isOrganizationAdmin\n");
    for n in 1..=1000 {
        csv.push_str(&format!(
            "bulk.{n},bulk{n}@meguro.example.jp,131105,false\n"
        ));
    }
    let response = server
        .graphql_as(
            &desk,
            "mutation($csv: String!) { inviteUsers(csv: $csv) { id } }",
            json!({ "csv": csv }),
        )
        .await;
    let invited = response["data"]["inviteUsers"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"));
    assert_eq!(invited.len(), 1000);
    assert_eq!(count_users(&server).await, before + 1000);
    server.stop().await;
}

#[tokio::test]
async fn only_the_desk_invites_in_bulk() {
    let server = TestServer::start().await;
    let csv = "username,email,organizationCode,isOrganizationAdmin\nmeguro.x,x@meguro.example.jp,131105,false\n";
    for username in ["meguro.admin", "nation.admin"] {
        let token = server.sign_in(username).await;
        let response = server
            .graphql_as(&token, INVITE_USERS, json!({ "csv": csv }))
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN", "{username}");
    }
    assert_eq!(audited(&server, "inviteUsers", "DENIED").await, 2);
    server.stop().await;
}

const SET_STATUS: &str = "mutation($u: ID!, $s: AccountSwitch!) { setUserStatus(userId: $u, status: $s, reason: \"異動\") { status } }";

const REQUEST_RESET: &str =
    "mutation { requestPasswordReset(username: \"meguro.staff\") { resetToken } }";
const FINISH_RESET: &str = "mutation($t: String!) { resetPasswordWithSecurityAnswer(resetToken: $t, answer: \"blue\", newPassword: \"Came-Back-2021\") }";

/// Meguro's administrator sets meguro.staff's status; returns the whole response.
async fn set_staff_status(
    server: &TestServer,
    admin: &str,
    staff_id: &Value,
    status: &str,
) -> Value {
    server
        .graphql_as(admin, SET_STATUS, json!({ "u": staff_id, "s": status }))
        .await
}

/// Meguro's administrator disables meguro.staff; returns the administrator's session.
async fn disable_staff(server: &TestServer, staff_id: &Value) -> String {
    let admin = server.sign_in("meguro.admin").await;
    let disabled = set_staff_status(server, &admin, staff_id, "DISABLED").await;
    assert_eq!(
        data_or_panic(&disabled)["setUserStatus"]["status"],
        "DISABLED"
    );
    admin
}

#[tokio::test]
async fn disabling_an_account_closes_its_websockets_at_once() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    let token = server.sign_in("meguro.staff").await;
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.init_as(&token).await;
    disable_staff(&server, &staff_id).await;
    assert_eq!(ws.close_code().await, 4403);
    server.stop().await;
}

#[tokio::test]
async fn a_disabled_accounts_sessions_are_refused_at_once_and_audited() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    let token = server.sign_in("meguro.staff").await;
    disable_staff(&server, &staff_id).await;
    let response = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(audited(&server, "authenticate", "FAILURE").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    disable_staff(&server, &staff_id).await;
    let sign_in = server.sign_in_step_one("meguro.staff", DEMO_PASSWORD).await;
    assert_eq!(error_code(&sign_in), "UNAUTHENTICATED");
    server.stop().await;
}

#[tokio::test]
async fn a_password_reset_started_before_disabling_does_not_bring_the_account_back() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    let early_reset =
        server.data(REQUEST_RESET, json!({})).await["requestPasswordReset"]["resetToken"].clone();
    disable_staff(&server, &staff_id).await;
    // Its link expired with the account, and even revived it is refused.
    let before = server
        .graphql(FINISH_RESET, json!({ "t": early_reset }))
        .await;
    assert_eq!(error_code(&before), "UNAUTHENTICATED", "{before}");
    execute(
        &server,
        "UPDATE password_resets SET expires_at = '2999-01-01T00:00:00.000Z' WHERE $1 = $1",
        "x",
    )
    .await;
    let revived = server
        .graphql(FINISH_RESET, json!({ "t": early_reset }))
        .await;
    assert_eq!(error_code(&revived), "UNAUTHENTICATED", "{revived}");
    server.stop().await;
}

#[tokio::test]
async fn a_password_reset_started_after_disabling_does_not_bring_the_account_back() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    disable_staff(&server, &staff_id).await;
    let reset = server.graphql(REQUEST_RESET, json!({})).await;
    let after = server
        .graphql(
            FINISH_RESET,
            json!({ "t": reset["data"]["requestPasswordReset"]["resetToken"] }),
        )
        .await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
    server.stop().await;
}

#[tokio::test]
async fn disabling_an_account_is_audited_with_its_reason() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    disable_staff(&server, &staff_id).await;
    let entry: (String, String) = sqlx::query_as(
        "SELECT after_state, detail FROM audit_log WHERE operation = 'setUserStatus' AND outcome = 'SUCCESS'",
    )
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert!(
        entry.0.contains("DISABLED") && entry.1 == "異動",
        "{entry:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_re_enabled_account_signs_in_again_and_enabling_twice_changes_nothing() {
    let server = TestServer::start().await;
    let staff_id = user_id(&server, "meguro.staff").await;
    let admin = disable_staff(&server, &staff_id).await;
    for _ in 0..2 {
        let enabled = set_staff_status(&server, &admin, &staff_id, "ACTIVE").await;
        assert_eq!(data_or_panic(&enabled)["setUserStatus"]["status"], "ACTIVE");
    }
    let again = server.sign_in("meguro.staff").await;
    let me = server.data_as(&again, "{ me { status } }", json!({})).await;
    assert_eq!(me["me"]["status"], "ACTIVE");
    assert_eq!(audited(&server, "setUserStatus", "SUCCESS").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn nobody_disables_their_own_account_or_one_outside_their_organisation() {
    let server = TestServer::start().await;
    let admin_id = user_id(&server, "meguro.admin").await;
    let staff_id = user_id(&server, "meguro.staff").await;
    let admin = server.sign_in("meguro.admin").await;
    let own = server
        .graphql_as(
            &admin,
            SET_STATUS,
            json!({ "u": admin_id, "s": "DISABLED" }),
        )
        .await;
    assert_eq!(error_code(&own), "INVALID_INPUT");
    assert_eq!(error_field(&own), "userId");
    let staff = server.sign_in("meguro.staff").await;
    let not_admin = server
        .graphql_as(
            &staff,
            SET_STATUS,
            json!({ "u": admin_id, "s": "DISABLED" }),
        )
        .await;
    assert_eq!(error_code(&not_admin), "FORBIDDEN");
    let yokohama = server.sign_in("yokohama.admin").await;
    let foreign = server
        .graphql_as(
            &yokohama,
            SET_STATUS,
            json!({ "u": staff_id, "s": "DISABLED" }),
        )
        .await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    // An invitation not yet used has no sign-in to disable.
    let (desk, invited) = invite(&server, "meguro.fresh", "fresh@meguro.example.jp").await;
    let response = server
        .graphql_as(&desk, SET_STATUS, json!({ "u": invited, "s": "DISABLED" }))
        .await;
    assert_eq!(error_code(&response), "CONFLICT");
    assert_eq!(audited(&server, "setUserStatus", "DENIED").await, 2);
    assert_eq!(audited(&server, "setUserStatus", "FAILURE").await, 2);
    // Nothing changed.
    let me = server
        .graphql_as(&admin, "{ me { status } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["status"], "ACTIVE");
    server.stop().await;
}

const POLICY: &str =
    "query($l: PolicyLanguage!) { privacyPolicy(language: $l) { version language text } }";

#[tokio::test]
async fn the_privacy_policy_is_readable_by_anyone_in_japanese_and_english() {
    let server = TestServer::start().await;
    let ja = server.data(POLICY, json!({ "l": "JA" })).await;
    assert_eq!(ja["privacyPolicy"]["version"], privacy::CURRENT_VERSION);
    assert!(
        ja["privacyPolicy"]["text"]
            .as_str()
            .unwrap()
            .contains("個人情報保護方針")
    );
    let en = server.data(POLICY, json!({ "l": "EN" })).await;
    assert!(
        en["privacyPolicy"]["text"]
            .as_str()
            .unwrap()
            .contains("personal-information policy")
    );
    let default = server
        .data("{ privacyPolicy { language } }", json!({}))
        .await;
    assert_eq!(default["privacyPolicy"]["language"], "JA");
    // A medical institution reads it while its acceptance is still pending.
    let hospital = server.sign_in("meguro-hospital.admin").await;
    let pending = server
        .graphql_as(&hospital, POLICY, json!({ "l": "EN" }))
        .await;
    assert!(pending.get("errors").is_none(), "{pending}");
    server.stop().await;
}

#[tokio::test]
async fn accepting_records_the_version_and_a_new_version_asks_again() {
    let server = TestServer::start().await;
    let hospital = server.sign_in("meguro-hospital.admin").await;
    let accept = "mutation($v: String) { acceptPrivacyPolicy(version: $v) { privacyPolicyAccepted privacyPolicyVersion } }";
    let outdated = server
        .graphql_as(&hospital, accept, json!({ "v": "2020-01-01" }))
        .await;
    assert_eq!(error_code(&outdated), "CONFLICT");
    assert_eq!(audited(&server, "acceptPrivacyPolicy", "FAILURE").await, 1);
    let accepted = server
        .graphql_as(&hospital, accept, json!({ "v": privacy::CURRENT_VERSION }))
        .await;
    assert_eq!(
        accepted["data"]["acceptPrivacyPolicy"]["privacyPolicyVersion"],
        privacy::CURRENT_VERSION,
        "{accepted}"
    );
    let open = server
        .graphql_as(&hospital, "{ facilities { edges { cursor } } }", json!({}))
        .await;
    assert!(open.get("errors").is_none(), "{open}");

    // The user had accepted an earlier version: the one in force is asked for again.
    execute(
        &server,
        "UPDATE users SET privacy_policy_version = '2020-04-01' WHERE username = $1",
        "meguro-hospital.admin",
    )
    .await;
    let blocked = server
        .graphql_as(&hospital, "{ facilities { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(
        error_reason(&blocked),
        "PRIVACY_POLICY_NOT_ACCEPTED",
        "{blocked}"
    );
    let me = server
        .graphql_as(
            &hospital,
            "{ me { privacyPolicyAccepted privacyPolicyVersion } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["privacyPolicyAccepted"], false);
    assert_eq!(me["data"]["me"]["privacyPolicyVersion"], "2020-04-01");
    let again = server
        .graphql_as(&hospital, accept, json!({ "v": null }))
        .await;
    assert_eq!(
        again["data"]["acceptPrivacyPolicy"]["privacyPolicyAccepted"], true,
        "{again}"
    );
    assert_eq!(audited(&server, "acceptPrivacyPolicy", "SUCCESS").await, 2);
    server.stop().await;
}
