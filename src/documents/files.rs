//! Generated files and the links that download them.
//!
//! - Files are kept behind [`FileStore`], whose default keeps them in the database
//!   (`generated_files`): every instance of a deployment can then serve any file, with nothing
//!   else to run. A deployment with an object store would implement the trait for it.
//! - A download link is signed (HMAC-SHA-256 under a server secret shared by the instances) and
//!   carries its expiry, so that it works from an e-mail without signing in, for a limited
//!   time, and cannot be forged or extended.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::Timestamp;
use crate::db::{Db, Exec, WriteTx, new_id};
use crate::error::AppResult;

/// A file about to be stored.
pub struct NewFile<'a> {
    pub organization_id: &'a str,
    pub job_id: Option<&'a str>,
    pub part: i64,
    pub file_name: String,
    pub content_type: &'static str,
    /// Pages or rows, as the file's reader counts them.
    pub items: i64,
    pub content: &'a [u8],
    /// How long it is kept; `None` keeps it until it is deleted with what it belongs to.
    pub keep_for: Option<time::Duration>,
}

/// How long generated documents with personal data are kept (`--generated-file-days`).
#[derive(Debug, Clone, Copy)]
pub struct Retention(pub time::Duration);

/// A stored file, without its content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileInfo {
    pub id: String,
    pub organization_id: String,
    pub job_id: Option<String>,
    pub part: i64,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub items: i64,
    pub created_at: Timestamp,
}

/// A file with its content, read in one statement.
#[derive(sqlx::FromRow)]
struct StoredFile {
    #[sqlx(flatten)]
    info: FileInfo,
    content: Vec<u8>,
}

const INFO_COLUMNS: &str = "id, organization_id, job_id, part, file_name, content_type, \
     byte_size, sha256, items, created_at";

/// Where generated files live.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores `file` as part of `tx`: it exists exactly when the transaction commits.
    async fn put(&self, tx: &mut WriteTx, file: NewFile<'_>) -> AppResult<FileInfo>;
    /// The file and its content.
    async fn get(&self, db: &Db, id: &str) -> AppResult<Option<(FileInfo, Vec<u8>)>>;
}

/// The default store: the database every instance shares.
pub struct DatabaseFiles;

#[async_trait]
impl FileStore for DatabaseFiles {
    async fn put(&self, tx: &mut WriteTx, file: NewFile<'_>) -> AppResult<FileInfo> {
        let info = FileInfo {
            id: new_id(),
            organization_id: file.organization_id.to_owned(),
            job_id: file.job_id.map(str::to_owned),
            part: file.part,
            file_name: file.file_name,
            content_type: file.content_type.to_owned(),
            byte_size: file.content.len() as i64,
            sha256: hex::encode(Sha256::digest(file.content)),
            items: file.items,
            created_at: tx.now(),
        };
        let delete_after = file
            .keep_for
            .map(|keep| Timestamp::from(info.created_at.instant() + keep));
        sqlx::query(
            "INSERT INTO generated_files (id, organization_id, job_id, part, file_name, \
             content_type, byte_size, sha256, items, created_at, content, delete_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&info.id)
        .bind(&info.organization_id)
        .bind(&info.job_id)
        .bind(info.part)
        .bind(&info.file_name)
        .bind(&info.content_type)
        .bind(info.byte_size)
        .bind(&info.sha256)
        .bind(info.items)
        .bind(info.created_at)
        .bind(file.content.to_vec())
        .bind(delete_after)
        .execute(tx.conn())
        .await?;
        Ok(info)
    }

    async fn get(&self, db: &Db, id: &str) -> AppResult<Option<(FileInfo, Vec<u8>)>> {
        let sql = format!("SELECT {INFO_COLUMNS}, content FROM generated_files WHERE id = $1");
        let stored: Option<StoredFile> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
        Ok(stored.map(|f| (f.info, f.content)))
    }
}

/// Deletes the files whose time is over; the people printed in them stay marked printed.
/// Returns how many were deleted.
pub async fn purge_expired(db: &Db) -> AppResult<u64> {
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    sqlx::query(
        "UPDATE questionnaire_recipients SET file_id = NULL WHERE file_id IN \
         (SELECT id FROM generated_files WHERE delete_after < $1)",
    )
    .bind(now)
    .execute(tx.conn())
    .await?;
    let deleted = sqlx::query("DELETE FROM generated_files WHERE delete_after < $1")
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}

/// The files of the given jobs, in part order.
pub async fn of_jobs<'c>(on: impl Exec<'c>, job_ids: &[&str]) -> AppResult<Vec<FileInfo>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {INFO_COLUMNS} FROM generated_files WHERE job_id IN ({}) ORDER BY job_id, part",
        crate::db::placeholders(1, job_ids.len())
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in job_ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(on).await?)
}

