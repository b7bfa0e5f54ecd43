//! Allocation benchmark (issue #9): proposing and storing a whole cool — the nation to 47
//! prefectures, every prefecture to its municipalities, all 1,741 municipalities to their
//! 50,000 facilities — and one `simulateAllocation` for the largest municipality, on the
//! national synthetic data (`vsys seed --synthetic national`, which opens cool 1 with supply,
//! contracts and desired quantities), on SQLite and PostgreSQL.
//!
//! ```sh
//! cargo bench --bench allocation                          # both databases
//! cargo bench --bench allocation -- --setups sqlite --simulations 50   # smoke
//! cargo bench --bench allocation -- --concurrency 8       # 8 organisations at once
//! cargo bench --bench allocation -- --statements 25       # and where the database time goes
//! ```
//!
//! With `--concurrency N`, the organisations of a level act N at a time (as officers of many
//! prefectures or municipalities do on the same day), and the baseline likewise; the levels
//! still follow one another. The default, 1, is one organisation after another.
//!
//! The domain code runs in-process (what `proposeAllocations` and `simulateAllocation` do
//! behind GraphQL: the checks, the proposal, its lines, the audit entry and the events, one
//! transaction per organisation; on SQLite, proposals that arrive together share one, through
//! the same group commit the server starts). Beside it, in the same run, a bare baseline issues the
//! minimum SQL for the same result: per organisation, read the children and their weights and
//! insert one line per child and product in one transaction (cool 2); for the simulation, the
//! same reads. Confirmations between the stages are timed apart.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use support::{Backend, BenchDb};
use vsys::actor::{Actor, OrgScope, RequestMeta, Role};
use vsys::allocation::cools;
use vsys::allocation::cycle;
use vsys::allocation::proposal::{self, ProposalSpec, Weighting};
use vsys::db::{Db, new_id, placeholders};
use vsys::events::GroupedWrites;
use vsys::organizations::OrganizationKind;

#[tokio::main]
async fn main() {
    let simulations: usize = support::arg("--simulations")
        .map(|n| n.parse().expect("--simulations is a number"))
        .unwrap_or(200);
    let concurrency: usize = support::arg("--concurrency")
        .map(|n| n.parse().expect("--concurrency is a number"))
        .unwrap_or(1)
        .max(1);
    // `--statements N`: also print the N statements that took the most database time while
    // vsys proposed (a diagnosis; recording them slows the run).
    let statements: Option<usize> =
        support::arg("--statements").map(|n| n.parse().expect("--statements is a number"));
    let times = statements.map(|_| support::statement_times::StatementTimes::install());
    let (setups, admin_url) = support::database_setups();
    println!(
        "allocation: one national cool, {concurrency} organisation(s) at a time; {}",
        support::machine()
    );
    let mut rows = Vec::new();
    for (name, backend) in setups {
        if let Some(times) = &times {
            times.record(false);
        }
        rows.extend(
            run(
                name,
                backend,
                &admin_url,
                simulations,
                concurrency,
                times.as_ref(),
            )
            .await,
        );
        if let (Some(times), Some(top)) = (&times, statements) {
            println!("{name}: database time per statement while vsys proposed (calls, total):");
            for (sql, calls, secs) in times.take_top(top) {
                println!("  {calls:>7} {:>9.1} ms  {sql}", secs * 1000.0);
            }
        }
    }
    println!();
    println!("| database | measurement | vsys | bare SQL | ratio | target |");
    println!("|---|---|---:|---:|---:|---|");
    for (setup, what, vsys, bare, target) in rows {
        println!(
            "| {setup} | {what} | {vsys:.1} ms | {bare:.1} ms | {:.2} | {target} |",
            vsys / bare
        );
    }
}

/// An allocating organisation and the actor acting for it.
struct Allocator {
    id: String,
    kind: OrganizationKind,
    actor: Actor,
}

