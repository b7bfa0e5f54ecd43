//! Public notices and the FAQ of the navigator (お知らせ, よくある質問): written by the nation in
//! Japanese and English, read by anyone. Every change is audited; a new notice is announced
//! to live pages.

use async_graphql::{Context, ID, InputObject, Object};
use serde_json::json;

use crate::actor::{Actor, RequestMeta, request_meta, require_actor};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::clock::Timestamp;
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::events::{NewEvent, Visibility, append};
use crate::graphql::ids::{global_id, row_of};
use crate::reservations::schedule::parse_date;

/// A new notice, announced to every live page.
pub const NOTICE_TOPIC: &str = "notice.published";

#[derive(Debug, Clone, sqlx::FromRow)]
struct NoticeRow {
    id: String,
    title_ja: String,
    title_en: String,
    body_ja: String,
    body_en: String,
    expires_on: Option<String>,
    published_at: Timestamp,
}

pub struct Notice(NoticeRow);

/// A public notice (お知らせ).
#[Object]
impl Notice {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Notice", &self.0.id)
    }
    /// Title in Japanese.
    async fn title_ja(&self) -> &str {
        &self.0.title_ja
    }
    /// Title in English.
    async fn title_en(&self) -> &str {
        &self.0.title_en
    }
    /// Text in Japanese.
    async fn body_ja(&self) -> &str {
        &self.0.body_ja
    }
    /// Text in English.
    async fn body_en(&self) -> &str {
        &self.0.body_en
    }
    /// The last day it is shown, `YYYY-MM-DD` (null: until withdrawn).
    async fn expires_on(&self) -> Option<&str> {
        self.0.expires_on.as_deref()
    }
    /// When it was published.
    async fn published_at(&self) -> Timestamp {
        self.0.published_at
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct FaqRow {
    id: String,
    category: String,
    position: i64,
    question_ja: String,
    question_en: String,
    answer_ja: String,
    answer_en: String,
    updated_at: Timestamp,
    version: i64,
}

pub struct Faq(FaqRow);

/// A question and its answer (よくある質問).
#[Object]
impl Faq {
    /// Globally unique, opaque id.
    async fn id(&self) -> ID {
        global_id("Faq", &self.0.id)
    }
    /// The group it belongs to (e.g. "予約 / Booking").
    async fn category(&self) -> &str {
        &self.0.category
    }
    /// Its place in the group (smaller first).
    async fn position(&self) -> i64 {
        self.0.position
    }
    /// The question in Japanese.
    async fn question_ja(&self) -> &str {
        &self.0.question_ja
    }
    /// The question in English.
    async fn question_en(&self) -> &str {
        &self.0.question_en
    }
    /// The answer in Japanese.
    async fn answer_ja(&self) -> &str {
        &self.0.answer_ja
    }
    /// The answer in English.
    async fn answer_en(&self) -> &str {
        &self.0.answer_en
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at
    }
    /// Moves by one with every change (pass it as `expectedVersion`).
    async fn version(&self) -> i64 {
        self.0.version
    }
}

/// A notice to publish.
#[derive(InputObject)]
pub struct NoticeInput {
    /// Title in Japanese (1 to 200 characters).
    pub title_ja: String,
    /// Title in English (1 to 200 characters).
    pub title_en: String,
    /// Text in Japanese (1 to 5,000 characters).
    pub body_ja: String,
    /// Text in English (1 to 5,000 characters).
    pub body_en: String,
    /// The last day to show it, `YYYY-MM-DD` (today or later).
    pub expires_on: Option<String>,
}

/// A question to add or change.
#[derive(InputObject)]
pub struct FaqInput {
    /// The question to change; none adds one.
    pub faq_id: Option<ID>,
    /// Its group (1 to 50 characters).
    pub category: String,
    /// Its place in the group (0 to 10,000).
    #[graphql(default)]
    pub position: i64,
    /// The question in Japanese (1 to 500 characters).
    pub question_ja: String,
    /// The question in English (1 to 500 characters).
    pub question_en: String,
    /// The answer in Japanese (1 to 5,000 characters).
    pub answer_ja: String,
    /// The answer in English (1 to 5,000 characters).
    pub answer_en: String,
    /// For a change: the version read (else CONFLICT, STALE_VERSION).
    pub expected_version: Option<i64>,
}

/// A trimmed text of `min..=max` characters, or an error naming `field`.
pub(crate) fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length == 0 || length > max {
        return Err(AppError::invalid_field(
            field,
            format!("1 to {max} characters / 1〜{max}文字で入力してください"),
        ));
    }
    Ok(value.to_owned())
}

