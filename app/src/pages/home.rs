use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Your account, guarded twice."</h1>
            <p class="lead">
                "Gatehouse signs you in with your password and, once you turn it on, a code from "
                "the authenticator app on your phone. A stolen password alone no longer opens your account."
            </p>
            <p class="hero-actions">
                <a href="/signup" class="button">"Create an account"</a>
                <a href="/signin" class="button secondary">"Sign in"</a>
            </p>
        </section>
    }
}
