//! Where the app keeps the server's secrets ([`Keys`]: the session key, and the replica's
//! private key, which proves to the school that this computer is the teacher's): the
//! operating system's keyring (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), one entry per data directory. Where there is no keyring (a desktop
//! without a keyring daemon), the app says so and, only once the teacher agreed, keeps them
//! as an appliance does: `secrets.toml` and the replica's database, files only she can read.

use std::path::{Path, PathBuf};

use preau_appliance::platform::config::Keys;

/// The keyring's service name for Préau's entries.
pub const SERVICE: &str = "fr.preau.desktop";
/// Written in the data directory once the teacher agreed to keep the secrets in files.
const CONSENT: &str = "secrets-in-files";

/// Why the keyring could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    /// There is no keyring service (no D-Bus session, no Secret Service daemon), or it is
    /// locked and would not open.
    Unavailable(String),
    /// The keyring answered, but not as it should.
    Failed(String),
}

/// A keyring: the operating system's ([`OsKeyring`]), or another in tests.
pub trait Keyring: Send + Sync {
    /// The secret stored for `account`, if any.
    fn get(&self, account: &str) -> Result<Option<String>, KeyringError>;
    /// Stores `secret` for `account`.
    fn set(&self, account: &str, secret: &str) -> Result<(), KeyringError>;
}

/// The operating system's keyring, through the `keyring` crate.
pub struct OsKeyring;

impl Keyring for OsKeyring {
    fn get(&self, account: &str) -> Result<Option<String>, KeyringError> {
        match keyring::Entry::new(SERVICE, account).and_then(|e| e.get_password()) {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<(), KeyringError> {
        keyring::Entry::new(SERVICE, account).and_then(|e| e.set_password(secret)).map_err(classify)
    }
}

fn classify(e: keyring::Error) -> KeyringError {
    match e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) | keyring::Error::NoDefaultStore => {
            KeyringError::Unavailable(e.to_string())
        }
        other => KeyringError::Failed(other.to_string()),
    }
}

/// Where this data directory's secrets are.
#[derive(Debug, PartialEq, Eq)]
pub enum Held {
    /// In the keyring: these.
    Keyring(Keys),
    /// In files of the data directory, as the teacher agreed.
    Files,
}

/// Why the secrets cannot be had; each asks something else of the teacher.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// No keyring, and nothing was kept yet: she may agree to files.
    AskForFiles(String),
    /// This computer's secrets are in a keyring that does not answer now (locked, its
    /// daemon stopped): only unlocking it helps.
    KeyringClosed(String),
    /// The keyring answered without this computer's secrets (deleted, or another user's
    /// session): the computer must join its school again.
    Lost,
}

/// The secrets of the data directory `dir`: read from the keyring, or created there on a
/// first start.
pub fn secrets(keyring: &dyn Keyring, dir: &Path) -> Result<Held, Missing> {
    if dir.join(CONSENT).exists() {
        return Ok(Held::Files);
    }
    let account = account(dir);
    let first_start = !replica_exists(dir);
    match keyring.get(&account) {
        Ok(Some(text)) => Keys::from_hex(&text).map(Held::Keyring).ok_or(Missing::Lost),
        Ok(None) if first_start => {
            let keys = Keys::random();
            let stored = keyring.set(&account, &keys.to_hex()).and_then(|()| keyring.get(&account));
            match stored {
                // Read back: a keyring that forgets (a session-only collection) is no keyring.
                Ok(Some(text)) if Keys::from_hex(&text).as_ref() == Some(&keys) => Ok(Held::Keyring(keys)),
                Ok(_) => Err(Missing::AskForFiles("the keyring did not keep the secret".into())),
                Err(KeyringError::Unavailable(e) | KeyringError::Failed(e)) => Err(Missing::AskForFiles(e)),
            }
        }
        Ok(None) => Err(Missing::Lost),
        Err(KeyringError::Unavailable(e) | KeyringError::Failed(e)) if first_start => Err(Missing::AskForFiles(e)),
        Err(KeyringError::Unavailable(e) | KeyringError::Failed(e)) => Err(Missing::KeyringClosed(e)),
    }
}

