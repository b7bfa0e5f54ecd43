//! Command line and environment: every flag also reads an environment variable. Invalid
//! values stop start-up with a one-line message.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::graphql::Limits;

#[derive(Debug, Parser)]
#[command(
    name = "vsys",
    version,
    about = "V-SYS: vaccine allocation, delivery and navigator — GraphQL server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server (HTTP and WebSocket on /graphql, playground on /).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load data into the database.
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://FILE (embedded, default) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://vsys.db")]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VSYS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Seed the demo data when the database is empty.
    #[arg(long, env = "VSYS_DEMO")]
    pub demo: bool,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub navigator: NavigatorArgs,

    #[command(flatten)]
    pub documents: DocumentArgs,
}

/// Generated documents and the job queue that makes them.
#[derive(Debug, Clone, Args)]
pub struct DocumentArgs {
    /// Days a download link of a generated file stays valid.
    #[arg(long, env = "VSYS_DOWNLOAD_LINK_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=90))]
    pub download_link_days: u32,

    /// Days generated documents with personal data (questionnaires, claims) are kept; then
    /// they are deleted. At least the download links' validity.
    #[arg(long, env = "VSYS_GENERATED_FILE_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub generated_file_days: u32,

    /// Questionnaire pages per generated file (each file is one transaction: a crash redoes
    /// at most one file).
    #[arg(long, env = "VSYS_QUESTIONNAIRE_BATCH", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub questionnaire_batch: u32,

    /// Seconds a worker holds a job without reporting progress; after that a job whose worker
    /// died is taken up by another (or by this one after a restart).
    #[arg(long, env = "VSYS_JOB_LEASE_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub job_lease_secs: u32,
}

/// The public navigator.
#[derive(Debug, Clone, Args)]
pub struct NavigatorArgs {
    /// Days after which an EXTERNAL venue's declared status shows as unconfirmed ("call to
    /// confirm").
    #[arg(long, env = "VSYS_DECLARATION_MAX_AGE_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub declaration_max_age_days: u32,

    /// Milliseconds a navigator search's answer is shared between callers; every change of
    /// availability invalidates it at once (0 turns the cache off).
    #[arg(long, env = "VSYS_NAVIGATOR_CACHE_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub navigator_cache_ms: u64,
}

/// Accounts, sign-in and mail. The defaults are the seed document's rules.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// SMTP server for outgoing mail, e.g. smtps://user:pass@mail.example.jp. Without it every
    /// message is written as an .eml file to --mail-dir.
    #[arg(long, env = "VSYS_SMTP_URL", value_parser = smtp_url)]
    pub smtp_url: Option<String>,

    /// Folder for .eml files when no SMTP server is configured.
    #[arg(long, env = "VSYS_MAIL_DIR", default_value = "mail")]
    pub mail_dir: std::path::PathBuf,

    /// Run the job runner (mail, document batches) in this instance. Several instances on one
    /// PostgreSQL may all run it: each job is claimed by one. A test may also drain the queue
    /// itself.
    #[arg(long, alias = "job-worker", env = "VSYS_MAIL_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub mail_worker: bool,

    /// Sender of outgoing mail.
    #[arg(
        long,
        env = "VSYS_MAIL_FROM",
        default_value = "V-SYS <no-reply@vsys.invalid>"
    )]
    pub mail_from: String,

    /// Public address of the web front end, used in set-up links.
    #[arg(long, env = "VSYS_PUBLIC_URL", default_value = "http://127.0.0.1:8080", value_parser = http_url)]
    pub public_url: String,

    /// Key that encrypts authenticator (TOTP) secrets in the database: 32 bytes as base64 or
    /// hex (`openssl rand -base64 32`), the same on every instance. Required with PostgreSQL;
    /// with an SQLite file and no key, one is generated beside the file (`<file>.totp-key`).
    #[arg(long, env = "VSYS_TOTP_KEY", hide_env_values = true)]
    pub totp_key: Option<TotpKey>,

    /// Earlier TOTP keys (comma-separated), used only to read secrets while start-up
    /// re-encrypts them under --totp-key: how the key is rotated.
    #[arg(
        long,
        env = "VSYS_TOTP_OLD_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub totp_old_keys: Vec<TotpKey>,

    /// Require an authenticator app (TOTP) as the second factor; e-mailed codes then only
    /// serve to enrol one.
    #[arg(long, env = "VSYS_REQUIRE_TOTP")]
    pub require_totp: bool,

    /// Minutes without activity after which a session ends.
    #[arg(long, env = "VSYS_SESSION_IDLE_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub session_idle_minutes: i64,

    /// Hours after which a session ends whatever the activity.
    #[arg(long, env = "VSYS_SESSION_LIFETIME_HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub session_lifetime_hours: i64,

    /// Consecutive failures (password or code) that lock an account.
    #[arg(long, env = "VSYS_LOCKOUT_THRESHOLD", default_value_t = 10,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub lockout_threshold: i64,

    /// Minutes an account stays locked.
    #[arg(long, env = "VSYS_LOCKOUT_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub lockout_minutes: i64,

    /// Days after which a password must be changed (3 months).
    #[arg(long, env = "VSYS_PASSWORD_EXPIRY_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub password_expiry_days: i64,

    /// Minutes an e-mailed code stays valid.
    #[arg(long, env = "VSYS_EMAIL_CODE_MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub email_code_minutes: i64,

    /// Hours a set-up link stays valid.
    #[arg(long, env = "VSYS_SETUP_LINK_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub setup_link_hours: i64,

    /// Sign-in attempts allowed per client address per minute.
    #[arg(long, env = "VSYS_SIGNIN_RATE_PER_IP", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_rate_per_ip: u32,

    /// Sign-in attempts allowed per account per minute.
    #[arg(long, env = "VSYS_SIGNIN_RATE_PER_ACCOUNT", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_rate_per_account: u32,
}

