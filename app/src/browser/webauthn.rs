//! The browser's side of passkeys: `navigator.credentials.create/get` with the options the
//! server handed over, using the browser's own JSON helpers
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON` and
//! the credential's `toJSON`), so no WebAuthn types are compiled into the WASM.
//!
//! Without JavaScript nothing here runs, and the pages show no passkey buttons.

/// Why the browser gave no credential, in words for the person.
pub type NoCredential = String;

#[cfg(feature = "hydrate")]
mod navigator {
    use js_sys::{Function, Object, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::NoCredential;

    const UNSUPPORTED: &str =
        "This browser cannot use passkeys here. Use another way, or a current browser.";

    fn public_key_credential() -> Option<JsValue> {
        Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
            .ok()
            .filter(|v| !v.is_undefined())
    }

    fn helper(name: &str) -> Option<(JsValue, Function)> {
        let pkc = public_key_credential()?;
        let f = Reflect::get(&pkc, &name.into()).ok()?.dyn_into().ok()?;
        Some((pkc, f))
    }

    /// True when this browser can run the ceremonies as this module does them.
    pub fn supported() -> bool {
        helper("parseCreationOptionsFromJSON").is_some()
            && helper("parseRequestOptionsFromJSON").is_some()
    }

    /// What a `DOMException` from the browser means for the person.
    fn no_credential(err: JsValue) -> NoCredential {
        let name = Reflect::get(&err, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => {
                "The passkey request was cancelled or timed out. Try again when you are ready."
            }
            "InvalidStateError" => "This passkey or security key is registered already.",
            "AbortError" => "The passkey request was stopped.",
            "SecurityError" => "Passkeys do not work on this address of the site.",
            _ => "Your browser could not use a passkey here. Try again, or use another way.",
        }
        .to_owned()
    }

    /// Runs one ceremony: `create` or `get`, with the options JSON the server made.
    async fn ceremony(
        create: bool,
        options: &str,
        mediation: Option<&str>,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<String, NoCredential> {
        let parse_name = if create {
            "parseCreationOptionsFromJSON"
        } else {
            "parseRequestOptionsFromJSON"
        };
        let (pkc, parse) = helper(parse_name).ok_or_else(|| UNSUPPORTED.to_owned())?;
        let unreadable = |_| "The server's passkey request could not be read.".to_owned();
        let wrapper = JSON::parse(options).map_err(unreadable)?;
        let public_key = Reflect::get(&wrapper, &"publicKey".into()).map_err(unreadable)?;
        let parsed = parse.call1(&pkc, &public_key).map_err(no_credential)?;
        let request = Object::new();
        let set = |key: &str, value: &JsValue| Reflect::set(&request, &key.into(), value);
        set("publicKey", &parsed).map_err(no_credential)?;
        if let Some(mediation) = mediation {
            set("mediation", &mediation.into()).map_err(no_credential)?;
        }
        if let Some(signal) = signal {
            set("signal", signal).map_err(no_credential)?;
        }
        let credentials = web_sys::window()
            .ok_or_else(|| UNSUPPORTED.to_owned())?
            .navigator()
            .credentials();
        let promise = if create {
            credentials.create_with_options(request.unchecked_ref())
        } else {
            credentials.get_with_options(request.unchecked_ref())
        }
        .map_err(no_credential)?;
        let credential = JsFuture::from(promise).await.map_err(no_credential)?;
        if credential.is_null() || credential.is_undefined() {
            return Err(no_credential(JsValue::NULL));
        }
        // `JSON.stringify` calls the credential's `toJSON`: base64url fields, as the server
        // reads them.
        JSON::stringify(&credential)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| no_credential(JsValue::NULL))
    }

    pub async fn create(options: &str) -> Result<String, NoCredential> {
        ceremony(true, options, None, None).await
    }

    pub async fn get(options: &str) -> Result<String, NoCredential> {
        ceremony(false, options, None, None).await
    }

    /// A request the browser answers from the email field's autofill, until `signal` stops
    /// it. `None` when the browser has no such autofill.
    pub async fn get_from_autofill(
        options: &str,
        signal: &web_sys::AbortSignal,
    ) -> Option<Result<String, NoCredential>> {
        let (pkc, available) = helper("isConditionalMediationAvailable")?;
        let promise: js_sys::Promise = available.call0(&pkc).ok()?.dyn_into().ok()?;
        if JsFuture::from(promise).await.ok()?.as_bool() != Some(true) {
            return None;
        }
        Some(ceremony(false, options, Some("conditional"), Some(signal)).await)
    }
}

#[cfg(feature = "hydrate")]
pub use navigator::*;

/// On the server no browser runs: nothing is supported, and the buttons that would call
/// these are never rendered.
#[cfg(not(feature = "hydrate"))]
mod server {
    use super::NoCredential;

    pub fn supported() -> bool {
        false
    }

    pub async fn create(_options: &str) -> Result<String, NoCredential> {
        Err("Passkeys need JavaScript.".to_owned())
    }

    pub async fn get(_options: &str) -> Result<String, NoCredential> {
        Err("Passkeys need JavaScript.".to_owned())
    }
}

#[cfg(not(feature = "hydrate"))]
pub use server::*;
