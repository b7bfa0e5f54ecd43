//! SQL for organisations. One code path for SQLite and PostgreSQL.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::model::{
    ApprovalStatus, FacilityType, NewOrganization, OrganizationKind, OrganizationRecord,
};
use crate::db::{Db, Exec, Filter, placeholders};
use crate::error::AppResult;
use crate::graphql::pagination::PageRequest;

const SELECT: &str = "SELECT o.id, o.kind, o.code, o.name, o.name_kana, o.name_romaji, \
     o.parent_id, o.prefecture_id, o.municipality_id, o.created_at, o.updated_at, o.version, o.population, \
     f.facility_type, f.postal_code, f.address, f.latitude, f.longitude, f.phone, \
     f.representative_name, f.vaccines_handled, f.general_acceptance, f.proxy_input, f.approval_status, \
     f.weekly_capacity, f.opening_hours, f.parking_notes, f.access_notes, f.supply_type, f.basic_facility_id, \
     f.operating_municipality_id, f.reservation_mode, f.navigator_published \
     FROM organizations o LEFT JOIN facilities f ON f.organization_id = o.id";

/// Largest `IN (…)` list sent at once; well under both backends' parameter limits.
const BATCH: usize = 500;

/// Loads organisations by id, in as few statements as the batch size allows.
pub async fn load_by_ids(
    db: &Db,
    ids: &[String],
) -> AppResult<HashMap<String, OrganizationRecord>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let sql = format!("{SELECT} WHERE o.id IN ({})", placeholders(1, chunk.len()));
        let mut query = sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for record in query.fetch_all(db.pool()).await? {
            found.insert(record.id.clone(), record);
        }
    }
    Ok(found)
}

/// The organisations directly below `allocator` in the allocation hierarchy, by code: the
/// prefectures for the nation, a prefecture's municipalities, a municipality's facilities.
pub async fn allocation_children(
    db: &Db,
    allocator: &OrganizationRecord,
) -> AppResult<Vec<OrganizationRecord>> {
    let (condition, child) = match allocator.kind {
        OrganizationKind::Nation => ("$1 <> ''", OrganizationKind::Prefecture),
        OrganizationKind::Prefecture => ("o.prefecture_id = $1", OrganizationKind::Municipality),
        OrganizationKind::Municipality => ("o.municipality_id = $1", OrganizationKind::Facility),
        _ => return Ok(Vec::new()),
    };
    let sql = format!("{SELECT} WHERE {condition} AND o.kind = $2 ORDER BY o.code");
    Ok(sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql))
        .bind(allocator.id.as_str())
        .bind(child.as_db())
        .fetch_all(db.pool())
        .await?)
}

/// The prefecture and municipality of every facility in `area`, by facility id.
pub async fn facility_areas(
    db: &Db,
    area: &crate::authz::AreaFilter,
) -> AppResult<HashMap<String, (String, String)>> {
    let mut filter = Filter::default();
    filter.and(
        "o.kind = ?",
        [OrganizationKind::Facility.as_db().to_owned()],
    );
    if let Some((condition, value)) = area.condition("o") {
        filter.and(&condition, [value]);
    }
    let sql = format!(
        "SELECT o.id, o.prefecture_id, o.municipality_id FROM organizations o{}",
        filter.where_clause()
    );
    let rows: Vec<(String, Option<String>, Option<String>)> = filter
        .bind(sqlx::query_as(AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, p, m)| (id, (p.unwrap_or_default(), m.unwrap_or_default())))
        .collect())
}

/// The nation (there is one).
pub async fn the_nation(db: &Db) -> AppResult<OrganizationRecord> {
    let sql = format!("{SELECT} WHERE o.kind = $1 LIMIT 1");
    sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql))
        .bind(OrganizationKind::Nation.as_db())
        .fetch_optional(db.pool())
        .await?
        .ok_or(crate::error::AppError::NotFound("nation"))
}

/// One organisation by id.
pub async fn load<'c>(on: impl Exec<'c>, id: &str) -> AppResult<Option<OrganizationRecord>> {
    let sql = format!("{SELECT} WHERE o.id = $1");
    Ok(sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(on)
        .await?)
}

