//! Landed migrations never change: a database migrated by an earlier release must migrate
//! again with this one. Each migration's checksum (SHA-384 of its text, as sqlx records it) is
//! pinned here; a change to a landed migration fails this test. A change is a new migration,
//! appended to this list.

mod common;

use vsys::db::{Db, MIGRATOR};

const PINNED: &[(i64, &str)] = &[
    (
        20261125000001,
        "fc08262e3caf9ed6f5b6e3ac7b78d46ddd8348f9c899b28c5aa89cb93411c8ae72584c0c707014fadb7f5f92ac293d04",
    ),
    (
        20261125000002,
        "357b8e5d8bc0e61e22ee61b1dce80df40b791823ad0b85e6b29e146109ffe3aabd5eb876f4234f3a25b861945d0328d4",
    ),
    (
        20261125000003,
        "8aa5a80d5a784a9b9063f9c558470235d84e0ba69bf79df4e217112bf86bc4b37a8d200763c43a886381633734fb0224",
    ),
    (
        20261125000004,
        "b00fede4da4dc05617bfa3417b4eded039ee6007d4a35272ba5391c03c6b3a6b4eaf6bcbcb0cbee5a91f08ab12cf13fe",
    ),
    (
        20261126000010,
        "98b005b3184dd8ac715debe1e3fd3f70f62dc649d9d2238db10189989dfd2f2f52657e6a2e33eed146a49913f0366d40",
    ),
    (
        20261126000011,
        "db394dcf4d885ae260c4757ca2146859abc0249689f5d50e823d1e48e4e4cb958a7a06daab1b7194d8a9328e707fd7ae",
    ),
    (
        20261126000012,
        "2d8453ad55023bacbd37405f219365f672888dadd335eb42ef0386bc3992667123a17b986f0624ceddc6abb776c63645",
    ),
    (
        20261126000013,
        "003ba0bbf9fa7a9daeb2da74a55a93838409e90d9c971876ec5071201ba88ba8139c025e25df8bb07e7a816ec9bde7c2",
    ),
    (
        20261126000014,
        "9f387ca716498c15b8d734bb2508ef14cd85cccfc633ec5ee6eb4d564ab8566e18c7da8794619b36eeace296330b2485",
    ),
    (
        20261126000015,
        "70a38f3e6f645b8961f81e1866b086336eebe2e3d3e253a471d5707ebe7c14b6d044bd2edc667ba1b73d4566c891b17f",
    ),
    (
        20261126000016,
        "d2bc67d0f279908dca0936c004e5871e22bc94ffe7fa39421b61620802c626cf1179ab14ab270ce8fd29364be7994fd5",
    ),
    (
        20261127000001,
        "0d3ffd25decbde610d1d70931d76105b3d6a711290448493fa9cd7da0b964f506aac28325cdc5f71ce569e57224abcb1",
    ),
    (
        20261127000002,
        "38c9e5028b00588fd57f4d0d1618f43a9cf1ffe1cac6aa3d0c7d765f69b73ff7517c7be056961a47146fa92c75b19be1",
    ),
    (
        20261127000003,
        "6411f059a70d6b5fd1def4ea077f6411e8d9596c8ad24ccbe5615a1e917bde545f6d902eaa9b4e9165e918f10615ae31",
    ),
    (
        20261127000004,
        "f48869460f6fe129f9e95bb5632249b56ec5d6d9ba5c2c0a08c98969ab80e7646a421de517418ea64368644ba224d83f",
    ),
    (
        20261127000005,
        "b599ca12e26f5f9c8f9edf9ebeec1891ddc2224975193cec966e833c9319ed2a0c109f0502f66254bfe0c1a987984d29",
    ),
    (
        20261128000001,
        "7b2339125af9679a4c82fa32d710a31755fdd226904c0515552e71903c268c176ff0f6c6a5e024ac4341e9152258f475",
    ),
    (
        20261128000002,
        "67fec6d81595736f7d356d7f26b2fed376a7b5f9274b519eb162721028dffa9d84b326f19bd54f6829538e251dcdea47",
    ),
    (
        20261128000003,
        "a4a59eb6ddd1f1cae60ba352743208984fd7462dc82fcc56b32ddb6ba28ef1220cd833b53f13c5b56fd6233bf72b2c29",
    ),
    (
        20261129000001,
        "495a3122d920ca65e43cf90bc26d19fb53f8986b54c7ff3ace5645c759813738c61974ebf6e4272e59f904c4484ba550",
    ),
    (
        20261130000001,
        "e2e94bd48e283a7371139c8a359091990799a557b576b58570cd5b0941f64619477f817ede2bd81ff0dc44697d0abb50",
    ),
    (
        20261130000002,
        "fec247a16a81a30a1b7a4bc5f4b6482578891bb4cd2562f38f85a6221a822969a40c5a6a2bdd6ff52d37a89d8f06652f",
    ),
    (
        20261130000003,
        "2c768acf555477e060303010861a236add5c03165cb804c66257943296fac14ec061909a62381ea09c46cac607c3cc8e",
    ),
    (
        20261201000001,
        "7ab19b4ec45ad16e58ffe5e4d4792ede60aab98bae6ec25918012599395ce7e108a4a951b3d10cabd2caa229a382e0c5",
    ),
    (
        20261201000002,
        "4db898e8555da677bf43e44084d3badc18bb7a47496e13e1da5d7d67a5f3205370cb5aaf813d95b85e7d890b57e981b8",
    ),
    (
        20261201000003,
        "da62b4f0459c6fd06b77618872cc050dbf03810c92e40a7b428d1e0ec1d306ee668dc748576242b9d5f61cb1c28d351b",
    ),
    (
        20261201000004,
        "7769df960eac5d0cb75817e22ff7bd1ae2e81824aa59cc2915bbd1b7eb0ea0068b8098a031593710ec4a8250bc4b1c12",
    ),
    (
        20261126000005,
        "4b9854e1ea2d2e3be2086b85e641316bef1d0c4b2a254bdec287e32564548901d3d25fe53323b206c8177d7b5faeb372",
    ),
    (
        20261126000001,
        "0dcbc46146f01a1a03ac983c516e6cff6bb2cad0fe1690e2b0d09e340b6fdba50a14a3c816b52f1b16d581f72afe84d2",
    ),
    (
        20261126000002,
        "992585dfb5e63a1aa6b55bd3d95810c673fe7b7c7d0da5211f81bc7e9858ffd19077e2cf957ed52ad7695962acfe3f9e",
    ),
    (
        20261126000003,
        "3f3f8d16bae6d4e59b51386494729e9eaf5fb4c6b822012709153a95f98edc26a24814f404ed878a40cd912085277c64",
    ),
    (
        20261126000004,
        "6a5457e12b3b74d9e2336fbee97d3a150513e9ad32b35a66fd39a72c00d7773e073e9d5b61e9b7af921efbf9734510a3",
    ),
    (
        20261208000001,
        "a49e318b4afba3528e8204a09f4950d157edefd27caabccb46eea3be6044efa6a804e37a008cf038f36f3115c9fe167b",
    ),
];

