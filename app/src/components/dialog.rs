//! A modal dialog with its own address, so it also opens from a link or a reload.

use leptos::prelude::*;
use leptos_router::{
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

/// The address of the dialog that last closed, for the page behind it to put focus back
/// on the control that opened it (marked `data-opens="<that address>"`).
#[derive(Debug, Clone, Copy)]
pub struct ReturnFocus(RwSignal<Option<String>>);

impl ReturnFocus {
    pub fn provide() {
        provide_context(ReturnFocus(RwSignal::new(None)));
    }
}

/// For a panel behind dialogs: once mounted, focuses the opener inside `panel` of the
/// dialog that just closed, or the element with `fallback_id` when that control is gone
/// (Disable, once done, leaves no Disable button). Only the panel's own elements count:
/// the panel it replaces may still be in the page for a moment.
pub fn return_focus_here(panel: NodeRef<leptos::html::Div>, fallback_id: &'static str) {
    let Some(ReturnFocus(closed)) = use_context::<ReturnFocus>() else {
        return;
    };
    Effect::new(move || {
        let Some(panel) = panel.get() else {
            return;
        };
        if let Some(path) = closed.get_untracked() {
            if browser::focus_opener(&panel, &path, fallback_id) {
                closed.set(None);
            }
        }
    });
}

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
    if let Some(ReturnFocus(closed)) = use_context::<ReturnFocus>() {
        let here = use_location().pathname.get_untracked();
        on_cleanup(move || closed.set(Some(here)));
    }

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

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    /// False while another dialog is open (focus belongs to it) or while the panel is
    /// not yet in the page: the request waits for the next try.
    pub fn focus_opener(panel: &web_sys::HtmlDivElement, path: &str, fallback_id: &str) -> bool {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return false;
        };
        if !panel.is_connected()
            || document
                .query_selector("dialog[open]")
                .ok()
                .flatten()
                .is_some()
        {
            return false;
        }
        let opener = panel
            .query_selector(&format!("[data-opens=\"{path}\"]"))
            .ok()
            .flatten()
            .or_else(|| document.get_element_by_id(fallback_id));
        match opener.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            Some(element) => element.focus().is_ok(),
            None => false,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn focus_opener(
        _panel: &leptos::web_sys::HtmlDivElement,
        _path: &str,
        _fallback_id: &str,
    ) -> bool {
        false
    }
}
