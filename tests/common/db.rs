//! Direct reads and writes of a test server's database: row counts, audit entries, fixtures.

use super::TestServer;

/// The single number `sql` selects.
pub async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(server.state.db.pool())
        .await
        .unwrap()
}

/// Runs `statement` with one bound value.
pub async fn execute(server: &TestServer, statement: &'static str, value: &str) {
    sqlx::query(statement)
        .bind(value)
        .execute(server.state.db.pool())
        .await
        .unwrap();
}

/// How many audit entries `operation` has with `outcome`.
pub async fn audited(server: &TestServer, operation: &str, outcome: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE operation = $1 AND outcome = $2")
        .bind(operation)
        .bind(outcome)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap()
}

/// (outcome, detail) of the audit entries of `operation`, oldest first.
pub async fn audit_entries(server: &TestServer, operation: &str) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT outcome, detail FROM audit_log WHERE operation = $1 ORDER BY occurred_at, id",
    )
    .bind(operation)
    .fetch_all(server.state.db.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(o, d)| (o, d.unwrap_or_default()))
    .collect()
}

/// (outcome, detail) of the newest audit entry of `operation`.
pub async fn last_audit(server: &TestServer, operation: &str) -> (String, String) {
    sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT outcome, detail FROM audit_log WHERE operation = $1 ORDER BY occurred_at DESC, id DESC LIMIT 1",
    )
    .bind(operation)
    .fetch_one(server.state.db.pool())
    .await
    .map(|(outcome, detail)| (outcome, detail.unwrap_or_default()))
    .unwrap_or_else(|_| panic!("no audit entry for {operation}"))
}

/// The newest audit outcome of `operation`.
pub async fn last_outcome(server: &TestServer, operation: &str) -> String {
    last_audit(server, operation).await.0
}
