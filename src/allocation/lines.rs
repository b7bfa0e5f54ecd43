//! Allocation lines and progress as stored: who gives how many boxes of which product to whom
//! in a cool, and where each organisation stands (confirmed, completed, locked).
//!
//! Reads take any executor ([`Exec`]) so that a mutation reads inside its own transaction.
//!
//! The reads are not kept as prepared statements (`persistent(false)`): a cool's lines grow from
//! none to 150,000 within its allocation, and PostgreSQL's cached plan for a statement first
//! run on the empty table (a scan) stayed in use on the full one — 15 ms instead of 0.1 ms per
//! read in the allocation benchmark (docs/performance.md).

use std::collections::HashMap;

use super::products::{ProductKind, ProductRecord};
use crate::clock::Timestamp;
use crate::db::{Backend, Exec, WriteTx, new_id, placeholders};
use crate::error::{AppError, AppResult};
use crate::organizations::{OrganizationKind, OrganizationRecord};

/// One allocation line: `boxes` of a product from `allocator_id` to `recipient_id`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AllocationRecord {
    pub id: String,
    pub cool_id: String,
    pub product_id: String,
    pub allocator_id: String,
    pub recipient_id: String,
    pub boxes: i64,
    /// The product's doses per box, read with the row (doses are derived, never stored).
    pub doses_per_box: i64,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl AllocationRecord {
    pub fn doses(&self) -> i64 {
        self.boxes * self.doses_per_box
    }

    /// What a version conflict shows the caller: the line as it is now.
    pub fn current(&self) -> serde_json::Value {
        serde_json::json!({ "boxes": self.boxes, "version": self.version })
    }
}

const COLUMNS: &str = "a.id, a.cool_id, a.product_id, a.allocator_id, a.recipient_id, a.boxes, \
     p.units_per_box * p.doses_per_unit AS doses_per_box, a.updated_at, a.version";
const FROM: &str = "allocations a JOIN products p ON p.id = a.product_id";

/// Where an organisation stands in a cool.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Progress {
    pub confirmed_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub locked_at: Option<Timestamp>,
}

/// The organisation that gives `recipient` its allocation: the nation for a prefecture, the
/// prefecture for a municipality, the municipality for a facility. Nobody allocates to other
/// kinds of organisation.
pub fn allocator_of(recipient: &OrganizationRecord) -> Option<&str> {
    match recipient.kind() {
        OrganizationKind::Prefecture => recipient.parent_id.as_deref(),
        OrganizationKind::Municipality => recipient.prefecture_id.as_deref(),
        OrganizationKind::Facility => recipient.municipality_id.as_deref(),
        _ => None,
    }
}

/// [`allocator_of`] in SQL, for the organisation aliased `o` (NULL for kinds nobody allocates
/// to). A read of a recipient's lines names their allocator too: the lines' key leads with it.
pub fn allocator_of_sql(o: &str) -> String {
    format!(
        "CASE {o}.kind WHEN '{}' THEN {o}.parent_id WHEN '{}' THEN {o}.prefecture_id \
         WHEN '{}' THEN {o}.municipality_id END",
        OrganizationKind::Prefecture.as_db(),
        OrganizationKind::Municipality.as_db(),
        OrganizationKind::Facility.as_db(),
    )
}

/// The prefecture whose data lock covers lines to `recipient` (a prefecture covers itself).
pub fn lock_scope_of(recipient: &OrganizationRecord) -> Option<&str> {
    recipient.prefecture_id.as_deref()
}

/// The line of `product` to `recipient` in a cool, if there is one.
pub async fn line<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    product_id: &str,
    recipient: &OrganizationRecord,
) -> AppResult<Option<AllocationRecord>> {
    let Some(allocator_id) = allocator_of(recipient) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE a.cool_id = $1 AND a.allocator_id = $2 \
         AND a.recipient_id = $3 AND a.product_id = $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(cool_id)
        .bind(allocator_id)
        .bind(&recipient.id)
        .bind(product_id)
        .fetch_optional(on)
        .await?)
}

