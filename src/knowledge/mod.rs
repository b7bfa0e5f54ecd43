//! The users' knowledge base (ナレッジ, seed p. 45): manuals and FAQ articles the nation writes
//! for the roles, in Markdown, in Japanese and English, searchable by words, and the help of
//! each screen (`pageHelp`). Every user sees the articles written for their role; the nation
//! sees them all. Writing and deleting are audited.

mod attachments;
mod grams;

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Upload};
use serde_json::json;

use crate::actor::{Actor, RequestMeta, Role, request_meta, require_actor};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, WriteTx, new_id, placeholders};
use crate::error::{AppError, AppResult};
use crate::graphql::ids::{global_id, row_of};
use crate::notices::text;

/// Words a search may give (their grams are matched together).
const MAX_QUERY_CHARS: usize = 100;
/// Articles one search answers with.
const MAX_RESULTS: i64 = 50;

/// What an article is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum KnowledgeKind {
    /// A manual (操作マニュアル).
    Manual,
    /// A question and its answer (よくある質問).
    Faq,
}

crate::db_enum!(KnowledgeKind);

#[derive(Debug, Clone, sqlx::FromRow)]
struct ArticleRow {
    id: String,
    kind: String,
    title_ja: String,
    title_en: String,
    body_ja: String,
    body_en: String,
    roles: String,
    page_key: Option<String>,
    version: i64,
    updated_at: Timestamp,
}

/// An article's columns, of `knowledge_articles a`.
const COLUMNS: &str = "a.id, a.kind, a.title_ja, a.title_en, a.body_ja, a.body_en, a.roles, \
                       a.page_key, a.version, a.updated_at";

pub struct KnowledgeArticle(ArticleRow);

/// A manual or FAQ article of the knowledge base (ナレッジ).
#[Object]
impl KnowledgeArticle {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("KnowledgeArticle", &self.0.id)
    }
    /// A manual or a question and answer.
    async fn kind(&self) -> KnowledgeKind {
        KnowledgeKind::from_db(&self.0.kind).unwrap_or(KnowledgeKind::Manual)
    }
    /// Title in Japanese.
    async fn title_ja(&self) -> &str {
        &self.0.title_ja
    }
    /// Title in English.
    async fn title_en(&self) -> &str {
        &self.0.title_en
    }
    /// Text in Japanese, Markdown (render it as text: raw HTML is not interpreted).
    async fn body_ja(&self) -> &str {
        &self.0.body_ja
    }
    /// Text in English, Markdown.
    async fn body_en(&self) -> &str {
        &self.0.body_en
    }
    /// The roles it is written for; empty: every role.
    async fn roles(&self) -> Vec<Role> {
        roles_of(&self.0.roles)
    }
    /// The screen whose help it is, if any.
    async fn page_key(&self) -> Option<&str> {
        self.0.page_key.as_deref()
    }
    /// Increases with every change; give it back as `expectedVersion`.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// Its attached files (PDF manuals, videos, pictures), in order, with preview and
    /// download links.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<attachments::KnowledgeAttachment>> {
        let db = ctx.data_unchecked::<Db>();
        let rows = attachments::of_article(db, &self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(attachments::KnowledgeAttachment)
            .collect())
    }
}

/// An article to write.
#[derive(InputObject)]
pub struct KnowledgeArticleInput {
    /// The article to change; none adds one.
    pub article_id: Option<ID>,
    /// The version read; a change made meanwhile is refused (STALE_VERSION).
    pub expected_version: Option<i64>,
    /// A manual or a question and answer.
    pub kind: KnowledgeKind,
    /// Title in Japanese (1 to 200 characters).
    pub title_ja: String,
    /// Title in English (1 to 200 characters).
    pub title_en: String,
    /// Text in Japanese, Markdown (1 to 50,000 characters).
    pub body_ja: String,
    /// Text in English, Markdown (1 to 50,000 characters).
    pub body_en: String,
    /// The roles it is written for; empty or absent: every role.
    pub roles: Option<Vec<Role>>,
    /// The screen whose help it is (letters, digits, `.`, `-`, `_`; at most 100).
    pub page_key: Option<String>,
}

