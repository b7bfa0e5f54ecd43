use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = vsys::config::Cli::parse();
    vsys::init_logging();
    if let Err(error) = vsys::cli::run(cli).await {
        // One line: what went wrong and its cause, no backtrace.
        eprintln!("vsys: {error:#}");
        std::process::exit(1);
    }
}
