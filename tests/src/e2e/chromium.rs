//! Real Chromium, headless, over WebDriver (chromedriver): the browser tests' pages, and
//! the class tablet of the desktop app's class-server test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use super::{free_port, on_path, wait_listening};

/// Where Chromium and chromedriver are.
pub struct Chromium {
    binary: PathBuf,
    driver: PathBuf,
}

impl Chromium {
    /// Chromium (`$PREAU_CHROMIUM`, else `/usr/bin/chromium`) and chromedriver
    /// (`$PREAU_CHROMEDRIVER`, else on `PATH`), or why they cannot be used and how to fix that.
    pub fn find() -> Result<Self, String> {
        let binary =
            std::env::var_os("PREAU_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        if !binary.is_file() {
            return Err(format!(
                "no Chromium at {} (install it: apt-get install chromium chromium-driver; or set PREAU_CHROMIUM)",
                binary.display()
            ));
        }
        let driver =
            std::env::var_os("PREAU_CHROMEDRIVER").map(PathBuf::from).or_else(|| on_path("chromedriver")).ok_or(
                "no chromedriver on PATH (install it: apt-get install chromium-driver; or set PREAU_CHROMEDRIVER)",
            )?;
        Ok(Self { binary, driver })
    }
}

/// A running chromedriver, with Chromium's profile directory. Dropping it (also when a
/// test panics) kills chromedriver and any Chromium process using that profile.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    binary: PathBuf,
    profile: tempfile::TempDir,
}

impl ChromeDriver {
    /// Starts chromedriver, its log in `artifacts/chromedriver.log`.
    pub fn start(chromium: &Chromium, artifacts: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(artifacts.join("chromedriver.log"))?;
        let child = Command::new(&chromium.driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", chromium.driver.display()))?;
        let profile = tempfile::Builder::new().prefix("preau-chromium-").tempdir()?;
        let mut driver = Self { child, port, binary: chromium.binary.clone(), profile };
        wait_listening(&mut driver.child, port, "chromedriver")?;
        Ok(driver)
    }

    /// A French-speaking Chromium session, its window `size` (width, height).
    pub async fn connect(&self, size: (u32, u32)) -> anyhow::Result<Client> {
        let options = json!({
            "binary": self.binary,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", "--disable-quic", "--lang=fr-FR",
                // The prefs below already ask for French; the switch keeps it so if they stop.
                "--accept-lang=fr-FR,fr",
                format!("--window-size={},{}", size.0, size.1),
                format!("--user-data-dir={}", self.profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": "fr-FR,fr" },
        });
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("creating a WebDriver session")?;
        Ok(client)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Chromium processes started for this profile (by this test: the directory is new).
        let profile = self.profile.path().as_os_str().as_encoded_bytes().to_vec();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
                let uses_profile = std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|cmd| cmd.windows(profile.len()).any(|w| w == profile));
                if uses_profile {
                    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
