//! Settings → Two-Factor Auth, and its dialogs: enable, disable, new recovery codes.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_router::{components::Outlet, hooks::use_location};

use crate::{
    api::two_factor::{
        load_new_recovery_codes, load_two_factor_status, pending_enrollment, DisableTwoFactor,
        DismissNewRecoveryCodes, EnableTwoFactor, EnrollmentView, RegenerateRecoveryCodes,
        StartEnrollment, SwitchAuthenticatorApp, TwoFactorStatus,
    },
    components::{
        code_input::CodeInput,
        dialog::{return_focus_here, Modal, ReturnFocus},
        form::{action_error, FormError, LoadError},
        providers::{confirmation, ConfirmPassword, ConfirmWithProvider},
        recovery_codes::RecoveryCodesList,
    },
    pages::{passkeys::PasskeysSection, settings::VerifyBanner},
    shared::{codes::CODES_PER_SET, paths},
};

/// Where focus goes when a dialog closes and the control that opened it is gone.
const HEADING: &str = "two-factor-heading";
/// Below this many codes left, the tab suggests a new set.
const FEW_CODES: i64 = 3;

#[component]
pub fn TwoFactorTab() -> impl IntoView {
    let pathname = use_location().pathname;
    // Refetched whenever a dialog opens or closes, so the tab shows what it changed.
    let status = Resource::new(move || pathname.get(), |_| load_two_factor_status());
    let start = ServerAction::<StartEnrollment>::new();
    ReturnFocus::provide();

    view! {
        <h2 id=HEADING tabindex="-1">"Two-factor authentication"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(status) if status.enabled_since.is_some() => Either::Left(view! { <EnabledPanel status /> }),
                    Ok(status) => Either::Right(Either::Left(view! {
                        <DisabledPanel start required=status.required email_to_confirm=status.email_to_confirm />
                    })),
                    Err(error) => Either::Right(Either::Right(view! { <LoadError error /> })),
                }
            })}
        </Transition>
        <PasskeysSection />
        <Outlet />
    }
}

#[component]
fn DisabledPanel(
    start: ServerAction<StartEnrollment>,
    required: bool,
    email_to_confirm: Option<String>,
) -> impl IntoView {
    let panel = NodeRef::new();
    return_focus_here(panel, HEADING);
    let required = required.then(|| {
        view! {
            <p class="warning" role="status" data-testid="required-notice">
                "Your account must use two-factor authentication. Set it up now: the rest of "
                "Gatehouse opens once it is on."
            </p>
        }
    });
    let unverified = email_to_confirm.map(|email| view! { <VerifyBanner email /> });
    view! {
        <div node_ref=panel>
        <p class="status-line"><span class="badge off">"Off"</span></p>
        {required}
        {unverified}
        <p>
            "Make your account more secure with two-factor authentication. After your password, "
            "Gatehouse will ask for a 6-digit code from an authenticator app on your phone, so a "
            "stolen password alone cannot open your account."
        </p>
        <p>"Any app that shows time-based codes works, for example:"</p>
        <ul class="app-list">
            <li>"Google Authenticator"</li>
            <li>"Authy"</li>
            <li>"Microsoft Authenticator"</li>
            <li>"1Password"</li>
        </ul>
        <ActionForm action=start>
            <button type="submit" class="button" data-opens=paths::ENABLE_TWO_FACTOR disabled=move || start.pending().get()>"Enable"</button>
        </ActionForm>
        <FormError id="start-error" message=action_error(start) />
        </div>
    }
}

#[component]
fn EnabledPanel(status: TwoFactorStatus) -> impl IntoView {
    let panel = NodeRef::new();
    return_focus_here(panel, HEADING);
    let since = status.enabled_since.unwrap_or_default();
    let left = status.codes_left;
    let warning = (status.any_code_used || left < FEW_CODES).then(|| {
        let text = if left < FEW_CODES {
            format!("Only {left} recovery codes left. Generate a new set so you can still sign in if you lose your phone.")
        } else {
            "A recovery code has been used on your account. If that was not you, change your password and generate new recovery codes.".to_owned()
        };
        view! { <p class="warning" role="status">{text}</p> }
    });

    view! {
        <div node_ref=panel>
        <p class="status-line">
            <span class="badge on">"On"</span>
            " since " {since} " · " {left} " of " {CODES_PER_SET} " recovery codes left"
        </p>
        {warning}
        {if status.app {
            Either::Left(view! { <p>"Signing in asks for a code from your authenticator app, or your passkey, after your password."</p> })
        } else {
            Either::Right(view! {
                <p>"Signing in asks for your passkey after your password. An authenticator app is a second way to answer, for when your passkey is not at hand."</p>
                <AddAppButton />
            })
        }}
        <div class="button-row">
            <a href="/settings/two-factor/recovery-codes" data-opens="/settings/two-factor/recovery-codes" class="button secondary">"Regenerate recovery codes"</a>
            {match (status.required, status.app) {
                (true, true) => Either::Left(view! { <SwitchButton /> }),
                (true, false) => Either::Right(Either::Left(())),
                (false, _) => Either::Right(Either::Right(view! {
                    <a href="/settings/two-factor/disable" data-opens="/settings/two-factor/disable" class="button danger">"Disable"</a>
                })),
            }}
        </div>
        {if status.required {
            Either::Left(view! {
                <p class="muted" data-testid="required-notice">
                    "Two-factor authentication is required for your account, so it cannot be "
                    "turned off. Moving to a new phone or app? Press “Switch to a new phone”: "
                    "the old app’s codes and your old recovery codes stop working once the new "
                    "app is confirmed."
                </p>
            })
        } else if status.app {
            Either::Right(Either::Left(view! {
                <p class="muted">
                    "Switching to a new phone or app? Disable two-factor authentication, then enable it "
                    "again with the new app. The old app's codes and your old recovery codes stop working."
                </p>
            }))
        } else {
            Either::Right(Either::Right(()))
        }}
        </div>
    }
}

