//! What every benchmark shares: starting `vsys serve` as a child process on a fresh database
//! (SQLite file or PostgreSQL database), signing demo users in, reading its memory.

#![allow(dead_code)]

pub mod statement_times;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use std::process::{Child, Command};

/// Where the benchmarked server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database, dropped at the end.
pub struct BenchDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl BenchDb {
    pub async fn new(backend: Backend, postgres_admin_url: &str) -> BenchDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                BenchDb {
                    url,
                    backend,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let name = format!("vsys_bench_{}", uuid::Uuid::now_v7().simple());
                let admin = sqlx::PgPool::connect(postgres_admin_url)
                    .await
                    .expect("PostgreSQL answers at the admin URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create the benchmark database");
                admin.close().await;
                let base = postgres_admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(postgres_admin_url);
                BenchDb {
                    url: format!("{base}/{name}"),
                    backend,
                    _dir: None,
                    postgres: Some((postgres_admin_url.to_owned(), name)),
                }
            }
        }
    }

    pub async fn drop_database(mut self) {
        if let Some((admin_url, name)) = self.postgres.take()
            && let Ok(admin) = sqlx::PgPool::connect(&admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
            admin.close().await;
        }
    }
}

/// A `vsys serve --demo` child process, killed when dropped.
pub struct ServerProcess {
    pub port: u16,
    child: Child,
    pub mail_dir: PathBuf,
}

impl ServerProcess {
    /// Starts the release binary on a free port and waits until it answers `/readyz`.
    pub async fn start(database_url: &str, extra: &[&str]) -> ServerProcess {
        let port = free_port();
        let mail_dir = std::env::temp_dir().join(format!("vsys-bench-mail-{port}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_vsys"));
        command
            .args(["serve", "--demo", "--mail-worker", "false"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(["--mail-dir", &mail_dir.display().to_string()])
            // Required on PostgreSQL; a fixed key is fine for a throwaway database.
            .args(["--totp-key", "QkVOQ0hCRU5DSEJFTkNIQkVOQ0hCRU5DSEJFTkNIQkU="])
            // The benchmark signs in a few users quickly.
            .args(["--sign-in-rate-per-ip", "1000"])
            // Benchmarks send anonymous requests far faster than one resident would.
            .args(["--public-rate-per-ip", "100000000"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command.spawn().expect("the vsys binary starts");
        let server = ServerProcess {
            port,
            child,
            mail_dir,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the server did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in bytes (Linux).
    pub fn resident_bytes(&self) -> u64 {
        resident_bytes(self.pid())
    }

    pub fn graphql_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql", self.port)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.mail_dir);
    }
}

pub fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// GraphQL over HTTP; panics on transport errors and on GraphQL errors.
pub async fn graphql(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(url)
        .header("accept", "application/json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response: Value = request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert!(response.get("errors").is_none(), "{query}: {response}");
    response["data"].clone()
}

/// Signs a demo user in: password, then the code from the mail outbox (the server runs
/// without a mail sender, so the outbox keeps the body).
pub async fn sign_in(
    client: &reqwest::Client,
    url: &str,
    database_url: &str,
    user: &str,
) -> String {
    let data = graphql(
        client,
        url,
        None,
        "mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId } }",
        json!({ "u": user, "p": vsys::identity::demo::DEMO_PASSWORD }),
    )
    .await;
    let challenge = data["signIn"]["challengeId"].as_str().unwrap().to_owned();
    let db = vsys::db::Db::connect(database_url).await.expect("database");
    let payload: String = sqlx::query_scalar(
        "SELECT payload FROM jobs WHERE kind = 'mail' AND reference = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(format!("{user}@demo.vsys.invalid"))
    .fetch_one(db.pool())
    .await
    .expect("the code mail");
    let payload: Value = serde_json::from_str(&payload).expect("a mail job");
    let body = payload["body"].as_str().unwrap_or_default().to_owned();
    db.close().await;
    let marker = "認証コードは ";
    let start = body.find(marker).expect("a code") + marker.len();
    let code = &body[start..start + 6];
    let data = graphql(
        client,
        url,
        None,
        "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token } }",
        json!({ "c": challenge, "code": code }),
    )
    .await;
    data["verifySecondFactor"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Requests per second that `concurrency` keep-alive clients posting `body` (a GraphQL request)
/// get through in `duration`.
pub async fn throughput(url: &str, body: &str, concurrency: usize, duration: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body.to_owned());
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (url, body, done) = (url.to_owned(), body.clone(), done.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                while started.elapsed() < duration {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("accept", "application/json")
                        .body(body.as_str().to_owned())
                        .send()
                        .await
                        .expect("request");
                    assert!(response.status().is_success());
                    response.bytes().await.expect("body");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Percentile of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// `--name value` from the command line (after cargo's own `--bench`).
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The databases to measure, from `--setups sqlite,postgres` (both by default), with their
/// names for the report; and the PostgreSQL server to create the benchmark databases on
/// (`--postgres-url`, `BENCH_POSTGRES_URL`, or the local one).
pub fn database_setups() -> (Vec<(&'static str, Backend)>, String) {
    let setups = arg("--setups").unwrap_or_else(|| "sqlite,postgres".into());
    let admin_url = arg("--postgres-url")
        .or_else(|| std::env::var("BENCH_POSTGRES_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let setups = setups
        .split(',')
        .map(|setup| match setup.trim() {
            "sqlite" => ("SQLite", Backend::Sqlite),
            "postgres" => ("PostgreSQL", Backend::Postgres),
            other => panic!("unknown setup {other:?} (sqlite, postgres)"),
        })
        .collect();
    (setups, admin_url)
}

/// The machine, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