async fn run(
    setup: &'static str,
    backend: Backend,
    admin_url: &str,
    simulations: usize,
    concurrency: usize,
    times: Option<&support::statement_times::StatementTimes>,
) -> Vec<(&'static str, String, f64, f64, &'static str)> {
    let db = BenchDb::new(backend, admin_url).await;
    let seeded = std::process::Command::new(env!("CARGO_BIN_EXE_vsys"))
        .args(["seed", "--synthetic", "national", "--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .status()
        .expect("vsys seed runs");
    assert!(seeded.success(), "seeding failed");
    let vsys_db = Db::connect(&db.url).await.expect("database");
    // The instance's group commit, as the server starts it.
    let writes = GroupedWrites::start(vsys_db.clone());
    let allocators = allocators(&vsys_db).await;
    let cool = cools::list(&vsys_db)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the synthetic cool");
    let meta = RequestMeta::default();
    let spec = |weighting| ProposalSpec {
        weighting,
        adjustment_percent: 0,
        overrides: vec![],
    };
    let by_kind = |kind| allocators.iter().filter(move |a| a.kind == kind);

    // vsys: propose at each level, confirming between the levels.
    let mut proposing = Duration::ZERO;
    let mut confirming = Duration::ZERO;
    let mut lines_written = 0usize;
    for (kind, weighting) in [
        (OrganizationKind::Nation, Weighting::Population),
        (OrganizationKind::Prefecture, Weighting::Population),
        (OrganizationKind::Municipality, Weighting::DesiredQuantity),
    ] {
        if kind != OrganizationKind::Nation {
            let started = Instant::now();
            stream::iter(by_kind(kind))
                .map(|allocator| cycle::confirm(&vsys_db, &meta, &allocator.actor, &cool.id))
                .buffer_unordered(concurrency)
                .for_each(|confirmed| async move {
                    confirmed.expect("confirm");
                })
                .await;
            confirming += started.elapsed();
        }
        let started = Instant::now();
        if let Some(times) = times {
            times.record(true);
        }
        let proposals: Vec<_> = stream::iter(by_kind(kind))
            .map(|allocator| {
                let spec = spec(weighting);
                let (db, writes, meta, cool_id) = (&vsys_db, &writes, &meta, &cool.id);
                async move {
                    proposal::propose(db, writes, meta, &allocator.actor, cool_id, &spec).await
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        proposing += started.elapsed();
        if let Some(times) = times {
            times.record(false);
        }
        for proposal in proposals {
            let proposal = proposal.expect("propose");
            lines_written += proposal.children.len() * proposal.totals.len();
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM allocations")
        .fetch_one(vsys_db.pool())
        .await
        .unwrap();
    assert_eq!(
        stored as usize, lines_written,
        "every proposed line is stored"
    );
    println!(
        "{setup}: proposed and stored {lines_written} lines for {} organisations in {:.0} ms \
         (confirmations apart: {:.0} ms)",
        allocators.len(),
        proposing.as_secs_f64() * 1000.0,
        confirming.as_secs_f64() * 1000.0
    );

    // Bare: the same amount of reading and writing, hand-written, on a second cool.
    let bare_cool = new_cool(&vsys_db, &cool.product_id, 2).await;
    let started = Instant::now();
    let mut bare_lines = 0usize;
    for kind in [
        OrganizationKind::Nation,
        OrganizationKind::Prefecture,
        OrganizationKind::Municipality,
    ] {
        bare_lines += stream::iter(by_kind(kind))
            .map(|allocator| bare_propose(&vsys_db, &bare_cool, allocator))
            .buffer_unordered(concurrency)
            .fold(0, |sum, lines| async move { sum + lines })
            .await;
    }
    let bare_proposing = started.elapsed();
    // The floor of any one-shot national pre-fill: the same lines in one transaction (a third
    // cool), copied from the cool vsys just stored.
    let one_shot_cool = new_cool(&vsys_db, &cool.product_id, 3).await;
    let started = Instant::now();
    let one_shot_lines = bare_one_transaction(&vsys_db, &cool.id, &one_shot_cool).await;
    let one_shot = started.elapsed();
    assert_eq!(one_shot_lines, lines_written);
    assert_eq!(
        bare_lines, lines_written,
        "the baseline writes as many lines"
    );

    // The simulation for the largest municipality (most facilities).
    let largest = largest_municipality(&vsys_db).await;
    let municipality = allocators
        .iter()
        .find(|a| a.id == largest)
        .expect("the largest municipality allocates");
    let mut vsys_times = Vec::with_capacity(simulations);
    let mut bare_times = Vec::with_capacity(simulations);
    for _ in 0..simulations {
        let started = Instant::now();
        let proposal = proposal::simulate(
            &vsys_db,
            &municipality.actor,
            &cool,
            &spec(Weighting::DesiredQuantity),
        )
        .await
        .expect("simulate");
        vsys_times.push(started.elapsed());
        assert!(!proposal.children.is_empty());
        let started = Instant::now();
        bare_simulate(&vsys_db, &cool.id, &municipality.id).await;
        bare_times.push(started.elapsed());
    }
    vsys_times.sort();
    bare_times.sort();
    let facilities: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM organizations WHERE municipality_id = $1 AND kind = 'FACILITY'",
    )
    .bind(&largest)
    .fetch_one(vsys_db.pool())
    .await
    .unwrap();
    println!(
        "{setup}: simulateAllocation for the largest municipality ({facilities} facilities): \
         p50 {:.2} ms, p99 {:.2} ms (bare p50 {:.2} ms)",
        support::percentile_ms(&vsys_times, 50.0),
        support::percentile_ms(&vsys_times, 99.0),
        support::percentile_ms(&bare_times, 50.0)
    );
    vsys_db.close().await;
    db.drop_database().await;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    vec![
        (
            setup,
            format!("propose and store the cool ({lines_written} lines)"),
            ms(proposing),
            ms(bare_proposing),
            "< 2,000 ms",
        ),
        (
            setup,
            "bare: the same lines in one transaction (vsys column: the bare cycle)".into(),
            ms(bare_proposing),
            ms(one_shot),
            "floor of a one-shot pre-fill",
        ),
        (
            setup,
            format!("simulate, largest municipality ({facilities} facilities), p50"),
            support::percentile_ms(&vsys_times, 50.0),
            support::percentile_ms(&bare_times, 50.0),
            "< 50 ms",
        ),
        (
            setup,
            format!("simulate, largest municipality ({facilities} facilities), p99"),
            support::percentile_ms(&vsys_times, 99.0),
            support::percentile_ms(&bare_times, 99.0),
            "< 50 ms",
        ),
    ]
}

/// The nation, the prefectures and the municipalities, each with a user to act as (invited:
/// the benchmark calls the domain code directly, without signing in).
async fn allocators(db: &Db) -> Vec<Allocator> {
    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, kind, prefecture_id, municipality_id FROM organizations \
         WHERE kind IN ('NATION', 'PREFECTURE', 'MUNICIPALITY') ORDER BY kind, code",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let now = db.now();
    let mut allocators = Vec::new();
    let mut users = Vec::new();
    for (id, kind, prefecture_id, municipality_id) in rows {
        let kind = OrganizationKind::from_db(&kind).unwrap();
        let role = match kind {
            OrganizationKind::Nation => Role::Nation,
            OrganizationKind::Prefecture => Role::Prefecture,
            _ => Role::Municipality,
        };
        let user_id = new_id();
        users.push((user_id.clone(), id.clone(), role));
        allocators.push(Allocator {
            actor: Actor {
                user_id: user_id.clone(),
                username: format!("bench.{}", &user_id[..8]),
                role,
                organization: OrgScope {
                    id: id.clone(),
                    kind,
                    prefecture_id,
                    municipality_id,
                },
                is_org_admin: true,
                session_id: "bench".into(),
                obligations: vec![],
            },
            id,
            kind,
        });
    }
    let mut tx = db.begin_write().await.unwrap();
    for chunk in users.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, 'INVITED', $1, $1)", placeholders(2 + 6 * i, 6)))
            .collect();
        let sql = format!(
            "INSERT INTO users (id, organization_id, username, email, display_name, role, status, \
             created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for (user, organization, role) in chunk {
            query = query
                .bind(user.clone())
                .bind(organization.clone())
                .bind(format!("bench.{user}"))
                .bind(format!("{user}@bench.invalid"))
                .bind(format!("bench {role:?}"))
                .bind(role.as_db());
        }
        query.execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    // The nation first, then the prefectures, then the municipalities.
    allocators.sort_by_key(|a| match a.kind {
        OrganizationKind::Nation => 0,
        OrganizationKind::Prefecture => 1,
        _ => 2,
    });
    allocators
}

/// Another cool of the same vaccine for a baseline to write into.
async fn new_cool(db: &Db, product_id: &str, number: i64) -> String {
    let id = new_id();
    sqlx::query(
        "INSERT INTO cools (id, number, product_id, starts_on, ends_on, desired_quantity_deadline, \
         nation_allocation_deadline, prefecture_allocation_deadline, municipality_allocation_deadline, \
         data_lock_deadline, created_at, updated_at) VALUES ($1, $4, $2, '2021-05-31', '2021-06-20', \
         '2021-06-02', '2021-06-04', '2021-06-06', '2021-06-11', '2021-06-13', $3, $3)",
    )
    .bind(&id)
    .bind(product_id)
    .bind(db.now())
    .bind(number)
    .execute(db.pool())
    .await
    .unwrap();
    id
}

/// The baseline of one organisation's proposal: read its children and their weights, write one
/// line per child and product (three products), in one transaction. Returns the lines written.
async fn bare_propose(db: &Db, cool_id: &str, allocator: &Allocator) -> usize {
    let products: Vec<String> = sqlx::query_scalar("SELECT id FROM products ORDER BY code")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let (children_sql, weight_sql) = match allocator.kind {
        OrganizationKind::Nation => (
            "SELECT id, COALESCE(population, 0) FROM organizations WHERE kind = 'PREFECTURE' AND $1 <> ''",
            None,
        ),
        OrganizationKind::Prefecture => (
            "SELECT id, COALESCE(population, 0) FROM organizations WHERE kind = 'MUNICIPALITY' AND prefecture_id = $1",
            None,
        ),
        _ => (
            "SELECT id, 0 FROM organizations WHERE kind = 'FACILITY' AND municipality_id = $1",
            Some(
                "SELECT d.facility_id, d.boxes FROM desired_quantities d JOIN organizations o \
                 ON o.id = d.facility_id WHERE d.cool_id = $2 AND o.municipality_id = $1",
            ),
        ),
    };
    let mut tx = db.begin_write().await.unwrap();
    let children: Vec<(String, i64)> = sqlx::query_as(children_sql)
        .bind(&allocator.id)
        .fetch_all(tx.conn())
        .await
        .unwrap();
    let mut weights: HashMap<String, i64> = children.iter().cloned().collect();
    if let Some(sql) = weight_sql {
        let desired: Vec<(String, i64)> = sqlx::query_as(sql)
            .bind(&allocator.id)
            .bind(cool_id)
            .fetch_all(tx.conn())
            .await
            .unwrap();
        weights.extend(desired);
    }
    let now = db.now();
    let lines: Vec<(&String, &String, i64)> = children
        .iter()
        .flat_map(|(child, _)| {
            let weight = weights[child];
            products.iter().map(move |p| (child, p, weight))
        })
        .collect();
    for chunk in lines.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $2, $3, $3)", placeholders(4 + 4 * i, 4)))
            .collect();
        let sql = format!(
            "INSERT INTO allocations (id, product_id, recipient_id, boxes, cool_id, allocator_id, \
             created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cool_id)
            .bind(&allocator.id)
            .bind(now);
        for (child, product, weight) in chunk {
            query = query
                .bind(new_id())
                .bind((*product).clone())
                .bind((*child).clone())
                .bind(*weight % 7);
        }
        query.execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    lines.len()
}

/// Reads the lines of `from` and writes them again for `to` in one transaction, with the same
/// multi-row insert; returns how many.
async fn bare_one_transaction(db: &Db, from: &str, to: &str) -> usize {
    let lines: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT product_id, allocator_id, recipient_id, boxes FROM allocations WHERE cool_id = $1",
    )
    .bind(from)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let now = db.now();
    let mut tx = db.begin_write().await.unwrap();
    for chunk in lines.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, $1, $2, $2)", placeholders(3 + 5 * i, 5)))
            .collect();
        let sql = format!(
            "INSERT INTO allocations (id, product_id, allocator_id, recipient_id, boxes, cool_id, \
             created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to).bind(now);
        for (product, allocator, recipient, boxes) in chunk {
            query = query
                .bind(new_id())
                .bind(product.clone())
                .bind(allocator.clone())
                .bind(recipient.clone())
                .bind(*boxes);
        }
        query.execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
    lines.len()
}

/// The baseline of a simulation: the same reads (children, contracts, doctors, desired
/// quantities, received amounts), nothing computed.
async fn bare_simulate(db: &Db, cool_id: &str, municipality_id: &str) {
    let _: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.id, o.code FROM organizations o JOIN facilities f ON f.organization_id = o.id \
         WHERE o.municipality_id = $1 AND o.kind = 'FACILITY' ORDER BY o.code",
    )
    .bind(municipality_id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    for sql in [
        "SELECT t.id FROM contracts t JOIN organizations o ON o.id = t.facility_id WHERE o.municipality_id = $1",
        "SELECT t.id FROM doctors t JOIN organizations o ON o.id = t.facility_id WHERE o.municipality_id = $1",
    ] {
        let _: Vec<(String,)> = sqlx::query_as(sql)
            .bind(municipality_id)
            .fetch_all(db.pool())
            .await
            .unwrap();
    }
    let _: Vec<(String, i64)> = sqlx::query_as(
        "SELECT d.facility_id, d.boxes FROM desired_quantities d JOIN organizations o \
         ON o.id = d.facility_id WHERE d.cool_id = $2 AND o.municipality_id = $1",
    )
    .bind(municipality_id)
    .bind(cool_id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    let _: Vec<(i64,)> = sqlx::query_as(
        "SELECT boxes FROM allocations WHERE cool_id = $1 AND recipient_id = $2 \
             AND allocator_id = (SELECT prefecture_id FROM organizations WHERE id = $2)",
    )
    .bind(cool_id)
    .bind(municipality_id)
    .fetch_all(db.pool())
    .await
    .unwrap();
}

/// The municipality with the most facilities (the first by code among equals).
async fn largest_municipality(db: &Db) -> String {
    sqlx::query_scalar(
        "SELECT municipality_id FROM organizations WHERE kind = 'FACILITY' \
         GROUP BY municipality_id ORDER BY COUNT(*) DESC, municipality_id LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}
