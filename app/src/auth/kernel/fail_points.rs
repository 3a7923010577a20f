//! Places where a test build can hold a request, to line up a race deterministically.

/// Holds the request at fail point `name` for the milliseconds a test set with
/// `name=return(MS)`, and lets the thread serve other requests meanwhile: fail-rs's own
/// `sleep` blocks a runtime worker, and the requests queued behind it on that worker.
/// Without the `failpoints` feature this is nothing, and `name` goes unused.
#[allow(unused_variables)]
pub async fn hold(name: &str) {
    let hold = || -> Option<u64> {
        fail::fail_point!(name, |ms: Option<String>| ms.and_then(|ms| ms.parse().ok()));
        None
    };
    if let Some(ms) = hold() {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
