//! Serving HTTP: the router on the bound listener, the background workers beside it, and
//! a graceful stop on SIGTERM or Ctrl-C.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use app::{
    auth::{adapters::mailer::Mailer, services::Services},
    http::state::AppState,
};
use leptos::prelude::LeptosOptions;

use crate::{config::Config, http, metrics, workers};

/// Serves until SIGTERM or Ctrl-C, then lets the requests in flight finish for up to
/// [`DRAIN`] before closing the database.
pub async fn serve(
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
    tokio::spawn(workers::sweep(services.clone()));
    let mailer = Mailer::new(config.smtp_url.as_deref(), &config.mail_from)?;
    let mail = if mailer.delivers() {
        "smtp"
    } else {
        tracing::warn!("no --smtp-url: mail is not delivered, only written to this log");
        "not delivered (written to the log)"
    };
    tokio::spawn(workers::send_mail(services.clone(), backend, mailer));
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