/// For an account with passkeys only: sets up an authenticator app as well.
#[component]
fn AddAppButton() -> impl IntoView {
    let start = ServerAction::<StartEnrollment>::new();
    view! {
        <ActionForm action=start>
            <button type="submit" class="button secondary" data-opens=paths::ENABLE_TWO_FACTOR disabled=move || start.pending().get()>"Set up an authenticator app"</button>
        </ActionForm>
        <FormError id="add-app-error" message=action_error(start) />
    }
}

/// Opens the enable dialog with a new secret that will replace the current app's.
#[component]
fn SwitchButton() -> impl IntoView {
    let start = ServerAction::<StartEnrollment>::new();
    view! {
        <ActionForm action=start>
            <button type="submit" class="button secondary" data-opens=paths::ENABLE_TWO_FACTOR disabled=move || start.pending().get()>"Switch to a new phone"</button>
        </ActionForm>
        <FormError id="switch-error" message=action_error(start) />
    }
}

#[component]
pub fn EnableDialog() -> impl IntoView {
    let enrollment = Resource::new(|| (), |_| pending_enrollment());
    let enable = ServerAction::<EnableTwoFactor>::new();
    let switch = ServerAction::<SwitchAuthenticatorApp>::new();
    // Only success swaps the form for the codes, so a failed try keeps what was typed.
    let codes = Memo::new(move |_| {
        enable
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| switch.value().get().and_then(Result::ok))
    });

    view! {
        <Modal title="Enable two-factor authentication" close_href=paths::TWO_FACTOR>
            {move || match codes.get() {
                Some(set) => Either::Left(view! {
                    <p>"Two-factor authentication is on. These are your recovery codes."</p>
                    <RecoveryCodesList set />
                    <a href=paths::TWO_FACTOR class="button">"Done"</a>
                }),
                _ => Either::Right(view! {
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match enrollment.await {
                                Ok(Some(view)) => Either::Left(view! { <EnrollStep view enable switch /> }),
                                Ok(None) => Either::Right(Either::Left(view! { <ExpiredSetup /> })),
                                Err(error) => Either::Right(Either::Right(view! { <LoadError error /> })),
                            }
                        })}
                    </Suspense>
                }),
            }}
        </Modal>
    }
}

#[component]
fn EnrollStep(
    view: EnrollmentView,
    enable: ServerAction<EnableTwoFactor>,
    switch: ServerAction<SwitchAuthenticatorApp>,
) -> impl IntoView {
    let EnrollmentView {
        qr_svg,
        key,
        email,
        issuer,
        switching,
        protected,
    } = view;
    // A passkey protects the account already: adding the app is a change that takes a
    // current factor, as the others do.
    let current = protected.then(|| view! {
        <CodeInput id="current-code" name="current_code" label="A recovery code" numeric=false describedby="enable-error" />
    });
    let confirmation = confirmation();
    let confirm = if switching {
        Either::Left(view! {
            <p>"Enter a code from your current app (or a recovery code), the 6-digit code the new app shows, and confirm it’s you."</p>
            <ConfirmWithProvider confirmation />
            <ActionForm action=switch attr:class="stack">
                <CodeInput id="current-code" name="current_code" label="Code from your current app or a recovery code" numeric=false describedby="enable-error" />
                <CodeInput id="enable-code" label="Code from the new app" numeric=true describedby="enable-error" />
                <ConfirmPassword id="enable-password" describedby="enable-error" confirmation />
                <FormError id="enable-error" message=action_error(switch) />
                <button type="submit" class="button" disabled=move || switch.pending().get()>"Switch"</button>
            </ActionForm>
        })
    } else {
        Either::Right(view! {
            <p>"Enter the 6-digit code the app shows, and confirm it’s you."</p>
            <ConfirmWithProvider confirmation />
            <ActionForm action=enable attr:class="stack">
                <CodeInput id="enable-code" label="Verification code" numeric=true describedby="enable-error" />
                {current}
                <ConfirmPassword id="enable-password" describedby="enable-error" confirmation />
                <FormError id="enable-error" message=action_error(enable) />
                <button type="submit" class="button" disabled=move || enable.pending().get()>"Enable"</button>
            </ActionForm>
        })
    };
    view! {
        <ol class="steps">
            <li>
                <p>"Scan this QR code with your authenticator app."</p>
                <div
                    class="qr"
                    role="img"
                    aria-label="QR code for your authenticator app. If you cannot scan it, enter the setup key shown below it."
                    inner_html=qr_svg
                ></div>
                <p class="key-help">"Can’t scan it? Enter this setup key in the app instead:"</p>
                <p><code class="setup-key" data-testid="setup-key">{key}</code></p>
                <p class="muted">"Account: " {email} " · Issuer: " {issuer} " · Time-based"</p>
            </li>
            <li>{confirm}</li>
        </ol>
    }
}

