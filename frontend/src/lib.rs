//! The browser entry point: hydrate the server-rendered page. Lazily, because a page
//! outside the main module hydrates only once its chunk of the WASM has arrived.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
