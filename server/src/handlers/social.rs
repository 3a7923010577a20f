//! The two ends of a round trip to an identity provider: the form post that sends the
//! browser there, and the callback it comes back to. Both are plain HTTP, so they work
//! without JavaScript.

use app::{
    auth::{
        flows::social::{self, Callback, Completed, Purpose},
        guards::sessions,
        kernel::{
            client::ClientInfo,
            error::{AuthError, Field, InvalidInput},
        },
    },
    http::{
        context::RequestSession,
        cookies,
        respond::{after_first_factor, safe_next},
        state::AppState,
    },
    shared::{error::AppError, paths, provider_refusal::Refusal},
};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Extension, Form,
};

use crate::responses::error_response;
use app::auth::capabilities::step_up;

#[derive(Debug, serde::Deserialize)]
pub struct StartForm {
    purpose: String,
    #[serde(default)]
    next: Option<String>,
    /// A link's confirmation, as every change of a way in asks for it.
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// `POST /auth/{provider}/start`: records the round trip and sends the browser to the
/// provider, with the cookie that binds the round trip to this browser.
pub async fn start(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Extension(RequestSession(session)): Extension<RequestSession>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<StartForm>,
) -> Response {
    let services = &state.services;
    let Some(purpose) = social::Purpose::parse(&form.purpose) else {
        return error_response(
            &AppError::bad_input("The form asked for something unknown."),
            paths::PROVIDER_START,
        );
    };
    let session = session.filter(|s| s.stage == sessions::Stage::Full);
    // Until it has a second factor, a required account may not add a way in (the
    // callback refuses it too, for a round trip begun before the policy applied).
    if purpose == Purpose::Link && session.as_ref().is_some_and(|s| s.must_enroll) {
        return error_response(&AppError::EnrollmentRequired, paths::PROVIDER_START);
    }
    let default_next = match purpose {
        Purpose::SignIn => paths::SETTINGS,
        Purpose::Link | Purpose::Reauth => paths::SIGN_IN_METHODS,
    };
    let next = match form.next.as_deref().filter(|n| !n.is_empty()) {
        Some(next) => safe_next(services, Some(next)),
        None => default_next.to_owned(),
    };
    let confirmation = step_up::StepUp {
        password: form.password,
        code: form.code,
    };
    match social::begin(
        services,
        &provider_id,
        purpose,
        session.as_ref(),
        &next,
        confirmation,
        &client,
    )
    .await
    {
        Ok(begun) => cookies::with_cookie(
            Redirect::to(&begun.authorize_url),
            &cookies::provider_binding(services, &begun.binding),
        ),
        Err(AuthError::NotSignedIn) => Redirect::to(paths::SIGN_IN).into_response(),
        Err(err) => refused(&state, purpose, &next, &provider_id, err),
    }
}

/// `GET /auth/{provider}/callback`: finishes the round trip its `state` names.
pub async fn callback(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Extension(RequestSession(session)): Extension<RequestSession>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    Query(query): Query<Callback>,
) -> Response {
    let services = &state.services;
    let binding = cookies::provider_binding_sent(&headers, services.config.secure_cookies);
    let device = cookies::device_token(&headers, services.config.secure_cookies);
    let current = session
        .as_ref()
        .filter(|s| s.stage == sessions::Stage::Full);
    let returned = social::complete(
        services,
        &provider_id,
        query,
        binding.as_deref(),
        current,
        device.as_ref(),
        &client,
    )
    .await;
    match returned.result {
        Ok(Completed::SignedIn { first_factor, next }) => {
            // A sign-in replaces whatever session this browser had.
            if let Some(previous) = &session {
                if let Err(err) = sessions::end(services, previous).await {
                    return error_response(&err.into(), paths::PROVIDER_CALLBACK);
                }
            }
            let next = safe_next(services, Some(&next));
            after_first_factor(services, &first_factor, &next).into_response()
        }
        Ok(Completed::ConfirmEmail { binding }) => cookies::with_cookie(
            Redirect::to(paths::SIGN_UP_EMAIL),
            &cookies::sign_up(services, Some(&binding)),
        ),
        Ok(Completed::Linked { next } | Completed::Reauthenticated { next }) => {
            Redirect::to(&safe_next(services, Some(&next))).into_response()
        }
        Err(err) => refused(&state, returned.purpose, &returned.next, &provider_id, err),
    }
}

/// Sends a refused round trip back to the page it began on, which says why; a lock or a
/// limit is answered 429 with a page of its own.
fn refused(
    state: &AppState,
    purpose: Purpose,
    next: &str,
    provider_id: &str,
    err: AuthError,
) -> Response {
    let services = &state.services;
    // A link's confirmation that failed is said on the page, like a provider's refusal,
    // and so is a sign-in whose account changed its ways in meanwhile: it starts again.
    let err = match err {
        AuthError::CredentialsChanged => AuthError::Social(Refusal::Expired),
        AuthError::WrongPassword
        | AuthError::NoPassword
        | AuthError::InvalidInput(InvalidInput {
            field: Field::Password,
            ..
        }) => AuthError::Social(Refusal::WrongPassword),
        AuthError::InvalidCode
        | AuthError::InvalidInput(InvalidInput {
            field: Field::Code, ..
        }) => AuthError::Social(Refusal::WrongCode),
        AuthError::ReauthenticationRequired => AuthError::Social(Refusal::ConfirmFirst),
        AuthError::EmailNotVerified => AuthError::Social(Refusal::VerifyEmailFirst),
        err => err,
    };
    match err {
        AuthError::Social(refusal) => {
            let page = match purpose {
                Purpose::SignIn => paths::SIGN_IN.to_owned(),
                Purpose::Link => paths::SIGN_IN_METHODS.to_owned(),
                // Back to the dialog that asked for the confirmation.
                Purpose::Reauth if !next.is_empty() => safe_next(services, Some(next)),
                Purpose::Reauth => paths::SIGN_IN_METHODS.to_owned(),
            };
            let provider = if refusal == Refusal::UnknownProvider {
                ""
            } else {
                provider_id
            };
            Redirect::to(&paths::refused_at(&page, refusal.code(), provider)).into_response()
        }
        AuthError::EnrollmentRequired => Redirect::to(paths::TWO_FACTOR).into_response(),
        AuthError::NotSignedIn => cookies::with_cookie(
            Redirect::to(paths::SIGN_IN),
            &cookies::session(services, None),
        ),
        err => {
            let err = AppError::from(err);
            if err.status() == 429 {
                return too_many(&err);
            }
            error_response(&err, paths::PROVIDER_CALLBACK)
        }
    }
}

/// A lock or limit met on the way back from a provider: a page that says so, with 429.
fn too_many(err: &AppError) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Try again later · Gatehouse</title>\
         <link rel=\"stylesheet\" href=\"/pkg/gatehouse.css\"></head>\
         <body><main id=\"main\"><section class=\"card\"><h1>Try again later</h1>\
         <p role=\"alert\">{}</p><p><a href=\"{}\">Back to sign in</a></p>\
         </section></main></body></html>",
        html_escape(&err.to_string()),
        paths::SIGN_IN,
    );
    let mut res = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
    if let Some(secs) = err.retry_after() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
