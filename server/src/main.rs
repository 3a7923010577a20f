//! The Gatehouse host: configuration, database, router and the admin commands.

mod admin;
mod assets;
mod codes_download;
mod config;
mod db;
mod http;
mod keyfile;
mod metrics;
mod responses;
mod social;

use std::{io::IsTerminal, net::SocketAddr, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use app::{
    auth::{
        clock::{Clock, SystemClock},
        mail::Mailer,
        passkeys::RelyingParty,
        password::PasswordHasher,
        social::Providers,
        AuthConfig, Services,
    },
    http::state::AppState,
    redirect::PublicUrl,
};
use clap::Parser;
use config::{Cli, Command, Config, LogFormat};
use leptos::prelude::LeptosOptions;
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
            let services = services(config, public_url, providers).await?;
            serve(config, listener, Arc::new(services)).await
        }
        Command::Admin { action } => {
            let public_url = public_url(config, config.addr)?;
            // Operators' commands never send anyone to a provider.
            let services = services(config, public_url, Providers::default()).await?;
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
) -> anyhow::Result<Services> {
    let (db, commits, reads, backend) = db::connect(&config.database_url).await?;
    let accounts = db::account_count(&db).await?;
    let master = keyfile::load_or_create(&config.secret_key_file, accounts)?;
    let keys = app::auth::server_key::load(&db, &master, SystemClock.now())
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
        passkeys: RelyingParty::for_public_url(&public_url, &config.issuer),
    };
    Ok(services)
}

async fn serve(
    config: &Config,
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
) -> anyhow::Result<()> {
    let backend = services.backend;
    let addr = listener.local_addr()?;
    let leptos_options = LeptosOptions::builder()
        .output_name("gatehouse")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    tokio::spawn(sweep(services.clone()));
    let mailer = Mailer::new(config.smtp_url.as_deref(), &config.mail_from)?;
    let mail = if mailer.delivers() {
        "smtp"
    } else {
        tracing::warn!("no --smtp-url: mail is not delivered, only written to this log");
        "not delivered (written to the log)"
    };
    tokio::spawn(send_mail(services.clone(), backend, mailer));
    if let Some(metrics_addr) = config.metrics_addr {
        let bound = metrics::serve(metrics_addr).await?;
        tracing::info!(addr = %bound, "metrics at /metrics");
    }
    let db = services.db.clone();
    let public_url = services.config.public_url.as_url().to_string();
    let providers: Vec<&str> = services.providers.iter().map(|p| p.id.as_str()).collect();
    let providers = providers.join(",");
    // Browsers take no IP address as a passkey's site: say so rather than fail later.
    let services_passkeys = if services.passkeys.available() {
        "on"
    } else {
        "off (the public URL has no host name)"
    };
    let state = AppState {
        leptos_options: Arc::new(leptos_options),
        services,
    };
    let router = http::router(
        state,
        http::Options {
            record_metrics: config.metrics_addr.is_some(),
            request_timeout: Duration::from_secs(config.request_timeout_secs),
        },
    );
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        %addr,
        %public_url,
        ?backend,
        issuer = %config.issuer,
        %providers,
        mail,
        passkeys = services_passkeys,
        "Gatehouse started"
    );
    // Tests and scripts read this line to learn the port when started on port 0.
    println!("Gatehouse listening on http://{addr}");

    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing the requests in flight");
        let _ = stop.send(true);
    });
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stopping.clone()));
    let drain_deadline = async {
        stopped(stopping).await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::select! {
        served = server => served.context("serving HTTP")?,
        () = drain_deadline => tracing::warn!(?DRAIN, "requests still running; ending them"),
    }
    // Connections of requests cut off above may never be returned; do not wait for them.
    if tokio::time::timeout(DRAIN, db.close()).await.is_err() {
        tracing::warn!("the database pool did not close in time");
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long requests in flight may run on after SIGTERM before they are cut off.
const DRAIN: Duration = Duration::from_secs(10);

async fn stopped(mut stopping: tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Deletes expired sessions, enrollments and code handoffs and stale throttle counters at
/// start and every few minutes after, so no table grows without bound.
async fn sweep(services: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        match app::auth::sweep::run(&services).await {
            Ok(swept) if swept.total() == 0 => {}
            Ok(swept) => tracing::info!(
                sessions = swept.sessions,
                throttles = swept.throttles,
                enrollments = swept.enrollments,
                handoffs = swept.handoffs,
                social_flows = swept.social_flows,
                mail = swept.mail,
                devices = swept.devices,
                ceremonies = swept.ceremonies,
                "removed expired rows"
            ),
            Err(err) => tracing::warn!(error = %err, "could not remove expired rows"),
        }
    }
}

/// Sends what the outbox holds, now and every second after; every instance does, and a
/// claim keeps two from sending one message.
async fn send_mail(services: Arc<Services>, backend: app::store::Backend, mailer: Mailer) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app::auth::mail::outbox::deliver_due(&services, backend, &mailer).await {
            Ok(pass) if pass.sent + pass.failed > 0 => {
                tracing::info!(sent = pass.sent, failed = pass.failed, "mail sent")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not read the outbox"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut sig) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            sig.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
