//! Batches organisation look-ups: a list of 500 facilities asks for its municipalities and
//! prefectures in one statement each, not 500.

use std::collections::HashMap;

use async_graphql::ErrorExtensions as _;
use async_graphql::dataloader::{DataLoader, Loader};

use super::model::OrganizationRecord;
use super::store;
use crate::db::Db;

pub struct OrganizationLoader {
    db: Db,
}

impl OrganizationLoader {
    /// No cache: the loader is shared by all requests, so it batches concurrent look-ups but
    /// never serves a stale row.
    pub fn new(db: Db) -> DataLoader<Self> {
        DataLoader::new(OrganizationLoader { db }, tokio::spawn)
    }
}

impl Loader<String> for OrganizationLoader {
    type Value = OrganizationRecord;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, OrganizationRecord>, Self::Error> {
        store::load_by_ids(&self.db, ids)
            .await
            .map_err(|e| e.extend())
    }
}