fn may_write(actor: &Actor) -> AppResult<()> {
    decide(Some(actor), Action::WritePublicContent, Target::System)
}

#[derive(Default)]
pub struct NoticeQuery;

#[Object]
impl NoticeQuery {
    /// Current public notices, newest first (at most 50). No sign-in needed.
    async fn notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (default 20, at most 50).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<Notice>> {
        let first = first.unwrap_or(20);
        if !(1..=50).contains(&first) {
            return Err(AppError::invalid_field("first", "1 to 50 / 1〜50件です").into());
        }
        let db = ctx.data_unchecked::<Db>();
        let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, title_ja, title_en, body_ja, body_en, expires_on, published_at \
             FROM notices WHERE withdrawn_at IS NULL AND (expires_on IS NULL OR expires_on >= $1) \
             ORDER BY published_at DESC, id DESC LIMIT {first}"
        )))
        .bind(db.clock().today_in_japan())
        .fetch_all(db.pool())
        .await
        .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Notice).collect())
    }

    /// The FAQ, by group and place. No sign-in needed.
    async fn faqs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this group.")] category: Option<String>,
    ) -> async_graphql::Result<Vec<Faq>> {
        let db = ctx.data_unchecked::<Db>();
        let rows: Vec<FaqRow> = sqlx::query_as(
            "SELECT id, category, position, question_ja, question_en, answer_ja, answer_en, \
             updated_at, version FROM faqs WHERE ($1 IS NULL OR category = $1) \
             ORDER BY category, position, id LIMIT 500",
        )
        .bind(category.map(|c| c.trim().to_owned()))
        .fetch_all(db.pool())
        .await
        .map_err(AppError::from)?;
        Ok(rows.into_iter().map(Faq).collect())
    }
}

#[derive(Default)]
pub struct NoticeMutation;

#[Object]
impl NoticeMutation {
    /// Publishes a notice in Japanese and English (the nation). Audited; announced live.
    async fn publish_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notice.")] input: NoticeInput,
    ) -> async_graphql::Result<Notice> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = publish(db, &meta, actor, input).await;
        Ok(audit::record_if_refused(db, &meta, actor, "publishNotice", None, result).await?)
    }

    /// Withdraws a notice (the nation). Audited.
    async fn withdraw_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notice.")] notice_id: ID,
    ) -> async_graphql::Result<bool> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = withdraw(db, &meta, actor, &notice_id).await;
        Ok(audit::record_if_refused(db, &meta, actor, "withdrawNotice", None, result).await?)
    }

    /// Adds a question to the FAQ, or changes one (with `expectedVersion`), in Japanese and
    /// English (the nation). Audited.
    async fn upsert_faq(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The question and answer.")] input: FaqInput,
    ) -> async_graphql::Result<Faq> {
        let actor = require_actor(ctx)?;
        let db = ctx.data_unchecked::<Db>();
        let meta = request_meta(ctx);
        let result = upsert_faq(db, &meta, actor, input).await;
        Ok(audit::record_if_refused(db, &meta, actor, "upsertFaq", None, result).await?)
    }
}