/// The teacher agreed: this data directory keeps its secrets in files only she can read.
pub fn agree_to_files(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir)?;
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(dir.join(CONSENT))?;
    file.write_all(b"The teacher agreed to keep Preau's secrets in files of this directory (no keyring).\n")
}

/// The keyring account of a data directory (one computer may hold several, in tests).
fn account(dir: &Path) -> String {
    std::path::absolute(dir).unwrap_or_else(|_| PathBuf::from(dir)).display().to_string()
}

fn replica_exists(dir: &Path) -> bool {
    dir.join("replica.db").exists()
}

#[cfg(test)]
/// Keyrings for tests.
pub mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// A keyring in memory.
    #[derive(Default)]
    pub struct MemoryKeyring(pub Mutex<HashMap<String, String>>);

    impl Keyring for MemoryKeyring {
        fn get(&self, account: &str) -> Result<Option<String>, KeyringError> {
            Ok(self.0.lock().unwrap().get(account).cloned())
        }

        fn set(&self, account: &str, secret: &str) -> Result<(), KeyringError> {
            self.0.lock().unwrap().insert(account.into(), secret.into());
            Ok(())
        }
    }

    /// No keyring at all (no D-Bus session).
    pub struct NoKeyring;

    impl Keyring for NoKeyring {
        fn get(&self, _: &str) -> Result<Option<String>, KeyringError> {
            Err(KeyringError::Unavailable("no D-Bus session".into()))
        }

        fn set(&self, _: &str, _: &str) -> Result<(), KeyringError> {
            Err(KeyringError::Unavailable("no D-Bus session".into()))
        }
    }

    /// The real keyring: in a D-Bus session with a Secret Service (scripts/test runs this
    /// once so, with `PREAU_REQUIRE_KEYRING`), it keeps a secret; without one, it says so.
    #[test]
    fn the_operating_systems_keyring_keeps_a_secret_or_says_it_is_missing() {
        let account = format!("test-{}", std::process::id());
        match OsKeyring.set(&account, "un secret") {
            Ok(()) => assert_eq!(OsKeyring.get(&account), Ok(Some("un secret".into()))),
            Err(KeyringError::Unavailable(detail)) => {
                assert!(
                    std::env::var_os("PREAU_REQUIRE_KEYRING").is_none(),
                    "PREAU_REQUIRE_KEYRING is set, but there is no keyring: {detail}"
                );
                eprintln!("no keyring in this session ({detail}): testing the refusal");
                assert!(matches!(OsKeyring.get(&account), Err(KeyringError::Unavailable(_))));
                let dir = tempfile::tempdir().unwrap();
                assert!(matches!(secrets(&OsKeyring, dir.path()), Err(Missing::AskForFiles(_))));
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_first_start_creates_the_keys_in_the_keyring_and_reads_them_back_after() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = MemoryKeyring::default();
        let Ok(Held::Keyring(keys)) = secrets(&keyring, dir.path()) else { panic!("keys") };
        std::fs::write(dir.path().join("replica.db"), b"").unwrap();
        assert_eq!(secrets(&keyring, dir.path()), Ok(Held::Keyring(keys)));
        // The keyring lost them: the computer must join again, nothing is made up.
        keyring.0.lock().unwrap().clear();
        assert_eq!(secrets(&keyring, dir.path()), Err(Missing::Lost));
    }

    #[test]
    fn without_a_keyring_files_are_used_only_once_agreed_and_never_for_keys_kept_before() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(secrets(&NoKeyring, dir.path()), Err(Missing::AskForFiles(_))));
        agree_to_files(dir.path()).unwrap();
        assert_eq!(secrets(&NoKeyring, dir.path()), Ok(Held::Files));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(CONSENT)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // Keys kept in a keyring that is closed today: no files offered.
        let other = tempfile::tempdir().unwrap();
        let keyring = MemoryKeyring::default();
        secrets(&keyring, other.path()).unwrap();
        std::fs::write(other.path().join("replica.db"), b"").unwrap();
        assert!(matches!(secrets(&NoKeyring, other.path()), Err(Missing::KeyringClosed(_))));
    }
}
