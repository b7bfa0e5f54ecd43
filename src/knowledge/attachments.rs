//! Attachments of knowledge articles: PDF manuals, videos and pictures that the nation uploads
//! and users preview in the browser or download, through signed links that expire.
//!
//! What a file is, is read from its first bytes, never taken from the name or the browser's
//! word: only PDF, MP4, WebM, PNG and JPEG are kept, so nothing served inline can run script.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use serde_json::json;

use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, Exec, WriteTx, new_id};
use crate::documents::files::{FileStore, LinkSigner, NewFile};
use crate::error::{AppError, AppResult};
use crate::graphql::ids::global_id;

/// Attachments one article may carry.
const MAX_PER_ARTICLE: i64 = 10;

/// The content type a file's first bytes show, among those kept.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        Some("video/mp4")
    } else if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("video/webm")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A file name safe for a header: the browser's name reduced to ASCII letters, digits, dots,
/// dashes and underscores, with the extension the content type gives.
fn safe_name(given: Option<&str>, content_type: &str) -> String {
    let extension = match content_type {
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "image/png" => "png",
        _ => "jpg",
    };
    let stem: String = given
        .and_then(|n| n.rsplit_once('.').map(|(stem, _)| stem).or(Some(n)))
        .unwrap_or("attachment")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(60)
        .collect();
    let stem = if stem.is_empty() {
        "attachment".into()
    } else {
        stem
    };
    format!("{stem}.{extension}")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    id: String,
    article_id: String,
    file_id: String,
    title: String,
    file_name: String,
    content_type: String,
    byte_size: i64,
    created_at: Timestamp,
}

const SELECT: &str = "SELECT k.id, k.article_id, k.file_id, k.title, f.file_name, f.content_type, \
     f.byte_size, k.created_at FROM knowledge_attachments k JOIN generated_files f ON f.id = k.file_id";

/// An article's attachments, in order.
pub async fn of_article(db: &Db, article_id: &str) -> AppResult<Vec<AttachmentRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE k.article_id = $1 ORDER BY k.position"
    )))
    .bind(article_id)
    .fetch_all(db.pool())
    .await?)
}

/// A file to attach.
pub struct NewAttachment<'a> {
    pub article_id: &'a str,
    pub title: &'a str,
    /// The name the browser gave.
    pub file_name: Option<&'a str>,
    pub bytes: &'a [u8],
}

