//! Batches the look-up of facilities' open change requests: a queue of 100 pending facilities
//! asking for `pendingChangeRequest` costs one statement, not 100. Uncached, like the shared
//! organisation loader, so a long-lived subscription never serves a decided request.

use std::collections::HashMap;

use async_graphql::ErrorExtensions as _;
use async_graphql::dataloader::{DataLoader, Loader};

use super::change_requests::{self, ChangeRequestRecord};
use crate::db::Db;

pub struct PendingRequestLoader {
    db: Db,
}

impl PendingRequestLoader {
    /// Shared by all requests: batches concurrent look-ups, keyed by facility id.
    pub fn shared(db: Db) -> DataLoader<Self> {
        DataLoader::new(PendingRequestLoader { db }, tokio::spawn)
    }
}

impl Loader<String> for PendingRequestLoader {
    type Value = ChangeRequestRecord;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        facility_ids: &[String],
    ) -> Result<HashMap<String, ChangeRequestRecord>, Self::Error> {
        change_requests::pending_of_many(&self.db, facility_ids)
            .await
            .map_err(|e| e.extend())
    }
}
