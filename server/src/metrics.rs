//! Prometheus metrics: per-route request counts and latencies here, the domain's series
//! in `app::auth::kernel::metrics`. Off unless `--metrics-addr` is given; then they are served on
//! that separate address, which operators keep off the public internet.

use std::{net::SocketAddr, time::Instant};

use anyhow::Context;
use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
    routing::get,
    Router,
};
use metrics::{counter, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "gatehouse_http_requests_total";
const REQUEST_SECONDS: &str = "gatehouse_http_request_duration_seconds";
/// From well under a millisecond (a cached asset) to the multi-second tail of a sign-in
/// waiting for argon2 under load.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the global recorder and serves `/metrics` on `addr`; returns the address
/// actually bound (port 0 picks a free one).
pub async fn serve(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), LATENCY_BUCKETS)
        .context("configuring the latency histogram")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(upkeep(handle.clone()));
    let app = Router::new().route("/metrics", get(move || async move { handle.render() }));
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

/// Histograms keep raw samples until they are drained; without a scrape they would grow.
async fn upkeep(handle: PrometheusHandle) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// Counts and times every request by method, route and status.
pub async fn record_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = route_label(&req);
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    histogram!(REQUEST_SECONDS, "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    counter!(REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}

/// The route pattern, never the raw path: a path chosen by a client must not create a
/// new series.
pub fn route_label(req: &Request) -> String {
    if let Some(matched) = req.extensions().get::<MatchedPath>() {
        return matched.as_str().to_owned();
    }
    if crate::assets::is_static_asset(req.uri().path()) {
        "static".to_owned()
    } else {
        "unmatched".to_owned()
    }
}