/// `,NATION,PREFECTURE,` for the roles; empty for every role.
fn roles_text(roles: &[Role]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let mut names: Vec<&str> = roles.iter().map(|r| r.as_db()).collect();
    names.sort();
    names.dedup();
    format!(",{},", names.join(","))
}

fn roles_of(text: &str) -> Vec<Role> {
    text.split(',').filter_map(Role::from_db).collect()
}

fn page_key(key: Option<String>) -> AppResult<Option<String>> {
    let Some(key) = key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let fine = key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !fine {
        return Err(AppError::invalid_field(
            "pageKey",
            "letters, digits, '.', '-' and '_', at most 100 / 英数字と . - _ で100文字までです",
        ));
    }
    Ok(Some(key))
}

/// Replaces the article's grams.
async fn index(tx: &mut WriteTx, row: &ArticleRow) -> AppResult<()> {
    sqlx::query("DELETE FROM knowledge_grams WHERE article_id = $1")
        .bind(&row.id)
        .execute(tx.conn())
        .await?;
    let text = format!(
        "{} {} {} {}",
        row.title_ja, row.title_en, row.body_ja, row.body_en
    );
    let all: Vec<String> = grams::of_text(&text).into_iter().collect();
    for chunk in all.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO knowledge_grams (article_id, gram) VALUES {}",
            rows.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&row.id);
        for gram in chunk {
            insert = insert.bind(gram);
        }
        insert.execute(tx.conn()).await?;
    }
    Ok(())
}

