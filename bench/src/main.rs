//! `bench`: starts a release Gatehouse server on a fresh database, seeds accounts with
//! two-factor authentication on, and measures what the budgets name. It prints a
//! table for people and one JSON line for tools.

mod fixtures;
mod load;
mod report;
mod scenarios;
mod server;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Measure a release Gatehouse server")]
struct Args {
    /// The server binary, built by `cargo leptos build --release`.
    #[arg(long, default_value = "target/server-release/server")]
    server: PathBuf,
    /// The built site (release WASM, JS, CSS).
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
    /// An empty PostgreSQL database to measure instead of a fresh SQLite file.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Seconds for each sign-in run (concurrency 16 and 64; 1 gets two thirds of it).
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Measure the code step alone (its window is a third of `--seconds`): for comparing
    /// builds of the write path run after run.
    #[arg(long, conflicts_with = "sign_ins_only")]
    code_step_only: bool,
    /// Measure the argon2 bound and sign-ins at concurrency 16 and 64 alone: for
    /// comparing builds of the sign-in path run after run.
    #[arg(long, conflicts_with = "pages_only")]
    sign_ins_only: bool,
    /// Measure the sign-in page and Settings alone (each for a third of `--seconds`): for
    /// comparing builds of page rendering run after run.
    #[arg(long, conflicts_with = "code_step_only")]
    pages_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir().context("temp dir")?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let key_file = dir.path().join("secret.key");
    let server = server::ServerProcess::start(server::Launch {
        binary: &args.server,
        site_root: &args.site_root,
        database_url: &database_url,
        key_file: &key_file,
        log: dir.path().join("server.log"),
    })?;
    eprintln!("bench: server at {} (pid {})", server.url, server.pid());

    let master: [u8; 32] = std::fs::read(&key_file)
        .context("reading the server key")?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the server key is not 32 bytes"))?;
    let services = Arc::new(fixtures::services(&database_url, &master).await?);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let backend = if database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    let bench = scenarios::Bench::new(server, services, Duration::from_secs(args.seconds)).await?;
    if args.code_step_only {
        let run = bench.code_step_alone().await?;
        println!("{}", report::code_step_line(&run));
        report::print_first_error(&run);
        if let Some(short) = run.cut_short("the code step") {
            anyhow::bail!("{short}");
        }
        return Ok(());
    }
    if args.pages_only {
        let (sign_in_page, settings_page) = bench.pages_alone().await?;
        report::print_pages(&sign_in_page, &settings_page);
        return Ok(());
    }
    if args.sign_ins_only {
        let sign_ins = bench.sign_ins_alone().await?;
        println!("{}", report::bounds_line(&sign_ins, cores));
        report::print_sign_ins(&sign_ins);
        for run in &sign_ins.runs {
            report::print_first_error(run);
        }
        if let Some(short) = sign_ins
            .runs
            .iter()
            .find_map(|run| run.cut_short("full 2FA sign-ins"))
        {
            anyhow::bail!("{short}");
        }
        return Ok(());
    }
    let results = bench.run_all().await?;
    report::print(&results, backend, cores);
    let short: Vec<String> = results
        .sign_ins
        .runs
        .iter()
        .filter_map(|run| run.cut_short("full 2FA sign-ins"))
        .chain(results.code_step.cut_short("the code step"))
        .collect();
    if !short.is_empty() {
        anyhow::bail!("{}", short.join("\n"));
    }
    if results.total_errors() > 0 {
        eprintln!("bench: some requests failed; the server log follows");
        eprintln!("{}", results.server_log_tail);
    }
    Ok(())
}
