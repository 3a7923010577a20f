//! Settings → Sessions.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_router::hooks::use_location;

use crate::{
    api::sessions::{
        list_remembered_devices, list_sessions, EndOtherSessions, EndSession, ForgetDevice,
        RememberedDeviceView, SessionView,
    },
    components::form::{action_error, FormError, LoadError},
};

#[component]
pub fn SessionsTab() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let query = use_location().query;
    let sessions = Resource::new(
        move || {
            (
                end_one.version().get(),
                end_others.version().get(),
                query.get(),
            )
        },
        |_| list_sessions(),
    );

    view! {
        <h2>"Sessions"</h2>
        <p>"These devices are signed in to your account. Sign out any you do not recognise."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => Either::Left(view! {
                        <ul class="session-list">
                            {list.into_iter().map(|s| view! { <SessionItem session=s end_one /> }).collect_view()}
                        </ul>
                    }),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Transition>
        <FormError id="end-session-error" message=action_error(end_one) />
        <ActionForm action=end_others>
            <button type="submit" class="button secondary">"Sign out everywhere else"</button>
        </ActionForm>
        <FormError id="end-others-error" message=action_error(end_others) />
        <RememberedDevices />
    }
}

/// The browsers that skip the second step, each of which can be forgotten.
#[component]
fn RememberedDevices() -> impl IntoView {
    let forget = ServerAction::<ForgetDevice>::new();
    let devices = Resource::new(
        move || forget.version().get(),
        |_| list_remembered_devices(),
    );
    view! {
        <h2 id="remembered-heading">"Remembered devices"</h2>
        <p>
            "Signing in on these browsers asks only for your password, until the date shown. "
            "Changing your password or two-factor settings, or signing out everywhere else, forgets them all."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match devices.await {
                    Ok(list) if list.is_empty() => Either::Left(view! {
                        <p class="muted" data-testid="no-remembered-devices">"No device is remembered."</p>
                    }.into_any()),
                    Ok(list) => Either::Left(view! {
                        <ul class="session-list" aria-labelledby="remembered-heading">
                            {list.into_iter().map(|d| view! { <RememberedDevice device=d forget /> }).collect_view()}
                        </ul>
                    }.into_any()),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Transition>
        <FormError id="forget-device-error" message=action_error(forget) />
    }
}

#[component]
fn RememberedDevice(
    device: RememberedDeviceView,
    forget: ServerAction<ForgetDevice>,
) -> impl IntoView {
    let RememberedDeviceView {
        id,
        device,
        ip,
        remembered,
        last_used,
        until,
    } = device;
    view! {
        <li class="session">
            <div>
                <p class="session-device">{device}</p>
                <p class="muted">{format!("Remembered {remembered} · Last used {last_used} · IP {ip} · Until {until}")}</p>
            </div>
            <ActionForm action=forget>
                <input type="hidden" name="id" value=id />
                <button type="submit" class="button secondary">"Forget"</button>
            </ActionForm>
        </li>
    }
}

#[component]
fn SessionItem(session: SessionView, end_one: ServerAction<EndSession>) -> impl IntoView {
    let SessionView {
        id,
        device,
        ip,
        signed_in,
        last_seen,
        current,
    } = session;
    view! {
        <li class="session" class:current=current>
            <div>
                <p class="session-device">
                    {device}
                    {current.then(|| view! { <span class="badge on">"This device"</span> })}
                </p>
                <p class="muted">{format!("Signed in {signed_in} · Last seen {last_seen} · IP {ip}")}</p>
            </div>
            {(!current).then(|| view! {
                <ActionForm action=end_one>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button secondary">"Sign out"</button>
                </ActionForm>
            })}
        </li>
    }
}
