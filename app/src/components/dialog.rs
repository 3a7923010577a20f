//! A modal dialog with its own address, so it also opens from a link or a reload.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

/// Rendered open on the server; once the page is live it becomes a true modal (focus
/// stays inside, Esc closes it) and closing returns to `close_href`.
#[component]
pub fn Modal(title: &'static str, close_href: &'static str, children: Children) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move || {
        if let Some(dialog) = dialog.get() {
            dialog.close();
            let _ = dialog.show_modal();
        }
    });
    let navigate = use_navigate();
    let on_cancel = move |ev: leptos::ev::Event| {
        ev.prevent_default();
        navigate(close_href, NavigateOptions::default());
    };

    view! {
        <dialog node_ref=dialog open class="modal" aria-labelledby="dialog-title" on:cancel=on_cancel>
            <div class="modal-header">
                <h2 id="dialog-title">{title}</h2>
                <a href=close_href class="modal-close" aria-label="Close">"×"</a>
            </div>
            {children()}
        </dialog>
    }
}
