//! Batches organisation look-ups: a list of 500 facilities asks for its municipalities and
//! prefectures in one statement each, not 500.
//!
//! Two loaders: a per-request one with a cache (HTTP operations, whose lists prefetch the
//! organisations their rows refer to), and a shared uncached one for everything else (long-lived
//! subscriptions must not serve rows cached hours ago).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, ErrorExtensions as _};

use super::model::OrganizationRecord;
use super::store;
use crate::db::Db;

pub struct OrganizationLoader {
    db: Db,
}

/// The per-request loader, cached for the duration of one operation.
pub type RequestOrganizationLoader = DataLoader<OrganizationLoader, HashMapCache>;

impl OrganizationLoader {
    /// Shared by all requests: batches concurrent look-ups, never serves a stale row.
    pub fn shared(db: Db) -> DataLoader<Self> {
        DataLoader::new(OrganizationLoader { db }, tokio::spawn)
    }

    /// One operation's loader: each organisation is read at most once per operation.
    pub fn per_request(db: Db) -> RequestOrganizationLoader {
        DataLoader::with_cache(
            OrganizationLoader { db },
            tokio::spawn,
            HashMapCache::default(),
        )
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

/// Loads one organisation, through the request's loader when there is one.
pub async fn load_organization(
    ctx: &Context<'_>,
    id: &str,
) -> async_graphql::Result<Option<OrganizationRecord>> {
    match ctx.data_opt::<RequestOrganizationLoader>() {
        Some(loader) => loader.load_one(id.to_owned()).await,
        None => {
            ctx.data_unchecked::<DataLoader<OrganizationLoader>>()
                .load_one(id.to_owned())
                .await
        }
    }
}

/// Reads `ids` in one statement into the request's cache, so that the rows of a list resolve
/// their references without further statements — deterministically, not by the timing of a
/// batch window. Without a per-request loader this does nothing.
pub async fn prefetch(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = String>,
) -> async_graphql::Result<()> {
    if let Some(loader) = ctx.data_opt::<RequestOrganizationLoader>() {
        let mut ids: Vec<String> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            // Read at once and fed to the cache: the loader's batching window (1 ms, on a
            // timer) gathers look-ups that arrive one by one, and a prefetch has all of its ids
            // already. Same statement, without the wait on every list.
            let rows = loader.loader().load(&ids).await?;
            loader.feed_many(rows).await;
        }
    }
    Ok(())
}
