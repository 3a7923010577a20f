//! The server under test: the release binary as a child process, and what the kernel
//! says about its CPU time and memory.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use anyhow::{bail, Context};

pub struct ServerProcess {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

pub struct Launch<'a> {
    pub binary: &'a Path,
    pub site_root: &'a Path,
    pub database_url: &'a str,
    pub key_file: &'a Path,
    pub log: PathBuf,
}

impl ServerProcess {
    /// Starts the server on a free loopback port. Loopback is its trusted proxy, so each
    /// virtual client can name its own address in `X-Forwarded-For` and the per-address
    /// throttle sees many clients, as it would in production.
    pub fn start(launch: Launch<'_>) -> anyhow::Result<Self> {
        let log_file = std::fs::File::create(&launch.log).context("server log file")?;
        let mut child = Command::new(launch.binary)
            .env("GATEHOUSE_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", launch.database_url)
            .env("GATEHOUSE_SECRET_KEY_FILE", launch.key_file)
            .env("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")
            .env("LEPTOS_SITE_ROOT", launch.site_root)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", launch.binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Gatehouse listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => Ok(ServerProcess {
                child,
                url,
                log: launch.log,
            }),
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "the server did not start; its log:\n{}",
                    std::fs::read_to_string(&launch.log).unwrap_or_default()
                )
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User plus system CPU seconds a process has used so far.
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    // SAFETY: sysconf only reads a constant of the running system.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks / per_sec
}

/// A `kB` line of /proc/PID/status, such as `VmRSS` or `VmHWM` (the peak).
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)
                    .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
                    .and_then(|kib| kib.parse().ok())
            })
        })
        .unwrap_or(0)
}