async fn upsert(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: KnowledgeArticleInput,
) -> AppResult<KnowledgeArticle> {
    decide(Some(actor), Action::WriteKnowledge, Target::System)?;
    let title_ja = text("titleJa", &input.title_ja, 200)?;
    let title_en = text("titleEn", &input.title_en, 200)?;
    let body_ja = text("bodyJa", &input.body_ja, 50_000)?;
    let body_en = text("bodyEn", &input.body_en, 50_000)?;
    let roles = roles_text(input.roles.as_deref().unwrap_or_default());
    let page_key = page_key(input.page_key)?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let (id, before) = match &input.article_id {
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO knowledge_articles (id, kind, title_ja, title_en, body_ja, body_en, \
                 roles, page_key, updated_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(&id)
            .bind(input.kind)
            .bind(&title_ja)
            .bind(&title_en)
            .bind(&body_ja)
            .bind(&body_en)
            .bind(&roles)
            .bind(&page_key)
            .bind(&actor.user_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            (id, None)
        }
        Some(article_id) => {
            let id = row_of(article_id, &["KnowledgeArticle"], "article")?;
            let current = load(tx.conn(), &id)
                .await?
                .ok_or(AppError::NotFound("article"))?;
            if input.expected_version.is_some_and(|v| v != current.version) {
                return Err(AppError::Refused {
                    message: "the article changed meanwhile: reload it / 他の操作で更新されました。再読み込みしてください".into(),
                    reason: "STALE_VERSION",
                    current: Some(json!({ "version": current.version })),
                });
            }
            sqlx::query(
                "UPDATE knowledge_articles SET kind = $1, title_ja = $2, title_en = $3, \
                 body_ja = $4, body_en = $5, roles = $6, page_key = $7, updated_by = $8, \
                 updated_at = $9, version = version + 1 WHERE id = $10",
            )
            .bind(input.kind)
            .bind(&title_ja)
            .bind(&title_en)
            .bind(&body_ja)
            .bind(&body_en)
            .bind(&roles)
            .bind(&page_key)
            .bind(&actor.user_id)
            .bind(now)
            .bind(&id)
            .execute(tx.conn())
            .await?;
            let before = json!({ "titleJa": current.title_ja, "version": current.version });
            (id, Some(before))
        }
    };
    let row = load(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("article"))?;
    index(&mut tx, &row).await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("upsertKnowledgeArticle", Outcome::Success, Some(actor))
            .object("KnowledgeArticle", &id)
            .change(
                before,
                Some(json!({ "titleJa": row.title_ja, "roles": row.roles,
                    "pageKey": row.page_key, "version": row.version })),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(KnowledgeArticle(row))
}

async fn delete(db: &Db, meta: &RequestMeta, actor: &Actor, article_id: &ID) -> AppResult<bool> {
    decide(Some(actor), Action::WriteKnowledge, Target::System)?;
    let id = row_of(article_id, &["KnowledgeArticle"], "article")?;
    let mut tx = db.begin_write().await?;
    let current = load(tx.conn(), &id)
        .await?
        .ok_or(AppError::NotFound("article"))?;
    attachments::delete_files(&mut tx, "k.article_id = $1", &id).await?;
    sqlx::query("DELETE FROM knowledge_grams WHERE article_id = $1")
        .bind(&id)
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM knowledge_articles WHERE id = $1")
        .bind(&id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("deleteKnowledgeArticle", Outcome::Success, Some(actor))
            .object("KnowledgeArticle", &id)
            .change(
                Some(json!({ "titleJa": current.title_ja, "version": current.version })),
                None,
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn load(db: impl crate::db::Exec<'_>, id: &str) -> AppResult<Option<ArticleRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM knowledge_articles a WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The condition that keeps the articles written for `actor`'s role (the nation sees all);
/// binds `$1`.
fn visible_to(actor: &Actor) -> (String, &'static str) {
    if actor.role == Role::Nation {
        ("$1 = $1".into(), "")
    } else {
        (
            "(a.roles = '' OR a.roles LIKE '%,' || $1 || ',%')".into(),
            actor.role.as_db(),
        )
    }
}

/// Articles visible to `actor`, matching `search` (every word) and `kind`, newest first.
async fn find(
    db: &Db,
    actor: &Actor,
    search: Option<&str>,
    kind: Option<KnowledgeKind>,
) -> AppResult<Vec<ArticleRow>> {
    let (visible, role) = visible_to(actor);
    let mut sql = format!("SELECT {COLUMNS} FROM knowledge_articles a WHERE {visible}");
    let wanted: Vec<String> = match search.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) if text.chars().count() > MAX_QUERY_CHARS => {
            return Err(AppError::invalid_field(
                "search",
                format!(
                    "at most {MAX_QUERY_CHARS} characters / 検索語は{MAX_QUERY_CHARS}文字までです"
                ),
            ));
        }
        Some(text) => {
            let grams: Vec<String> = grams::of_query(text).into_iter().collect();
            if grams.is_empty() {
                return Ok(Vec::new());
            }
            grams
        }
        None => Vec::new(),
    };
    if !wanted.is_empty() {
        sql.push_str(&format!(
            " AND a.id IN (SELECT g.article_id FROM knowledge_grams g WHERE g.gram IN ({}) \
             GROUP BY g.article_id HAVING COUNT(*) = {})",
            placeholders(3, wanted.len()),
            wanted.len()
        ));
    }
    sql.push_str(" AND ($2 = '' OR a.kind = $2) ORDER BY a.updated_at DESC, a.id LIMIT ");
    sql.push_str(&MAX_RESULTS.to_string());
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(role)
        .bind(kind.map_or("", KnowledgeKind::as_db));
    for gram in &wanted {
        query = query.bind(gram);
    }
    Ok(query.fetch_all(db.pool()).await?)
}

#[derive(Default)]
pub struct KnowledgeQuery;

#[Object]
impl KnowledgeQuery {
    /// Manuals and FAQ written for the signed-in user's role (the nation sees all), newest
    /// first (at most 50). `search` finds the articles holding every word given, in Japanese
    /// or English, whatever the width or case.
    async fn knowledge_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to find (at most 100 characters).")] search: Option<String>,
        #[graphql(desc = "Only manuals, or only FAQ.")] kind: Option<KnowledgeKind>,
    ) -> async_graphql::Result<Vec<KnowledgeArticle>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let rows = find(db, actor, search.as_deref(), kind).await?;
        Ok(rows.into_iter().map(KnowledgeArticle).collect())
    }

    /// The help of one screen: the articles with its page key, written for the user's role.
    async fn page_help(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The screen's key, e.g. `allocation.municipality`.")] page_key: String,
    ) -> async_graphql::Result<Vec<KnowledgeArticle>> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let Some(key) = self::page_key(Some(page_key))? else {
            return Ok(Vec::new());
        };
        let (visible, role) = visible_to(actor);
        let rows: Vec<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM knowledge_articles a \
             WHERE {visible} AND a.page_key = $2 ORDER BY a.kind DESC, a.updated_at DESC LIMIT 20"
        )))
        .bind(role)
        .bind(&key)
        .fetch_all(db.pool())
        .await
        .map_err(AppError::from)?;
        Ok(rows.into_iter().map(KnowledgeArticle).collect())
    }
}