#[component]
fn ExpiredSetup() -> impl IntoView {
    let start = ServerAction::<StartEnrollment>::new();
    view! {
        <p>"This setup has expired: a QR code is valid for 10 minutes. Start again to get a new one."</p>
        <ActionForm action=start>
            <button type="submit" class="button">"Start again"</button>
        </ActionForm>
        <FormError id="restart-error" message=action_error(start) />
    }
}

#[component]
pub fn DisableDialog() -> impl IntoView {
    let disable = ServerAction::<DisableTwoFactor>::new();
    let confirmation = confirmation();
    view! {
        <Modal title="Disable two-factor authentication" close_href=paths::TWO_FACTOR>
            <p>"Signing in will ask only for your password. Your authenticator app’s entry and your recovery codes stop working."</p>
            <ConfirmWithProvider confirmation />
            <ActionForm action=disable attr:class="stack">
                <CodeInput id="disable-code" label="Code from your app or a recovery code" numeric=false describedby="disable-error" />
                <ConfirmPassword id="disable-password" describedby="disable-error" confirmation />
                <FormError id="disable-error" message=action_error(disable) />
                <div class="button-row">
                    <button type="submit" class="button danger" disabled=move || disable.pending().get()>"Disable"</button>
                    <a href=paths::TWO_FACTOR class="button secondary">"Cancel"</a>
                </div>
            </ActionForm>
        </Modal>
    }
}

#[component]
pub fn RegenerateDialog() -> impl IntoView {
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let codes = Memo::new(move |_| regenerate.value().get().and_then(Result::ok));
    let confirmation = confirmation();
    view! {
        <Modal title="New recovery codes" close_href=paths::TWO_FACTOR>
            {move || match codes.get() {
                Some(set) => Either::Left(view! {
                    <p>"Your old recovery codes no longer work. These are the new ones."</p>
                    <RecoveryCodesList set />
                    <a href=paths::TWO_FACTOR class="button">"Done"</a>
                }),
                _ => Either::Right(view! {
                    <p>"A new set replaces all your current recovery codes, used or not."</p>
                    <ConfirmWithProvider confirmation />
                    <ActionForm action=regenerate attr:class="stack">
                        <CodeInput id="regenerate-code" label="Code from your app or a recovery code" numeric=false describedby="regenerate-error" />
                        <ConfirmPassword id="regenerate-password" describedby="regenerate-error" confirmation />
                        <FormError id="regenerate-error" message=action_error(regenerate) />
                        <button type="submit" class="button" disabled=move || regenerate.pending().get()>"Generate new codes"</button>
                    </ActionForm>
                }),
            }}
        </Modal>
    }
}

/// Where a browser without JavaScript lands after enabling or regenerating: the new codes,
/// read back from the server for a few minutes, with a download the server makes.
#[component]
pub fn NewCodesDialog() -> impl IntoView {
    let set = Resource::new(|| (), |_| load_new_recovery_codes());
    let done = ServerAction::<DismissNewRecoveryCodes>::new();
    view! {
        <Modal title="Your recovery codes" close_href=paths::TWO_FACTOR>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match set.await {
                        Ok(Some(set)) => Either::Left(view! {
                            <p>"These are your new recovery codes. They are shown only until you download them or press Done."</p>
                            <RecoveryCodesList set server_download=true />
                            <ActionForm action=done>
                                <button type="submit" class="button secondary">"Done"</button>
                            </ActionForm>
                        }),
                        Ok(None) => Either::Right(Either::Left(view! {
                            <p>
                                "These recovery codes are no longer shown: they were downloaded, "
                                "dismissed, or more than 10 minutes old. If you did not save them, "
                                "generate a new set."
                            </p>
                            <div class="button-row">
                                <a href="/settings/two-factor/recovery-codes" class="button">"Generate new codes"</a>
                                <a href=paths::TWO_FACTOR class="button secondary">"Back"</a>
                            </div>
                        })),
                        Err(error) => Either::Right(Either::Right(view! { <LoadError error /> })),
                    }
                })}
            </Suspense>
        </Modal>
    }
}