impl Default for AuthArgs {
    fn default() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            auth: AuthArgs,
        }
        Wrapper::parse_from(["vsys"]).auth
    }
}

#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "VSYS_BODY_LIMIT", default_value_t = 256 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub body_limit: usize,

    /// Largest accepted file upload (a multipart request, e.g. a CSV import), in bytes.
    #[arg(long, env = "VSYS_UPLOAD_LIMIT", default_value_t = 10 * 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub upload_limit: usize,

    /// Origins allowed to open a WebSocket from a browser (comma-separated, e.g.
    /// https://navi.example.jp). Empty allows every origin: credentials travel in
    /// `connection_init`, never in cookies. Clients that send no Origin (not browsers) are
    /// always admitted: only browsers send one, so refusing them would protect nothing.
    #[arg(long, env = "VSYS_ALLOWED_ORIGINS", value_delimiter = ',', num_args = 0..,
          value_parser = origin)]
    pub allowed_origins: Vec<String>,

    /// Seconds a WebSocket client has to send `connection_init`.
    #[arg(long, env = "VSYS_WS_INIT_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_init_timeout_secs: u64,

    /// Seconds between a signed-in websocket's checks that its session has not expired.
    #[arg(long, env = "VSYS_WS_SESSION_CHECK_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_session_check_secs: u64,

    /// Messages a websocket client may send per second (bursts of twice as many pass); a
    /// client that floods is closed with 1008.
    #[arg(long, env = "VSYS_WS_MESSAGE_RATE", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub ws_message_rate: u32,

    /// Maximum selection depth of an operation.
    #[arg(long, env = "VSYS_MAX_DEPTH", default_value_t = Limits::default().max_depth,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..))]
    pub max_depth: usize,

    /// Maximum complexity (fields weighted by list size) of an operation.
    #[arg(long, env = "VSYS_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity)]
    pub max_complexity: usize,

    /// Maximum number of aliases in one document.
    #[arg(long, env = "VSYS_MAX_ALIASES", default_value_t = Limits::default().max_aliases)]
    pub max_aliases: usize,

    /// Turn schema introspection off (recommended in production).
    #[arg(long, env = "VSYS_DISABLE_INTROSPECTION")]
    pub disable_introspection: bool,

    /// Seconds between the event dispatcher's safety-net reads of the outbox.
    #[arg(long, env = "VSYS_EVENT_POLL_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub event_poll_secs: u64,

    /// Requests per minute one IP address may send to /graphql without signing in (the
    /// navigator's anonymous traffic); beyond it, 429.
    #[arg(long, env = "VSYS_PUBLIC_RATE_PER_IP", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub public_rate_per_ip: u32,

    /// Largest response, in bytes, sent to a caller who is not signed in; a larger answer is
    /// refused (RESPONSE_TOO_LARGE) so that anonymous traffic cannot pull bulk data.
    #[arg(long, env = "VSYS_PUBLIC_RESPONSE_LIMIT", default_value_t = 1024 * 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub public_response_limit: usize,

    /// Seconds in-flight requests get to finish on shutdown.
    #[arg(long, env = "VSYS_SHUTDOWN_GRACE", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Map tiles for the navigator's map, as a URL template with `{z}`, `{x}` and `{y}`
    /// (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png). Without it the navigator shows
    /// its list only: no page of vsys reaches another host unless configured to.
    #[arg(long, env = "VSYS_MAP_TILE_URL", value_parser = tile_url)]
    pub map_tile_url: Option<String>,

    /// The attribution the tile provider requires, shown on the map.
    #[arg(
        long,
        env = "VSYS_MAP_ATTRIBUTION",
        default_value = "© OpenStreetMap contributors"
    )]
    pub map_attribution: String,
}

