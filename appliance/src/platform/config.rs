//! Configuration: documented defaults < `preau.toml` < `PREAU_*` variables < command-line
//! flags. Every path derives from one data directory; secrets live in a 0600 file there.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Who may use the picture and QR-card logins of young pupils.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PupilLoginFrom {
    /// Only from the school's network (private, loopback and link-local addresses): the default.
    Lan,
    /// From anywhere (an appliance behind a reverse proxy, for instance).
    Anywhere,
}

/// The server's settings. Field names are the `preau.toml` keys; `PREAU_<KEY>` (upper case)
/// overrides each one.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where everything lives (`replica.db`, `secrets.toml`, `preau.toml`).
    /// Default: `$XDG_DATA_HOME/preau`, else `~/.local/share/preau`.
    #[serde(skip)]
    pub data_dir: PathBuf,
    /// Address and port to listen on. Default `0.0.0.0:8080` (the whole LAN).
    pub listen: SocketAddr,
    /// The address people type or scan (`http://preau.local:8080`), printed on login letters
    /// and QR cards. Default: the first LAN address found at start.
    pub public_url: Option<String>,
    /// Where picture and QR-card logins are accepted from. Default `lan`.
    pub pupil_login_from: PupilLoginFrom,
    /// Idle minutes before a pupil's session ends. Default 20.
    pub pupil_idle_minutes: u64,
    /// Idle minutes before an adult's session ends. Default 120.
    pub adult_idle_minutes: u64,
    /// Mark cookies `Secure` (only sent over HTTPS). Default: when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// Largest accepted upload (ONDE files), in bytes. Default 5 MiB.
    pub max_upload_bytes: usize,
    /// Advertise the appliance on the LAN with mDNS (`_preau._tcp`). Default true.
    pub discovery: bool,
    /// Network interfaces to advertise on (names such as `eth0`); empty: all. Default empty.
    pub discovery_interfaces: Vec<String>,
    /// mDNS host name, without `.local`. Default `preau`.
    pub hostname: String,
    /// What this server is: a school's appliance (`school`), the academy hub (`hub`), or a
    /// teacher's computer (`device`, only inside the desktop app, which sets `window_key`).
    pub role: Role,
    /// Hub: the most a school's attached files may take, in bytes.
    pub school_quota_bytes: u64,
    /// Appliance: minutes between two syncs while the hub answers (a quiet sync is a few
    /// hundred bytes); after a failure, retries back off exponentially up to this too.
    pub sync_interval_minutes: u64,
    /// Appliance: the nightly window ("HH:MM-HH:MM", the appliance's UTC clock) in which
    /// a sync is always attempted, whatever the interval. Empty: none; with no interval
    /// either, the appliance syncs only when asked.
    pub sync_window: String,
    /// Serve HTTPS with this certificate chain (PEM), with `tls_key`; else plain HTTP (an
    /// appliance on its LAN, or a hub behind the académie's TLS proxy).
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Trust only this certificate authority (PEM) for the hub, instead of the system's
    /// (an académie with its own PKI).
    pub hub_ca: Option<PathBuf>,
    /// The desktop app's teacher mode: only the app's own window may use this server, by
    /// this per-launch key (`web::window`). Never read from a file or the environment.
    #[serde(skip)]
    pub window_key: Option<WindowKey>,
    /// Hub: keep the replica in this PostgreSQL database (a connection string such as
    /// `host=db.ac-montpellier.fr user=preau dbname=preau`, its database created with the
    /// `C` collation) instead of `replica.db`; several hub processes may share it.
    pub database_url: Option<String>,
    /// The hub's e-mail notifications (`[mail]` in `preau.toml`).
    pub mail: MailConfig,
}