/// The name of the server secret that signs download links.
pub const LINK_KEY: &str = "download-links";

/// A signed download link.
#[derive(Debug, Clone)]
pub struct DownloadLink {
    pub url: String,
    pub expires_at: Timestamp,
}

/// Why a link does not open its file.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Not made by this deployment, or altered.
    Forged,
    /// Made by this deployment, but its time is over.
    Expired,
}

/// Makes and checks download links.
pub struct LinkSigner {
    key: Vec<u8>,
    /// Where the server is reached from outside, e.g. `https://v-sys.example.jp`.
    base_url: String,
    /// How long a link stays valid.
    validity: time::Duration,
}

impl LinkSigner {
    /// A signer under `key` (the deployment's [`LINK_KEY`] secret, the same on every instance).
    pub fn new(key: Vec<u8>, base_url: &str, validity_days: u32) -> LinkSigner {
        LinkSigner {
            key,
            base_url: base_url.trim_end_matches('/').to_owned(),
            validity: time::Duration::days(i64::from(validity_days)),
        }
    }

    /// A link to `file_id` valid from `now` for the configured time.
    pub fn link(&self, file_id: &str, now: Timestamp) -> DownloadLink {
        let expires_at = Timestamp::from(now.instant() + self.validity);
        let expires = expires_at.instant().unix_timestamp();
        DownloadLink {
            url: format!(
                "{}/files/{file_id}?expires={expires}&signature={}",
                self.base_url,
                self.signature(file_id, expires)
            ),
            expires_at,
        }
    }

    /// Whether `signature` is this deployment's for `file_id` until `expires` (Unix seconds),
    /// and that time has not passed.
    pub fn check(
        &self,
        file_id: &str,
        expires: i64,
        signature: &str,
        now: Timestamp,
    ) -> Result<(), LinkRefusal> {
        let expected = self.signature(file_id, expires);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(LinkRefusal::Forged);
        }
        if now.instant().unix_timestamp() >= expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(())
    }

    fn signature(&self, file_id: &str, expires: i64) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(b"vsys download\0");
        mac.update(file_id.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner {
            key: vec![9; 32],
            base_url: "https://vsys.example/".trim_end_matches('/').into(),
            validity: time::Duration::days(7),
        }
    }

    fn at(unix: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(unix).unwrap())
    }

    fn parts(url: &str) -> (i64, String) {
        let query = url.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        (pairs[0].1.parse().unwrap(), pairs[1].1.clone())
    }

    #[test]
    fn a_link_opens_until_it_expires_seven_days_later() {
        let signer = signer();
        let link = signer.link("file-1", at(1_000_000));
        assert!(
            link.url
                .starts_with("https://vsys.example/files/file-1?expires=")
        );
        let (expires, signature) = parts(&link.url);
        assert_eq!(expires, 1_000_000 + 7 * 86_400);
        assert_eq!(
            signer.check("file-1", expires, &signature, at(expires - 1)),
            Ok(())
        );
        assert_eq!(
            signer.check("file-1", expires, &signature, at(expires)),
            Err(LinkRefusal::Expired)
        );
    }

    #[test]
    fn an_altered_link_is_refused() {
        let signer = signer();
        let (expires, signature) = parts(&signer.link("file-1", at(0)).url);
        let now = at(10);
        // Another file, a later expiry, a changed signature, another deployment's key.
        assert_eq!(
            signer.check("file-2", expires, &signature, now),
            Err(LinkRefusal::Forged)
        );
        assert_eq!(
            signer.check("file-1", expires + 86_400, &signature, now),
            Err(LinkRefusal::Forged)
        );
        assert_eq!(
            signer.check("file-1", expires, &signature.replace('a', "b"), now),
            Err(LinkRefusal::Forged)
        );
        let other = LinkSigner {
            key: vec![8; 32],
            ..signer
        };
        assert_eq!(
            other.check("file-1", expires, &signature, now),
            Err(LinkRefusal::Forged)
        );
    }
}
