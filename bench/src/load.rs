//! A closed-loop load generator: `concurrency` workers each run one operation after
//! another until the time is up, and every operation's latency is kept.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use crate::server::cpu_seconds;

/// What one operation did: counted, failed (with why), turned away by a busy server (503
/// with `Retry-After`), or had nothing left to do.
pub enum Outcome {
    Done,
    Failed(String),
    Shed,
    Exhausted,
}

#[derive(Debug, Clone, Default)]
pub struct Run {
    pub concurrency: usize,
    pub ops: u64,
    pub errors: u64,
    /// Operations the server turned away as busy, told when to come back.
    pub shed: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    /// Milliseconds, sorted.
    pub latencies: Vec<f64>,
    pub server_cpu: f64,
    pub generator_cpu: f64,
    /// The window asked for, in seconds.
    pub requested: f64,
    /// An operation had nothing left to do, so the run ended before its window.
    pub exhausted: bool,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.seconds.max(1e-9)
    }

    /// Why the run cannot stand for its window, if it ended early: a ratio from a shorter
    /// run than asked measures the ramp, not the server.
    pub fn cut_short(&self, what: &str) -> Option<String> {
        (self.exhausted || self.seconds < self.requested * 0.98).then(|| {
            format!(
                "{what} at concurrency {} lasted {:.2} s of the {:.0} s asked for ({} operations): \
                 it ran out of work; give it more accounts or a shorter window",
                self.concurrency, self.seconds, self.requested, self.ops
            )
        })
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

pub async fn run<F, Fut>(server_pid: u32, concurrency: usize, duration: Duration, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let shed = Arc::new(AtomicU64::new(0));
    let server_cpu = cpu_seconds(Some(server_pid));
    let generator_cpu = cpu_seconds(None);
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let (op, stop, errors, shed) = (op.clone(), stop.clone(), errors.clone(), shed.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let t = Instant::now();
                match op(worker).await {
                    Outcome::Done => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                    Outcome::Failed(why) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert(why);
                    }
                    Outcome::Shed => {
                        shed.fetch_add(1, Ordering::Relaxed);
                    }
                    Outcome::Exhausted => {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            (latencies, first_error)
        }));
    }
    let mut run = Run {
        concurrency,
        requested: duration.as_secs_f64(),
        ..Run::default()
    };
    for worker in workers {
        if let Ok((latencies, first_error)) = worker.await {
            run.latencies.extend(latencies);
            if run.first_error.is_none() {
                run.first_error = first_error;
            }
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run.server_cpu = cpu_seconds(Some(server_pid)) - server_cpu;
    run.generator_cpu = cpu_seconds(None) - generator_cpu;
    run.ops = run.latencies.len() as u64;
    run.errors = errors.load(Ordering::Relaxed);
    run.shed = shed.load(Ordering::Relaxed);
    run.exhausted = stop.load(Ordering::Relaxed);
    run.latencies.sort_by(f64::total_cmp);
    run
}

#[cfg(test)]
mod tests {
    use super::Run;

    fn run(seconds: f64, exhausted: bool) -> Run {
        Run {
            concurrency: 64,
            seconds,
            requested: 10.0,
            exhausted,
            ..Run::default()
        }
    }

    #[test]
    fn a_run_that_lasts_its_window_stands() {
        assert_eq!(run(10.0, false).cut_short("the code step"), None);
    }

    #[test]
    fn a_run_that_ran_out_of_work_is_refused_even_if_it_lasted() {
        let why = run(10.0, true).cut_short("the code step").expect("refused");
        assert!(why.contains("ran out of work"), "{why}");
    }

    #[test]
    fn a_run_shorter_than_its_window_is_refused() {
        assert!(run(7.7, false).cut_short("the code step").is_some());
    }
}
