//! Documents benchmark (issue #11): importing a CSV of 1,000 people and printing their 1,000
//! questionnaires, on SQLite and PostgreSQL, each beside a bare baseline in the same run.
//!
//! ```sh
//! cargo bench --bench documents                 # both databases, 5 rounds
//! cargo bench --bench documents -- --setups sqlite --rounds 2
//! ```
//!
//! - **Import** (target < 200 ms): `importQuestionnaireRecipients`' domain code — decoding,
//!   every row's checks, the all-or-none insert, the audit entry. Bare: the same 1,000 rows
//!   inserted with the same multi-row statements in one transaction, nothing checked.
//! - **Print** (target < 5 s and < 5 MB): `generateQuestionnaires` (coupon numbers drawn from
//!   the ledger, the job queued) and the job run to the end by the job runner (pages rendered
//!   off the async runtime in files of 100, each stored with its people marked in one
//!   transaction). Bare: the same 1,000 sheets rendered in one document and stored in one
//!   statement. The size is the sum of the stored files.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{Backend, BenchDb};
use vsys::actor::{Actor, OrgScope, RequestMeta, Role};
use vsys::db::{Db, new_id, value_rows};
use vsys::documents::files::{DatabaseFiles, FileStore, LinkSigner};
use vsys::documents::questionnaire_sheet::{self, Sheet};
use vsys::documents::questionnaires::{self, QuestionnairePrinter};
use vsys::documents::recipients;
use vsys::jobs::JobRunner;
use vsys::organizations::OrganizationKind;

const PEOPLE: usize = 1_000;

#[tokio::main]
async fn main() {
    let rounds: usize = support::arg("--rounds")
        .map(|n| n.parse().expect("--rounds is a number"))
        .unwrap_or(5);
    let (setups, admin_url) = support::database_setups();
    println!("documents: {PEOPLE} people; {}", support::machine());
    let mut rows = Vec::new();
    for (name, backend) in setups {
        rows.extend(run(name, backend, &admin_url, rounds).await);
    }
    println!();
    println!("| database | measurement (median of {rounds}) | vsys | bare | ratio | target |");
    println!("|---|---|---:|---:|---:|---|");
    for (setup, what, vsys, bare, target) in rows {
        println!(
            "| {setup} | {what} | {vsys:.1} | {bare:.1} | {:.2} | {target} |",
            vsys / bare
        );
    }
}

fn csv() -> Vec<u8> {
    let mut text =
        String::from("氏名,氏名カナ,生年月日,性別,都道府県,市区町村,医療従事者等区分,勤務先\r\n");
    for i in 0..PEOPLE {
        let municipality = ["目黒区", "世田谷区", "港区"][i % 3];
        text.push_str(&format!(
            "目黒 {i:04},メグロ タロウ,1980-04-01,{},東京都,{municipality},医師,目黒区病院01\r\n",
            if i % 2 == 0 { "男" } else { "女" }
        ));
    }
    text.into_bytes()
}

async fn hospital(db: &Db) -> Actor {
    let (user_id, org_id, prefecture_id, municipality_id): (String, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT u.id, o.id, o.prefecture_id, o.municipality_id FROM users u \
             JOIN organizations o ON o.id = u.organization_id WHERE u.username = 'meguro-hospital.admin'",
        )
        .fetch_one(db.pool())
        .await
        .expect("the demo hospital's account");
    Actor {
        user_id,
        username: "meguro-hospital.admin".into(),
        role: Role::MedicalInstitution,
        organization: OrgScope {
            id: org_id,
            kind: OrganizationKind::Facility,
            prefecture_id,
            municipality_id,
        },
        is_org_admin: true,
        session_id: "bench".into(),
        obligations: vec![],
    }
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

async fn run(
    setup: &'static str,
    backend: Backend,
    admin_url: &str,
    rounds: usize,
) -> Vec<(&'static str, String, f64, f64, &'static str)> {
    let bench_db = BenchDb::new(backend, admin_url).await;
    let db = Db::connect(&bench_db.url).await.expect("database");
    db.migrate().await.expect("migrations");
    vsys::seed::demo::seed_if_empty(&db)
        .await
        .expect("demo data");
    let actor = hospital(&db).await;
    let meta = RequestMeta::default();
    let file = csv();
    let files: Arc<dyn FileStore> = Arc::new(DatabaseFiles);
    let links = Arc::new(LinkSigner::new(vec![7; 32], "http://127.0.0.1:8080", 7));
    let runner = JobRunner::new(
        db.clone(),
        vec![QuestionnairePrinter::new(
            db.clone(),
            files,
            links,
            questionnaires::DEFAULT_BATCH,
            vsys::documents::files::Retention(time::Duration::days(30)),
        )],
    );

    let (mut import, mut bare_import) = (Vec::new(), Vec::new());
    let (mut print, mut bare_print) = (Vec::new(), Vec::new());
    let mut sizes = Vec::new();
    let mut bare_size = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let record = recipients::import(&db, &meta, &actor, Some("bench.csv".into()), &file)
            .await
            .expect("import");
        import.push(started.elapsed());
        assert_eq!(record.imported as usize, PEOPLE);
        bare_import.push(bare_insert(&db, &actor).await);

        let started = Instant::now();
        let job = questionnaires::request(&db, &meta, &actor, 1)
            .await
            .expect("generate");
        runner.drain().await;
        print.push(started.elapsed());
        let (pages, bytes): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(items), 0) AS BIGINT), CAST(COALESCE(SUM(byte_size), 0) AS BIGINT) \
             FROM generated_files WHERE job_id = $1",
        )
        .bind(&job)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(pages as usize, PEOPLE, "every page printed");
        sizes.push(bytes);
        let (elapsed, size) = bare_render(&db, &actor).await;
        bare_print.push(elapsed);
        bare_size = size;
    }
    let size_mb = *sizes.iter().max().unwrap() as f64 / 1_000_000.0;
    println!(
        "{setup}: import {:.1} ms (bare {:.1}); print {:.0} ms (bare {:.0}); files {size_mb:.2} MB \
         (bare, one document: {:.2} MB)",
        median(import.clone()),
        median(bare_import.clone()),
        median(print.clone()),
        median(bare_print.clone()),
        bare_size as f64 / 1_000_000.0
    );
    db.close().await;
    bench_db.drop_database().await;
    vec![
        (
            setup,
            format!("import a CSV of {PEOPLE} people, ms"),
            median(import),
            median(bare_import),
            "< 200 ms",
        ),
        (
            setup,
            format!("print {PEOPLE} questionnaires (request to last file stored), ms"),
            median(print),
            median(bare_print),
            "< 5,000 ms",
        ),
        (
            setup,
            format!("size of the {PEOPLE} pages' files, MB"),
            size_mb,
            bare_size as f64 / 1_000_000.0,
            "< 5 MB",
        ),
    ]
}

