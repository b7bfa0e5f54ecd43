//! Importing the people a questionnaire is printed for (seed pp. 17–20): a CSV of at most 1,000
//! people from a facility, a medical association, a prefecture or a municipality. All or
//! nothing: every bad row is named by its line and column and nothing is imported; empty
//! template rows are skipped and counted, as the original's import wizard reported them.

use std::collections::HashMap;

use serde_json::json;
use time::Date;

use super::csv_text::{self, Column, Row};
use crate::actor::{Actor, RequestMeta};
use crate::audit::{self, Entry, Outcome};
use crate::authz::{Action, Target, decide};
use crate::db::{Db, Exec, new_id, value_rows};
use crate::error::{AppError, AppResult, RowError};
use crate::residents::text::{self, folded};

/// People per file (seed p. 17: split a longer list into several files).
pub const MAX_PEOPLE: usize = 1_000;

/// The template's columns: the Japanese header, then the English one.
const COLUMNS: &[Column] = &[
    Column {
        key: "name",
        names: &["氏名", "name"],
    },
    Column {
        key: "kana",
        names: &["氏名カナ", "nameKana"],
    },
    Column {
        key: "birth",
        names: &["生年月日", "birthDate"],
    },
    Column {
        key: "sex",
        names: &["性別", "sex"],
    },
    Column {
        key: "prefecture",
        names: &["都道府県", "prefecture"],
    },
    Column {
        key: "municipality",
        names: &["市区町村", "municipality"],
    },
    Column {
        key: "category",
        names: &["医療従事者等区分", "workerCategory"],
    },
    Column {
        key: "workplace",
        names: &["勤務先", "workplace"],
    },
];

/// One person, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub line: usize,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub sex: &'static str,
    pub prefecture_id: String,
    pub municipality_id: String,
    pub worker_category: String,
    pub workplace: String,
}

/// Municipalities by (prefecture name, municipality name), as on the resident register.
pub type Places = HashMap<(String, String), (String, String)>;

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub id: String,
    pub file_name: Option<String>,
    pub imported: i64,
    pub skipped_empty_rows: i64,
    pub created_at: crate::clock::Timestamp,
}

