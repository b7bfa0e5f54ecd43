use clap::Parser;
use clap::error::ErrorKind;

#[tokio::main]
async fn main() {
    let cli = match vsys::config::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            error.exit()
        }
        Err(error) => {
            // One line, like every other start-up error; `--help` has the details.
            let text = error.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("vsys: {} (see --help)", first.trim_start_matches("error: "));
            std::process::exit(2);
        }
    };
    vsys::init_logging();
    if let Err(error) = vsys::cli::run(cli).await {
        // One line: what went wrong and its cause, no backtrace.
        eprintln!("vsys: {error:#}");
        std::process::exit(1);
    }
}
