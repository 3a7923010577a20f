//! The recovery codes as a text file, made on the server for browsers without JavaScript.
//! A form POST (so no link prefetcher can spend it), answered once and never cached.

use app::{
    api::{
        ssr::RequestSession,
        two_factor::{RecoveryCodeSet, NEW_CODES_PATH},
    },
    auth::guards::{code_handoff, sessions::Stage},
    components::recovery_codes::{codes_file, DOWNLOAD_NAME},
    dates,
    state::AppState,
};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Redirect, Response},
    Extension,
};

pub async fn download(
    State(state): State<AppState>,
    Extension(RequestSession(session)): Extension<RequestSession>,
) -> Response {
    let Some(session) = session.filter(|s| s.stage == Stage::Full) else {
        return Redirect::to("/signin").into_response();
    };
    let taken = match code_handoff::take(&state.services, &session).await {
        Ok(taken) => taken,
        Err(err) => return crate::responses::error_response(&err.into(), DOWNLOAD_NAME),
    };
    // Already downloaded or expired: the page explains that and offers a new set.
    let Some(taken) = taken else {
        return Redirect::to(NEW_CODES_PATH).into_response();
    };
    let file = codes_file(&RecoveryCodeSet {
        codes: taken.codes,
        email: session.email,
        generated: dates::date_time(taken.generated_at),
    });
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{DOWNLOAD_NAME}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file,
    )
        .into_response()
}
