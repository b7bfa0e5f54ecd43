//! `Idempotency-Key`: a client that retries a mutation after a lost answer (a dropped
//! connection, a timeout at the call centre's desk) sends the same key again and gets the first
//! answer instead of acting twice.
//!
//! The key is claimed in the mutation's own transaction, before anything else is written, so
//! two concurrent requests with one key cannot both act: on PostgreSQL the second waits on the
//! key's unique index and fails when the first commits; on SQLite the single writer orders
//! them. A request that failed claimed nothing (its transaction rolled back), so its retry runs
//! afresh. Keys are per user and kept for a day.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::actor::{Actor, RequestMeta};
use crate::db::{Db, WriteTx};
use crate::error::{AppError, AppResult};

/// How long a key's answer is kept.
const KEPT_FOR: time::Duration = time::Duration::hours(24);

/// The reason a duplicate request gets while the first with its key still runs; the caller
/// replays the answer once the first has committed.
pub const KEY_IN_USE: &str = "IDEMPOTENCY_KEY_IN_USE";

/// One mutation call that named an idempotency key.
#[derive(Clone)]
pub struct IdempotentCall {
    user_id: String,
    key: String,
    operation: &'static str,
    request_hash: String,
}

impl IdempotentCall {
    /// The call, if the request named a key. The request's arguments are hashed so that a key
    /// reused for a different request is refused rather than answered with the wrong result.
    pub fn of(
        meta: &RequestMeta,
        actor: &Actor,
        operation: &'static str,
        arguments: &Value,
    ) -> AppResult<Option<IdempotentCall>> {
        let Some(key) = meta.idempotency_key.as_deref() else {
            return Ok(None);
        };
        if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::invalid_field(
                "Idempotency-Key",
                "the Idempotency-Key header holds 1 to 200 visible ASCII characters / Idempotency-Keyは1〜200文字の英数記号です",
            ));
        }
        let request_hash = hex::encode(Sha256::digest(arguments.to_string().as_bytes()));
        Ok(Some(IdempotentCall {
            user_id: actor.user_id.clone(),
            key: key.to_owned(),
            operation,
            request_hash,
        }))
    }

    /// The first answer, when an earlier request with this key succeeded; a key used for a
    /// different request is refused (CONFLICT, IDEMPOTENCY_KEY_REUSED).
    pub async fn replay(&self, db: &Db) -> AppResult<Option<Value>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT operation, request_hash, response FROM idempotency_keys \
             WHERE user_id = $1 AND idempotency_key = $2 AND created_at > $3",
        )
        .bind(&self.user_id)
        .bind(&self.key)
        .bind(db.now() - KEPT_FOR)
        .fetch_optional(db.pool())
        .await?;
        let Some((operation, request_hash, response)) = row else {
            return Ok(None);
        };
        if operation != self.operation || request_hash != self.request_hash {
            return Err(AppError::refused(
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used for a different request: use a new key for a new request / このIdempotency-Keyは別の要求に使われています",
            ));
        }
        serde_json::from_str(&response)
            .map(Some)
            .map_err(|e| AppError::Internal(e.into()))
    }

    /// Claims the key in `tx`, first of all its writes. Expired keys of the user are cleared.
    pub async fn claim(&self, tx: &mut WriteTx) -> AppResult<()> {
        let now = tx.now();
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at <= $2")
            .bind(&self.user_id)
            .bind(now - KEPT_FOR)
            .execute(tx.conn())
            .await?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, operation, request_hash, \
             response, created_at) VALUES ($1, $2, $3, $4, 'null', $5)",
        )
        .bind(&self.user_id)
        .bind(&self.key)
        .bind(self.operation)
        .bind(&self.request_hash)
        .bind(now)
        .execute(tx.conn())
        .await;
        match claimed {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::refused(
                KEY_IN_USE,
                "a request with this Idempotency-Key is already being handled / 同じIdempotency-Keyの要求を処理中です",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores the answer, in the same transaction, before it commits.
    pub async fn answer(&self, tx: &mut WriteTx, response: &Value) -> AppResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET response = $1 WHERE user_id = $2 AND idempotency_key = $3",
        )
        .bind(response.to_string())
        .bind(&self.user_id)
        .bind(&self.key)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// The first answer to an earlier request with the call's key, if there was one.
pub async fn earlier_answer(db: &Db, call: Option<&IdempotentCall>) -> AppResult<Option<Value>> {
    match call {
        Some(call) => call.replay(db).await,
        None => Ok(None),
    }
}

/// The result of running the call: a concurrent duplicate that lost the claim on its key
/// replays the winner's answer once that has committed.
pub async fn settle(
    db: &Db,
    call: Option<&IdempotentCall>,
    result: AppResult<Value>,
) -> AppResult<Value> {
    match (call, result) {
        (Some(call), Err(AppError::Refused { reason, .. })) if reason == KEY_IN_USE => call
            .replay(db)
            .await?
            .ok_or_else(|| AppError::refused(KEY_IN_USE, "retry the request / 再度お試しください")),
        (_, result) => result,
    }
}