/// Every line an organisation gives in a cool, by product then recipient.
pub async fn given_by<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    allocator_id: &str,
) -> AppResult<Vec<AllocationRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE a.cool_id = $1 AND a.allocator_id = $2 \
         ORDER BY p.kind, p.code, a.recipient_id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(cool_id)
        .bind(allocator_id)
        .fetch_all(on)
        .await?)
}

/// Every line an organisation received in a cool, by product.
pub async fn received_by<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    recipient: &OrganizationRecord,
) -> AppResult<Vec<AllocationRecord>> {
    let Some(allocator_id) = allocator_of(recipient) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE a.cool_id = $1 AND a.allocator_id = $2 \
         AND a.recipient_id = $3 ORDER BY p.kind, p.code"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(cool_id)
        .bind(allocator_id)
        .bind(&recipient.id)
        .fetch_all(on)
        .await?)
}

/// Every line an organisation received, in every cool (oldest cool first).
pub async fn of_recipient_all<'c>(
    on: impl Exec<'c>,
    recipient: &OrganizationRecord,
) -> AppResult<Vec<AllocationRecord>> {
    let Some(allocator_id) = allocator_of(recipient) else {
        return Ok(Vec::new());
    };
    // Cool by cool: the lines' key starts with the cool.
    let sql = format!(
        "SELECT {COLUMNS} FROM cools c JOIN allocations a ON a.cool_id = c.id \
         JOIN products p ON p.id = a.product_id \
         WHERE a.allocator_id = $1 AND a.recipient_id = $2 \
         ORDER BY c.starts_on, c.number, p.kind, p.code"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(allocator_id)
        .bind(&recipient.id)
        .fetch_all(on)
        .await?)
}

/// Every line of a cool whose recipient lies in a prefecture (the prefecture's own line, its
/// municipalities' and its facilities'), for the prefecture's check: the lines given by the
/// prefecture and by its municipalities, and the nation's line to the prefecture.
pub async fn in_prefecture<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    prefecture_id: &str,
) -> AppResult<Vec<AllocationRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organizations g \
         JOIN allocations a ON a.cool_id = $1 AND a.allocator_id = g.id \
         JOIN products p ON p.id = a.product_id \
         WHERE g.prefecture_id = $2 AND g.kind IN ($3, $4) \
         UNION ALL \
         SELECT {COLUMNS} FROM organizations g \
         JOIN allocations a ON a.cool_id = $1 AND a.allocator_id = g.parent_id \
           AND a.recipient_id = g.id \
         JOIN products p ON p.id = a.product_id \
         WHERE g.id = $2 \
         ORDER BY 5"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(cool_id)
        .bind(prefecture_id)
        .bind(OrganizationKind::Prefecture.as_db())
        .bind(OrganizationKind::Municipality.as_db())
        .fetch_all(on)
        .await?)
}

/// Boxes of `product` an organisation received in a cool: the supply registered for the cool
/// when it is the nation, its allocation line otherwise (0 without one).
pub async fn received<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    product_id: &str,
    organization: &OrganizationRecord,
) -> AppResult<i64> {
    let query = if organization.kind() == OrganizationKind::Nation {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(boxes), 0) AS BIGINT) FROM supplies \
             WHERE cool_id = $1 AND product_id = $2",
        )
        .persistent(false)
        .bind(cool_id)
        .bind(product_id)
    } else {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(boxes), 0) AS BIGINT) FROM allocations \
             WHERE cool_id = $1 AND product_id = $2 AND allocator_id = $3 AND recipient_id = $4",
        )
        .persistent(false)
        .bind(cool_id)
        .bind(product_id)
        .bind(allocator_of(organization).unwrap_or_default())
        .bind(&organization.id)
    };
    Ok(query.fetch_one(on).await?)
}

