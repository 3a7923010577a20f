//! Settings → Sessions.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_router::hooks::use_location;

use crate::{
    api::sessions::{list_sessions, EndOtherSessions, EndSession, SessionView},
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
