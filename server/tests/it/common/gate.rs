//! The tests of this one binary run side by side (two at a time on two cores). A test that
//! measures time (`timing`) must have the machine to itself, as it had when it was a test
//! binary of its own: [`alone`] waits until no other test runs a server, a mail server or
//! identity providers, and keeps any from starting one until it ends. Each of those holds
//! a [`Share`] while it runs.
//!
//! Shares are counted per test thread: a test that already holds one gets more at once
//! (a second instance, a restart) even while `alone` waits, so it can always finish.

use std::{
    sync::{Condvar, Mutex, MutexGuard, PoisonError},
    thread::{self, ThreadId},
};

struct State {
    /// The threads holding shares, with how many each holds.
    shares: Vec<(ThreadId, usize)>,
    /// The thread that runs alone.
    alone: Option<ThreadId>,
    /// Threads waiting to run alone: no thread without a share gets one meanwhile.
    waiting: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    shares: Vec::new(),
    alone: None,
    waiting: 0,
});
static CHANGED: Condvar = Condvar::new();

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running process of a test's; while any is held, no test runs [`alone`].
pub struct Share {
    /// The thread it counts for; `None` within the test that runs alone.
    owner: Option<ThreadId>,
}

/// Waits while a test runs alone, or waits to, unless this thread already holds a share.
pub fn share() -> Share {
    let me = thread::current().id();
    let mut s = state();
    loop {
        if s.alone == Some(me) {
            return Share { owner: None };
        }
        if let Some((_, n)) = s.shares.iter_mut().find(|(t, _)| *t == me) {
            *n += 1;
            return Share { owner: Some(me) };
        }
        if s.alone.is_none() && s.waiting == 0 {
            s.shares.push((me, 1));
            return Share { owner: Some(me) };
        }
        s = CHANGED.wait(s).unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for Share {
    // The owner is recorded, not the dropping thread: a server may end on another thread.
    fn drop(&mut self) {
        let Some(owner) = self.owner else { return };
        let mut s = state();
        if let Some(i) = s.shares.iter().position(|(t, _)| *t == owner) {
            s.shares[i].1 -= 1;
            if s.shares[i].1 == 0 {
                s.shares.swap_remove(i);
            }
        }
        CHANGED.notify_all();
    }
}

/// The calling test runs alone until this is dropped.
pub struct Alone;

/// Waits until no other test holds a share, then keeps them from taking one.
pub fn alone() -> Alone {
    let me = thread::current().id();
    let mut s = state();
    s.waiting += 1;
    while s.alone.is_some() || s.shares.iter().any(|(t, _)| *t != me) {
        s = CHANGED.wait(s).unwrap_or_else(PoisonError::into_inner);
    }
    s.waiting -= 1;
    s.alone = Some(me);
    Alone
}

impl Drop for Alone {
    fn drop(&mut self) {
        state().alone = None;
        CHANGED.notify_all();
    }
}

#[test]
fn alone_waits_for_every_share_and_holds_off_new_ones_but_not_a_holders_next() {
    use std::{sync::mpsc, time::Duration};
    let short = Duration::from_millis(200);
    let held = share();
    let (alone_tx, alone_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let guard = alone();
        alone_tx.send(()).unwrap();
        thread::sleep(Duration::from_secs(1));
        drop(guard);
    });
    assert!(
        alone_rx.recv_timeout(short).is_err(),
        "alone ran beside a share"
    );
    // Another test's first share waits too.
    let (share_tx, share_rx) = mpsc::channel();
    let newcomer = thread::spawn(move || {
        let _share = share();
        share_tx.send(()).unwrap();
    });
    assert!(share_rx.recv_timeout(short).is_err(), "a new share began");
    // This thread holds a share: its next one is granted at once, so it can finish.
    drop(share());
    drop(held);
    // Long bounds: another test (timing) may run alone first.
    alone_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("alone ran");
    assert!(
        share_rx.recv_timeout(short).is_err(),
        "a share began beside alone"
    );
    share_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the share after alone");
    waiter.join().unwrap();
    newcomer.join().unwrap();
}