/// Boxes of every product an organisation received in a cool, by product id, in one read: the
/// supply registered for the cool when it is the nation, its allocation lines otherwise.
pub async fn received_all<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    organization: &OrganizationRecord,
) -> AppResult<HashMap<String, i64>> {
    let query = if organization.kind() == OrganizationKind::Nation {
        sqlx::query_as("SELECT product_id, boxes FROM supplies WHERE cool_id = $1")
            .persistent(false)
            .bind(cool_id)
    } else {
        sqlx::query_as(
            "SELECT product_id, boxes FROM allocations \
             WHERE cool_id = $1 AND allocator_id = $2 AND recipient_id = $3",
        )
        .persistent(false)
        .bind(cool_id)
        .bind(allocator_of(organization).unwrap_or_default())
        .bind(&organization.id)
    };
    let rows: Vec<(String, i64)> = query.fetch_all(on).await?;
    let mut received: HashMap<String, i64> = HashMap::new();
    for (product_id, boxes) in rows {
        *received.entry(product_id).or_default() += boxes;
    }
    Ok(received)
}

/// Boxes of `product` an organisation gives in a cool, except to `except` (the line being set).
pub async fn given_except<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    product_id: &str,
    allocator_id: &str,
    except: &str,
) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(boxes), 0) AS BIGINT) FROM allocations \
         WHERE cool_id = $1 AND product_id = $2 AND allocator_id = $3 AND recipient_id <> $4",
    )
    .persistent(false)
    .bind(cool_id)
    .bind(product_id)
    .bind(allocator_id)
    .bind(except)
    .fetch_one(on)
    .await?)
}

/// Where an organisation stands in a cool (nothing yet: all `None`).
pub async fn progress<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    organization_id: &str,
) -> AppResult<Progress> {
    Ok(sqlx::query_as(
        "SELECT confirmed_at, completed_at, locked_at FROM allocation_progress \
         WHERE cool_id = $1 AND organization_id = $2",
    )
    .persistent(false)
    .bind(cool_id)
    .bind(organization_id)
    .fetch_optional(on)
    .await?
    .unwrap_or_default())
}

/// The progress of many organisations in a cool, by organisation id (absent: nothing yet).
pub async fn progress_of_all<'c>(
    on: impl Exec<'c>,
    cool_id: &str,
    prefecture_id: &str,
) -> AppResult<HashMap<String, Progress>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        organization_id: String,
        #[sqlx(flatten)]
        progress: Progress,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT g.organization_id, g.confirmed_at, g.completed_at, g.locked_at \
         FROM allocation_progress g JOIN organizations o ON o.id = g.organization_id \
         WHERE g.cool_id = $1 AND o.prefecture_id = $2",
    )
    .persistent(false)
    .bind(cool_id)
    .bind(prefecture_id)
    .fetch_all(on)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.organization_id, r.progress))
        .collect())
}

/// Takes the progress row of an organisation for the rest of the transaction (creating it when
/// missing) and returns it. Writers of one prefecture's allocation take its row first, then
/// their own: every check of "received", "locked" and "complete" then sees the latest commit,
/// on PostgreSQL as on SQLite's single writer.
pub async fn hold_progress(
    tx: &mut WriteTx,
    cool_id: &str,
    organization_id: &str,
) -> AppResult<Progress> {
    // One statement: the insert creates the row, or its conflict branch writes the row
    // unchanged — a write is what locks it on PostgreSQL — and returns it either way.
    Ok(sqlx::query_as(
        "INSERT INTO allocation_progress (cool_id, organization_id) VALUES ($1, $2) \
         ON CONFLICT (cool_id, organization_id) DO UPDATE SET locked_at = allocation_progress.locked_at \
         RETURNING confirmed_at, completed_at, locked_at",
    )
    .bind(cool_id)
    .bind(organization_id)
    .fetch_one(tx.conn())
    .await?)
}

