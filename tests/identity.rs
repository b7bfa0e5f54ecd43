//! Identity and access through the API: two-factor sign-in, the seed's account rules, sessions,
//! first login, resets, authenticator apps, obligations, audit.

mod common;

use common::TestServer;
use common::api::{error_code, error_reason, hospital, meguro_id, municipality_id};
use common::db::execute;
use serde_json::{Value, json};
use vsys::identity::demo::{DEMO_PASSWORD, DEMO_SECURITY_ANSWER};

const ME: &str = "{ me { id username role status secondFactor privacyPolicyAccepted organization { id name } } }";
/// A read any signed-in user may make: refused while an obligation is open.
const PREFECTURES: &str = "{ prefectures { edges { cursor } } }";
const CHANGE_PASSWORD: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

async fn verify(server: &TestServer, challenge: &str, code: &str) -> Value {
    server
        .graphql(
            "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token obligations user { username } } }",
            json!({ "c": challenge, "code": code }),
        )
        .await
}

#[tokio::test]
async fn sign_in_takes_a_password_then_an_emailed_code_and_gives_a_session() {
    let server = TestServer::start().await;
    let step_one = server.sign_in_step_one("meguro.admin", DEMO_PASSWORD).await;
    let challenge = &step_one["data"]["signIn"];
    assert_eq!(challenge["method"], "EMAIL");
    assert!(
        challenge.get("token").is_none(),
        "a password alone never gives a session"
    );
    let code = server.last_code_to("meguro.admin@demo.vsys.invalid").await;
    let session = verify(&server, challenge["challengeId"].as_str().unwrap(), &code).await;
    let token = session["data"]["verifySecondFactor"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = server.graphql_as(&token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "meguro.admin");
    assert_eq!(me["data"]["me"]["role"], "MUNICIPALITY");
    assert_eq!(me["data"]["me"]["organization"]["name"], "目黒区");
    // The code is single use.
    let again = verify(&server, challenge["challengeId"].as_str().unwrap(), &code).await;
    assert_eq!(error_code(&again), "UNAUTHENTICATED");
    // Anonymous: no user.
    assert_eq!(server.data(ME, json!({})).await["me"], Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn wrong_and_expired_codes_are_refused() {
    let server = TestServer::start().await;
    let step_one = server.sign_in_step_one("tokyo.admin", DEMO_PASSWORD).await;
    let challenge = step_one["data"]["signIn"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let right = server.last_code_to("tokyo.admin@demo.vsys.invalid").await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let response = verify(&server, &challenge, wrong).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    assert_eq!(error_reason(&response), "INVALID_CREDENTIALS");
    server.advance_clock(time::Duration::minutes(10) + time::Duration::seconds(1));
    assert_eq!(
        error_code(&verify(&server, &challenge, &right).await),
        "UNAUTHENTICATED",
        "expired after 10 minutes"
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_users_wrong_passwords_and_locked_accounts_get_the_same_answer() {
    let server = TestServer::start().await;
    let unknown = server
        .sign_in_step_one("nobody.at.all", DEMO_PASSWORD)
        .await;
    let wrong = server
        .sign_in_step_one("meguro.admin", "Wrong-Pass-123")
        .await;
    execute(
        &server,
        "UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE username = $1",
        "yokohama.admin",
    )
    .await;
    let locked = server
        .sign_in_step_one("yokohama.admin", DEMO_PASSWORD)
        .await;
    for response in [&unknown, &wrong, &locked] {
        assert_eq!(
            response["errors"][0]["message"],
            unknown["errors"][0]["message"]
        );
        assert_eq!(error_code(response), "UNAUTHENTICATED");
        assert_eq!(response["data"], Value::Null);
    }
    server.stop().await;
}

#[tokio::test]
async fn ten_failures_lock_the_account_for_an_hour_until_unlocked() {
    // The per-minute rate limit is another defence, tested on its own.
    let server = TestServer::start_with(&["--sign-in-rate-per-account", "100"]).await;
    for _ in 0..10 {
        let response = server
            .sign_in_step_one("meguro.staff", "Wrong-Pass-123")
            .await;
        assert_eq!(error_code(&response), "UNAUTHENTICATED");
    }
    // The 11th attempt, even with the right password, is refused.
    let response = server.sign_in_step_one("meguro.staff", DEMO_PASSWORD).await;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    let locked_until: String =
        sqlx::query_scalar("SELECT locked_until FROM users WHERE username = 'meguro.staff'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    let in_an_hour = server
        .state
        .db
        .clock()
        .after(time::Duration::minutes(59))
        .to_string();
    assert!(
        locked_until > in_an_hour,
        "locked for 60 minutes: {locked_until}"
    );

    // The municipality's administrator unlocks; the audit log records it.
    let admin = server.sign_in("meguro.admin").await;
    let users = server
        .graphql_as(
            &admin,
            "query($o: ID!) { users(organizationId: $o) { id username lockedUntil } }",
            json!({ "o": org_id(&server, &admin).await }),
        )
        .await;
    let staff = users["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "meguro.staff")
        .unwrap()
        .clone();
    assert!(staff["lockedUntil"].is_string());
    let unlocked = server
        .graphql_as(
            &admin,
            "mutation($u: ID!) { unlockUser(userId: $u) { lockedUntil } }",
            json!({ "u": staff["id"] }),
        )
        .await;
    assert_eq!(
        unlocked["data"]["unlockUser"]["lockedUntil"],
        Value::Null,
        "{unlocked}"
    );
    server.sign_in("meguro.staff").await;
    server.stop().await;
}

async fn org_id(server: &TestServer, token: &str) -> Value {
    server.graphql_as(token, ME, json!({})).await["data"]["me"]["organization"]["id"].clone()
}

#[tokio::test]
async fn a_lock_runs_out_after_its_hour() {
    let server = TestServer::start_with(&["--sign-in-rate-per-account", "100"]).await;
    for _ in 0..10 {
        server
            .sign_in_step_one("meguro.staff", "Wrong-Pass-123")
            .await;
    }
    server.advance_clock(time::Duration::minutes(59));
    let still_locked = server.sign_in_step_one("meguro.staff", DEMO_PASSWORD).await;
    assert_eq!(error_code(&still_locked), "UNAUTHENTICATED");
    server.advance_clock(time::Duration::minutes(1) + time::Duration::seconds(1));
    server.sign_in("meguro.staff").await;
    server.stop().await;
}

#[tokio::test]
async fn a_new_code_does_not_reset_the_failure_count() {
    let server = TestServer::start().await;
    for _ in 0..5 {
        server
            .sign_in_step_one("meguro.staff", "Wrong-Pass-123")
            .await;
    }
    // The right password: a fresh code. Five wrong codes then reach ten failures.
    let step_one = server.sign_in_step_one("meguro.staff", DEMO_PASSWORD).await;
    let challenge = step_one["data"]["signIn"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let right = server.last_code_to("meguro.staff@demo.vsys.invalid").await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        verify(&server, &challenge, wrong).await;
    }
    assert_eq!(
        error_code(&verify(&server, &challenge, &right).await),
        "UNAUTHENTICATED",
        "locked: even the right code fails"
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_end_after_15_idle_minutes_and_at_their_lifetime() {
    let server = TestServer::start().await;
    let token = server.sign_in("meguro.admin").await;
    // Fourteen minutes between requests keep a session alive.
    for _ in 0..3 {
        server.advance_clock(time::Duration::minutes(14));
        assert_eq!(
            server.graphql_as(&token, ME, json!({})).await["data"]["me"]["username"],
            "meguro.admin"
        );
    }
    server.advance_clock(time::Duration::minutes(15) + time::Duration::seconds(1));
    let response = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // An active session still ends at its lifetime (12 hours by default).
    let token = server.sign_in("meguro.admin").await;
    for _ in 0..(12 * 60 / 14) {
        server.advance_clock(time::Duration::minutes(14));
        assert_eq!(
            server.graphql_as(&token, ME, json!({})).await["data"]["me"]["username"],
            "meguro.admin"
        );
    }
    server.advance_clock(time::Duration::minutes(14));
    assert_eq!(
        server.code_as(&token, ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    server.stop().await;
}

#[tokio::test]
async fn sign_out_ends_the_session_and_closes_its_websockets() {
    let server = TestServer::start().await;
    let token = server.sign_in("tokyo.admin").await;
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.send(json!({ "id": "me", "type": "subscribe", "payload": { "query": ME } }))
        .await;
    assert_eq!(
        ws.next_json().await["payload"]["data"]["me"]["username"],
        "tokyo.admin"
    );
    assert_eq!(ws.next_json().await["type"], "complete");

    let out = server
        .graphql_as(&token, "mutation { signOut }", json!({}))
        .await;
    assert_eq!(out["data"]["signOut"], true);
    assert_eq!(ws.close_code().await, 4403);
    assert_eq!(
        server.code_as(&token, ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    // A websocket presenting the dead token is refused.
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
    assert_eq!(ws.close_code().await, 4403);
    server.stop().await;
}

#[tokio::test]
async fn medical_institutions_accept_the_privacy_policy_before_anything_else() {
    let server = TestServer::start().await;
    let token = server.sign_in("meguro-hospital.admin").await;
    let blocked = server
        .graphql_as(&token, "{ facilities { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(error_code(&blocked), "FORBIDDEN");
    assert_eq!(error_reason(&blocked), "PRIVACY_POLICY_NOT_ACCEPTED");
    assert_eq!(
        server.graphql_as(&token, ME, json!({})).await["data"]["me"]["privacyPolicyAccepted"],
        false
    );
    let accepted = server
        .graphql_as(
            &token,
            "mutation { acceptPrivacyPolicy { privacyPolicyAccepted } }",
            json!({}),
        )
        .await;
    assert_eq!(
        accepted["data"]["acceptPrivacyPolicy"]["privacyPolicyAccepted"],
        true
    );
    let open = server
        .graphql_as(&token, "{ facilities { edges { cursor } } }", json!({}))
        .await;
    assert!(open.get("errors").is_none(), "{open}");
    server.stop().await;
}

#[tokio::test]
async fn the_demo_has_an_account_whose_password_expired() {
    let server = TestServer::start().await;
    let (username, ..) = vsys::identity::demo::DEMO_EXPIRED_PASSWORD_ACCOUNT;
    let token = server.sign_in(username).await;
    let blocked = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert_eq!(error_reason(&blocked), "PASSWORD_EXPIRED");
    let changed = server
        .graphql_as(
            &token,
            CHANGE_PASSWORD,
            json!({ "c": DEMO_PASSWORD, "n": "Yokohama-New-Pass-7" }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    let open = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert!(open.get("errors").is_none(), "{open}");
    // The other demo accounts are unaffected.
    let officer = server.sign_in("yokohama.admin").await;
    let open = server.graphql_as(&officer, PREFECTURES, json!({})).await;
    assert!(open.get("errors").is_none(), "{open}");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_password_must_be_changed_first_and_weak_ones_are_refused() {
    let server = TestServer::start().await;
    // Three months (90 days) after the password was set.
    server.advance_clock(time::Duration::days(90) + time::Duration::seconds(1));
    let token = server.sign_in("tokyo.admin").await;
    let blocked = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert_eq!(error_reason(&blocked), "PASSWORD_EXPIRED");
    let change = CHANGE_PASSWORD;
    for weak in ["short1A", "alllowercase1", "tokyo.admin", "P@ssw0rd"] {
        let response = server
            .graphql_as(&token, change, json!({ "c": DEMO_PASSWORD, "n": weak }))
            .await;
        assert_eq!(error_code(&response), "INVALID_INPUT", "{weak}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "newPassword");
    }
    let wrong_current = server
        .graphql_as(
            &token,
            change,
            json!({ "c": "Not-The-One-1", "n": "Brand-New-Pass-42" }),
        )
        .await;
    assert_eq!(error_code(&wrong_current), "UNAUTHENTICATED");
    let changed = server
        .graphql_as(
            &token,
            change,
            json!({ "c": DEMO_PASSWORD, "n": "Brand-New-Pass-42" }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    let open = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert!(open.get("errors").is_none(), "{open}");
    let old = server.sign_in_step_one("tokyo.admin", DEMO_PASSWORD).await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED");
    server.stop().await;
}

#[tokio::test]
async fn an_invited_user_completes_the_first_login_with_the_link_a_code_and_a_new_password() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let meguro = meguro_id(&server).await;
    let invite = "mutation($o: ID!) { inviteUser(input: { organizationId: $o, username: \"meguro.new\", email: \"new@meguro.example.jp\", displayName: \"新任 職員\", role: MUNICIPALITY }) { id status } }";
    let invited = server
        .graphql_as(&desk, invite, json!({ "o": meguro }))
        .await;
    assert_eq!(
        invited["data"]["inviteUser"]["status"], "INVITED",
        "{invited}"
    );
    // Inviting an unused invitation again re-sends it (the same account, a new link).
    let again = server
        .graphql_as(&desk, invite, json!({ "o": meguro }))
        .await;
    assert_eq!(
        again["data"]["inviteUser"]["id"], invited["data"]["inviteUser"]["id"],
        "{again}"
    );

    let mail = server.last_mail_to("new@meguro.example.jp").await;
    let token = mail
        .split("Set-up token: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    let start = server
        .graphql(
            "mutation($t: String!) { requestFirstLoginCode(setupToken: $t) { expiresAt } }",
            json!({ "t": token }),
        )
        .await;
    assert!(start.get("errors").is_none(), "{start}");
    let code_sent = server.last_code_to("new@meguro.example.jp").await;
    let complete = "mutation($t: String!, $c: String!, $p: String!) { completeFirstLogin(setupToken: $t, code: $c, newPassword: $p, securityQuestion: \"好きな食べ物は？ / Favourite food?\", securityAnswer: \"Sakura\") { token user { username status } } }";
    let weak = server
        .graphql(complete, json!({ "t": token, "c": code_sent, "p": "weak" }))
        .await;
    assert_eq!(error_code(&weak), "INVALID_INPUT");
    let done = server
        .graphql(
            complete,
            json!({ "t": token, "c": code_sent, "p": "First-Login-2021" }),
        )
        .await;
    assert_eq!(
        done["data"]["completeFirstLogin"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    // The link is single use.
    let reuse = server
        .graphql(
            complete,
            json!({ "t": token, "c": code_sent, "p": "First-Login-2022" }),
        )
        .await;
    assert_eq!(error_code(&reuse), "UNAUTHENTICATED");
    let step_one = server
        .sign_in_step_one("meguro.new", "First-Login-2021")
        .await;
    assert!(step_one["data"]["signIn"]["challengeId"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn an_expired_set_up_link_is_refused() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let meguro = meguro_id(&server).await;
    server
        .graphql_as(&desk, "mutation($o: ID!) { inviteUser(input: { organizationId: $o, username: \"late.user\", email: \"late@meguro.example.jp\", displayName: \"遅刻\", role: MUNICIPALITY }) { id } }", json!({ "o": meguro }))
        .await;
    let mail = server.last_mail_to("late@meguro.example.jp").await;
    let token = mail
        .split("Set-up token: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    server.advance_clock(time::Duration::hours(24) + time::Duration::seconds(1));
    let start = server
        .graphql(
            "mutation($t: String!) { requestFirstLoginCode(setupToken: $t) { expiresAt } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(error_code(&start), "UNAUTHENTICATED");
    server.stop().await;
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_the_security_answer() {
    let server = TestServer::start().await;
    let request = "mutation($u: String!) { requestPasswordReset(username: $u) { resetToken securityQuestion } }";
    let known = server
        .graphql(request, json!({ "u": "meguro.admin" }))
        .await;
    let reset_token = known["data"]["requestPasswordReset"]["resetToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        known["data"]["requestPasswordReset"]["securityQuestion"]
            .as_str()
            .unwrap()
            .contains("Favourite colour")
    );
    // Unknown users get a question too: the answer reveals nothing.
    let unknown = server
        .graphql(request, json!({ "u": "nobody.at.all" }))
        .await;
    assert!(unknown["data"]["requestPasswordReset"]["securityQuestion"].is_string());

    let reset = "mutation($t: String!, $a: String!, $p: String!) { resetPasswordWithSecurityAnswer(resetToken: $t, answer: $a, newPassword: $p) }";
    let wrong = server
        .graphql(
            reset,
            json!({ "t": reset_token, "a": "green", "p": "Reset-Pass-2021" }),
        )
        .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    let answer = format!("  {}  ", DEMO_SECURITY_ANSWER.to_uppercase());
    let done = server
        .graphql(
            reset,
            json!({ "t": reset_token, "a": answer, "p": "Reset-Pass-2021" }),
        )
        .await;
    assert_eq!(
        done["data"]["resetPasswordWithSecurityAnswer"], true,
        "{done}"
    );
    let step_one = server
        .sign_in_step_one("meguro.admin", "Reset-Pass-2021")
        .await;
    assert!(step_one["data"]["signIn"]["challengeId"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn an_authenticator_app_becomes_the_second_factor_and_codes_work_once() {
    let server = TestServer::start().await;
    let token = server.sign_in("pfizer.admin").await;
    let enrolment = server
        .graphql_as(
            &token,
            "mutation { enrollTotp { secret otpauthUrl } }",
            json!({}),
        )
        .await;
    let secret = enrolment["data"]["enrollTotp"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        enrolment["data"]["enrollTotp"]["otpauthUrl"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let code_now = vsys::identity::totp::code_at(&secret, now).unwrap();
    let confirmed = server
        .graphql_as(
            &token,
            "mutation($c: String!) { confirmTotp(code: $c) { secondFactor } }",
            json!({ "c": code_now }),
        )
        .await;
    assert_eq!(
        confirmed["data"]["confirmTotp"]["secondFactor"], "TOTP",
        "{confirmed}"
    );

    let step_one = server.sign_in_step_one("pfizer.admin", DEMO_PASSWORD).await;
    assert_eq!(step_one["data"]["signIn"]["method"], "TOTP");
    let challenge = step_one["data"]["signIn"]["challengeId"]
        .as_str()
        .unwrap()
        .to_owned();
    // The code already used to confirm is refused: a code is accepted once.
    assert_eq!(
        error_code(&verify(&server, &challenge, &code_now).await),
        "UNAUTHENTICATED"
    );
    let next_code = vsys::identity::totp::code_at(&secret, now + 30).unwrap();
    let session = verify(&server, &challenge, &next_code).await;
    assert!(
        session["data"]["verifySecondFactor"]["token"].is_string(),
        "{session}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_deployment_can_require_an_authenticator() {
    let server = TestServer::start_with(&["--require-totp"]).await;
    let token = server.sign_in("pfizer.admin").await;
    let blocked = server.graphql_as(&token, PREFECTURES, json!({})).await;
    assert_eq!(error_reason(&blocked), "TOTP_REQUIRED");
    let enrol = server
        .graphql_as(&token, "mutation { enrollTotp { secret } }", json!({}))
        .await;
    assert!(enrol.get("errors").is_none(), "{enrol}");
    server.stop().await;
}

#[tokio::test]
async fn one_sign_in_step_per_request_and_a_rate_limit_per_address() {
    let server = TestServer::start_with(&["--sign-in-rate-per-ip", "3"]).await;
    let twice = server
        .graphql(
            "mutation { a: signIn(username: \"meguro.admin\", password: \"x\") { challengeId } b: signIn(username: \"meguro.admin\", password: \"y\") { challengeId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&twice), "INVALID_INPUT");
    let failures: i64 =
        sqlx::query_scalar("SELECT failed_attempts FROM users WHERE username = 'meguro.admin'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(failures, 0, "a refused request changes nothing");
    for _ in 0..3 {
        server
            .sign_in_step_one("meguro.admin", "Wrong-Pass-123")
            .await;
    }
    let limited = server.sign_in_step_one("meguro.admin", DEMO_PASSWORD).await;
    assert_eq!(error_code(&limited), "RATE_LIMITED");
    server.stop().await;
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_changes_and_only_the_nation_and_desk_read_it() {
    let server = TestServer::start().await;
    server
        .sign_in_step_one("meguro.admin", "Wrong-Pass-123")
        .await;
    let desk = server.sign_in("helpdesk.admin").await;
    let nation = server.sign_in("nation.admin").await;
    let query = "query($f: AuditLogFilter) { auditLog(filter: $f, first: 50) { edges { node { operation outcome actorUsername ip requestId detail before after } } } }";
    let log = server
        .graphql_as(
            &nation,
            query,
            json!({ "f": { "username": "meguro.admin" } }),
        )
        .await;
    let entries = log["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        entries
            .iter()
            .any(|e| e["node"]["operation"] == "signIn" && e["node"]["outcome"] == "FAILURE")
    );
    let log = server
        .graphql_as(
            &desk,
            query,
            json!({ "f": { "operation": "verifySecondFactor" } }),
        )
        .await;
    let entries = log["data"]["auditLog"]["edges"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["node"]["actorUsername"] == "nation.admin" && e["node"]["ip"].is_string())
    );

    let tokyo = server.sign_in("tokyo.admin").await;
    assert_eq!(server.code_as(&tokyo, query, json!({})).await, "FORBIDDEN");
    assert_eq!(
        server.code_anonymously(query, json!({})).await,
        "UNAUTHENTICATED"
    );
    // Nothing in the API edits or deletes the log.
    let mutations = server
        .data(
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    for field in mutations["__type"]["fields"].as_array().unwrap() {
        assert!(
            !field["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("audit")
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn another_prefectures_municipality_is_not_found_and_a_clinic_cannot_administer() {
    let server = TestServer::start().await;
    let tokyo = server.sign_in("tokyo.admin").await;
    let yokohama = municipality_id(&server, "141003").await;
    let meguro = meguro_id(&server).await;
    let users = "query($o: ID!) { users(organizationId: $o) { username } }";
    assert_eq!(
        server
            .code_as(&tokyo, users, json!({ "o": yokohama }))
            .await,
        "NOT_FOUND"
    );
    // In its area but not its own organisation: forbidden, not hidden.
    assert_eq!(
        server.code_as(&tokyo, users, json!({ "o": meguro })).await,
        "FORBIDDEN"
    );
    let invite = "mutation($o: ID!) { inviteUser(input: { organizationId: $o, username: \"intruder\", email: \"i@example.jp\", displayName: \"x\", role: MUNICIPALITY }) { id } }";
    assert_eq!(
        server
            .code_as(&tokyo, invite, json!({ "o": yokohama }))
            .await,
        "NOT_FOUND"
    );

    let clinic = hospital(&server).await;
    assert_eq!(
        server
            .code_as(&clinic, invite, json!({ "o": meguro }))
            .await,
        "NOT_FOUND"
    );
    // Another user's account by global id: not found.
    let me = server.graphql_as(&tokyo, ME, json!({})).await;
    let tokyo_user = me["data"]["me"]["id"].clone();
    let node = server
        .graphql_as(
            &clinic,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": tokyo_user }),
        )
        .await;
    assert_eq!(error_code(&node), "NOT_FOUND");
    let own = server
        .graphql_as(
            &tokyo,
            "query($id: ID!) { node(id: $id) { ... on User { username } } }",
            json!({ "id": tokyo_user }),
        )
        .await;
    assert_eq!(own["data"]["node"]["username"], "tokyo.admin");
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = 'intruder'")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(created, 0);
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_bearer_token_gets_401_and_a_websocket_with_one_gets_4403() {
    let server = TestServer::start().await;
    let response = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth("forged")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_session_closes_its_websockets() {
    let server = TestServer::start_with(&["--ws-session-check-secs", "1"]).await;
    let token = server.sign_in("tokyo.admin").await;
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    server.advance_clock(time::Duration::minutes(15) + time::Duration::seconds(1));
    assert_eq!(ws.close_code().await, 4403);
    server.stop().await;
}

#[tokio::test]
async fn a_user_with_two_obligations_can_settle_either_first() {
    let server = TestServer::start().await;
    server.advance_clock(time::Duration::days(90) + time::Duration::seconds(1));
    let token = server.sign_in("meguro-hospital.admin").await;
    let accepted = server
        .graphql_as(
            &token,
            "mutation { acceptPrivacyPolicy { privacyPolicyAccepted } }",
            json!({}),
        )
        .await;
    assert_eq!(
        accepted["data"]["acceptPrivacyPolicy"]["privacyPolicyAccepted"], true,
        "{accepted}"
    );
    let change = CHANGE_PASSWORD;
    let changed = server
        .graphql_as(
            &token,
            change,
            json!({ "c": DEMO_PASSWORD, "n": "Brand-New-Pass-42" }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");
    server.stop().await;
}

#[tokio::test]
async fn credential_checks_on_a_signed_in_account_respect_the_lock_and_the_one_per_request_rule() {
    let server = TestServer::start().await;
    let token = server.sign_in("tokyo.admin").await;
    let twice = server
        .graphql_as(&token, "mutation { a: changePassword(currentPassword: \"x1\", newPassword: \"Brand-New-Pass-42\") b: changePassword(currentPassword: \"x2\", newPassword: \"Brand-New-Pass-42\") }", json!({}))
        .await;
    assert_eq!(error_code(&twice), "INVALID_INPUT");
    execute(
        &server,
        "UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE username = $1",
        "tokyo.admin",
    )
    .await;
    let change = CHANGE_PASSWORD;
    let locked = server
        .graphql_as(
            &token,
            change,
            json!({ "c": DEMO_PASSWORD, "n": "Brand-New-Pass-42" }),
        )
        .await;
    assert_eq!(error_code(&locked), "UNAUTHENTICATED");
    let until: String =
        sqlx::query_scalar("SELECT locked_until FROM users WHERE username = 'tokyo.admin'")
            .fetch_one(server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        until, "2999-01-01T00:00:00.000Z",
        "a refused attempt does not move the lock"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_reset_reveals_nothing_about_which_accounts_exist() {
    let server = TestServer::start().await;
    let questions =
        server.data("{ securityQuestions }", json!({})).await["securityQuestions"].clone();
    let request = "mutation($u: String!) { requestPasswordReset(username: $u) { resetToken securityQuestion } }";
    for username in ["nobody.at.all", "someone.else", "x.y.z"] {
        let decoy = server.graphql(request, json!({ "u": username })).await;
        let question = &decoy["data"]["requestPasswordReset"]["securityQuestion"];
        assert!(
            questions.as_array().unwrap().contains(question),
            "{question}"
        );
    }
    // A real token with a wrong answer and a weak password: the same answer as a bogus token.
    let known = server
        .graphql(request, json!({ "u": "meguro.admin" }))
        .await;
    let token = known["data"]["requestPasswordReset"]["resetToken"].clone();
    let reset = "mutation($t: String!, $a: String!, $p: String!) { resetPasswordWithSecurityAnswer(resetToken: $t, answer: $a, newPassword: $p) }";
    let real = server
        .graphql(reset, json!({ "t": token, "a": "green", "p": "weak" }))
        .await;
    let bogus = server
        .graphql(reset, json!({ "t": "bogus", "a": "green", "p": "weak" }))
        .await;
    assert_eq!(error_code(&real), "UNAUTHENTICATED");
    assert_eq!(real["errors"][0]["message"], bogus["errors"][0]["message"]);
    server.stop().await;
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_but_keeps_the_callers() {
    let server = TestServer::start().await;
    let mine = server.sign_in("kanagawa.admin").await;
    let other = server.sign_in("kanagawa.admin").await;
    let mut ws = server.websocket(Some("graphql-transport-ws")).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {mine}") } })).await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    let change = CHANGE_PASSWORD;
    let changed = server
        .graphql_as(
            &mine,
            change,
            json!({ "c": DEMO_PASSWORD, "n": "Brand-New-Pass-42" }),
        )
        .await;
    assert_eq!(changed["data"]["changePassword"], true);
    assert_eq!(
        server.code_as(&other, ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        server.graphql_as(&mine, ME, json!({})).await["data"]["me"]["username"],
        "kanagawa.admin"
    );
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(
        ws.next_json().await["type"],
        "pong",
        "the caller's own websocket stays open"
    );
    server.stop().await;
}
