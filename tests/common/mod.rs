//! Test harness: every test starts its own server on port 0 with its own database — a fresh
//! SQLite file, or, when `TEST_DATABASE_URL` is set, a fresh PostgreSQL database.

#![allow(dead_code)]

pub mod allocation;
pub mod api;
pub mod db;
pub mod documents;
pub mod reservations;
pub mod ws;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vsys::config::ServeArgs;
use vsys::http::AppState;
use vsys::server::Server;

/// A database owned by one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("vsys_t_{}", uuid::Uuid::now_v7().simple());
                let admin = postgres_admin(&admin_url).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let url = replace_database(&admin_url, &name);
                TestDb {
                    url,
                    _dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("vsys.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Dropping runs outside the test's runtime, which may be shutting down.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let admin = postgres_admin(&admin_url).await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                });
            })
            .join();
        }
    }
}

async fn postgres_admin(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::pool::PoolOptions::<sqlx::Any>::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("TEST_DATABASE_URL must reach PostgreSQL")
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// The TOTP key of PostgreSQL test servers (32 bytes of 0x11, base64).
pub const TEST_TOTP_KEY: &str = "ERERERERERERERERERERERERERERERERERERERERERE=";

/// Server arguments as the command line gives them, plus `extra` flags.
pub fn serve_args(database_url: &str, extra: &[&str]) -> ServeArgs {
    #[derive(Parser)]
    #[command(args_override_self = true)]
    struct Wrapper {
        #[command(flatten)]
        serve: ServeArgs,
    }
    // Mail goes to a folder of the test's own.
    let mail_dir =
        std::env::temp_dir().join(format!("vsys-mail-{}", uuid::Uuid::now_v7().simple()));
    let mail_dir: &'static str = Box::leak(mail_dir.display().to_string().into_boxed_str());
    // No background mail sender: tests read codes from the outbox (bodies are erased once
    // sent), and the mail tests drain it themselves.
    let mut argv = vec![
        "vsys",
        "--mail-worker",
        "false",
        "--mail-dir",
        mail_dir,
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--demo",
        "--event-poll-secs",
        "1",
        "--shutdown-grace-secs",
        "2",
        // Tests send anonymous requests faster than residents; the limit's own test lowers it.
        "--public-rate-per-ip",
        "1000000",
    ];
    // PostgreSQL needs the TOTP key configured (SQLite tests use the key file generated beside
    // their database).
    if database_url.starts_with("postgres") {
        argv.extend_from_slice(&["--totp-key", TEST_TOTP_KEY]);
    }
    argv.extend_from_slice(extra);
    Wrapper::parse_from(argv).serve
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub db: Option<TestDb>,
}

/// Sign-in limits no test reaches.
pub const FREE_SIGN_IN: [&str; 4] = [
    "--sign-in-rate-per-ip",
    "100000",
    "--sign-in-rate-per-account",
    "100000",
];

impl TestServer {
    /// A server with the demo data on a fresh database.
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> TestServer {
        let db = TestDb::new().await;
        let mut server = Self::start_on(&db.url, extra).await;
        server.db = Some(db);
        server
    }

    /// A server with the demo data whose sign-in limits let a test sign many users in (or
    /// ask about many names) from one address.
    pub async fn start_signing_in_freely() -> TestServer {
        Self::start_with(&FREE_SIGN_IN).await
    }

    /// A server on an existing database (a second instance, say).
    pub async fn start_on(database_url: &str, extra: &[&str]) -> TestServer {
        let server = Server::build(&serve_args(database_url, extra))
            .await
            .expect("server starts");
        let addr = server.local_addr();
        let state = server.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            state,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            db: None,
        }
    }

    /// Moves the server's clock forward: everything in the server reads the time from it.
    pub fn advance_clock(&self, by: time::Duration) {
        self.state.db.clock().advance(by);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A plain GET of `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Runs an operation over HTTP POST and returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        assert!(
            response.status().is_success() || response.status() == 400,
            "unexpected status {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }

    /// Runs an operation that must fail and returns the first error's code.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let response = self.graphql(query, variables).await;
        let errors = response["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected errors: {response}"));
        for error in errors {
            assert!(
                error["extensions"]["code"].is_string(),
                "error without a code: {error}"
            );
        }
        errors[0]["extensions"]["code"].as_str().unwrap().to_owned()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    /// Runs an operation as the holder of `token` and returns the whole JSON response.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// Runs an operation as the holder of `token` with extra request headers (e.g.
    /// `Idempotency-Key`); returns the HTTP status and the whole JSON response.
    pub async fn graphql_with_headers(
        &self,
        token: &str,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Runs an operation without signing in; returns the HTTP status (whatever it is) and the
    /// whole JSON response.
    pub async fn anonymous_post(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// The newest mail sent to `address` (read from the job queue, whatever the worker did).
    pub async fn last_mail_to(&self, address: &str) -> String {
        let payload = sqlx::query_scalar::<_, String>(
            "SELECT payload FROM jobs WHERE kind = 'mail' AND reference = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(address)
        .fetch_one(self.state.db.pool())
        .await
        .expect("a mail was sent");
        let payload: Value = serde_json::from_str(&payload).expect("a mail job's payload");
        payload["body"].as_str().expect("a body").to_owned()
    }

    /// The six-digit code in the newest mail to `address`.
    pub async fn last_code_to(&self, address: &str) -> String {
        let body = self.last_mail_to(address).await;
        let start = body.find("認証コードは ").expect("a code mail") + "認証コードは ".len();
        body[start..start + 6].to_owned()
    }

    /// Step one of signing in; returns the challenge id.
    pub async fn sign_in_step_one(&self, username: &str, password: &str) -> Value {
        self.graphql(
            "mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { challengeId method expiresAt } }",
            json!({ "u": username, "p": password }),
        )
        .await
    }

    /// Signs a demo user in with the e-mailed code and returns the session token.
    pub async fn sign_in(&self, username: &str) -> String {
        let response = self
            .sign_in_step_one(username, vsys::identity::demo::DEMO_PASSWORD)
            .await;
        let challenge = response["data"]["signIn"]["challengeId"]
            .as_str()
            .unwrap_or_else(|| panic!("signIn failed: {response}"))
            .to_owned();
        let code = self
            .last_code_to(&format!("{username}@demo.vsys.invalid"))
            .await;
        let response = self
            .graphql(
                "mutation($c: String!, $code: String!) { verifySecondFactor(challengeId: $c, code: $code) { token } }",
                json!({ "c": challenge, "code": code }),
            )
            .await;
        response["data"]["verifySecondFactor"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("verifySecondFactor failed: {response}"))
            .to_owned()
    }

    /// Opens a websocket on `/graphql` with the given subprotocol.
    pub async fn websocket(&self, protocol: Option<&str>) -> WsClient {
        let mut request = format!("ws://{}/graphql", self.addr)
            .into_client_request()
            .unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocol.parse().unwrap());
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        WsClient { stream }
    }
}

pub struct WsClient {
    pub stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// What the server sent next.
#[derive(Debug)]
pub enum WsEvent {
    Json(Value),
    Closed(u16, String),
}

impl WsClient {
    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("send");
    }

    /// The next message or close, waiting at most 10 seconds.
    pub async fn next(&mut self) -> WsEvent {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("the server answers within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return WsEvent::Json(serde_json::from_str(&text).unwrap());
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return WsEvent::Closed(code, reason);
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return WsEvent::Closed(1006, String::new()),
            }
        }
    }

    pub async fn next_json(&mut self) -> Value {
        match self.next().await {
            WsEvent::Json(value) => value,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The close code the server sends next (messages before it are skipped).
    pub async fn close_code(&mut self) -> u16 {
        loop {
            if let WsEvent::Closed(code, _) = self.next().await {
                return code;
            }
        }
    }

    /// `connection_init` and the server's `connection_ack` (graphql-transport-ws).
    pub async fn init(&mut self) {
        self.send(json!({ "type": "connection_init" })).await;
        assert_eq!(self.next_json().await["type"], "connection_ack");
    }

    /// `connection_init` with a session token, and the server's `connection_ack`.
    pub async fn init_as(&mut self, token: &str) {
        self.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(self.next_json().await["type"], "connection_ack");
    }
}