/// Reads the progress row of the prefecture whose data lock covers a change by one of its
/// municipalities, holding it shared for the rest of the transaction (creating it when
/// missing). Its municipalities' changes then go ahead side by side, while the prefecture's own
/// writes — its lock above all — wait for them, and they for it. SQLite has one writer at a
/// time, so a plain read does the same there.
pub async fn share_progress(
    tx: &mut WriteTx,
    cool_id: &str,
    organization_id: &str,
) -> AppResult<Progress> {
    sqlx::query(
        "INSERT INTO allocation_progress (cool_id, organization_id) VALUES ($1, $2) \
         ON CONFLICT (cool_id, organization_id) DO NOTHING",
    )
    .bind(cool_id)
    .bind(organization_id)
    .execute(tx.conn())
    .await?;
    if tx.backend() == Backend::Sqlite {
        return progress(tx.conn(), cool_id, organization_id).await;
    }
    Ok(sqlx::query_as(
        "SELECT confirmed_at, completed_at, locked_at FROM allocation_progress \
         WHERE cool_id = $1 AND organization_id = $2 FOR SHARE",
    )
    .bind(cool_id)
    .bind(organization_id)
    .fetch_one(tx.conn())
    .await?)
}

/// Takes the progress row of the prefecture whose lock covers a change by `acting` (the kind
/// of organisation making it): shared for the organisations below the prefecture, which
/// never write its row; alone for the prefecture itself and for the nation, whose changes
/// clear the prefecture's confirmation (a shared reader that then writes would deadlock with
/// another). Every writer under a prefecture takes this row first.
pub async fn take_lock_scope(
    tx: &mut WriteTx,
    cool_id: &str,
    prefecture_id: &str,
    acting: OrganizationKind,
) -> AppResult<Progress> {
    match acting {
        OrganizationKind::Municipality | OrganizationKind::Facility => {
            share_progress(tx, cool_id, prefecture_id).await
        }
        _ => hold_progress(tx, cool_id, prefecture_id).await,
    }
}

/// Which stamp of the progress row a statement sets or clears.
#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    Confirmed,
    Completed,
    Locked,
}

impl Stamp {
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Stamp::Confirmed => ("confirmed_at", "confirmed_by"),
            Stamp::Completed => ("completed_at", "completed_by"),
            Stamp::Locked => ("locked_at", "locked_by"),
        }
    }
}

/// Sets (with the user) or clears (`None`) a stamp of organisations' progress rows.
pub async fn stamp(
    tx: &mut WriteTx,
    cool_id: &str,
    organization_ids: &[&str],
    stamp: Stamp,
    by: Option<&str>,
) -> AppResult<()> {
    set_stamps(tx, cool_id, organization_ids, &[stamp], by).await
}

