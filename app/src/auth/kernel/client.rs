//! Who a request came from.

/// Where a request came from, as recorded on sessions and security events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}
