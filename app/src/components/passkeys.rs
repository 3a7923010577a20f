//! The passkey buttons of the sign-in page and the code prompt. They exist only once the
//! page runs in a browser that can use passkeys: without JavaScript none is shown, and the
//! password, code and recovery-code paths stay.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::passkeys::{
        begin_passkey_prompt, begin_passkey_sign_in, finish_passkey_prompt, finish_passkey_sign_in,
        passkeys_available,
    },
    browser::webauthn,
    components::form::FormError,
};

/// True once the page is hydrated in a browser that can run passkey ceremonies; never on
/// the server, so the server's HTML has no passkey button.
pub fn passkeys_usable() -> Signal<bool> {
    let usable = RwSignal::new(false);
    Effect::new(move || usable.set(webauthn::supported()));
    usable.into()
}

/// A passkey ceremony's outcome, as the sentence to show when it failed.
async fn passwordless(next: String) -> Result<(), String> {
    let challenge = begin_passkey_sign_in().await.map_err(|e| e.to_string())?;
    let credential = webauthn::get(&challenge.options).await?;
    finish_passkey_sign_in(challenge.ceremony, credential, Some(next))
        .await
        .map_err(|e| e.to_string())
}

/// "Sign in with a passkey", and the email field's passkey autofill (`autofill_from`
/// names that field): either signs in with both factors at once. The autofill request
/// starts when the field is focused and stops when the page is left or the button used.
#[component]
pub fn PasskeySignIn(
    #[prop(into)] next: Signal<String>,
    autofill_from: &'static str,
) -> impl IntoView {
    let available = Resource::new(|| (), |_| passkeys_available());
    let usable = passkeys_usable();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let autofill = autofill::Autofill::new(autofill_from, next, error);
    let start = move |_| {
        autofill.stop();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = passwordless(next.get_untracked()).await;
            busy.set(false);
            if let Err(message) = result {
                error.set(Some(message));
            }
        });
    };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let on = available.await.unwrap_or(false);
                if on && usable.get() {
                    autofill.enable();
                }
                (on && usable.get()).then(|| view! {
                    <div class="passkey-option">
                        <button type="button" class="button secondary wide" on:click=start disabled=move || busy.get()>
                            "Sign in with a passkey"
                        </button>
                        <FormError id="passkey-error" message=error />
                    </div>
                })
            })}
        </Suspense>
    }
}

/// The code prompt's "Use your passkey or security key". `remember` reads the prompt's
/// "Remember this device" box.
#[component]
pub fn PasskeyPrompt(
    #[prop(into)] next: Signal<String>,
    remember: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        error.set(None);
        busy.set(true);
        let remember = remember
            .get_untracked()
            .is_some_and(|input| input.checked())
            .then(|| "on".to_owned());
        spawn_local(async move {
            let result = async {
                let challenge = begin_passkey_prompt().await.map_err(|e| e.to_string())?;
                let credential = webauthn::get(&challenge.options).await?;
                finish_passkey_prompt(
                    challenge.ceremony,
                    credential,
                    Some(next.get_untracked()),
                    remember,
                )
                .await
                .map_err(|e| e.to_string())
            }
            .await;
            busy.set(false);
            if let Err(message) = result {
                error.set(Some(message));
            }
        });
    };
    view! {
        <div class="passkey-option">
            <button type="button" class="button wide" on:click=start disabled=move || busy.get()>
                {move || if busy.get() { "Waiting for your passkey…" } else { "Use your passkey or security key" }}
            </button>
            <FormError id="passkey-error" message=error />
            <p class="divider"><span>"or enter a code"</span></p>
        </div>
    }
}

/// The email field's passkey autofill (WebAuthn conditional mediation).
mod autofill {
    use leptos::prelude::*;

    #[derive(Clone, Copy)]
    pub struct Autofill {
        #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
        field: &'static str,
        #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
        next: Signal<String>,
        /// Where a passkey picked from the autofill but refused is explained.
        #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
        error: RwSignal<Option<String>>,
        #[cfg(feature = "hydrate")]
        running: StoredValue<Option<send_wrapper::SendWrapper<web_sys::AbortController>>>,
        #[cfg(feature = "hydrate")]
        listening: StoredValue<bool>,
    }

    impl Autofill {
        pub fn new(
            field: &'static str,
            next: Signal<String>,
            error: RwSignal<Option<String>>,
        ) -> Self {
            let autofill = Autofill {
                field,
                next,
                error,
                #[cfg(feature = "hydrate")]
                running: StoredValue::new(None),
                #[cfg(feature = "hydrate")]
                listening: StoredValue::new(false),
            };
            on_cleanup(move || autofill.stop());
            autofill
        }

        /// Offers passkeys from the field's autofill once the field is focused (the
        /// listener is added once).
        #[cfg(feature = "hydrate")]
        pub fn enable(self) {
            use wasm_bindgen::{closure::Closure, JsCast};

            if self.listening.try_get_value().unwrap_or(true) {
                return;
            }
            let Some(field) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(self.field))
            else {
                return;
            };
            let on_focus = Closure::<dyn Fn()>::new(move || self.start());
            let _ =
                field.add_event_listener_with_callback("focus", on_focus.as_ref().unchecked_ref());
            on_focus.forget();
        }

        #[cfg(not(feature = "hydrate"))]
        pub fn enable(self) {}

        #[cfg(feature = "hydrate")]
        fn start(self) {
            if !crate::browser::webauthn::supported()
                || self.running.try_with_value(|r| r.is_some()).unwrap_or(true)
            {
                return;
            }
            let Ok(controller) = web_sys::AbortController::new() else {
                return;
            };
            let signal = controller.signal();
            self.running
                .set_value(Some(send_wrapper::SendWrapper::new(controller)));
            let next = self.next.get_untracked();
            let (error, running) = (self.error, self.running);
            leptos::task::spawn_local(async move {
                if let Ok(challenge) = super::begin_passkey_sign_in().await {
                    // Only a passkey the person picked comes back; a refusal of it is
                    // theirs to read. A request stopped or unanswered says nothing.
                    if let Some(Ok(credential)) =
                        crate::browser::webauthn::get_from_autofill(&challenge.options, &signal)
                            .await
                    {
                        let finished = super::finish_passkey_sign_in(
                            challenge.ceremony,
                            credential,
                            Some(next),
                        )
                        .await;
                        if let Err(err) = finished {
                            error.try_set(Some(err.to_string()));
                        }
                    }
                }
                // Settled: the next focus may ask again, with a fresh challenge.
                running.try_set_value(None);
            });
        }

        /// Stops a pending autofill request, before a modal one or when the page goes.
        pub fn stop(self) {
            #[cfg(feature = "hydrate")]
            if let Some(Some(controller)) = self.running.try_update_value(Option::take) {
                controller.abort();
            }
        }
    }
}
