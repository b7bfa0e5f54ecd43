//! The `vsys` binary: subcommands, configuration errors, seeding.

mod common;

use std::process::Command;

use common::TestDb;
use vsys::db::Db;

fn vsys() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vsys"));
    // The tests' own environment must not leak into the binary's configuration.
    for var in [
        "DATABASE_URL",
        "VSYS_LISTEN",
        "VSYS_BODY_LIMIT",
        "VSYS_ALLOWED_ORIGINS",
    ] {
        command.env_remove(var);
    }
    command.env("RUST_LOG", "warn");
    command
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let output = vsys().arg("schema").output().unwrap();
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), checked_in);
}

#[test]
fn configuration_errors_stop_start_up_with_one_line() {
    let cases: [&[&str]; 4] = [
        &["serve", "--database-url", "mysql://localhost/vsys"],
        &["serve", "--listen", "not-an-address"],
        &["serve", "--allowed-origins", "navi.example.jp"],
        &["seed"],
    ];
    for args in cases {
        let output = vsys().args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{args:?} printed nothing");
        // clap adds a usage hint after its one-line error; our own errors are one line.
        assert!(
            lines[0].contains("error") || lines[0].starts_with("vsys:"),
            "{args:?}: {stderr}"
        );
        if lines[0].starts_with("vsys:") {
            assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        }
    }
}

#[test]
fn a_malformed_totp_key_or_none_on_postgres_stops_start_up() {
    let short = vsys()
        .args(["serve", "--totp-key", "c2hvcnQ="])
        .env_remove("VSYS_TOTP_KEY")
        .output()
        .unwrap();
    assert!(!short.status.success());
    let stderr = String::from_utf8(short.stderr).unwrap();
    assert!(stderr.contains("32 bytes"), "{stderr}");
    // Several PostgreSQL instances must share one key: none configured is refused before the
    // database is even contacted (nothing listens on port 1).
    let none = vsys()
        .args([
            "serve",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/vsys",
        ])
        .env_remove("VSYS_TOTP_KEY")
        .output()
        .unwrap();
    assert!(!none.status.success());
    let stderr = String::from_utf8(none.stderr).unwrap();
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("vsys:") && lines[0].contains("--totp-key"),
        "{stderr}"
    );
}

#[test]
fn environment_variables_configure_flags() {
    let output = vsys()
        .args(["serve"])
        .env("DATABASE_URL", "oracle://nowhere")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("unsupported database URL")
    );
}

#[tokio::test]
async fn migrate_and_seed_demo_are_idempotent() {
    let db = TestDb::new().await;
    for _ in 0..2 {
        let output = vsys()
            .args(["migrate", "--database-url", &db.url])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let first = vsys()
        .args(["seed", "--demo", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    assert!(String::from_utf8_lossy(&first.stdout).contains("demo data loaded"));
    let second = vsys()
        .args(["seed", "--demo", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("already present"));
}

/// The national scale: 47 prefectures, 1,741 municipalities, 50,000 facilities, the same rows
/// for the same seed.
#[tokio::test]
async fn synthetic_national_data_has_the_countrys_shape_and_is_deterministic() {
    let first = TestDb::new().await;
    let second = TestDb::new().await;
    for db in [&first, &second] {
        let output = vsys()
            .args([
                "seed",
                "--synthetic",
                "national",
                "--random-seed",
                "7",
                "--database-url",
                &db.url,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let count = |db: Db, kind: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations WHERE kind = $1")
            .bind(kind)
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    let a = Db::connect(&first.url).await.unwrap();
    let b = Db::connect(&second.url).await.unwrap();
    assert_eq!(count(a.clone(), "PREFECTURE").await, 47);
    assert_eq!(count(a.clone(), "MUNICIPALITY").await, 1741);
    assert_eq!(count(a.clone(), "FACILITY").await, 50_000);
    let sample = "SELECT o.id || '|' || o.code || '|' || o.name || '|' || f.latitude FROM organizations o \
                  JOIN facilities f ON f.organization_id = o.id ORDER BY o.code LIMIT 50";
    let rows_a: Vec<String> = sqlx::query_scalar(sample)
        .fetch_all(a.pool())
        .await
        .unwrap();
    let rows_b: Vec<String> = sqlx::query_scalar(sample)
        .fetch_all(b.pool())
        .await
        .unwrap();
    assert_eq!(rows_a, rows_b);
    // Every generated municipality code passes its check digit.
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM organizations WHERE kind = 'MUNICIPALITY'")
            .fetch_all(a.pool())
            .await
            .unwrap();
    for code in codes {
        vsys::organizations::codes::MunicipalityCode::parse(&code).unwrap();
    }
    // And every facility code its (nine-digit Luhn) check digit.
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM organizations WHERE kind = 'FACILITY'")
            .fetch_all(a.pool())
            .await
            .unwrap();
    for code in codes {
        vsys::facilities::codes::MedicalInstitutionCode::parse(&code).unwrap();
    }
    // Satellites are supplied through a basic-type facility of their own prefecture.
    let shape = |sql: &'static str| {
        let pool = a.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(shape("SELECT COUNT(*) FROM facilities WHERE supply_type = 'SATELLITE'").await > 1000);
    // Allocation can run at scale: products, cool 1 with its supply, a contract and a desired
    // quantity per facility, and populations summing to the census.
    assert_eq!(shape("SELECT COUNT(*) FROM products").await, 3);
    assert_eq!(shape("SELECT COUNT(*) FROM supplies").await, 3);
    assert_eq!(shape("SELECT COUNT(*) FROM contracts").await, 50_000);
    assert_eq!(
        shape("SELECT COUNT(*) FROM desired_quantities").await,
        50_000
    );
    assert_eq!(
        shape(
            "SELECT CAST(SUM(population) AS BIGINT) FROM organizations WHERE kind = 'PREFECTURE'"
        )
        .await,
        126_146_099
    );
    assert_eq!(
        shape(
            "SELECT COUNT(*) FROM facilities s JOIN organizations so ON so.id = s.organization_id \
             JOIN facilities b ON b.organization_id = s.basic_facility_id \
             JOIN organizations bo ON bo.id = b.organization_id \
             WHERE so.prefecture_id <> bo.prefecture_id OR b.supply_type <> 'BASIC'"
        )
        .await,
        0
    );
    a.close().await;
    b.close().await;
}