async fn publish(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    input: NoticeInput,
) -> AppResult<Notice> {
    may_write(actor)?;
    let row = NoticeRow {
        id: new_id(),
        title_ja: text("titleJa", &input.title_ja, 200)?,
        title_en: text("titleEn", &input.title_en, 200)?,
        body_ja: text("bodyJa", &input.body_ja, 5000)?,
        body_en: text("bodyEn", &input.body_en, 5000)?,
        expires_on: input
            .expires_on
            .map(|d| {
                let day = parse_date("expiresOn", &d)?.to_string();
                if day < db.clock().today_in_japan() {
                    return Err(AppError::invalid_field(
                        "expiresOn",
                        "today or later / 今日以降の日付を指定してください",
                    ));
                }
                Ok(day)
            })
            .transpose()?,
        published_at: db.now(),
    };
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO notices (id, title_ja, title_en, body_ja, body_en, expires_on, \
         published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.id)
    .bind(&row.title_ja)
    .bind(&row.title_en)
    .bind(&row.body_ja)
    .bind(&row.body_en)
    .bind(&row.expires_on)
    .bind(&actor.user_id)
    .bind(row.published_at)
    .execute(tx.conn())
    .await?;
    let view = json!({ "noticeId": row.id, "titleJa": row.title_ja, "titleEn": row.title_en });
    audit::record(
        &mut tx,
        meta,
        Entry::new("publishNotice", Outcome::Success, Some(actor))
            .object("Notice", &row.id)
            .change(None, Some(view.clone())),
    )
    .await?;
    append(
        &mut tx,
        &NewEvent {
            topic: NOTICE_TOPIC.into(),
            visibility: Visibility::Public,
            organization_id: None,
            payload: view,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Notice(row))
}

async fn withdraw(db: &Db, meta: &RequestMeta, actor: &Actor, id: &ID) -> AppResult<bool> {
    may_write(actor)?;
    let id = row_of(id, &["Notice"], "notice")?;
    let mut tx = db.begin_write().await?;
    let withdrawn = sqlx::query(
        "UPDATE notices SET withdrawn_at = $1, withdrawn_by = $2 \
         WHERE id = $3 AND withdrawn_at IS NULL",
    )
    .bind(tx.now())
    .bind(&actor.user_id)
    .bind(&id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if withdrawn == 0 {
        return Err(AppError::NotFound("notice"));
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new("withdrawNotice", Outcome::Success, Some(actor)).object("Notice", &id),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn upsert_faq(db: &Db, meta: &RequestMeta, actor: &Actor, input: FaqInput) -> AppResult<Faq> {
    may_write(actor)?;
    if !(0..=10_000).contains(&input.position) {
        return Err(AppError::invalid_field(
            "position",
            "0 to 10,000 / 0〜10,000です",
        ));
    }
    let category = text("category", &input.category, 50)?;
    let question_ja = text("questionJa", &input.question_ja, 500)?;
    let question_en = text("questionEn", &input.question_en, 500)?;
    let answer_ja = text("answerJa", &input.answer_ja, 5000)?;
    let answer_en = text("answerEn", &input.answer_en, 5000)?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let id = match &input.faq_id {
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO faqs (id, category, position, question_ja, question_en, answer_ja, \
                 answer_en, updated_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(&id)
            .bind(&category)
            .bind(input.position)
            .bind(&question_ja)
            .bind(&question_en)
            .bind(&answer_ja)
            .bind(&answer_en)
            .bind(&actor.user_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            id
        }
        Some(faq_id) => {
            let id = row_of(faq_id, &["Faq"], "faq")?;
            let current: Option<i64> = sqlx::query_scalar("SELECT version FROM faqs WHERE id = $1")
                .bind(&id)
                .fetch_optional(tx.conn())
                .await?;
            let current = current.ok_or(AppError::NotFound("faq"))?;
            if input.expected_version.is_some_and(|v| v != current) {
                return Err(AppError::Refused {
                    message: "the question changed meanwhile: reload it / 他の操作で更新されました。再読み込みしてください".into(),
                    reason: "STALE_VERSION",
                    current: Some(json!({ "version": current })),
                });
            }
            sqlx::query(
                "UPDATE faqs SET category = $1, position = $2, question_ja = $3, \
                 question_en = $4, answer_ja = $5, answer_en = $6, updated_by = $7, \
                 updated_at = $8, version = version + 1 WHERE id = $9",
            )
            .bind(&category)
            .bind(input.position)
            .bind(&question_ja)
            .bind(&question_en)
            .bind(&answer_ja)
            .bind(&answer_en)
            .bind(&actor.user_id)
            .bind(now)
            .bind(&id)
            .execute(tx.conn())
            .await?;
            id
        }
    };
    let row: FaqRow = sqlx::query_as(
        "SELECT id, category, position, question_ja, question_en, answer_ja, answer_en, \
         updated_at, version FROM faqs WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        meta,
        Entry::new("upsertFaq", Outcome::Success, Some(actor))
            .object("Faq", &id)
            .change(
                None,
                Some(json!({ "category": category, "questionJa": question_ja, "version": row.version })),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(Faq(row))
}
