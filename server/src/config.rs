//! Every setting in one place, from flags or the environment.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use app::auth::adapters::{oidc_clients::ClientSettings, provider_settings::ProviderSettings};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: accounts with two-factor authentication"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Account recovery for operators; every use is recorded in the account's activity.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Turn two-factor authentication off for someone who lost both their phone and
    /// their recovery codes, and end all their sessions.
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        /// The account's email address.
        email: String,
    },
    /// Require two-factor authentication of one account: without it, the account reaches
    /// only the enrollment after signing in, and it can no longer be turned off.
    #[command(name = "require-2fa")]
    RequireTwoFactor {
        /// The account's email address.
        email: String,
    },
    /// Re-seal every secret under a new server key, in one transaction. Stop every
    /// instance first; afterwards start them with `--secret-key-file NEW_FILE`.
    #[command(name = "rotate-key")]
    RotateKey {
        /// The new key: created (32 random bytes, mode 0600) unless it exists.
        new_file: PathBuf,
    },
    /// List the apps of the config file's `[[clients]]` that may sign people in through
    /// Gatehouse, with their redirect URIs; never their secrets.
    Clients,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// A TOML file with `public_url`, the `[[providers]]` people may sign in with and the
    /// `[[clients]]` that may sign people in through Gatehouse (see the README). Flags and environment variables win over the file.
    #[arg(long = "config", env = "GATEHOUSE_CONFIG")]
    pub config_file: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/gatehouse.db"
    )]
    pub database_url: String,

    /// The 32-byte server key that seals TOTP secrets and keys token hashes. Created with
    /// mode 0600 on first start if missing. Every instance must share the same key.
    #[arg(
        long,
        env = "GATEHOUSE_SECRET_KEY_FILE",
        default_value = "data/secret.key"
    )]
    pub secret_key_file: PathBuf,

    /// The name authenticator apps show next to the account.
    #[arg(long, env = "GATEHOUSE_ISSUER", default_value = "Gatehouse")]
    pub issuer: String,

    /// The URL people reach Gatehouse at, such as `https://accounts.example.com`: every
    /// redirect and the same-site check of form posts are built on it, never on the
    /// request's `Host`. Defaults to `http://` and the address listened on.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where mail goes: `smtp://user:pass@host:587` (STARTTLS when offered, or insist with
    /// `?tls=required`) or `smtps://user:pass@host:465` (implicit TLS). Without it, each
    /// message is written to the log instead of being delivered.
    #[arg(long, env = "GATEHOUSE_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of every message.
    #[arg(
        long,
        env = "GATEHOUSE_MAIL_FROM",
        default_value = "Gatehouse <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// How long one request may take, its body included, before it is answered 408.
    #[arg(long, env = "GATEHOUSE_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Mark cookies Secure (and `__Host-`) and send `Strict-Transport-Security`; turn on
    /// whenever Gatehouse is served over TLS.
    #[arg(long, env = "GATEHOUSE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Reverse proxies whose `X-Forwarded-For` header names the client (repeat the flag,
    /// or separate addresses with commas). Without it the peer address is the client.
    #[arg(
        long = "trusted-proxy",
        env = "GATEHOUSE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// How long a signed-in session may last, however active, in days; sessions also end
    /// after 30 days without use.
    #[arg(long, env = "GATEHOUSE_SESSION_MAX_AGE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_max_age: u32,

    /// Accounts one client address may create in an hour.
    #[arg(long, env = "GATEHOUSE_SIGN_UPS_PER_HOUR", default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub sign_ups_per_hour: u32,

    /// How long, in milliseconds, a password check may expect to queue for a core before
    /// it is turned away with 503 and `Retry-After` (unchecked and uncounted).
    #[arg(long, env = "GATEHOUSE_PASSWORD_MAX_WAIT_MS", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub password_max_wait_ms: u64,

    /// Require two-factor authentication of every account: one without it reaches only
    /// the enrollment after signing in, and nobody can turn it off.
    #[arg(long, env = "GATEHOUSE_REQUIRE_TWO_FACTOR")]
    pub require_two_factor: bool,

    /// `human` (the default) or `json`, one object per line for log collectors.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Serve Prometheus metrics at `http://ADDR/metrics` (off unless given). Keep this
    /// address private: it is not behind sign-in.
    #[arg(long, env = "GATEHOUSE_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Where the built site (the `pkg` folder with WASM, JS and CSS) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// What the config file may hold.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    public_url: Option<String>,
    #[serde(default)]
    providers: Vec<toml::Table>,
    #[serde(default)]
    clients: Vec<toml::Table>,
}

/// The config file's settings, checked.
#[derive(Debug, Default)]
pub struct FileSettings {
    pub public_url: Option<String>,
    pub providers: Vec<ProviderSettings>,
    pub clients: Vec<ClientSettings>,
}

/// Reads `--config`. Every mistake names the file, and the provider and key at fault.
pub fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|err| anyhow::anyhow!("cannot read the config file {where_}: {err}"))?;
    let file: FileConfig = toml::from_str(&text)
        .map_err(|err| anyhow::anyhow!("in the config file {where_}: {}", err.message()))?;
    let providers = tables(file.providers, "provider", "id", &where_)?;
    let clients = tables(file.clients, "client", "client_id", &where_)?;
    Ok(FileSettings {
        public_url: file.public_url,
        providers,
        clients,
    })
}

/// Each `[[…]]` table as `T`; a mistake names the table by its `id_key` (or its place)
/// and the key at fault.
fn tables<T: serde::de::DeserializeOwned>(
    tables: Vec<toml::Table>,
    what: &str,
    id_key: &str,
    where_: &impl std::fmt::Display,
) -> anyhow::Result<Vec<T>> {
    tables
        .into_iter()
        .enumerate()
        .map(|(i, table)| {
            let id = table
                .get(id_key)
                .and_then(|v| v.as_str())
                .map_or_else(|| format!("#{}", i + 1), |id| format!("\"{id}\""));
            T::deserialize(toml::Value::Table(table)).map_err(|err| {
                anyhow::anyhow!(
                    "in the config file {where_}: {what} {id}: {}",
                    err.message()
                )
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}