/// Sets (with the user) or clears (`None`) several stamps of organisations' progress rows in
/// one statement per 500 organisations.
async fn set_stamps(
    tx: &mut WriteTx,
    cool_id: &str,
    organization_ids: &[&str],
    stamps: &[Stamp],
    by: Option<&str>,
) -> AppResult<()> {
    if organization_ids.is_empty() {
        return Ok(());
    }
    let columns: Vec<String> = stamps
        .iter()
        .map(|stamp| {
            let (at, who) = stamp.columns();
            format!("{at} = $1, {who} = $2")
        })
        .collect();
    let now = by.map(|_| tx.now());
    for chunk in organization_ids.chunks(500) {
        let sql = format!(
            "UPDATE allocation_progress SET {} \
             WHERE cool_id = $3 AND organization_id IN ({})",
            columns.join(", "),
            placeholders(4, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(by)
            .bind(cool_id);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// After amounts changed: what the recipients confirmed and completed no longer holds (they
/// confirm the new amount, then allocate it), nor does the allocator's completion.
pub async fn withdraw_after_change(
    tx: &mut WriteTx,
    cool_id: &str,
    allocator_id: &str,
    recipient_ids: &[&str],
) -> AppResult<()> {
    set_stamps(
        tx,
        cool_id,
        recipient_ids,
        &[Stamp::Confirmed, Stamp::Completed],
        None,
    )
    .await?;
    stamp(tx, cool_id, &[allocator_id], Stamp::Completed, None).await
}

/// Lines per insert: each travels as one JSON parameter, so a proposal of any size is one or
/// two statements.
const LINES_PER_INSERT: usize = 2_000;

/// Where an insert reads the lines of its JSON parameter (`$1`, an array of
/// `[id, product, recipient, boxes]`) as rows with a column `value` holding each array.
fn json_rows(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "json_each($1) AS j",
        Backend::Postgres => "jsonb_array_elements(CAST($1 AS jsonb)) AS j(value)",
    }
}

/// One amount to write.
pub struct NewLine<'a> {
    pub product: &'a ProductRecord,
    pub recipient_id: &'a str,
    pub boxes: i64,
}

/// Writes lines given by `allocator_id` (insert or replace; the version moves only when the
/// amount changes) and returns the recipients whose amount changed.
pub async fn write_lines(
    tx: &mut WriteTx,
    cool_id: &str,
    allocator_id: &str,
    user_id: &str,
    lines: &[NewLine<'_>],
) -> AppResult<Vec<String>> {
    let now = tx.now();
    let mut before: HashMap<(String, String), i64> = HashMap::new();
    for line in given_by(tx.conn(), cool_id, allocator_id).await? {
        before.insert((line.product_id, line.recipient_id), line.boxes);
    }
    let changed: Vec<&NewLine> = lines
        .iter()
        .filter(|l| {
            before.get(&(l.product.id.clone(), l.recipient_id.to_owned())) != Some(&l.boxes)
        })
        .collect();
    // The rows travel as one JSON parameter that the database unpacks: bound one value at a
    // time, a 50-row statement had 204 parameters, and sqlx maps each `$N` through SQLite's
    // `sqlite3_bind_parameter_name`, which walks the statement's parameters (13 % of the cycle
    // at 200 rows a statement, docs/performance.md). `WHERE true` keeps SQLite's parser from
    // reading ON CONFLICT as part of the SELECT's join.
    let sql = format!(
        "INSERT INTO allocations (id, product_id, recipient_id, boxes, cool_id, allocator_id, \
         updated_by, created_at, updated_at) \
         SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, CAST(j.value ->> 3 AS BIGINT), \
         $2, $3, $4, $5, $5 FROM {} WHERE true \
         ON CONFLICT (cool_id, allocator_id, recipient_id, product_id) DO UPDATE SET \
         boxes = excluded.boxes, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at, version = allocations.version + 1",
        json_rows(tx.backend())
    );
    for chunk in changed.chunks(LINES_PER_INSERT) {
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .map(|line| {
                serde_json::json!([new_id(), line.product.id, line.recipient_id, line.boxes])
            })
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(serde_json::Value::Array(rows).to_string())
            .bind(cool_id)
            .bind(allocator_id)
            .bind(user_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
    }
    let mut recipients: Vec<String> = changed.iter().map(|l| l.recipient_id.to_owned()).collect();
    recipients.sort();
    recipients.dedup();
    Ok(recipients)
}

/// A product line of a cool: the cool's vaccine, or needles or syringes.
pub fn is_line_of(product: &ProductRecord, cool_product_id: &str) -> bool {
    match product.kind {
        ProductKind::Vaccine => product.id == cool_product_id,
        ProductKind::Needle | ProductKind::Syringe => true,
    }
}

/// The error for an organisation that takes no allocation line.
pub fn not_a_recipient() -> AppError {
    AppError::invalid_field(
        "recipientId",
        "only prefectures, municipalities and facilities receive allocations / 配分先は都道府県・市区町村・医療機関です",
    )
}
