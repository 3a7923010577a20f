//! Routing: the route table and the points where the WASM is split into chunks.

pub mod router;
pub mod split;
