//! Settings → Two-Factor Auth → "Passkeys and security keys": the list, and the dialogs
//! to add, rename and remove one. Adding needs JavaScript (the browser makes the key);
//! renaming and removing are plain forms.

use leptos::{either::Either, ev::SubmitEvent, form::ActionForm, prelude::*, task::spawn_local};
use leptos_router::hooks::{use_location, use_query_map};

use crate::{
    api::{
        passkeys::{
            begin_passkey_registration, finish_passkey_registration, load_passkeys, PasskeyView,
            RemovePasskey, RenamePasskey,
        },
        two_factor::{load_two_factor_status, RecoveryCodeSet},
    },
    browser::webauthn,
    components::{
        code_input::CodeInput,
        dialog::Modal,
        form::{action_error, FormError, LoadError},
        passkeys::passkeys_usable,
        providers::{confirmation, ConfirmPassword, ConfirmWithProvider},
        recovery_codes::RecoveryCodesList,
    },
    pages::sign_in_methods::CodeIfOn,
    shared::{error::AppError, paths},
};

/// The list on the Two-Factor Auth tab.
#[component]
pub fn PasskeysSection() -> impl IntoView {
    let pathname = use_location().pathname;
    let passkeys = Resource::new(move || pathname.get(), |_| load_passkeys());
    let usable = passkeys_usable();
    view! {
        <section class="passkeys" aria-labelledby="passkeys-heading">
            <h3 id="passkeys-heading">"Passkeys and security keys"</h3>
            <p>
                "Sign in with your fingerprint, face or screen lock, or with a security key. "
                "A passkey works only on this site, so unlike a code it cannot be phished."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match passkeys.await {
                        Ok(view) if !view.available => Either::Left(view! {
                            <p class="muted">"Passkeys are not available on this server: it must be reached by a name, not an IP address."</p>
                        }.into_any()),
                        Ok(view) => Either::Left(view! {
                            {view.list.is_empty().then(|| view! { <p class="muted" data-testid="no-passkeys">"No passkey yet."</p> })}
                            <ul class="session-list" aria-labelledby="passkeys-heading">
                                {view.list.into_iter().map(|passkey| view! { <PasskeyItem passkey /> }).collect_view()}
                            </ul>
                            <Show
                                when=move || usable.get()
                                fallback=|| view! { <p class="muted">"Adding a passkey needs JavaScript and a browser that supports passkeys."</p> }
                            >
                                <a href=paths::ADD_PASSKEY data-opens=paths::ADD_PASSKEY class="button secondary">"Add a passkey"</a>
                            </Show>
                        }.into_any()),
                        Err(error) => Either::Right(view! { <LoadError error /> }),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PasskeyItem(passkey: PasskeyView) -> impl IntoView {
    let PasskeyView {
        id,
        name,
        added,
        last_used,
        synced,
        disabled,
    } = passkey;
    let used = last_used.map_or_else(|| "never used".to_owned(), |d| format!("last used {d}"));
    view! {
        <li class="session" data-testid="passkey">
            <div>
                <p class="session-device">
                    {name}
                    {synced.then(|| view! { <span class="badge">"Synced"</span> })}
                    {disabled.is_some().then(|| view! { <span class="badge warn">"Disabled"</span> })}
                </p>
                <p class="muted">{format!("Added {added} · {used}")}</p>
                {disabled.map(|on| view! {
                    <p class="warning" data-testid="passkey-disabled">
                        {format!("Disabled on {on}: it answered with a signature counter lower than before, which happens when a copy of it is used. It no longer signs you in. Remove it, and add your passkey again.")}
                    </p>
                })}
            </div>
            <div class="button-row">
                <a href=paths::rename_passkey(id) class="button secondary">"Rename"</a>
                <a href=paths::remove_passkey(id) class="button danger">"Remove"</a>
            </div>
        </li>
    }
}

/// What the add dialog's form holds.
struct AddForm {
    name: String,
    password: String,
    code: Option<String>,
}

impl AddForm {
    #[cfg(feature = "hydrate")]
    fn read(ev: &SubmitEvent) -> Option<Self> {
        use wasm_bindgen::JsCast;
        let form = ev.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
        let data = web_sys::FormData::new_with_form(&form).ok()?;
        let field = |name: &str| data.get(name).as_string();
        Some(AddForm {
            name: field("name").unwrap_or_default(),
            password: field("password").unwrap_or_default(),
            code: field("code"),
        })
    }

    #[cfg(not(feature = "hydrate"))]
    fn read(_ev: &SubmitEvent) -> Option<Self> {
        None
    }

    /// The ceremony: options from the server, a new key from the browser, and the
    /// registration with the confirmation, in one request.
    async fn register(self) -> Result<Option<RecoveryCodeSet>, String> {
        let challenge = begin_passkey_registration()
            .await
            .map_err(|e| e.to_string())?;
        let credential = webauthn::create(&challenge.options).await?;
        finish_passkey_registration(
            challenge.ceremony,
            self.name,
            credential,
            self.password,
            self.code,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

#[component]
pub fn AddPasskeyDialog() -> impl IntoView {
    let status = Resource::new(|| (), |_| load_two_factor_status());
    let confirmation = confirmation();
    let usable = passkeys_usable();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let added = RwSignal::new(false);
    let codes = RwSignal::new(None::<RecoveryCodeSet>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(form) = AddForm::read(&ev) else {
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = form.register().await;
            busy.set(false);
            match result {
                Ok(set) => {
                    codes.set(set);
                    added.set(true);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    view! {
        <Modal title="Add a passkey" close_href=paths::TWO_FACTOR>
            {move || match (added.get(), codes.get()) {
                (true, Some(set)) => Either::Left(view! {
                    <p role="status">"Your passkey is added and two-factor authentication is on. These are your recovery codes, for when you cannot use your passkey."</p>
                    <RecoveryCodesList set />
                    <a href=paths::TWO_FACTOR class="button">"Done"</a>
                }.into_any()),
                (true, None) => Either::Left(view! {
                    <p role="status">"Your passkey is added. Next time, use it when Gatehouse asks for your second factor, or to sign in without a password."</p>
                    <a href=paths::TWO_FACTOR class="button">"Done"</a>
                }.into_any()),
                (false, _) => Either::Right(view! {
                    <p>"Your browser or security key will ask you to confirm with your fingerprint, face, screen lock or PIN."</p>
                    <Show
                        when=move || usable.get()
                        fallback=|| view! { <p class="notice">"Adding a passkey needs JavaScript and a browser that supports passkeys."</p> }
                    >
                        <ConfirmWithProvider confirmation />
                        <form class="stack" on:submit=on_submit>
                            <div class="field">
                                <label for="passkey-name">"Name"</label>
                                <input id="passkey-name" name="name" type="text" value="Passkey" required maxlength="60"
                                    aria-describedby="passkey-name-hint passkey-add-error" />
                                <p id="passkey-name-hint" class="hint">"So you can tell your passkeys apart, for example “Work laptop” or “Blue security key”."</p>
                            </div>
                            <ConfirmPassword id="passkey-password" describedby="passkey-add-error" confirmation />
                            <Suspense>
                                {move || Suspend::new(async move {
                                    let two_factor_on = status.await.is_ok_and(|s| s.enabled_since.is_some());
                                    view! { <CodeIfOn two_factor_on id="passkey-code" describedby="passkey-add-error" /> }
                                })}
                            </Suspense>
                            <FormError id="passkey-add-error" message=error />
                            <button type="submit" class="button" disabled=move || busy.get()>
                                {move || if busy.get() { "Waiting for your passkey…" } else { "Add passkey" }}
                            </button>
                        </form>
                    </Show>
                }.into_any()),
            }}
        </Modal>
    }
}

/// The passkey `?id=` names, once loaded.
fn chosen() -> (
    Signal<i64>,
    Resource<Result<crate::api::passkeys::PasskeysView, AppError>>,
) {
    let query = use_query_map();
    let id = Signal::derive(move || {
        query
            .read()
            .get("id")
            .and_then(|id| id.parse().ok())
            .unwrap_or_default()
    });
    (id, Resource::new(|| (), |_| load_passkeys()))
}

#[component]
pub fn RenamePasskeyDialog() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let (id, passkeys) = chosen();
    view! {
        <Modal title="Rename passkey" close_href=paths::TWO_FACTOR>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let current = passkeys.await.ok().and_then(|v| v.list.into_iter().find(|p| p.id == id.get()));
                    match current {
                        Some(passkey) => Either::Left(view! {
                            <ActionForm action=rename attr:class="stack">
                                <input type="hidden" name="id" value=passkey.id />
                                <div class="field">
                                    <label for="rename-name">"Name"</label>
                                    <input id="rename-name" name="name" type="text" value=passkey.name required maxlength="60" aria-describedby="rename-error" />
                                </div>
                                <FormError id="rename-error" message=action_error(rename) />
                                <div class="button-row">
                                    <button type="submit" class="button" disabled=move || rename.pending().get()>"Save"</button>
                                    <a href=paths::TWO_FACTOR class="button secondary">"Cancel"</a>
                                </div>
                            </ActionForm>
                        }),
                        None => Either::Right(view! { <p>"That passkey is no longer on your account."</p> }),
                    }
                })}
            </Suspense>
        </Modal>
    }
}

#[component]
pub fn RemovePasskeyDialog() -> impl IntoView {
    let remove = ServerAction::<RemovePasskey>::new();
    let (id, passkeys) = chosen();
    let status = Resource::new(|| (), |_| load_two_factor_status());
    let confirmation = confirmation();
    view! {
        <Modal title="Remove passkey" close_href=paths::TWO_FACTOR>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = passkeys.await.map(|v| v.list).unwrap_or_default();
                    let status = status.await.ok();
                    let app = status.as_ref().is_some_and(|s| s.app);
                    let required = status.as_ref().is_some_and(|s| s.required);
                    let current = list.iter().find(|p| p.id == id.get()).cloned();
                    let last = !app && list.len() == 1;
                    match current {
                        Some(passkey) => Either::Left(view! {
                            <p>{format!("“{}” will no longer sign you in.", passkey.name)}</p>
                            {last.then(|| view! {
                                <p class="warning" data-testid="last-factor">
                                    {if required {
                                        "This is your only second factor, and your account must have one: add another passkey or an authenticator app before removing it."
                                    } else {
                                        "This is your only second factor: removing it turns two-factor authentication off, and your recovery codes stop working."
                                    }}
                                </p>
                            })}
                            <ConfirmWithProvider confirmation />
                            <ActionForm action=remove attr:class="stack">
                                <input type="hidden" name="id" value=passkey.id />
                                <CodeInput id="remove-code" label=if app { "Code from your app or a recovery code" } else { "A recovery code" } numeric=false describedby="remove-error" />
                                <ConfirmPassword id="remove-password" describedby="remove-error" confirmation />
                                <FormError id="remove-error" message=action_error(remove) />
                                <div class="button-row">
                                    <button type="submit" class="button danger" disabled=move || remove.pending().get()>"Remove"</button>
                                    <a href=paths::TWO_FACTOR class="button secondary">"Cancel"</a>
                                </div>
                            </ActionForm>
                        }),
                        None => Either::Right(view! { <p>"That passkey is no longer on your account."</p> }),
                    }
                })}
            </Suspense>
        </Modal>
    }
}