/// Organisations matching `filter` (conditions on `o`, the organisation, and `f`, its facility
/// row), in `order` (SQL the caller built from trusted values), at most `limit`.
pub async fn matching(
    db: &Db,
    filter: Filter,
    order: &str,
    limit: i64,
) -> AppResult<Vec<OrganizationRecord>> {
    let sql = format!(
        "{SELECT}{} ORDER BY {order} LIMIT {limit}",
        filter.where_clause()
    );
    Ok(filter
        .bind(sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql)))
        .fetch_all(db.pool())
        .await?)
}

/// Every organisation of `kind`, in one prefecture when given, by code.
pub async fn of_kind(
    db: &Db,
    kind: OrganizationKind,
    prefecture_id: Option<&str>,
) -> AppResult<Vec<OrganizationRecord>> {
    let mut filter = Filter::default();
    filter.and("o.kind = ?", [kind.as_db().to_owned()]);
    if let Some(p) = prefecture_id {
        filter.and("o.prefecture_id = ?", [p.to_owned()]);
    }
    matching(db, filter, "o.code", 100_000).await
}

/// Finds one organisation by kind and code (e.g. a prefecture by its JIS code).
pub async fn find_by_code(
    db: &Db,
    kind: OrganizationKind,
    code: &str,
) -> AppResult<Option<OrganizationRecord>> {
    let sql = format!("{SELECT} WHERE o.kind = $1 AND o.code = $2");
    Ok(sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql))
        .bind(kind.as_db())
        .bind(code)
        .fetch_optional(db.pool())
        .await?)
}

/// Organisations of one kind by code (a bulk registration's look-ups), keyed by code.
pub async fn find_by_codes(
    db: &Db,
    kind: OrganizationKind,
    codes: &[String],
) -> AppResult<HashMap<String, OrganizationRecord>> {
    let mut found = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(BATCH) {
        let sql = format!(
            "{SELECT} WHERE o.kind = $1 AND o.code IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query =
            sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql)).bind(kind.as_db());
        for code in chunk {
            query = query.bind(code.as_str());
        }
        for record in query.fetch_all(db.pool()).await? {
            found.insert(record.code.clone(), record);
        }
    }
    Ok(found)
}

/// Which organisations a list shows. Every filter is optional and they combine with AND.
#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    pub kinds: Vec<OrganizationKind>,
    pub prefecture_id: Option<String>,
    pub municipality_id: Option<String>,
    /// The area by its code, resolved inside the list's own statement (no extra round trip).
    pub prefecture_code: Option<String>,
    pub municipality_code: Option<String>,
    pub facility_type: Option<FacilityType>,
    /// A case-insensitive part of the name, kana or romanised name.
    pub name_contains: Option<String>,
    /// Only facilities whose latest change request is in this state (`facilities.approval_status`).
    pub approval_status: Option<ApprovalStatus>,
    /// The caller's area, when the list is limited to it: a column of the organisation
    /// (`prefecture_id` / `municipality_id` / `id`) and its value (see `authz::area_filter`).
    pub area: Option<(&'static str, String)>,
}

