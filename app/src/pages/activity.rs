//! Settings → Security activity.

use leptos::{either::Either, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{api::activity::list_activity, components::form::LoadError, shared::paths};

#[component]
pub fn ActivityTab() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(before, list_activity);

    view! {
        <h2>"Security activity"</h2>
        <p>"Sign-ins, failed attempts and changes to your account’s security, newest first."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => Either::Left(view! {
                        <table class="activity">
                            <thead>
                                <tr><th scope="col">"What"</th><th scope="col">"When"</th><th scope="col">"Where"</th></tr>
                            </thead>
                            <tbody>
                                {page.events.into_iter().map(|e| view! {
                                    <tr>
                                        <td>
                                            <span class="event-what">{e.what}</span>
                                            {(!e.detail.is_empty()).then(|| view! { <span class="muted event-detail">{e.detail}</span> })}
                                        </td>
                                        <td>{e.when}</td>
                                        <td>{e.device} <span class="muted">{e.ip}</span></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <nav class="pager" aria-label="Older activity">
                            {before().map(|_| view! { <a href="/settings/activity">"Newest"</a> })}
                            {page.older.map(|id| view! { <a href=paths::activity_before(id)>"Older events"</a> })}
                        </nav>
                    }),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Transition>
    }
}
