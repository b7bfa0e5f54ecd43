//! Account security (issue 7): the password-reset decoy is keyed, usernames are one account
//! whatever their case and width, and authenticator secrets are encrypted at rest.

mod common;

use common::api::{expect_error_code, meguro_id};
use common::{TestServer, serve_args};
use serde_json::json;
use sha2::{Digest, Sha256};
use vsys::identity::demo::{DEMO_PASSWORD, DEMO_SECURITY_ANSWER};
use vsys::identity::totp;
use vsys::server::Server;

const RESET: &str =
    "mutation($u: String!) { requestPasswordReset(username: $u) { resetToken securityQuestion } }";
const QUESTIONS: &str = "{ securityQuestions }";
const INVITE: &str = "mutation($o: ID!, $u: String!, $e: String!) { inviteUser(input: { organizationId: $o, username: $u, email: $e, displayName: \"新任 職員\", role: MUNICIPALITY }) { id username } }";

/// The decoy the server used to pick: an unkeyed hash anyone can compute.
fn unkeyed_choice(username: &str) -> usize {
    let hash = hex::encode(Sha256::digest(username.as_bytes()));
    hash.bytes().map(usize::from).sum::<usize>() % 6
}

async fn questions(server: &TestServer) -> Vec<String> {
    serde_json::from_value(server.data(QUESTIONS, json!({})).await["securityQuestions"].clone())
        .unwrap()
}

async fn decoy(server: &TestServer, username: &str) -> String {
    server.data(RESET, json!({ "u": username })).await["requestPasswordReset"]["securityQuestion"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sql(server: &TestServer, statement: &str, binds: &[&str]) {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()));
    for bind in binds {
        query = query.bind(bind.to_string());
    }
    query.execute(server.state.db.pool()).await.unwrap();
}