/// The least an import must do: the same rows in one transaction, unchecked.
async fn bare_insert(db: &Db, actor: &Actor) -> Duration {
    let (prefecture, municipality): (String, String) = sqlx::query_as(
        "SELECT prefecture_id, id FROM organizations WHERE kind = 'MUNICIPALITY' AND code = '131105'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let started = Instant::now();
    let mut tx = db.begin_write().await.unwrap();
    let import_id = new_id();
    let now = db.now();
    sqlx::query(
        "INSERT INTO questionnaire_imports (id, organization_id, file_name, imported, \
         skipped_empty_rows, created_by, created_at) VALUES ($1, $2, 'bare.csv', $3, 0, $4, $5)",
    )
    .bind(&import_id)
    .bind(&actor.organization.id)
    .bind(PEOPLE as i64)
    .bind(&actor.user_id)
    .bind(now)
    .execute(tx.conn())
    .await
    .unwrap();
    for chunk in (0..PEOPLE).collect::<Vec<_>>().chunks(100) {
        let sql = format!(
            "INSERT INTO questionnaire_recipients (id, import_id, organization_id, line, name, \
             name_kana, birth_date, sex, prefecture_id, municipality_id, worker_category, \
             workplace, printed_at, created_at) VALUES {}",
            value_rows(chunk.len(), 14)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            insert = insert
                .bind(new_id())
                .bind(&import_id)
                .bind(&actor.organization.id)
                .bind(*i as i64 + 2)
                .bind(format!("目黒 {i:04}"))
                .bind("メグロ タロウ")
                .bind("1980-04-01")
                .bind("MALE")
                .bind(&prefecture)
                .bind(&municipality)
                .bind("医師")
                .bind("目黒区病院01")
                // Printed already: the next print run leaves them alone.
                .bind(Some(now))
                .bind(now);
        }
        insert.execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    started.elapsed()
}

/// The least printing must do: the same sheets in one document, stored in one statement.
async fn bare_render(db: &Db, actor: &Actor) -> (Duration, usize) {
    let started = Instant::now();
    let sheets: Vec<Sheet> = (0..PEOPLE)
        .map(|i| Sheet {
            municipality_code: "131105".into(),
            prefecture_name: "東京都".into(),
            municipality_name: "目黒区".into(),
            coupon_number: format!("{:010}", i + 1),
            dose: 1,
            name: format!("目黒 {i:04}"),
            name_kana: "メグロ タロウ".into(),
            birth_date: time::macros::date!(1980 - 04 - 01),
            sex: "男",
            worker_category: "医師".into(),
            workplace: "目黒区病院01".into(),
            issued_by: "目黒区病院01".into(),
        })
        .collect();
    let pdf = tokio::task::spawn_blocking(move || questionnaire_sheet::render(&sheets))
        .await
        .unwrap()
        .unwrap();
    let size = pdf.len();
    sqlx::query(
        "INSERT INTO generated_files (id, organization_id, part, file_name, content_type, \
         byte_size, sha256, items, content, created_at) VALUES ($1, $2, 1, 'bare.pdf', \
         'application/pdf', $3, '', $4, $5, $6)",
    )
    .bind(new_id())
    .bind(&actor.organization.id)
    .bind(size as i64)
    .bind(PEOPLE as i64)
    .bind(pdf)
    .bind(db.now())
    .execute(db.pool())
    .await
    .unwrap();
    (started.elapsed(), size)
}
