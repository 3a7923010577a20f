//! Form parts: labelled fields and the error line that screen readers announce.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::shared::{error::AppError, paths};

/// The message of an action's last failure, if any.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<String>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    })
}

/// An error line tied to its form by id. It is always in the document so that a new
/// message is announced when it appears.
#[component]
pub fn FormError(id: &'static str, #[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p id=id class="form-error" role="alert">
            // A form inside a Suspense can be replaced while its last update is in flight.
            {move || message.try_get().flatten()}
        </p>
    }
}

/// What a page shows when loading its data failed. A missing session sends the person to
/// sign in and brings them back afterwards; an account that must set up two-factor
/// authentication first goes to do so.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    if error == AppError::Unauthorized {
        let path = paths::signin_with_next(&use_location().pathname.get_untracked());
        view! { <Redirect path /> }.into_any()
    } else if error == AppError::EnrollmentRequired {
        view! { <Redirect path=paths::TWO_FACTOR /> }.into_any()
    } else {
        view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
    }
}