async fn column(server: &TestServer, select: &str, username: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(format!(
        "SELECT {select} FROM users WHERE username = $1"
    )))
    .bind(username)
    .fetch_one(server.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn the_unkeyed_hash_no_longer_predicts_the_decoy_question() {
    let server = TestServer::start_signing_in_freely().await;
    let list = questions(&server).await;
    let names: Vec<String> = (0..90).map(|i| format!("outsider{i:02}.admin")).collect();
    let mut predicted = 0;
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        let question = decoy(&server, name).await;
        let index = list.iter().position(|q| *q == question).unwrap();
        seen.insert(index);
        if index == unkeyed_choice(name) {
            predicted += 1;
        }
    }
    // The old rule predicted all 90. A choice the outsider cannot compute agrees one time in
    // six (15 expected); 35 or more would happen by chance less than once in a million runs.
    assert!(predicted < 35, "{predicted} of 90 decoys were predicted");
    assert!(
        seen.len() >= 5,
        "decoys should spread over the list: {seen:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_decoy_is_stable_for_a_name_shared_by_instances_and_differs_between_deployments() {
    let first = TestServer::start_signing_in_freely().await;
    let url = first.db.as_ref().unwrap().url.clone();
    let twin = TestServer::start_on(&url, &common::FREE_SIGN_IN).await;
    let other = TestServer::start_signing_in_freely().await;
    let names: Vec<String> = (0..40).map(|i| format!("ghost{i}")).collect();
    let mut differs_elsewhere = 0;
    for name in &names {
        let question = decoy(&first, name).await;
        assert_eq!(decoy(&first, name).await, question, "asked twice: {name}");
        assert_eq!(
            decoy(&twin, name).await,
            question,
            "another instance: {name}"
        );
        // Case and width do not make another name.
        assert_eq!(decoy(&twin, &name.to_uppercase()).await, question);
        if decoy(&other, name).await != question {
            differs_elsewhere += 1;
        }
    }
    // Another deployment has another secret: its choices agree one time in six.
    assert!(differs_elsewhere > 20, "{differs_elsewhere} of 40 differ");
    let secrets: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM server_secrets WHERE name = 'password-reset-decoy'",
    )
    .fetch_one(first.state.db.pool())
    .await
    .unwrap();
    assert_eq!(secrets, 1, "the decoy key is kept in the database");
    twin.stop().await;
    other.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn usernames_differing_only_in_case_or_width_are_one_account() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let meguro = meguro_id(&server).await;
    for variant in ["MEGURO.ADMIN", "Meguro.Admin", "ｍｅｇｕｒｏ．ａｄｍｉｎ"] {
        let response = server
            .graphql_as(
                &desk,
                INVITE,
                json!({ "o": meguro, "u": variant, "e": "twin@meguro.example.jp" }),
            )
            .await;
        assert_eq!(
            expect_error_code(&response),
            "CONFLICT",
            "{variant}: {response}"
        );
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind("twin@meguro.example.jp")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(users, 0, "nothing was created");
    let refusals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE operation = 'inviteUser' AND outcome = 'FAILURE' \
         AND detail LIKE $1 AND object_id = (SELECT id FROM users WHERE username = 'meguro.admin')",
    )
    .bind("CONFLICT:%")
    .fetch_one(server.state.db.pool())
    .await
    .unwrap();
    assert_eq!(refusals, 3, "every refusal is audited");
    // Sign-in finds the one account whatever the case and width typed.
    for variant in ["MEGURO.ADMIN", "ＭＥＧＵＲＯ．ａｄｍｉｎ", " meguro.admin "] {
        let response = server.sign_in_step_one(variant, DEMO_PASSWORD).await;
        assert!(
            response["data"]["signIn"]["challengeId"].is_string(),
            "{variant}: {response}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn an_invited_username_is_stored_normalised_and_a_width_variant_is_the_same_account() {
    let server = TestServer::start().await;
    let desk = server.sign_in("helpdesk.admin").await;
    let meguro = meguro_id(&server).await;
    let invited = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": meguro, "u": "Tanaka.TARO", "e": "tanaka@meguro.example.jp" }),
        )
        .await;
    assert_eq!(
        invited["data"]["inviteUser"]["username"], "tanaka.taro",
        "{invited}"
    );
    let full_width = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": meguro, "u": "ＴＡＮＡＫＡ．ｔａｒｏ", "e": "other@meguro.example.jp" }),
        )
        .await;
    // The same account: its unused invitation is re-sent (with the corrected address), not a
    // second account.
    assert_eq!(
        full_width["data"]["inviteUser"]["id"], invited["data"]["inviteUser"]["id"],
        "{full_width}"
    );
    assert_eq!(full_width["data"]["inviteUser"]["username"], "tanaka.taro");
    // Folding never lets other characters in.
    let kanji = server
        .graphql_as(
            &desk,
            INVITE,
            json!({ "o": meguro, "u": "田中太郎", "e": "kanji@meguro.example.jp" }),
        )
        .await;
    assert_eq!(expect_error_code(&kanji), "INVALID_INPUT");
    assert_eq!(kanji["errors"][0]["extensions"]["field"], "username");
    // The audit log is searched in the same form.
    let audit = server
        .graphql_as(
            &server.sign_in("nation.admin").await,
            "query($u: String!) { auditLog(filter: { username: $u, operation: \"inviteUser\" }) { edges { node { operation } } } }",
            json!({ "u": "HELPDESK.ADMIN" }),
        )
        .await;
    assert!(
        !audit["data"]["auditLog"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{audit}"))
            .is_empty(),
        "{audit}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_password_reset_finds_the_account_whatever_the_case_typed() {
    let server = TestServer::start().await;
    let reset = server.data(RESET, json!({ "u": "Meguro.ADMIN" })).await;
    let token = reset["requestPasswordReset"]["resetToken"]
        .as_str()
        .unwrap();
    let done = server
        .data(
            "mutation($t: String!, $a: String!, $p: String!) { resetPasswordWithSecurityAnswer(resetToken: $t, answer: $a, newPassword: $p) }",
            json!({ "t": token, "a": DEMO_SECURITY_ANSWER, "p": "Kawaru-Pass-2026" }),
        )
        .await;
    assert_eq!(done["resetPasswordWithSecurityAnswer"], true);
    let response = server
        .sign_in_step_one("meguro.admin", "Kawaru-Pass-2026")
        .await;
    assert!(
        response["data"]["signIn"]["challengeId"].is_string(),
        "{response}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_migration_folds_existing_usernames_and_renames_case_collisions() {
    let db = common::TestDb::new().await;
    let pool = vsys::db::Db::connect(&db.url).await.unwrap();
    vsys::db::MIGRATOR
        .run_to(20261125000004, pool.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO organizations (id, kind, code, name, created_at, updated_at) VALUES ('org-1', 'SERVICE_DESK', 'OLD-DESK', '旧ヘルプデスク', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
        .execute(pool.pool())
        .await
        .unwrap();
    for (id, username, created) in [
        ("u-1", "Tanaka", "2026-01-01T00:00:00.000Z"),
        ("u-2", "TANAKA", "2026-01-02T00:00:00.000Z"),
        ("u-3", "Sato.Hanako", "2026-01-03T00:00:00.000Z"),
    ] {
        sqlx::query("INSERT INTO users (id, organization_id, username, email, display_name, role, status, created_at, updated_at) VALUES ($1, 'org-1', $2, 'x@example.jp', 'x', 'SYSTEM_ADMIN', 'INVITED', $3, $3)")
            .bind(id)
            .bind(username)
            .bind(created)
            .execute(pool.pool())
            .await
            .unwrap();
    }
    pool.close().await;
    let server = TestServer::start_on(&db.url, &[]).await;
    let mut names: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, username FROM users WHERE organization_id = 'org-1' ORDER BY id",
    )
    .fetch_all(server.state.db.pool())
    .await
    .unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            ("u-1".to_owned(), "tanaka".to_owned()),
            ("u-2".to_owned(), "tanaka#u-2".to_owned()),
            ("u-3".to_owned(), "sato.hanako".to_owned()),
        ]
    );
    // The unique index now guards the folded form.
    let clash = sqlx::query("INSERT INTO users (id, organization_id, username, email, display_name, role, status, created_at, updated_at) VALUES ('u-4', 'org-1', 'SATO.HANAKO', 'x@example.jp', 'x', 'SYSTEM_ADMIN', 'INVITED', 'now', 'now')")
        .execute(server.state.db.pool())
        .await;
    assert!(clash.is_err(), "a case variant must not be stored");
    server.stop().await;
}

/// Signs in, enrols an authenticator and confirms it; returns the base32 secret.
async fn enrol_totp(server: &TestServer, username: &str) -> String {
    let token = server.sign_in(username).await;
    let enrolment = server
        .graphql_as(&token, "mutation { enrollTotp { secret } }", json!({}))
        .await;
    let secret = enrolment["data"]["enrollTotp"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{enrolment}"))
        .to_owned();
    let pending = column(server, "totp_pending_secret", username)
        .await
        .unwrap();
    assert!(pending.starts_with("v1:"), "{pending}");
    assert!(
        !pending.contains(&secret),
        "the pending secret is not stored in clear"
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let confirmed = server
        .graphql_as(
            &token,
            "mutation($c: String!) { confirmTotp(code: $c) { secondFactor } }",
            json!({ "c": totp::code_at(&secret, now).unwrap() }),
        )
        .await;
    assert_eq!(
        confirmed["data"]["confirmTotp"]["secondFactor"], "TOTP",
        "{confirmed}"
    );
    secret
}

/// A full TOTP sign-in with a code of the step `offset_steps` from now; true when a session
/// was opened.
async fn totp_sign_in(
    server: &TestServer,
    username: &str,
    secret: &str,
    offset_steps: i64,
) -> bool {
    let step_one = server.sign_in_step_one(username, DEMO_PASSWORD).await;
    assert_eq!(step_one["data"]["signIn"]["method"], "TOTP", "{step_one}");
    let challenge = step_one["data"]["signIn"]["challengeId"].as_str().unwrap();
    let at = (time::OffsetDateTime::now_utc().unix_timestamp() + 30 * offset_steps) as u64;
    let response = server
        .graphql(
            "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token } }",
            json!({ "c": challenge, "code": totp::code_at(secret, at).unwrap() }),
        )
        .await;
    response["data"]["verifySecondFactor"]["token"].is_string()
}

#[tokio::test]
async fn totp_secrets_are_stored_encrypted_and_still_verify() {
    let server = TestServer::start().await;
    let secret = enrol_totp(&server, "meguro.staff").await;
    let stored = column(&server, "totp_secret", "meguro.staff")
        .await
        .unwrap();
    assert!(
        stored.starts_with("v1:") && !stored.contains(&secret),
        "{stored}"
    );
    assert_eq!(
        column(&server, "totp_pending_secret", "meguro.staff").await,
        None
    );
    assert!(totp_sign_in(&server, "meguro.staff", &secret, 1).await);
    // A sealed secret copied into another account's row does not open there.
    sql(
        &server,
        "UPDATE users SET totp_secret = $1, second_factor = 'TOTP' WHERE username = 'meguro.admin'",
        &[&stored],
    )
    .await;
    let step_one = server.sign_in_step_one("meguro.admin", DEMO_PASSWORD).await;
    let challenge = step_one["data"]["signIn"]["challengeId"].as_str().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let stolen = server
        .graphql(
            "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token } }",
            json!({ "c": challenge, "code": totp::code_at(&secret, now).unwrap() }),
        )
        .await;
    assert!(
        stolen["data"].is_null() || stolen["data"]["verifySecondFactor"].is_null(),
        "{stolen}"
    );
    assert!(stolen["errors"].is_array(), "{stolen}");
    server.stop().await;
}

#[tokio::test]
async fn a_secret_stored_in_clear_before_is_encrypted_at_the_next_start() {
    let mut server = TestServer::start().await;
    let secret = totp::new_secret();
    sql(
        &server,
        "UPDATE users SET totp_secret = $1, second_factor = 'TOTP' WHERE username = 'meguro.staff'",
        &[&secret],
    )
    .await;
    let db = server.db.take().unwrap();
    server.stop().await;
    let server = TestServer::start_on(&db.url, &[]).await;
    let stored = column(&server, "totp_secret", "meguro.staff")
        .await
        .unwrap();
    assert!(
        stored.starts_with("v1:") && !stored.contains(&secret),
        "{stored}"
    );
    assert!(totp_sign_in(&server, "meguro.staff", &secret, 0).await);
    server.stop().await;
    drop(db);
}

#[tokio::test]
async fn rotating_the_totp_key_reencrypts_every_secret_under_the_new_key() {
    let old_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let new_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let mut server = TestServer::start_with(&["--totp-key", old_key]).await;
    let secret = enrol_totp(&server, "meguro.staff").await;
    let sealed_before = column(&server, "totp_secret", "meguro.staff")
        .await
        .unwrap();
    let db = server.db.take().unwrap();
    server.stop().await;

    // The new key alone cannot read what the old one sealed: the server refuses to start
    // rather than fail those users' sign-ins.
    let refused = Server::build(&serve_args(&db.url, &["--totp-key", new_key])).await;
    let error = format!("{:#}", refused.err().expect("start-up must fail"));
    assert!(error.contains("TOTP"), "{error}");

    let server = TestServer::start_on(
        &db.url,
        &["--totp-key", new_key, "--totp-old-keys", old_key],
    )
    .await;
    let sealed_after = column(&server, "totp_secret", "meguro.staff")
        .await
        .unwrap();
    assert_ne!(sealed_after, sealed_before);
    let new_id = new_key
        .parse::<vsys::identity::totp_vault::TotpKey>()
        .unwrap()
        .id();
    assert!(
        sealed_after.starts_with(&format!("v1:{new_id}:")),
        "{sealed_after}"
    );
    server.stop().await;

    // Once re-encrypted, the new key alone is enough.
    let server = TestServer::start_on(&db.url, &["--totp-key", new_key]).await;
    assert!(totp_sign_in(&server, "meguro.staff", &secret, 1).await);
    server.stop().await;
    drop(db);
}