impl HttpArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            introspection: !self.disable_introspection,
        }
    }

    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_init_timeout_secs)
    }
}

impl Default for HttpArgs {
    fn default() -> Self {
        HttpArgs::parse_from_defaults()
    }
}

impl HttpArgs {
    /// The defaults as the command line would give them (tests start servers this way).
    fn parse_from_defaults() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            http: HttpArgs,
        }
        Wrapper::parse_from(["vsys"]).http
    }
}

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Load the seed document's worked example (Tokyo, Kanagawa, demo facilities).
    #[arg(long, env = "VSYS_DEMO")]
    pub demo: bool,

    /// Load scale data: 47 prefectures, 1,741 municipalities, 50,000 facilities.
    #[arg(long, value_enum, env = "VSYS_SYNTHETIC")]
    pub synthetic: Option<SyntheticScale>,

    /// Seed of the synthetic data's random generator (same seed, same data).
    #[arg(long, env = "VSYS_RANDOM_SEED", default_value_t = 2021)]
    pub random_seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SyntheticScale {
    /// The whole country.
    National,
}

/// An `http(s)://` address, without a trailing slash (links are built by appending paths).
fn http_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http:// or https:// address".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A map-tile URL template: http(s), with the `{z}`, `{x}` and `{y}` placeholders.
fn tile_url(text: &str) -> Result<String, String> {
    for placeholder in ["{z}", "{x}", "{y}"] {
        if !text.contains(placeholder) {
            return Err(format!("must contain {placeholder}"));
        }
    }
    http_url(&text.replace(['{', '}'], ""))?;
    Ok(text.to_owned())
}

impl HttpArgs {
    /// The origin (scheme, host, port) the map tiles come from, for the pages' policy.
    pub fn map_tile_origin(&self) -> Option<String> {
        let template = self.map_tile_url.as_deref()?;
        let url = url::Url::parse(&template.replace(['{', '}'], "")).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

/// An `smtp://` or `smtps://` address (lettre reads the rest).
fn smtp_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") || url.host().is_none() {
        return Err("must be an smtp:// or smtps:// address".into());
    }
    Ok(text.to_owned())
}

/// A browser origin (`https://navi.example.jp`), in the form browsers send in `Origin`:
/// scheme and host in lower case, no default port, no path.
fn origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not an origin: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("an origin is http:// or https:// and a host".into());
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err("an origin has no path or query".into());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn origins_are_normalised_as_browsers_send_them() {
        assert_eq!(
            origin("HTTPS://Navi.Example.JP:443/").unwrap(),
            "https://navi.example.jp"
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "navi.example.jp",
            "ftp://x.jp",
            "https://x.jp/path",
            "https://x.jp/?q",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_tiles_need_the_three_placeholders_and_http() {
        let template = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
        assert_eq!(tile_url(template).unwrap(), template);
        for bad in [
            "https://tile.example.jp/{z}/{x}.png",
            "ftp://tile.example.jp/{z}/{x}/{y}.png",
            "{z}/{x}/{y}.png",
        ] {
            assert!(tile_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_keep_their_scheme() {
        assert_eq!(
            http_url("https://vsys.example.jp/").unwrap(),
            "https://vsys.example.jp"
        );
        assert!(http_url("vsys.example.jp").is_err());
        assert!(smtp_url("smtps://u:p@mail.example.jp").is_ok());
        assert!(smtp_url("http://mail.example.jp").is_err());
    }
}

/// Bytes of a TOTP key.
pub const KEY_BYTES: usize = 32;

/// The key that seals authenticator secrets (`--totp-key`): 32 bytes, given as base64 (44
/// characters) or hex (64). Never printed; its [`TotpKey::id`] names it in logs and stored values.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpKey([u8; KEY_BYTES]);

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TotpKey({})", self.id())
    }
}

impl std::str::FromStr for TotpKey {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .ok()
        };
        bytes
            .and_then(|b| <[u8; KEY_BYTES]>::try_from(b).ok())
            .map(TotpKey)
            .ok_or_else(|| {
                "a TOTP key is 32 bytes, as base64 or hex (e.g. `openssl rand -base64 32`)".into()
            })
    }
}

impl TotpKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> TotpKey {
        TotpKey(bytes)
    }

    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The key as written to a key file (base64).
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// A short public name of the key: the first 8 hex digits of a domain-separated hash.
    pub fn id(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::new()
            .chain_update(b"vsys totp key id\0")
            .chain_update(self.0)
            .finalize();
        hex::encode(&digest[..4])
    }
}