/// One page of organisations ordered by (kind, code), the cursor's key.
pub async fn list(
    db: &Db,
    filter: &OrganizationFilter,
    page: &PageRequest,
) -> AppResult<Vec<OrganizationRecord>> {
    let mut sql_filter = Filter::default();
    if !filter.kinds.is_empty() {
        let marks = vec!["?"; filter.kinds.len()].join(", ");
        let kinds = filter.kinds.iter().map(|kind| kind.as_db().to_owned());
        sql_filter.and(&format!("o.kind IN ({marks})"), kinds);
    }
    if let Some(id) = &filter.prefecture_id {
        sql_filter.and("o.prefecture_id = ?", [id.clone()]);
    }
    if let Some(id) = &filter.municipality_id {
        sql_filter.and("o.municipality_id = ?", [id.clone()]);
    }
    if let Some(code) = &filter.prefecture_code {
        sql_filter.and(
            "o.prefecture_id = (SELECT a.id FROM organizations a WHERE a.kind = 'PREFECTURE' AND a.code = ?)",
            [code.clone()],
        );
    }
    if let Some(code) = &filter.municipality_code {
        sql_filter.and(
            "o.municipality_id = (SELECT a.id FROM organizations a WHERE a.kind = 'MUNICIPALITY' AND a.code = ?)",
            [code.clone()],
        );
    }
    if let Some(facility_type) = filter.facility_type {
        sql_filter.and("f.facility_type = ?", [facility_type.as_db().to_owned()]);
    }
    match filter.approval_status {
        // Most facilities have nothing waiting: filter them while reading in code order.
        Some(ApprovalStatus::Settled) => {
            sql_filter.and(
                "f.approval_status = ?",
                [ApprovalStatus::Settled.as_db().to_owned()],
            );
        }
        // Few wait: start from the index and sort them. (Written as a subquery because SQLite
        // never drives a LEFT JOIN from its right side, and would scan every facility.)
        Some(status) => {
            sql_filter.and(
                "o.id IN (SELECT organization_id FROM facilities WHERE approval_status = ?)",
                [status.as_db().to_owned()],
            );
        }
        None => {}
    }
    if let Some((column, value)) = &filter.area {
        sql_filter.and(&format!("o.{column} = ?"), [value.clone()]);
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        sql_filter.and(
            "(lower(o.name) LIKE ? ESCAPE '\\' OR lower(coalesce(o.name_kana, '')) LIKE ? ESCAPE '\\' \
             OR lower(coalesce(o.name_romaji, '')) LIKE ? ESCAPE '\\')",
            [pattern.clone(), pattern.clone(), pattern],
        );
    }
    if let Some(after) = &page.after {
        sql_filter.and(
            "(o.kind, o.code) > (?, ?)",
            [after[0].clone(), after[1].clone()],
        );
    }
    let sql = format!(
        "{SELECT}{} ORDER BY o.kind, o.code LIMIT {}",
        sql_filter.where_clause(),
        page.fetch_limit()
    );
    let query = sqlx::query_as::<_, OrganizationRecord>(AssertSqlSafe(sql));
    Ok(sql_filter.bind(query).fetch_all(db.pool()).await?)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Rows per multi-row INSERT: few round trips, far below both backends' parameter limits.
const INSERT_BATCH: usize = 200;

/// Inserts organisations (and their facility rows) in one transaction.
pub async fn insert_all(db: &Db, organizations: &[NewOrganization]) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    insert_in(&mut tx, organizations).await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts organisations (and their facility rows) inside the caller's transaction.
pub async fn insert_in(
    tx: &mut crate::db::WriteTx,
    organizations: &[NewOrganization],
) -> AppResult<()> {
    let now = tx.now();
    for chunk in organizations.chunks(INSERT_BATCH) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $1)", placeholders(i * 9 + 2, 9)))
            .collect();
        let sql = format!(
            "INSERT INTO organizations (id, kind, code, name, name_kana, name_romaji, parent_id, \
             prefecture_id, municipality_id, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now);
        for org in chunk {
            query = query
                .bind(org.id.clone())
                .bind(org.kind.as_db())
                .bind(org.code.clone())
                .bind(org.name.clone())
                .bind(org.name_kana.clone())
                .bind(org.name_romaji.clone())
                .bind(org.parent_id.clone())
                .bind(org.prefecture_id.clone())
                .bind(org.municipality_id.clone());
        }
        query.execute(tx.conn()).await?;

        let facilities: Vec<_> = chunk
            .iter()
            .filter_map(|org| org.facility.as_ref().map(|f| (&org.id, f)))
            .collect();
        if facilities.is_empty() {
            continue;
        }
        let rows: Vec<String> = (0..facilities.len())
            .map(|i| format!("({})", placeholders(i * 10 + 1, 10)))
            .collect();
        let sql = format!(
            "INSERT INTO facilities (organization_id, facility_type, postal_code, address, \
             latitude, longitude, phone, supply_type, basic_facility_id, \
             operating_municipality_id) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, facility) in facilities {
            query = query
                .bind(id.clone())
                .bind(facility.facility_type.as_db())
                .bind(facility.postal_code.clone())
                .bind(facility.address.clone())
                .bind(facility.latitude)
                .bind(facility.longitude)
                .bind(facility.phone.clone())
                .bind(facility.supply_type.as_db())
                .bind(facility.basic_facility_id.clone())
                .bind(facility.operating_municipality_id.clone());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// How many organisations exist; the seeders use it to leave a populated database alone.
pub async fn count(db: &Db) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations")
            .fetch_one(db.pool())
            .await?,
    )
}

/// The ids of all prefectures, by JIS code.
pub async fn prefecture_ids_by_code(db: &Db) -> AppResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT code, id FROM organizations WHERE kind = 'PREFECTURE'")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().collect())
}
