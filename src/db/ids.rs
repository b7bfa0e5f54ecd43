//! Identifiers as the database stores them (portable TEXT).

/// A new time-ordered identifier (UUIDv7), so keyset pagination by id follows creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
