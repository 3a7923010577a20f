//! The results as a table for people and one JSON line for tools.

use serde_json::json;

use crate::{
    load::Run,
    scenarios::{Results, SignIns},
};

fn latency_json(run: &Run) -> serde_json::Value {
    json!({
        "p50_ms": round(run.percentile(50.0)),
        "p95_ms": round(run.percentile(95.0)),
        "p99_ms": round(run.percentile(99.0)),
    })
}

/// What one request cost the server, without the queueing that concurrency adds.
fn cpu_ms_per_op(run: &Run) -> f64 {
    1000.0 * run.server_cpu / (run.ops.max(1) as f64)
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn cpu(run: &Run) -> String {
    format!(
        "server {:.0}% · generator {:.0}%",
        100.0 * run.server_cpu / run.seconds,
        100.0 * run.generator_cpu / run.seconds
    )
}

/// The first request a run saw fail, if any, so a run with errors says what they were.
pub fn print_first_error(run: &Run) {
    if let Some(why) = &run.first_error {
        println!("first error at concurrency {}: {why}", run.concurrency);
    }
}

/// The code step's row of the table.
pub fn code_step_line(code: &Run) -> String {
    format!(
        "| code step, concurrency {} | {:.0} verifications/s · p50 {:.2} ms · p99 {:.2} ms · {:.2} ms of server CPU each · {} errors ({} verified) | {} |",
        code.concurrency,
        code.per_second(),
        code.percentile(50.0),
        code.percentile(99.0),
        cpu_ms_per_op(code),
        code.errors,
        code.ops,
        cpu(code)
    )
}

/// Sign-in run `i`'s row, against its bound. The ratio has three decimals: the budget is
/// 0.9, and two let 0.897 print as 0.90.
fn sign_in_line(sign_ins: &SignIns, i: usize) -> String {
    let run = &sign_ins.runs[i];
    format!(
        "| full 2FA sign-ins, concurrency {} | {:.1}/s = **{:.3}** × bound ({:.1}) · p50 {:.0} ms · p95 {:.0} ms · p99 {:.0} ms · {} turned away busy · {} errors | {} |",
        run.concurrency,
        run.per_second(),
        sign_ins.ratio(i),
        sign_ins.bound(i),
        run.percentile(50.0),
        run.percentile(95.0),
        run.percentile(99.0),
        run.shed,
        run.errors,
        cpu(run)
    )
}

/// The bound's row: each measurement, in the order taken around the sign-in runs.
pub fn bounds_line(sign_ins: &SignIns, cores: usize) -> String {
    let each: Vec<String> = sign_ins.bounds.iter().map(|b| format!("{b:.1}")).collect();
    format!(
        "| argon2id bound (m=19 MiB, t=2, p=1, {cores} threads), before, between and after the sign-in runs | {} hashes/s | |",
        each.join(" · ")
    )
}

/// Every sign-in run's row.
pub fn print_sign_ins(sign_ins: &SignIns) {
    for i in 0..sign_ins.runs.len() {
        println!("{}", sign_in_line(sign_ins, i));
    }
}

/// The rows of the two pages' runs.
pub fn print_pages(sign_in_page: &Run, settings_page: &Run) {
    for (name, run) in [
        ("SSR sign-in page", sign_in_page),
        ("SSR Settings page", settings_page),
    ] {
        println!(
            "| {name}, concurrency {} | p50 {:.2} ms · p99 {:.2} ms (as the client sees it) · {:.0} pages/s · {:.2} ms of server CPU per page · {} errors | {} |",
            run.concurrency,
            run.percentile(50.0),
            run.percentile(99.0),
            run.per_second(),
            cpu_ms_per_op(run),
            run.errors,
            cpu(run)
        );
        print_first_error(run);
    }
}

pub fn print(results: &Results, backend: &str, cores: usize) {
    let sign_ins = &results.sign_ins;
    println!();
    println!(
        "Gatehouse bench · {backend} · {cores} cores · commit {} · {}",
        commit(),
        date()
    );
    println!("CPU is shown as % of one core over the run (the machine has {cores}00 %).");
    println!();
    println!("| figure | result | CPU |");
    println!("|---|---|---|");
    println!("{}", bounds_line(sign_ins, cores));
    print_sign_ins(sign_ins);
    let code = &results.code_step;
    println!("{}", code_step_line(code));
    print_pages(&results.sign_in_page, &results.settings_page);
    let (raw, gzip, brotli) = results.bundle.iter().fold((0, 0, 0), |(r, g, b), d| {
        (r + d.identity, g + d.gzip, b + d.brotli)
    });
    for d in &results.bundle {
        println!(
            "| first visit: `{}` | {} B raw · {} B gzip · {} B brotli | |",
            d.path, d.identity, d.gzip, d.brotli
        );
    }
    println!(
        "| first visit, total | {:.1} KB raw · {:.1} KB gzip · **{:.1} KB brotli** | |",
        raw as f64 / 1000.0,
        gzip as f64 / 1000.0,
        brotli as f64 / 1000.0
    );
    for page in &results.later_pages {
        let added: usize = page.added.iter().map(|d| d.brotli).sum();
        println!(
            "| then `{}` | {} B brotli of HTML (loaded in full only without JavaScript) · {} B brotli of assets added ({} files) | |",
            page.html.path,
            page.html.brotli,
            added,
            page.added.len()
        );
    }
    let flood = &results.flood;
    println!(
        "| peak RSS, {} clients posting wrong passwords for {:.0} s | **{:.1} MB** · {} checks · {} turned away busy · {} errors | {} |",
        flood.concurrency,
        flood.seconds,
        results.flood_peak_rss_kib as f64 / 1024.0,
        flood.ops,
        flood.shed,
        flood.errors,
        cpu(flood)
    );
    println!("| errors in every run | {} | |", results.total_errors());
    for run in results.sign_ins.runs.iter().chain([
        code,
        &results.sign_in_page,
        &results.settings_page,
        flood,
    ]) {
        print_first_error(run);
    }

    let line = json!({
        "date": date(),
        "commit": commit(),
        "backend": backend,
        "cores": cores,
        "argon2_hashes_per_s": sign_ins.bounds.iter().map(|b| round(*b)).collect::<Vec<_>>(),
        "sign_ins": sign_ins.runs.iter().enumerate().map(|(i, run)| json!({
            "concurrency": run.concurrency,
            "per_s": round(run.per_second()),
            "argon2_bound": round(sign_ins.bound(i)),
            "ratio_to_argon2_bound": round(sign_ins.ratio(i)),
            "latency": latency_json(run),
            "shed": run.shed,
            "errors": run.errors,
            "server_cpu_s": round(run.server_cpu),
            "generator_cpu_s": round(run.generator_cpu),
            "seconds": round(run.seconds),
        })).collect::<Vec<_>>(),
        "code_step": {
            "concurrency": code.concurrency,
            "per_s": round(code.per_second()),
            "latency": latency_json(code),
            "errors": code.errors,
            "verified": code.ops,
            "server_cpu_s": round(code.server_cpu),
            "generator_cpu_s": round(code.generator_cpu),
        },
        "pages": {
            "signin": latency_json(&results.sign_in_page),
            "signin_server_cpu_ms": round(cpu_ms_per_op(&results.sign_in_page)),
            "settings": latency_json(&results.settings_page),
            "settings_server_cpu_ms": round(cpu_ms_per_op(&results.settings_page)),
            "errors": results.sign_in_page.errors + results.settings_page.errors,
        },
        "first_visit_bytes": {
            "files": results.bundle.iter().map(|d| json!({
                "path": d.path, "raw": d.identity, "gzip": d.gzip, "brotli": d.brotli,
            })).collect::<Vec<_>>(),
            "raw": raw, "gzip": gzip, "brotli": brotli,
        },
        "later_pages": results.later_pages.iter().map(|page| json!({
            "path": page.html.path,
            "html_brotli": page.html.brotli,
            "assets_added_brotli": page.added.iter().map(|d| d.brotli).sum::<usize>(),
            "assets_added": page.added.iter().map(|d| d.path.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "flood": {
            "clients": flood.concurrency,
            "peak_rss_mb": round(results.flood_peak_rss_kib as f64 / 1024.0),
            "checks": flood.ops,
            "shed": flood.shed,
            "errors": flood.errors,
        },
        "errors": results.total_errors(),
    });
    println!();
    println!("{line}");
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