#[test]
fn landed_migrations_never_change() {
    let actual: Vec<(i64, String)> = MIGRATOR
        .iter()
        .map(|m| (m.version, hex::encode(&*m.checksum)))
        .collect();
    for (version, checksum) in PINNED {
        let found = actual.iter().find(|(v, _)| v == version);
        let Some((_, actual_checksum)) = found else {
            panic!("migration {version} was removed");
        };
        assert_eq!(
            actual_checksum, checksum,
            "migration {version} changed after it landed: write a new migration instead"
        );
    }
    // A new migration is pinned when it lands: every migration must be in the list.
    for (version, checksum) in &actual {
        assert!(
            PINNED.iter().any(|(v, _)| v == version),
            "migration {version} is not pinned yet: add ({version}, \"{checksum}\") to PINNED"
        );
    }
}

/// The migration that re-keys allocation lines by allocator rebuilds `allocations` and
/// `deliveries`: a database that already holds lines and deliveries keeps every row, and the
/// rebuilt tables keep their rules (one line per cool, allocator, recipient and product;
/// deliveries only of lines that exist). On SQLite, or PostgreSQL with `TEST_DATABASE_URL`.
#[tokio::test]
async fn rekeying_allocations_keeps_lines_and_deliveries() {
    const REKEY: i64 = 20261208000001;
    let database = common::TestDb::new().await;
    let db = Db::connect(&database.url).await.unwrap();
    // The release before: every migration up to the re-keying, from a copy of the folder.
    let before = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if version < REKEY {
            std::fs::copy(&path, before.path().join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(before.path())
        .await
        .unwrap()
        .run(db.pool())
        .await
        .unwrap();
    let t = "2026-01-01T00:00:00Z";
    for statement in [
        "INSERT INTO organizations (id, kind, code, name, created_at, updated_at) \
         VALUES ('n', 'NATION', 'JP', '国', $1, $1)",
        "INSERT INTO organizations (id, kind, code, name, parent_id, prefecture_id, created_at, updated_at) \
         VALUES ('p', 'PREFECTURE', '13', '東京都', 'n', 'p', $1, $1)",
        "INSERT INTO organizations (id, kind, code, name, created_at, updated_at) \
         VALUES ('m', 'MANUFACTURER', 'M1', 'ファイザー', $1, $1)",
        "INSERT INTO products (id, code, kind, name, manufacturer_id, units_per_box, doses_per_unit, created_at, updated_at) \
         VALUES ('v', 'PFIZER', 'VACCINE', 'コミナティ', 'm', 195, 5, $1, $1)",
        "INSERT INTO cools (id, number, product_id, starts_on, ends_on, desired_quantity_deadline, \
         nation_allocation_deadline, prefecture_allocation_deadline, municipality_allocation_deadline, \
         data_lock_deadline, created_at, updated_at) VALUES ('c', 1, 'v', '2026-01-05', '2026-01-25', \
         '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-10', $1, $1)",
        "INSERT INTO allocations (id, cool_id, product_id, allocator_id, recipient_id, boxes, created_at, updated_at, version) \
         VALUES ('line', 'c', 'v', 'n', 'p', 160, $1, $1, 3)",
        "INSERT INTO deliveries (id, allocation_id, deliverer_id, scheduled_on, delivered_on, delivered_boxes, lots, created_at, updated_at) \
         VALUES ('d', 'line', 'm', '2026-01-12', '2026-01-13', 160, '[]', $1, $1)",
    ] {
        sqlx::query(statement)
            .bind(t)
            .execute(db.pool())
            .await
            .unwrap();
    }

    db.migrate().await.unwrap();

    let line: (String, String, String, String, i64, i64) = sqlx::query_as(
        "SELECT cool_id, allocator_id, recipient_id, product_id, boxes, version FROM allocations WHERE id = 'line'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        line,
        ("c".into(), "n".into(), "p".into(), "v".into(), 160, 3)
    );
    let delivery: (String, Option<i64>) =
        sqlx::query_as("SELECT allocation_id, delivered_boxes FROM deliveries WHERE id = 'd'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(delivery, ("line".into(), Some(160)));
    // One line per cool, allocator, recipient and product.
    let twice = sqlx::query(
        "INSERT INTO allocations (id, cool_id, product_id, allocator_id, recipient_id, boxes, created_at, updated_at) \
         VALUES ('again', 'c', 'v', 'n', 'p', 1, $1, $1)",
    )
    .bind(t)
    .execute(db.pool())
    .await;
    assert!(twice.is_err(), "a second line for the same key was stored");
    // A delivery names a line that exists.
    let orphan = sqlx::query(
        "INSERT INTO deliveries (id, allocation_id, deliverer_id, scheduled_on, created_at, updated_at) \
         VALUES ('d2', 'no-such-line', 'm', '2026-01-12', $1, $1)",
    )
    .bind(t)
    .execute(db.pool())
    .await;
    assert!(orphan.is_err(), "a delivery of a missing line was stored");
    let deliverer_index: i64 = match db.backend() {
        vsys::db::Backend::Sqlite => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'deliveries_deliverer'",
        ),
        vsys::db::Backend::Postgres => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'deliveries_deliverer'",
        ),
    }
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(deliverer_index, 1);
}
