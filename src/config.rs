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
}

#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "VSYS_BODY_LIMIT", default_value_t = 256 * 1024)]
    pub body_limit: usize,

    /// Origins allowed to open a WebSocket (comma-separated, e.g. https://navi.example.jp).
    /// Empty allows every origin: credentials travel in `connection_init`, never in cookies.
    #[arg(long, env = "VSYS_ALLOWED_ORIGINS", value_delimiter = ',', num_args = 0..)]
    pub allowed_origins: Vec<String>,

    /// Seconds a WebSocket client has to send `connection_init`.
    #[arg(long, env = "VSYS_WS_INIT_TIMEOUT", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,

    /// Maximum selection depth of an operation.
    #[arg(long, env = "VSYS_MAX_DEPTH", default_value_t = Limits::default().max_depth)]
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
    #[arg(long, env = "VSYS_EVENT_POLL_SECS", default_value_t = 5)]
    pub event_poll_secs: u64,

    /// Seconds in-flight requests get to finish on shutdown.
    #[arg(long, env = "VSYS_SHUTDOWN_GRACE", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
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

    /// Checks the values clap cannot: ranges and origin syntax.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.body_limit >= 1024,
            "--body-limit must be at least 1024 bytes"
        );
        anyhow::ensure!(self.max_depth >= 2, "--max-depth must be at least 2");
        anyhow::ensure!(
            self.ws_init_timeout_secs >= 1,
            "--ws-init-timeout-secs must be at least 1 second"
        );
        anyhow::ensure!(
            self.event_poll_secs >= 1,
            "--event-poll-secs must be at least 1 second"
        );
        for origin in &self.allowed_origins {
            anyhow::ensure!(
                origin.starts_with("http://") || origin.starts_with("https://"),
                "allowed origin {origin:?} must start with http:// or https://"
            );
        }
        Ok(())
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
