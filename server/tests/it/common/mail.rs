//! A real SMTP server for the tests: npm `maildev` 3 (end2end/node_modules) on loopback,
//! read back through its REST API. It can be stopped and started again on the same ports,
//! to stage a mail-server outage.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::providers::free_port;

const END2END: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");

/// One message as maildev received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    /// The envelope's recipients (RCPT TO), which is where it really went.
    pub to: Vec<String>,
    pub text: String,
    pub html: String,
}

pub struct MailServer {
    child: Option<Child>,
    pub smtp_port: u16,
    pub web_port: u16,
    dir: tempfile::TempDir,
    runs: u32,
    http: reqwest::Client,
    _share: super::gate::Share,
}

impl MailServer {
    pub fn start() -> MailServer {
        let mut server = MailServer {
            _share: super::gate::share(),
            child: None,
            smtp_port: free_port(),
            web_port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            runs: 0,
            http: reqwest::Client::new(),
        };
        server.spawn();
        server
    }

    /// What Gatehouse takes as `--smtp-url`: plain SMTP on loopback.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maildev.log")).unwrap_or_default()
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "maildev is already running");
        self.runs += 1;
        // Its own mail directory per run: what a restarted maildev shows is only what
        // reached it since, so nothing counts twice by accident.
        let mail_dir: PathBuf = self.dir.path().join(format!("mail{}", self.runs));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("maildev.log"))
            .expect("maildev log");
        let child = Command::new("node")
            .arg("node_modules/.bin/maildev")
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
            .args(["--smtp", &self.smtp_port.to_string()])
            .args(["--web", &self.web_port.to_string()])
            .arg("--mail-directory")
            .arg(&mail_dir)
            .current_dir(END2END)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start maildev (is node on PATH?): {e}"));
        self.child = Some(child);
        // Ready when both the SMTP port and the API answer.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let smtp = std::net::TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok();
            let web = std::net::TcpStream::connect(("127.0.0.1", self.web_port)).is_ok();
            if smtp && web {
                break;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().expect("wait") {
                panic!("maildev exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "maildev did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills maildev by its process id; the ports stay this server's for [`restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Nothing may still accept mail on the port.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok() {
            assert!(Instant::now() < deadline, "SMTP port still open after kill");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts maildev again on the same ports (with an empty mailbox).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Every message received since the last start.
    pub async fn all(&self) -> Vec<Mail> {
        let res = self
            .http
            .get(format!("http://127.0.0.1:{}/api/email", self.web_port))
            .send()
            .await
            .expect("GET maildev /api/email");
        assert!(res.status().is_success(), "maildev: {}", res.status());
        let list: Vec<serde_json::Value> = res.json().await.expect("maildev JSON");
        list.iter().map(parse).collect()
    }

    pub async fn messages_to(&self, address: &str) -> Vec<Mail> {
        self.all()
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// The first message to `address` whose subject contains `subject`, waiting for it.
    pub async fn wait_for(&self, address: &str, subject: &str, timeout: Duration) -> Mail {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(mail) = self
                .messages_to(address)
                .await
                .into_iter()
                .find(|m| m.subject.contains(subject))
            {
                return mail;
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = self
                    .messages_to(address)
                    .await
                    .into_iter()
                    .map(|m| m.subject)
                    .collect();
                panic!("no {subject:?} to {address} within {timeout:?}; got {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The subjects of the messages to `address`, sorted, to count them.
    pub async fn subjects_to(&self, address: &str) -> Vec<String> {
        let mut subjects: Vec<String> = self
            .messages_to(address)
            .await
            .into_iter()
            .map(|m| m.subject)
            .collect();
        subjects.sort();
        subjects
    }
}

fn parse(value: &serde_json::Value) -> Mail {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let to = value["envelope"]["to"]
        .as_array()
        .expect("envelope.to")
        .iter()
        .map(|r| text(&r["address"]))
        .collect();
    Mail {
        subject: text(&value["subject"]),
        to,
        text: text(&value["text"]),
        html: text(&value["html"]),
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The one Gatehouse link (`…?token=…`) in a message's text; the HTML must carry the same.
pub fn link_in(mail: &Mail) -> String {
    let links: Vec<&str> = mail
        .text
        .split_whitespace()
        .filter(|w| w.starts_with("http") && w.contains("?token="))
        .collect();
    assert_eq!(
        links.len(),
        1,
        "one link in {:?}:\n{}",
        mail.subject,
        mail.text
    );
    assert!(
        mail.html.contains(&format!("href=\"{}\"", links[0])),
        "the HTML links the same URL:\n{}",
        mail.html
    );
    links[0].to_owned()
}

/// The token the message's link carries.
pub fn token_in(mail: &Mail) -> String {
    let link = link_in(mail);
    link.split_once("?token=").unwrap().1.to_owned()
}
