//! Subcommand dispatch.

use crate::config::{Cli, Command, SeedArgs, SyntheticScale};
use crate::db::Db;
use crate::{seed, server};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => server::serve(args).await,
        Command::Migrate(args) => {
            let db = Db::connect(&args.database_url).await?;
            db.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Seed(args) => run_seed(args).await,
        Command::Schema => {
            print!("{}", crate::schema::sdl());
            Ok(())
        }
    }
}

async fn run_seed(args: SeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.demo || args.synthetic.is_some(),
        "say what to seed: --demo and/or --synthetic national"
    );
    let db = Db::connect(&args.database.database_url).await?;
    db.migrate().await?;
    if args.demo {
        let loaded = seed::demo::seed_if_empty(&db).await.map_err(anyhow_of)?;
        println!(
            "{}",
            if loaded {
                "demo data loaded"
            } else {
                "demo data already present"
            }
        );
    }
    if let Some(SyntheticScale::National) = args.synthetic {
        let summary = seed::synthetic::seed_national(&db, args.random_seed)
            .await
            .map_err(anyhow_of)?;
        if summary.facilities == 0 {
            println!("synthetic national data already present");
        } else {
            println!(
                "synthetic national data loaded: {} municipalities, {} facilities",
                summary.municipalities, summary.facilities
            );
        }
    }
    // After a bulk load the planner needs fresh statistics (SQLite has none until asked).
    db.analyze().await?;
    db.close().await;
    Ok(())
}

fn anyhow_of(error: crate::error::AppError) -> anyhow::Error {
    match error {
        crate::error::AppError::Internal(inner) => inner,
        other => anyhow::anyhow!(other.to_string()),
    }
}
