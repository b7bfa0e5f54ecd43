//! The authorization matrix: every mutation in the schema, called by every role (and by an
//! anonymous caller), is allowed or denied as the table says. A mutation missing from the table
//! fails the test, so no new mutation ships without a decision.

mod common;

use std::collections::BTreeMap;

use common::TestServer;
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
}

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
    let server = TestServer::start_with(&[
        "--sign-in-rate-per-ip",
        "100000",
        "--sign-in-rate-per-account",
        "100000",
    ])
    .await;
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

    // Anonymous.
    for mutation in &order {
        let response = server
            .graphql(
                call(mutation),
                json!({ "org": "x", "user": "x", "role": "NATION", "n": "anon" }),
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
        let token = server.sign_in(username).await;
        // Obligations would deny everything; the matrix is about roles, so meet them first.
        server
            .graphql_as(&token, "mutation { acceptPrivacyPolicy { id } }", json!({}))
            .await;
        let me = server
            .graphql_as(&token, "{ me { id organization { id } } }", json!({}))
            .await;
        let variables = json!({
            "org": me["data"]["me"]["organization"]["id"],
            "user": me["data"]["me"]["id"],
            "role": role_name(*role),
            "n": format!("invited.{n}"),
        });
        for mutation in &order {
            let response = server
                .graphql_as(&token, call(mutation), variables.clone())
                .await;
            let allowed = match matrix[mutation] {
                Rule::Public | Rule::SignedIn => true,
                Rule::Administrators => *is_admin,
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