/// How the hub sends e-mail notifications, and when it must not. `PREAU_MAIL_<KEY>`
/// overrides each key.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The académie's SMTP server, `host:port`. Empty (the default): no e-mail is sent.
    pub smtp: String,
    /// `starttls` (the default: the server must offer it), `tls` (implicit TLS, port 465),
    /// or `none` (a relay on the same machine or a trusted network only).
    pub tls: String,
    /// The SMTP user name, if the server asks for one.
    pub user: String,
    /// A file holding its password (readable by the service alone), if it asks for one.
    pub password_file: Option<PathBuf>,
    /// Trust only this certificate authority (PEM) for the SMTP server.
    pub ca: Option<PathBuf>,
    /// The sender, as families see it: `ENT de l'académie <ne-pas-repondre@ac-exemple.fr>`.
    pub from: String,
    /// Nothing is sent between these hours (`HH:MM-HH:MM`, in `timezone`); empty: at any
    /// hour. Default `20:00-07:00`. Each person may add her own.
    pub quiet_hours: String,
    /// Days nothing is sent (`monday` … `sunday`). Default: Sunday.
    pub quiet_days: Vec<String>,
    /// The académie's time zone (IANA name). Default `Europe/Paris`.
    pub timezone: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp: String::new(),
            tls: "starttls".into(),
            user: String::new(),
            password_file: None,
            ca: None,
            from: String::new(),
            quiet_hours: "20:00-07:00".into(),
            quiet_days: vec!["sunday".into()],
            timezone: "Europe/Paris".into(),
        }
    }
}

/// The desktop app's per-launch key (256 random bits, hex), kept out of logs.
#[derive(Clone)]
pub struct WindowKey(pub String);

impl WindowKey {
    /// A new key, for one launch.
    pub fn random() -> Self {
        Self(hex::encode(crate::platform::random_bytes::<32>()))
    }
}

impl fmt::Debug for WindowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WindowKey(..)")
    }
}

/// What a server is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A school's appliance: the ENT on the school's network.
    School,
    /// The academy hub: every school's data, on the internet.
    Hub,
    /// A teacher's computer (the desktop app's teacher mode): her classes, synced with her
    /// school's appliance, served to the app's window only. Never from a file, the
    /// environment or the command line: only the app sets it, with its window key.
    #[serde(skip)]
    #[value(skip)]
    Device,
}

