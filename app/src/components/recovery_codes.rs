//! The recovery codes, shown once, with ways to keep them: download, copy, print.

use leptos::{either::Either, prelude::*};

use crate::{
    api::two_factor::RecoveryCodeSet,
    shared::{
        paths,
        recovery_file::{codes_file, DOWNLOAD_NAME},
    },
};

/// The codes and ways to keep them. With `server_download` the file comes from the server
/// (a form post, served once) instead of from the browser script.
#[component]
pub fn RecoveryCodesList(
    set: RecoveryCodeSet,
    #[prop(optional)] server_download: bool,
) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let text = StoredValue::new(codes_file(&set.email, &set.generated, &set.codes));

    let download = move |_| {
        status.set(match browser::download(DOWNLOAD_NAME, &text.get_value()) {
            Ok(()) => format!("Saved as {DOWNLOAD_NAME}."),
            Err(()) => "Your browser blocked the download. Copy the codes instead.".into(),
        });
    };
    let copy = move |_| {
        browser::copy(&text.get_value(), move |copied| {
            status.set(if copied {
                "Copied to the clipboard.".into()
            } else {
                "Your browser did not allow copying. Download the codes instead.".into()
            })
        });
    };
    let print = move |_| browser::print();

    view! {
        <div class="recovery-codes">
            <p class="warning" role="note">
                <strong>"Save these codes somewhere safe, not on your phone. Each code works once."</strong>
                " If you lose your phone, a recovery code signs you in instead of the app."
            </p>
            <ol class="code-list" aria-label="Recovery codes">
                {set.codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
            </ol>
            {if server_download {
                Either::Left(view! {
                    <form method="post" action=paths::CODES_DOWNLOAD class="button-row">
                        <button type="submit" class="button">"Download codes"</button>
                    </form>
                    <p class="muted">"The download works once; after it, the codes are no longer shown here."</p>
                })
            } else {
                Either::Right(view! {
                    <div class="button-row">
                        <button type="button" class="button" on:click=download>"Download codes"</button>
                        <button type="button" class="button secondary" on:click=copy>"Copy"</button>
                        <button type="button" class="button secondary" on:click=print>"Print"</button>
                    </div>
                })
            }}
            <p class="muted" role="status">{move || status.get()}</p>
        </div>
    }
}

/// Browser-only effects. Event handlers never run on the server, which gets no-ops.
#[cfg(feature = "hydrate")]
mod browser {
    use std::time::Duration;

    use wasm_bindgen::JsCast;

    /// Builds the file in the browser from the codes on screen: no second request.
    pub fn download(name: &str, text: &str) -> Result<(), ()> {
        let blob = gloo_file::Blob::new_with_options(text, Some("text/plain;charset=utf-8"));
        let url = gloo_file::ObjectUrl::from(blob);
        let document = web_sys::window().and_then(|w| w.document()).ok_or(())?;
        let link: web_sys::HtmlAnchorElement = document
            .create_element("a")
            .map_err(drop)?
            .dyn_into()
            .map_err(drop)?;
        link.set_href(&url);
        link.set_download(name);
        link.click();
        // Revoked once the download has surely started, not before.
        leptos::prelude::set_timeout(move || drop(url), Duration::from_secs(60));
        Ok(())
    }

    /// Reports whether the browser really took the text: permission can be refused.
    pub fn copy(text: &str, done: impl FnOnce(bool) + 'static) {
        let Some(window) = web_sys::window() else {
            return done(false);
        };
        let promise = window.navigator().clipboard().write_text(text);
        leptos::task::spawn_local(async move {
            done(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
        });
    }

    pub fn print() {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn download(_name: &str, _text: &str) -> Result<(), ()> {
        Ok(())
    }

    pub fn copy(_text: &str, _done: impl FnOnce(bool) + 'static) {}

    pub fn print() {}
}
