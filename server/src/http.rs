//! The router: the routes, and the layers every request passes through, in order.

use std::time::Duration;

use app::{
    http::state::AppState,
    shared::{error::UNAVAILABLE_RETRY_SECS, paths},
    shell, App,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        predicate::{NotForContentType, Predicate},
        CompressionLayer, CompressionLevel, DefaultPredicate,
    },
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
    trace::TraceLayer,
};

use crate::{
    assets,
    handlers::{codes_download, social},
    middleware::{
        answer_panic, guard_pages, keep_redirects_on_site, reject_cross_site, resolve_session,
        security_headers, word_panic_answer,
    },
};

/// No form of ours comes near this; anything larger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// A body that goes quiet this long is cut off, however long the request may take.
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Two years, as hstspreload.org recommends; sent only when cookies are `Secure`, that
/// is when the operator says Gatehouse is served over TLS.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");

/// How the router is built, from the command line.
pub struct Options {
    /// Adds the per-request counters; without an exporter they would only cost
    /// allocations on every request.
    pub record_metrics: bool,
    /// The most one request may take, its body included: a client that trickles its body
    /// cannot hold a connection open for long.
    pub request_timeout: Duration,
}

pub fn router(state: AppState, options: Options) -> Router {
    let secure = state.services.config.secure_cookies;
    let routes = generate_route_list(App);
    let pkg = std::path::Path::new(&*state.leptos_options.site_root)
        .join(&*state.leptos_options.site_pkg_dir);
    Router::new()
        .nest_service("/pkg", assets::router(&pkg))
        .route(paths::HEALTH, get(|| async { "ok" }))
        .route(paths::READY, get(readyz))
        .route(paths::PROVIDER_START, axum::routing::post(social::start))
        .route(paths::PROVIDER_CALLBACK, get(social::callback))
        .route(
            paths::CODES_DOWNLOAD,
            axum::routing::post(codes_download::download),
        )
        .leptos_routes_with_context(&state, routes, leptos::nonce::provide_nonce, {
            let options = (*state.leptos_options).clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(leptos::nonce::provide_nonce, shell))
        .layer(from_fn_with_state(state.clone(), guard_pages))
        .layer(from_fn_with_state(state.clone(), resolve_session))
        .layer(from_fn_with_state(state.clone(), keep_redirects_on_site))
        .layer(from_fn_with_state(state.clone(), reject_cross_site))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(from_fn(word_panic_answer))
        .layer(from_fn(security_headers))
        .layer(tower::util::option_layer(secure.then(|| {
            SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HSTS)
        })))
        // Pages and answers are a few kilobytes, made fresh for each request: the lowest
        // quality sends a little more of each than the default for a fraction of its
        // server time. The bundle is compressed once, at build time, at the highest
        // quality.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(1))
                .compress_when(
                    DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")),
                ),
        )
        .layer(tower::util::option_layer(
            options
                .record_metrics
                .then(|| from_fn(crate::metrics::record_request)),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(finish_span),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// One span per request: method, route, path (never the query, which may carry a `next`
/// URL or an error), the request id that is also sent back as `x-request-id`, and once
/// answered, the status and latency.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %crate::metrics::route_label(req),
        path = %req.uri().path(),
        request_id = %id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn finish_span(response: &Response, latency: Duration, span: &tracing::Span) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", response.status().as_u16());
    span.record("latency_ms", latency_ms);
    tracing::info!(status = response.status().as_u16(), latency_ms, "answered");
}

async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.services.db).await {
        Ok(_) => "ready".into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS)],
                "database unreachable",
            )
                .into_response()
        }
    }
}