impl Role {
    /// Whether this server holds one school's directory (an appliance, a teacher's computer),
    /// rather than every school's (the hub).
    pub fn holds_one_school(self) -> bool {
        self != Role::Hub
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            public_url: None,
            pupil_login_from: PupilLoginFrom::Lan,
            pupil_idle_minutes: 20,
            adult_idle_minutes: 120,
            secure_cookies: None,
            max_upload_bytes: 5 * 1024 * 1024,
            discovery: true,
            discovery_interfaces: Vec::new(),
            hostname: "preau".into(),
            role: Role::School,
            school_quota_bytes: 5 << 30,
            sync_interval_minutes: 60,
            sync_window: "01:00-05:00".into(),
            tls_cert: None,
            tls_key: None,
            hub_ca: None,
            window_key: None,
            database_url: None,
            mail: MailConfig::default(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("preau");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/preau"),
        None => PathBuf::from("preau-data"),
    }
}

impl Config {
    /// Loads the layers below the command line: defaults, then `<data_dir>/preau.toml` if it
    /// exists, then the `PREAU_*` variables read through `env`.
    pub fn load(data_dir: Option<PathBuf>, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let data_dir = data_dir.or_else(|| env("PREAU_DATA_DIR").map(PathBuf::from)).unwrap_or_else(default_data_dir);
        let file = data_dir.join("preau.toml");
        let mut config = match std::fs::read_to_string(&file) {
            Ok(text) => {
                toml::from_str::<Config>(&text).with_context(|| format!("{}: invalid settings", file.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        config.data_dir = data_dir;
        config.apply_env(env)?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> anyhow::Result<T>
        where
            T::Err: fmt::Display,
        {
            value.parse().map_err(|e| anyhow::anyhow!("{key}={value:?}: {e}"))
        }
        if let Some(v) = env("PREAU_LISTEN") {
            self.listen = parse("PREAU_LISTEN", &v)?;
        }
        if let Some(v) = env("PREAU_PUBLIC_URL") {
            self.public_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = env("PREAU_PUPIL_LOGIN_FROM") {
            self.pupil_login_from = match v.as_str() {
                "lan" => PupilLoginFrom::Lan,
                "anywhere" => PupilLoginFrom::Anywhere,
                _ => bail!("PREAU_PUPIL_LOGIN_FROM={v:?}: expected lan or anywhere"),
            };
        }
        if let Some(v) = env("PREAU_PUPIL_IDLE_MINUTES") {
            self.pupil_idle_minutes = parse("PREAU_PUPIL_IDLE_MINUTES", &v)?;
        }
        if let Some(v) = env("PREAU_ADULT_IDLE_MINUTES") {
            self.adult_idle_minutes = parse("PREAU_ADULT_IDLE_MINUTES", &v)?;
        }
        if let Some(v) = env("PREAU_SECURE_COOKIES") {
            self.secure_cookies = Some(parse("PREAU_SECURE_COOKIES", &v)?);
        }
        if let Some(v) = env("PREAU_MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = parse("PREAU_MAX_UPLOAD_BYTES", &v)?;
        }
        if let Some(v) = env("PREAU_DISCOVERY") {
            self.discovery = parse("PREAU_DISCOVERY", &v)?;
        }
        if let Some(v) = env("PREAU_DISCOVERY_INTERFACES") {
            self.discovery_interfaces = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Into::into).collect();
        }
        if let Some(v) = env("PREAU_HOSTNAME") {
            self.hostname = v;
        }
        if let Some(v) = env("PREAU_ROLE") {
            self.role = match v.as_str() {
                "school" => Role::School,
                "hub" => Role::Hub,
                _ => bail!("PREAU_ROLE={v:?}: expected school or hub (a device is the desktop app's)"),
            };
        }
        if let Some(v) = env("PREAU_SCHOOL_QUOTA_BYTES") {
            self.school_quota_bytes = parse("PREAU_SCHOOL_QUOTA_BYTES", &v)?;
        }
        if let Some(v) = env("PREAU_SYNC_INTERVAL_MINUTES") {
            self.sync_interval_minutes = parse("PREAU_SYNC_INTERVAL_MINUTES", &v)?;
        }
        if let Some(v) = env("PREAU_SYNC_WINDOW") {
            self.sync_window = v;
        }
        let path = |v: String| Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        if let Some(v) = env("PREAU_TLS_CERT") {
            self.tls_cert = path(v);
        }
        if let Some(v) = env("PREAU_TLS_KEY") {
            self.tls_key = path(v);
        }
        if let Some(v) = env("PREAU_HUB_CA") {
            self.hub_ca = path(v);
        }
        if let Some(v) = env("PREAU_DATABASE_URL") {
            self.database_url = Some(v).filter(|v| !v.is_empty());
        }
        let mail = &mut self.mail;
        for (key, field) in [
            ("PREAU_MAIL_SMTP", &mut mail.smtp),
            ("PREAU_MAIL_TLS", &mut mail.tls),
            ("PREAU_MAIL_USER", &mut mail.user),
            ("PREAU_MAIL_FROM", &mut mail.from),
            ("PREAU_MAIL_QUIET_HOURS", &mut mail.quiet_hours),
            ("PREAU_MAIL_TIMEZONE", &mut mail.timezone),
        ] {
            if let Some(v) = env(key) {
                *field = v;
            }
        }
        if let Some(v) = env("PREAU_MAIL_QUIET_DAYS") {
            mail.quiet_days = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Into::into).collect();
        }
        if let Some(v) = env("PREAU_MAIL_PASSWORD_FILE") {
            mail.password_file = path(v);
        }
        if let Some(v) = env("PREAU_MAIL_CA") {
            mail.ca = path(v);
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!("tls_cert and tls_key go together: set both, or neither");
        }
        Ok(())
    }

    /// Whether cookies carry the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| self.https())
    }

    /// Whether people reach this server over HTTPS: it serves TLS itself, or its public
    /// address is `https://` (behind a proxy that terminates TLS). Then cookies are
    /// `Secure` and answers carry HSTS.
    pub fn https(&self) -> bool {
        (self.tls_cert.is_some() && self.tls_key.is_some())
            || self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// The replica database.
    pub fn replica_path(&self) -> PathBuf {
        self.data_dir.join("replica.db")
    }
}

/// The server's own secrets when the desktop app keeps them in the operating system's
/// keyring rather than in the data directory: the session key, and the replica's private
/// key (its database then holds only the public half, `preau_sync::Store::open_with_key`).
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    /// As [`Secrets`]' session key.
    pub session: [u8; 32],
    /// The replica's Ed25519 private key.
    pub replica: [u8; 32],
}

impl Keys {
    /// New random keys, for a first start.
    pub fn random() -> Self {
        Self { session: crate::platform::random_bytes::<32>(), replica: crate::platform::random_bytes::<32>() }
    }

    /// As one keyring entry: 128 hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode([self.session, self.replica].concat())
    }

    /// Reads [`Keys::to_hex`]'s text.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
        let (session, replica) = bytes.split_at(32);
        Some(Self { session: session.try_into().ok()?, replica: replica.try_into().ok()? })
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// Secrets generated at first start and kept in `<data_dir>/secrets.toml` (mode 0600).
#[derive(Clone, Deserialize, serde::Serialize)]
pub struct Secrets {
    /// Keys session-bound tokens (CSRF) so they cannot be forged: 32 bytes, hex.
    session_key: String,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

impl Secrets {
    /// Reads the secrets file, creating it (0600) with fresh random secrets on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join("secrets.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let secrets: Secrets = toml::from_str(&text).with_context(|| format!("{}: invalid", path.display()))?;
                secrets.session_key()?;
                Ok(secrets)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secrets = Secrets { session_key: hex::encode(crate::platform::random_bytes::<32>()) };
                write_private(&path, &toml::to_string(&secrets)?)?;
                Ok(secrets)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The session key.
    pub fn session_key(&self) -> anyhow::Result<[u8; 32]> {
        let mut key = [0; 32];
        hex::decode_to_slice(&self.session_key, &mut key).context("secrets.toml: session_key must be 64 hex digits")?;
        Ok(key)
    }
}

/// Creates `path` readable by its owner only, then writes `text`.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("preau.toml"), "listen = \"127.0.0.1:9000\"\nhostname = \"ecole\"\n").unwrap();
        let env = |k: &str| (k == "PREAU_HOSTNAME").then(|| "tilleuls".to_owned());
        let c = Config::load(Some(dir.path().into()), env).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000".parse().unwrap(), "the file overrides the default");
        assert_eq!(c.hostname, "tilleuls", "the environment overrides the file");
        assert_eq!(c.pupil_idle_minutes, 20, "defaults fill the rest");

        let bad = |k: &str| (k == "PREAU_LISTEN").then(|| "nowhere".to_owned());
        let err = Config::load(Some(dir.path().into()), bad).unwrap_err();
        assert!(err.to_string().contains("PREAU_LISTEN"), "{err}");
        std::fs::write(dir.path().join("preau.toml"), "lisen = 1\n").unwrap();
        assert!(Config::load(Some(dir.path().into()), |_| None).is_err(), "unknown keys are refused");
    }

    #[test]
    fn secrets_are_private_stable_and_redacted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Secrets::load_or_create(dir.path()).unwrap();
        let b = Secrets::load_or_create(dir.path()).unwrap();
        assert_eq!(a.session_key().unwrap(), b.session_key().unwrap());
        let mode = std::fs::metadata(dir.path().join("secrets.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!format!("{a:?}").contains(&a.session_key));
    }
}