/// Reads and checks the file: the people, and the empty rows skipped.
pub fn parse(bytes: &[u8], places: &Places, today: Date) -> AppResult<(Vec<Recipient>, usize)> {
    let text = csv_text::decode(bytes)?;
    let (rows, empty, mut errors) = csv_text::rows(&text, COLUMNS)?;
    if rows.len() + errors.len() > MAX_PEOPLE {
        let line = rows.get(MAX_PEOPLE).map_or(MAX_PEOPLE + 2, |r| r.line);
        return Err(AppError::InvalidRows {
            argument: "file",
            rows: vec![RowError {
                row: line,
                field: None,
                message: format!(
                    "at most {MAX_PEOPLE} people per file; split the list / 1ファイルは{MAX_PEOPLE}人までです。ファイルを分けてください"
                ),
            }],
        });
    }
    let mut people = Vec::new();
    for row in &rows {
        match recipient(row, places, today) {
            Ok(person) => people.push(person),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(AppError::InvalidRows {
            argument: "file",
            rows: errors,
        });
    }
    if people.is_empty() {
        return Err(AppError::invalid_field(
            "file",
            "the file names nobody / 接種予定者が記載されていません",
        ));
    }
    Ok((people, empty))
}

fn recipient(row: &Row, places: &Places, today: Date) -> Result<Recipient, RowError> {
    let bad = |column: &str, message: &str| RowError {
        row: row.line,
        field: Some(column.to_owned()),
        message: message.to_owned(),
    };
    // Names are kept exactly as written (a leading "=" or markup included): printed
    // literally, escaped on any export.
    let name = text::name(row.cell("name")).map_err(|m| bad("氏名", m))?;
    let name_kana = text::name_kana(row.cell("kana")).map_err(|m| bad("氏名カナ", m))?;
    let birth = birth_date(row.cell("birth"))
        .ok_or("a date of birth as YYYY-MM-DD or YYYY/MM/DD / 生年月日はYYYY-MM-DDまたはYYYY/MM/DDです")
        .and_then(|date| text::birth_date(date, today))
        .map_err(|m| bad("生年月日", m))?;
    let sex = match folded(row.cell("sex")).as_str() {
        "男" | "男性" | "M" | "m" | "1" => "MALE",
        "女" | "女性" | "F" | "f" | "2" => "FEMALE",
        _ => return Err(bad("性別", "男 or 女 / 性別は「男」か「女」です")),
    };
    let key = (
        folded(row.cell("prefecture")),
        folded(row.cell("municipality")),
    );
    let Some((prefecture_id, municipality_id)) = places.get(&key) else {
        return Err(bad(
            "市区町村",
            &format!(
                "{} {} is not a municipality of that prefecture; write them as on the resident register / 住民票の住所（都道府県→市区町村）を確認してください",
                key.0, key.1
            ),
        ));
    };
    let worker_category = row.cell("category").to_owned();
    if worker_category.is_empty() || worker_category.chars().count() > 50 {
        return Err(bad(
            "医療従事者等区分",
            "a category of 1 to 50 characters / 区分は1〜50文字です",
        ));
    }
    let workplace = row.cell("workplace").to_owned();
    if workplace.is_empty() || workplace.chars().count() > 200 {
        return Err(bad(
            "勤務先",
            "a workplace of 1 to 200 characters / 勤務先は1〜200文字です",
        ));
    }
    Ok(Recipient {
        line: row.line,
        name,
        name_kana,
        birth_date: birth.to_string(),
        sex,
        prefecture_id: prefecture_id.clone(),
        municipality_id: municipality_id.clone(),
        worker_category,
        workplace,
    })
}

/// `1980-04-01`, `1980/4/1` (as Excel writes it), full-width digits too.
fn birth_date(text: &str) -> Option<Date> {
    let text = folded(text);
    let mut parts = text.split(['-', '/']).map(|p| p.parse::<i32>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// Every municipality by its prefecture's and its own name.
async fn places(db: impl Exec<'_>) -> AppResult<Places> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT p.name, m.name, p.id, m.id FROM organizations m \
         JOIN organizations p ON p.id = m.prefecture_id \
         WHERE m.kind = 'MUNICIPALITY'",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(p, m, pid, mid)| ((p, m), (pid, mid)))
        .collect())
}

/// Whether the actor may import for its organisation (asked before the upload is read).
pub fn may_import(actor: &Actor) -> AppResult<()> {
    decide(
        Some(actor),
        Action::ImportQuestionnaireRecipients,
        Target::Organization(&actor.organization),
    )
}

/// Imports a file for the actor's organisation. Audited.
pub async fn import(
    db: &Db,
    meta: &RequestMeta,
    actor: &Actor,
    file_name: Option<String>,
    bytes: &[u8],
) -> AppResult<ImportRecord> {
    may_import(actor)?;
    let places = places(db.pool()).await?;
    let (people, empty) = parse(bytes, &places, db.clock().japan_date())?;
    let mut tx = db.begin_write().await?;
    let now = tx.now();
    let record = ImportRecord {
        id: new_id(),
        file_name,
        imported: people.len() as i64,
        skipped_empty_rows: empty as i64,
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO questionnaire_imports (id, organization_id, file_name, imported, \
         skipped_empty_rows, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&record.id)
    .bind(&actor.organization.id)
    .bind(&record.file_name)
    .bind(record.imported)
    .bind(record.skipped_empty_rows)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    for chunk in people.chunks(100) {
        let sql = format!(
            "INSERT INTO questionnaire_recipients (id, import_id, organization_id, line, name, \
             name_kana, birth_date, sex, prefecture_id, municipality_id, worker_category, \
             workplace, printed_at, created_at) VALUES {}",
            value_rows(chunk.len(), 14)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for person in chunk {
            insert = insert
                .bind(new_id())
                .bind(&record.id)
                .bind(&actor.organization.id)
                .bind(person.line as i64)
                .bind(&person.name)
                .bind(&person.name_kana)
                .bind(&person.birth_date)
                .bind(person.sex)
                .bind(&person.prefecture_id)
                .bind(&person.municipality_id)
                .bind(&person.worker_category)
                .bind(&person.workplace)
                .bind(None::<String>)
                .bind(now);
        }
        insert.execute(tx.conn()).await?;
    }
    audit::record(
        &mut tx,
        meta,
        Entry::new(
            "importQuestionnaireRecipients",
            Outcome::Success,
            Some(actor),
        )
        .object("QuestionnaireImport", &record.id)
        .organization(&actor.organization.id)
        // Counts only: the people's details stay out of the audit log.
        .change(
            None,
            Some(
                json!({ "imported": record.imported, "skippedEmptyRows": record.skipped_empty_rows,
                "fileName": record.file_name }),
            ),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// The organisation's imports, newest first.
pub async fn imports_of(
    db: &Db,
    organization_id: &str,
    limit: i64,
) -> AppResult<Vec<ImportRecord>> {
    let rows: Vec<(String, Option<String>, i64, i64, crate::clock::Timestamp)> = sqlx::query_as(
        "SELECT id, file_name, imported, skipped_empty_rows, created_at \
         FROM questionnaire_imports WHERE organization_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(organization_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, file_name, imported, skipped_empty_rows, created_at)| ImportRecord {
                id,
                file_name,
                imported,
                skipped_empty_rows,
                created_at,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 26);
    const HEADER: &str = "氏名,氏名カナ,生年月日,性別,都道府県,市区町村,医療従事者等区分,勤務先\n";

    fn places() -> Places {
        [(
            ("東京都".into(), "目黒区".into()),
            ("tokyo".into(), "meguro".into()),
        )]
        .into()
    }

    fn line(name: &str, birth: &str, municipality: &str) -> String {
        format!("{name},ヤマダ タロウ,{birth},男,東京都,{municipality},医師,目黒病院\n")
    }

    #[test]
    fn a_good_file_is_read_and_empty_template_rows_are_counted() {
        let text = format!(
            "{HEADER}{}{}{}",
            line("山田 太郎", "1980/4/1", "目黒区"),
            ",,,,,,,\n",
            line("=1+1", "1980-04-01", "目黒区")
        );
        let (people, empty) = parse(text.as_bytes(), &places(), TODAY).unwrap();
        assert_eq!(empty, 1);
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].birth_date, "1980-04-01");
        assert_eq!((people[0].line, people[1].line), (2, 4));
        assert_eq!(people[1].name, "=1+1", "kept as text");
        assert_eq!(people[0].municipality_id, "meguro");
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column() {
        let text = format!(
            "{HEADER}{}{}{}",
            line("山田 太郎", "2999-01-01", "目黒区"),
            line("佐藤 花子", "1980-04-01", "横浜市"),
            line("鈴木 一郎", "1980-04-01", "目黒区"),
        );
        let Err(AppError::InvalidRows { rows, .. }) = parse(text.as_bytes(), &places(), TODAY)
        else {
            panic!("refused");
        };
        let named: Vec<(usize, Option<&str>)> =
            rows.iter().map(|r| (r.row, r.field.as_deref())).collect();
        assert_eq!(named, [(2, Some("生年月日")), (3, Some("市区町村"))]);
    }

    #[test]
    fn a_thousand_people_pass_and_one_more_is_refused() {
        let body = line("山田 太郎", "1980-04-01", "目黒区").repeat(MAX_PEOPLE);
        let text = format!("{HEADER}{body}");
        assert_eq!(
            parse(text.as_bytes(), &places(), TODAY).unwrap().0.len(),
            MAX_PEOPLE
        );
        let text = format!("{text}{}", line("山田 次郎", "1980-04-01", "目黒区"));
        let Err(AppError::InvalidRows { rows, .. }) = parse(text.as_bytes(), &places(), TODAY)
        else {
            panic!("refused");
        };
        assert_eq!(rows[0].row, MAX_PEOPLE + 2);
    }

    #[test]
    fn dates_are_read_as_excel_writes_them() {
        assert_eq!(birth_date("1980/4/1"), Some(date!(1980 - 04 - 01)));
        assert_eq!(
            birth_date("１９８０－０４－０１"),
            Some(date!(1980 - 04 - 01))
        );
        for bad in ["", "1980/13/1", "1980/2/30", "80/4/1/1", "yesterday"] {
            assert_eq!(birth_date(bad), None, "{bad}");
        }
    }
}
