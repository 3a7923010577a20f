//! Errors the host answers itself, outside any server function: refused before one runs,
//! a session that could not be resolved, a panic, a download that failed.

use app::shared::error::AppError;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// JSON for server functions, as they would have sent it, and the plain sentence for
/// pages, with `Retry-After` when waiting helps.
pub fn error_response(err: &AppError, path: &str) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = if path.starts_with(app::shared::paths::SERVER_FNS) {
        (status, axum::Json(err)).into_response()
    } else {
        (status, err.to_string()).into_response()
    };
    if let Some(secs) = err.retry_after() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}