#[derive(Default)]
pub struct KnowledgeMutation;

#[Object]
impl KnowledgeMutation {
    /// Adds a manual or FAQ article, or changes one (with `expectedVersion`): the nation.
    /// Audited.
    async fn upsert_knowledge_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] input: KnowledgeArticleInput,
    ) -> async_graphql::Result<KnowledgeArticle> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = upsert(db, &meta, actor, input).await;
        Ok(
            audit::record_if_refused(db, &meta, actor, "upsertKnowledgeArticle", None, result)
                .await?,
        )
    }

    /// Deletes an article: the nation. Audited.
    async fn delete_knowledge_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] article_id: ID,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = delete(db, &meta, actor, &article_id).await;
        Ok(
            audit::record_if_refused(db, &meta, actor, "deleteKnowledgeArticle", None, result)
                .await?,
        )
    }

    /// Attaches a file to an article — a PDF, an MP4 or WebM video, or a PNG or JPEG picture
    /// (what it is, is read from the file), at most 10 an article; sent as a multipart
    /// request with the `Apollo-Require-Preflight` header: the nation. Audited.
    async fn attach_knowledge_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] article_id: ID,
        #[graphql(desc = "The title the article lists it under.")] title: String,
        #[graphql(desc = "The file.")] file: Upload,
    ) -> async_graphql::Result<attachments::KnowledgeAttachment> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let files = ctx.data_unchecked::<Arc<dyn crate::documents::files::FileStore>>();
        let meta = request_meta(ctx);
        let result = async {
            decide(Some(actor), Action::WriteKnowledge, Target::System)?;
            let id = row_of(&article_id, &["KnowledgeArticle"], "articleId")?;
            let received = crate::graphql::uploads::read(ctx, &file, "file")?;
            let new = attachments::NewAttachment {
                article_id: &id,
                title: &title,
                file_name: received.file_name.as_deref(),
                bytes: &received.bytes,
            };
            attachments::attach(db, files, &meta, actor, new).await
        }
        .await;
        let row =
            audit::record_if_refused(db, &meta, actor, "attachKnowledgeFile", None, result).await?;
        Ok(attachments::KnowledgeAttachment(row))
    }

    /// Removes an attachment and its file: the nation. Audited.
    async fn remove_knowledge_attachment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The attachment.")] attachment_id: ID,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = async {
            decide(Some(actor), Action::WriteKnowledge, Target::System)?;
            let id = row_of(&attachment_id, &["KnowledgeAttachment"], "attachmentId")?;
            attachments::remove(db, &meta, actor, &id).await
        }
        .await;
        Ok(
            audit::record_if_refused(db, &meta, actor, "removeKnowledgeAttachment", None, result)
                .await?,
        )
    }
}
