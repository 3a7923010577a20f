//! The Gatehouse host: configuration, database, router and the admin commands.

mod admin;
mod assets;
mod config;
mod db;
mod handlers;
mod http;
mod keyfile;
mod metrics;
mod middleware;
mod responses;
mod serve;
mod workers;

use std::{io::IsTerminal, net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use app::auth::{
    adapters::{
        oidc_clients::Clients, password_hasher::PasswordHasher, providers::Providers,
        relying_party::RelyingParty,
    },
    kernel::{
        clock::{Clock, SystemClock},
        public_url::PublicUrl,
        random::OsEntropy,
    },
    services::{AuthConfig, Services},
};
use clap::Parser;
use config::{Cli, Command, Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Rendering a page makes thousands of small allocations, which glibc's malloc serves
/// markedly slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.config.log_format);
    // Test builds read `FAILPOINTS` to inject crashes and errors; in other builds the
    // fail points compile to nothing and this reads no variable.
    let _failpoints = fail::FailScenario::setup();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; stdout carries only the "listening" line that scripts read. Colours
/// only on a terminal: a file or a journal would keep the escape codes.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

async fn run(mut cli: Cli) -> anyhow::Result<()> {
    let file = match &cli.config.config_file {
        Some(path) => config::read_file(path)?,
        None => config::FileSettings::default(),
    };
    // Flags and environment variables win over the file.
    if cli.config.public_url.is_none() {
        cli.config.public_url = file.public_url;
    }
    let config = &cli.config;
    let clients =
        Clients::from_settings(file.clients).with_context(|| match &config.config_file {
            Some(path) => format!("in the config file {}", path.display()),
            None => "setting up clients".to_owned(),
        })?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .with_context(|| format!("cannot listen on {}", config.addr))?;
            let public_url = public_url(config, listener.local_addr()?)?;
            let providers = Providers::connect(file.providers, &public_url)
                .await
                .with_context(|| match &config.config_file {
                    Some(path) => format!("in the config file {}", path.display()),
                    None => "setting up sign-in providers".to_owned(),
                })?;
            let services = services(config, public_url, providers, clients).await?;
            serve::serve(config, listener, Arc::new(services)).await
        }
        Command::Admin { action } => {
            let public_url = public_url(config, config.addr)?;
            // Operators' commands never send anyone to a provider.
            let services = services(config, public_url, Providers::default(), clients).await?;
            admin::run(&services, action).await
        }
    }
}

/// `--public-url`, or `http://` and the address actually bound, so a server started on
/// port 0 still knows its own origin.
fn public_url(config: &Config, bound: SocketAddr) -> anyhow::Result<PublicUrl> {
    match &config.public_url {
        Some(url) => Ok(PublicUrl::parse(url)?),
        None => {
            if config.secure_cookies || !config.trusted_proxies.is_empty() {
                tracing::warn!(
                    %bound,
                    "behind a proxy without --public-url: redirects and the same-site check \
                     use http://{bound}; set --public-url to the address people use"
                );
            }
            if bound.ip().is_unspecified() {
                tracing::warn!(
                    %bound,
                    "listening on every address without --public-url: form posts from \
                     browsers that send no Sec-Fetch-Site header will be refused"
                );
            }
            Ok(PublicUrl::parse(&format!("http://{bound}"))?)
        }
    }
}

async fn services(
    config: &Config,
    public_url: PublicUrl,
    providers: Providers,
    clients: Clients,
) -> anyhow::Result<Services> {
    let (db, commits, reads, backend) = db::connect(&config.database_url).await?;
    let accounts = db::account_count(&db).await?;
    let master = keyfile::load_or_create(&config.secret_key_file, accounts)?;
    let keys = app::auth::guards::server_key::load(&db, &master, SystemClock.now(), &OsEntropy)
        .await
        .with_context(|| {
            format!(
                "checking the server key {}",
                config.secret_key_file.display()
            )
        })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let services = Services {
        db,
        backend,
        commits,
        reads,
        keys,
        hasher: PasswordHasher::with_max_wait(
            cores,
            Duration::from_millis(config.password_max_wait_ms),
        )
        .context("setting up password hashing")?,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsEntropy),
        config: AuthConfig {
            issuer: config.issuer.clone(),
            secure_cookies: config.secure_cookies,
            trusted_proxies: config.trusted_proxies.clone(),
            session_max_age_secs: i64::from(config.session_max_age) * 24 * 3600,
            sign_ups_per_hour: i64::from(config.sign_ups_per_hour),
            public_url: public_url.clone(),
            require_two_factor: config.require_two_factor,
        },
        providers,
        clients,
        passkeys: RelyingParty::for_public_url(&public_url, &config.issuer),
    };
    Ok(services)
}
