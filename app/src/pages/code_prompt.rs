//! The second step of signing in.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::{
    api::{passkeys::load_prompt_options, two_factor::VerifySignInCode},
    components::{
        code_input::CodeInput,
        form::{action_error, FormError},
        passkeys::{passkeys_usable, PasskeyPrompt},
    },
    shared::{error::AppError, paths, prefetch::Prefetch},
};

#[component]
pub fn CodePromptPage(prefetch: Prefetch) -> impl IntoView {
    let verify = ServerAction::<VerifySignInCode>::new();
    let error = action_error(verify);
    // Settings is where a sign-in usually lands: fetch it while the code is typed.
    Effect::new(move || prefetch.fetch_settings());
    // Once the session has ended, this prompt can do nothing more: go back to the password
    // step, which says why and when to try again.
    let navigate = use_navigate();
    Effect::new(move || {
        match verify.value().get() {
            Some(Err(AppError::SignInEnded { retry_after_secs })) => {
                navigate(&paths::sign_in_ended(retry_after_secs), Default::default())
            }
            // Ended elsewhere (another tab, or it expired): start again from the password.
            Some(Err(AppError::Unauthorized)) => navigate(paths::SIGN_IN, Default::default()),
            _ => {}
        }
    });
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let options = Resource::new(|| (), |_| load_prompt_options());
    let usable = passkeys_usable();
    let remember = NodeRef::new();
    // An account without the app answers with its passkey or a recovery code.
    let no_app = Signal::derive(move || options.get().and_then(Result::ok).is_some_and(|o| !o.app));
    let recovery = Signal::derive(move || {
        query.read().get("method").as_deref() == Some("recovery") || no_app.get()
    });
    let switch_href = move || {
        let method = if recovery.get() { "app" } else { "recovery" };
        paths::code_prompt_for(method, &next())
    };

    view! {
        <Title text="Two-factor authentication" />
        <section class="card narrow">
            <h1>"Two-factor authentication"</h1>
            <p id="code-help">
                {move || if no_app.get() {
                    "Use your passkey or security key. If you cannot, enter one of the recovery codes you saved: each code works once."
                } else if recovery.get() {
                    "Enter one of the recovery codes you saved when you turned on two-factor authentication. Each code works once."
                } else {
                    "Open your authenticator app and enter the 6-digit code it shows for Gatehouse."
                }}
            </p>
            <Suspense>
                {move || Suspend::new(async move {
                    let passkey = options.await.is_ok_and(|o| o.passkey);
                    (passkey && usable.get()).then(|| view! { <PasskeyPrompt next=Signal::derive(next) remember /> })
                })}
            </Suspense>
            <ActionForm action=verify attr:class="stack">
                <input type="hidden" name="next" value=next />
                // Above the field: a 6th digit sends the form by itself.
                <label class="checkbox">
                    <input type="checkbox" name="remember" value="on" node_ref=remember />
                    " Remember this device for 30 days"
                </label>
                <CodeInput
                    id="code"
                    label="Two-factor authentication code"
                    numeric=Signal::derive(move || !recovery.get())
                    describedby="code-help code-error"
                    auto_submit=true
                />
                <FormError id="code-error" message=error />
                <button type="submit" class="button wide" disabled=move || verify.pending().get()>
                    {move || if verify.pending().get() { "Checking…" } else { "Verify" }}
                </button>
            </ActionForm>
            <Show when=move || !no_app.get()>
                <p class="alt-action">
                    <a href=switch_href>
                        {move || if recovery.get() {
                            "Use the code from your authenticator app instead"
                        } else {
                            "Lost your phone? Use a recovery code"
                        }}
                    </a>
                </p>
            </Show>
        </section>
    }
}