/// Attaches a file to an article: the nation. Audited.
pub async fn attach(
    db: &Db,
    files: &Arc<dyn FileStore>,
    meta: &RequestMeta,
    actor: &Actor,
    new: NewAttachment<'_>,
) -> AppResult<AttachmentRow> {
    decide(Some(actor), Action::WriteKnowledge, Target::System)?;
    let NewAttachment {
        article_id,
        title,
        file_name,
        bytes,
    } = new;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid_field(
            "title",
            "a title of 1 to 200 characters / 見出しは1〜200文字です",
        ));
    }
    let content_type = sniff(bytes).ok_or_else(|| {
        AppError::invalid_field(
            "file",
            "a PDF, an MP4 or WebM video, or a PNG or JPEG picture / PDF・動画（MP4・WebM）・画像（PNG・JPEG）のみ添付できます",
        )
    })?;
    let mut tx = db.begin_write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM knowledge_articles WHERE id = $1")
        .bind(article_id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        return Err(AppError::NotFound("article"));
    }
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM knowledge_attachments WHERE article_id = $1")
            .bind(article_id)
            .fetch_one(tx.conn())
            .await?;
    if count >= MAX_PER_ARTICLE {
        return Err(AppError::refused(
            "TOO_MANY_ATTACHMENTS",
            "an article carries at most 10 attachments / 添付は1記事10件までです",
        ));
    }
    let file = files
        .put(
            &mut tx,
            NewFile {
                organization_id: &actor.organization.id,
                job_id: None,
                part: 1,
                file_name: safe_name(file_name, content_type),
                content_type,
                items: 1,
                content: bytes,
                keep_for: None,
            },
        )
        .await?;
    let id = new_id();
    let now = tx.now();
    sqlx::query(
        "INSERT INTO knowledge_attachments (id, article_id, file_id, title, position, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(article_id)
    .bind(&file.id)
    .bind(title)
    .bind(count + 1)
    .bind(now)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("attachKnowledgeFile", Outcome::Success, Some(actor))
            .object("KnowledgeAttachment", &id)
            .change(
                None,
                Some(
                    json!({ "article": article_id, "title": title, "contentType": content_type,
                    "byteSize": file.byte_size, "sha256": file.sha256 }),
                ),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(AttachmentRow {
        id,
        article_id: article_id.to_owned(),
        file_id: file.id,
        title: title.to_owned(),
        file_name: file.file_name,
        content_type: content_type.to_owned(),
        byte_size: file.byte_size,
        created_at: now,
    })
}

/// Removes an attachment (and its file): the nation. Audited.
pub async fn remove(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    attachment_id: &str,
) -> AppResult<bool> {
    decide(Some(actor), Action::WriteKnowledge, Target::System)?;
    let mut tx = db.begin_write().await?;
    let row: AttachmentRow =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE k.id = $1")))
            .bind(attachment_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(AppError::NotFound("attachment"))?;
    delete_files(&mut tx, "k.id = $1", attachment_id).await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("removeKnowledgeAttachment", Outcome::Success, Some(actor))
            .object("KnowledgeAttachment", &row.id)
            .change(
                Some(json!({ "article": row.article_id, "title": row.title })),
                None,
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes the attachments matching `condition` (on `knowledge_attachments k`, binding `$1`)
/// and their files.
pub async fn delete_files(tx: &mut WriteTx, condition: &str, value: &str) -> AppResult<()> {
    let files: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT k.file_id FROM knowledge_attachments k WHERE {condition}"
    )))
    .bind(value)
    .fetch_all(tx.conn())
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM knowledge_attachments WHERE id IN \
         (SELECT k.id FROM knowledge_attachments k WHERE {condition})"
    )))
    .bind(value)
    .execute(tx.conn())
    .await?;
    for file in files {
        delete_file(tx.conn(), &file).await?;
    }
    Ok(())
}

async fn delete_file<'c>(on: impl Exec<'c>, file_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM generated_files WHERE id = $1")
        .bind(file_id)
        .execute(on)
        .await?;
    Ok(())
}

/// A file attached to a knowledge article.
pub struct KnowledgeAttachment(pub AttachmentRow);

/// A file attached to an article (a PDF manual, a video, a picture).
#[Object]
impl KnowledgeAttachment {
    /// The attachment's id.
    async fn id(&self) -> ID {
        global_id("KnowledgeAttachment", &self.0.id)
    }
    /// Its title, as the article lists it.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The file's name.
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// application/pdf, video/mp4, video/webm, image/png or image/jpeg (read from the file).
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Size in bytes.
    async fn byte_size(&self) -> i64 {
        self.0.byte_size
    }
    /// When it was attached.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
    /// Opens it in the browser (PDF viewer, video player, picture), until `linkExpiresAt`.
    async fn preview_url(&self, ctx: &Context<'_>) -> String {
        format!("{}&inline=1", link(ctx, &self.0.file_id).url)
    }
    /// Downloads it, until `linkExpiresAt`.
    async fn download_url(&self, ctx: &Context<'_>) -> String {
        link(ctx, &self.0.file_id).url
    }
    /// When the links stop working (read the article again for fresh ones).
    async fn link_expires_at(&self, ctx: &Context<'_>) -> Timestamp {
        link(ctx, &self.0.file_id).expires_at
    }
}

fn link(ctx: &Context<'_>, file_id: &str) -> crate::documents::files::DownloadLink {
    let db = ctx.data_unchecked::<Db>();
    ctx.data_unchecked::<Arc<LinkSigner>>()
        .link(file_id, db.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documents_videos_and_pictures_are_kept() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\0\0\0\x20ftypisom...."), Some("video/mp4"));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]), Some("video/webm"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_are_reduced_to_safe_ascii_with_the_true_extension() {
        assert_eq!(
            safe_name(Some("manual v2.pdf"), "application/pdf"),
            "manualv2.pdf"
        );
        assert_eq!(
            safe_name(Some("予約.html"), "application/pdf"),
            "attachment.pdf"
        );
        assert_eq!(safe_name(Some("a\"b\r\n.mp4"), "video/mp4"), "ab.mp4");
        assert_eq!(safe_name(None, "image/png"), "attachment.png");
    }
}
