//! The replica's link records: what is not replicated but must survive a restart —
//! enrolment (codes handed out, replicas certified, revocations), this replica's own
//! certificate and hub, the history of sync runs, quarantined bundles, partial transfers,
//! and on the hub, families' linked accounts (`family`) and e-mail notifications (`notify`).
//! Kept in the server's records (`platform::records`: `links.db`, or beside a hub's replica
//! in PostgreSQL, shared by every hub process).

mod family;
mod notify;

use std::sync::Arc;

use preau_sync::certificate::Chain;
use preau_sync::sql::{Conn, args};
use preau_sync::{ReplicaId, Uai};

use super::Upstream;
use crate::platform::error::AppError;
use crate::platform::records::{Records, db};
pub use family::{Account, FAMILY_MAX, LinkRefused, Member as FamilyMember};
pub use notify::{AddressState, Mail, NewMail, NewNotice, NotifySettings, Waiting};

/// How many sync runs are kept per peer (older ones are deleted).
const RUNS_KEPT: i64 = 200;
/// How many account audit entries are kept (a school's several years of resets and letters).
pub const AUDIT_KEPT: i64 = 50_000;

/// Which audit: a school's accounts (its director's page), or the académie's console (every
/// action, on the hub; never rotated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audit {
    /// `account_audit`: resets, letters, cards, kept to [`AUDIT_KEPT`] lines.
    Accounts,
    /// `console_audit`.
    Console,
}

impl Audit {
    fn table(self) -> &'static str {
        match self {
            Audit::Accounts => "account_audit",
            Audit::Console => "console_audit",
        }
    }
}

/// One line of an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (Unix milliseconds).
    pub at: i64,
    /// Who did it (user id).
    pub by: String,
    /// Whose account (user id).
    pub target: String,
    /// `reset`, `letter`, `qr-card`, `qr-revoke`, `unlock`.
    pub action: String,
    /// The reason written for a reset of an activated adult account.
    pub reason: String,
}

/// How many quarantined bundles are kept (their files too).
pub const QUARANTINE_KEPT: i64 = 100;

/// The link records of this replica.
#[derive(Clone)]
pub struct Links {
    records: Records,
    /// The upstream link, read once: every staff page and every session asks for it.
    /// Only this process changes it (`set_hub`, `renew_chain`); `preau enroll` on a
    /// running appliance is seen at its next start.
    hub: Arc<std::sync::RwLock<Option<HubLink>>>,
    /// A teacher's computer: the académie's server it may sync with away from school.
    away: Arc<std::sync::RwLock<Option<Upstream>>>,
}

/// This replica's enrolment with its hub (or, for a device, its school appliance).
#[derive(Clone, Debug)]
pub struct HubLink {
    /// Where the upstream server is.
    pub url: String,
    /// Its replica id.
    pub hub_id: ReplicaId,
    /// Its public key (responses are checked against it).
    pub hub_key: [u8; 32],
    /// Our certificate chain.
    pub chain: Chain,
    /// When we enrolled.
    pub enrolled_at: i64,
    /// A teacher's computer: the user id of the teacher it was enrolled for (her window
    /// is signed in as her, `replication::join`). `None` for an appliance.
    pub owner: Option<String>,
}

impl HubLink {
    /// The same enrolment presented to another server: a teacher's computer, away from
    /// school, shows the académie's server the chain its school gave it.
    pub fn via(&self, server: &Upstream) -> HubLink {
        HubLink { url: server.url.clone(), hub_id: server.server, hub_key: server.server_key, ..self.clone() }
    }
}

/// A replica this one certified.
#[derive(Clone, Debug)]
pub struct Enrolled {
    /// Its id.
    pub replica: ReplicaId,
    /// Its key.
    pub public_key: [u8; 32],
    /// What people call it (a school's name and UAI, a teacher's device).
    pub label: String,
    /// What it was enrolled for: `school:{uai}` or `device:{uai}:{user id}`.
    pub subject: String,
    /// When.
    pub enrolled_at: i64,
    /// Its last session with us.
    pub last_seen_at: Option<i64>,
    /// Set once revoked.
    pub revoked_at: Option<i64>,
    /// Its last session with us that completed (its changes applied, ours acknowledged).
    pub synced_at: Option<i64>,
    /// When the certificate we last gave it expires.
    pub certified_until: Option<i64>,
}

/// One sync run, as the status pages show it.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The other replica.
    pub peer: String,
    /// Start, Unix ms.
    pub started_at: i64,
    /// End, Unix ms.
    pub ended_at: i64,
    /// Whether it completed.
    pub ok: bool,
    /// Documents sent.
    pub docs_up: i64,
    /// Documents received.
    pub docs_down: i64,
    /// Files sent.
    pub files_up: i64,
    /// Files received.
    pub files_down: i64,
    /// Bytes sent.
    pub bytes_up: i64,
    /// Bytes received.
    pub bytes_down: i64,
    /// Bytes of attempts cut on the way (sent or asked for again).
    pub bytes_resent: i64,
    /// HTTP requests answered (round trips).
    pub requests: i64,
    /// What went wrong (precise, for logs and the status page's details).
    pub error: Option<String>,
}

/// A bundle with refused documents, kept for inspection.
#[derive(Clone, Debug)]
pub struct Quarantined {
    /// Its number (ignored when recording one).
    pub id: i64,
    /// The replica that sent it.
    pub peer: String,
    /// When.
    pub at: i64,
    /// Why it was refused.
    pub reason: String,
    /// Where its bytes are.
    pub file: String,
}

/// What spending an enrolment code did.
#[derive(Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// The replica is enrolled: the code's label and subject.
    Enrolled {
        /// What the code's creator called the replica.
        label: String,
        /// `school:{uai}` or `device:{user id}`.
        subject: String,
    },
    /// No such code, or used, or expired.
    Unknown,
    /// The code is for a school that already has a server (not revoked): its label, and
    /// when it last synced.
    SchoolHasServer {
        /// What the hub calls that server.
        label: String,
        /// Its last sync, if any.
        last_seen_at: Option<i64>,
    },
}

impl Links {
    /// The link records among `records`.
    pub fn new(records: Records) -> Result<Self, AppError> {
        let (hub, away) = records.with(|c| Ok((read_hub(c), read_away(c))))?;
        Ok(Self { records, hub: Arc::new(std::sync::RwLock::new(hub?)), away: Arc::new(std::sync::RwLock::new(away?)) })
    }

    /// The link records of a server configured so (its records beside its replica).
    pub fn of(config: &crate::platform::config::Config) -> Result<Self, AppError> {
        Self::new(Records::open(config)?)
    }

    /// The link records in the SQLite file at `path` (tests, tools).
    pub fn open(path: &std::path::Path) -> Result<Self, AppError> {
        Self::new(Records::open_sqlite(path)?)
    }

    /// The records these are kept among.
    pub fn records(&self) -> &Records {
        &self.records
    }

    fn with<T>(&self, f: impl FnOnce(&Conn) -> preau_sync::Result<T>) -> Result<T, AppError> {
        self.records.with(f)
    }

    fn write<T>(&self, f: impl FnOnce(&Conn) -> preau_sync::Result<T>) -> Result<T, AppError> {
        self.records.write(f)
    }

    /// Our upstream link, once enrolled (from memory).
    pub fn hub(&self) -> Option<HubLink> {
        self.hub.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records (or replaces) our upstream link.
    pub fn set_hub(&self, link: &HubLink) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO hub_link (one, url, hub_id, hub_key, chain, enrolled_at, owner) \
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (one) DO UPDATE SET url = ?1, hub_id = ?2, \
                 hub_key = ?3, chain = ?4, enrolled_at = ?5, owner = ?6",
                args![
                    link.url,
                    link.hub_id.to_string(),
                    link.hub_key,
                    link.chain.to_bytes(),
                    link.enrolled_at,
                    link.owner
                ],
            )
            .map(drop)
        })?;
        *self.hub.write().unwrap_or_else(|p| p.into_inner()) = Some(link.clone());
        Ok(())
    }

    /// Records that our upstream server now answers at `url` (an appliance whose address
    /// changed, found again by mDNS).
    pub fn move_hub(&self, url: &str) -> Result<(), AppError> {
        self.with(|c| c.execute("UPDATE hub_link SET url = ?1", args![url]).map(drop))?;
        if let Some(link) = self.hub.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            link.url = url.to_owned();
        }
        Ok(())
    }

    /// The académie's server a teacher's computer may sync with away from school.
    pub fn away(&self) -> Option<Upstream> {
        self.away.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records (or, with `None`, forgets) the server of [`Links::away`].
    pub fn set_away(&self, server: Option<&Upstream>) -> Result<(), AppError> {
        if self.away().as_ref() == server {
            return Ok(());
        }
        self.with(|c| match server {
            Some(s) => c
                .execute(
                    "INSERT INTO away_server (one, url, server_id, server_key) VALUES (1, ?1, ?2, ?3) \
                     ON CONFLICT (one) DO UPDATE SET url = ?1, server_id = ?2, server_key = ?3",
                    args![s.url, s.server.to_string(), s.server_key],
                )
                .map(drop),
            None => c.execute("DELETE FROM away_server", args![]).map(drop),
        })?;
        *self.away.write().unwrap_or_else(|p| p.into_inner()) = server.cloned();
        Ok(())
    }

    /// Replaces our certificate (renewed at each sync).
    pub fn renew_chain(&self, chain: &Chain) -> Result<(), AppError> {
        self.with(|c| c.execute("UPDATE hub_link SET chain = ?1", args![chain.to_bytes()]).map(drop))?;
        if let Some(link) = self.hub.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            link.chain = chain.clone();
        }
        Ok(())
    }

    /// Stores an enrolment code (only its hash).
    pub fn add_code(&self, code_hash: [u8; 32], label: &str, subject: &str, expires_at: i64) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO enrollment_code (code_hash, label, subject, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                args![code_hash, label, subject, crate::platform::clock::now_ms(), expires_at],
            )
            .map(drop)
        })
    }

    /// Spends a code and enrols `replica` with `key`, in one transaction. A school has one
    /// server: a code for a school whose server is enrolled and not revoked is refused,
    /// and stays unspent (the académie revokes a broken server before its replacement).
    pub fn redeem(&self, code_hash: [u8; 32], replica: ReplicaId, key: [u8; 32]) -> Result<Redeemed, AppError> {
        self.write(|tx| {
            let now = crate::platform::clock::now_ms();
            let found = tx.query_opt(
                "SELECT label, subject FROM enrollment_code WHERE code_hash = ? AND used_by IS NULL AND expires_at > ?",
                args![code_hash, now],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
            )?;
            let Some((label, subject)) = found else { return Ok(Redeemed::Unknown) };
            if subject.starts_with("school:")
                && let Some((label, last_seen_at)) = tx.query_opt(
                    "SELECT label, last_seen_at FROM enrolled WHERE subject = ? AND replica != ? AND revoked_at IS NULL",
                    args![subject, replica.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
            {
                return Ok(Redeemed::SchoolHasServer { label, last_seen_at });
            }
            tx.execute(
                "UPDATE enrollment_code SET used_by = ? WHERE code_hash = ?",
                args![replica.to_string(), code_hash],
            )?;
            tx.execute(
                "INSERT INTO enrolled (replica, public_key, label, subject, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (replica) DO UPDATE SET public_key = ?2, label = ?3, subject = ?4, enrolled_at = ?5, \
                 last_seen_at = NULL, revoked_at = NULL, synced_at = NULL, certified_until = NULL",
                args![replica.to_string(), key, label, subject, now],
            )?;
            Ok(Redeemed::Enrolled { label, subject })
        })
    }

    /// Codes not used yet and not expired: (label, subject, expires_at).
    pub fn pending_codes(&self) -> Result<Vec<(String, String, i64)>, AppError> {
        self.with(|c| {
            c.query(
                "SELECT label, subject, expires_at FROM enrollment_code WHERE used_by IS NULL AND expires_at > ? \
                 ORDER BY created_at",
                args![crate::platform::clock::now_ms()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
    }

    /// A replica we enrolled.
    pub fn enrolled(&self, replica: ReplicaId) -> Result<Option<Enrolled>, AppError> {
        Ok(self.enrolled_where("WHERE replica = ?1", &replica.to_string())?.pop())
    }

    /// Every replica we enrolled, newest first.
    pub fn all_enrolled(&self) -> Result<Vec<Enrolled>, AppError> {
        self.enrolled_where("WHERE replica != ?1", "")
    }

    fn enrolled_where(&self, filter: &str, arg: &str) -> Result<Vec<Enrolled>, AppError> {
        let sql = format!(
            "SELECT replica, public_key, label, subject, enrolled_at, last_seen_at, revoked_at, synced_at, certified_until \
             FROM enrolled {filter} \
             ORDER BY enrolled_at DESC"
        );
        let rows = self.with(|c| {
            c.query(&sql, args![arg], |r| {
                let (id, key): (String, Vec<u8>) = (r.get(0)?, r.get(1)?);
                // A row that no longer parses (hand-edited file) is skipped, not fatal.
                Ok(match (id.parse().ok(), key.try_into().ok()) {
                    (Some(replica), Some(public_key)) => Some(Enrolled {
                        replica,
                        public_key,
                        label: r.get(2)?,
                        subject: r.get(3)?,
                        enrolled_at: r.get(4)?,
                        last_seen_at: r.get(5)?,
                        revoked_at: r.get(6)?,
                        synced_at: r.get(7)?,
                        certified_until: r.get(8)?,
                    }),
                    _ => None,
                })
            })
        })?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// Revokes a replica: refused from its next request on. Returns whether it existed.
    pub fn revoke(&self, replica: ReplicaId) -> Result<bool, AppError> {
        self.with(|c| {
            c.execute(
                "UPDATE enrolled SET revoked_at = ? WHERE replica = ? AND revoked_at IS NULL",
                args![crate::platform::clock::now_ms(), replica.to_string()],
            )
            .map(|n| n > 0)
        })
    }

    /// The replicas we certified and have revoked, to report upstream.
    pub fn revoked_here(&self) -> Result<Vec<ReplicaId>, AppError> {
        Ok(self.all_enrolled()?.into_iter().filter(|e| e.revoked_at.is_some()).map(|e| e.replica).collect())
    }

    /// Records the revocations a downstream replica (holder of `issuer_key`) reported.
    pub fn note_revoked_downstream(&self, issuer_key: &[u8; 32], replicas: &[ReplicaId]) -> Result<(), AppError> {
        let now = crate::platform::clock::now_ms();
        self.write(|c| {
            for replica in replicas {
                c.execute(
                    "INSERT INTO revoked_downstream (replica, issuer_key, reported_at) VALUES (?, ?, ?) \
                     ON CONFLICT DO NOTHING",
                    args![replica.to_string(), issuer_key, now],
                )?;
            }
            Ok(())
        })
    }

    /// Whether the holder of `issuer_key` reported `replica` revoked.
    pub fn revoked_downstream(&self, replica: ReplicaId, issuer_key: &[u8; 32]) -> Result<bool, AppError> {
        self.with(|c| {
            c.exists(
                "SELECT 1 FROM revoked_downstream WHERE replica = ? AND issuer_key = ?",
                args![replica.to_string(), issuer_key],
            )
        })
    }

    /// When school `uai`'s server last synced with us (its enrolled, unrevoked servers').
    pub fn school_last_seen(&self, uai: &Uai) -> Result<Option<i64>, AppError> {
        self.with(|c| {
            c.query_one(
                "SELECT max(last_seen_at) FROM enrolled WHERE subject = ? AND revoked_at IS NULL",
                args![format!("school:{uai}")],
                |r| r.get(0),
            )
        })
    }

    /// Notes that a replica synced with us now.
    pub fn seen(&self, replica: ReplicaId) -> Result<(), AppError> {
        self.set_enrolled("last_seen_at", replica, crate::platform::clock::now_ms())
    }

    /// Records that a session with `replica` completed now.
    pub fn synced(&self, replica: ReplicaId) -> Result<(), AppError> {
        self.set_enrolled("synced_at", replica, crate::platform::clock::now_ms())
    }

    /// Records until when `replica`'s new certificate is valid (Unix ms).
    pub fn certified(&self, replica: ReplicaId, until: i64) -> Result<(), AppError> {
        self.set_enrolled("certified_until", replica, until)
    }

    fn set_enrolled(&self, column: &'static str, replica: ReplicaId, value: i64) -> Result<(), AppError> {
        let sql = format!("UPDATE enrolled SET {column} = ? WHERE replica = ?");
        self.with(|c| c.execute(&sql, args![value, replica.to_string()]).map(drop))
    }

    /// Records a sync run and forgets the oldest ones beyond [`RUNS_KEPT`].
    pub fn record_run(&self, run: &Run) -> Result<(), AppError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO sync_run (peer, started_at, ended_at, ok, docs_up, docs_down, files_up, files_down, \
                 bytes_up, bytes_down, bytes_resent, requests, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                args![
                    run.peer,
                    run.started_at,
                    run.ended_at,
                    run.ok,
                    run.docs_up,
                    run.docs_down,
                    run.files_up,
                    run.files_down,
                    run.bytes_up,
                    run.bytes_down,
                    run.bytes_resent,
                    run.requests,
                    run.error
                ],
            )?;
            c.execute(
                "DELETE FROM sync_run WHERE peer = ?1 AND id NOT IN \
                 (SELECT id FROM sync_run WHERE peer = ?1 ORDER BY id DESC LIMIT ?2)",
                args![run.peer, RUNS_KEPT],
            )
            .map(drop)
        })
    }

    /// The latest runs, newest first.
    pub fn runs(&self, limit: i64) -> Result<Vec<Run>, AppError> {
        self.runs_where("", limit)
    }

    /// The latest successful run.
    pub fn last_success(&self) -> Result<Option<Run>, AppError> {
        Ok(self.runs_where("WHERE ok = 1", 1)?.pop())
    }

    fn runs_where(&self, filter: &str, limit: i64) -> Result<Vec<Run>, AppError> {
        let sql = format!(
            "SELECT peer, started_at, ended_at, ok, docs_up, docs_down, files_up, files_down, bytes_up, bytes_down, \
             bytes_resent, requests, error FROM sync_run {filter} ORDER BY id DESC LIMIT ?"
        );
        self.with(|c| {
            c.query(&sql, args![limit], |r| {
                Ok(Run {
                    peer: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    ok: r.get(3)?,
                    docs_up: r.get(4)?,
                    docs_down: r.get(5)?,
                    files_up: r.get(6)?,
                    files_down: r.get(7)?,
                    bytes_up: r.get(8)?,
                    bytes_down: r.get(9)?,
                    bytes_resent: r.get(10)?,
                    requests: r.get(11)?,
                    error: r.get(12)?,
                })
            })
        })
    }

    /// Records a quarantined bundle; returns the files of the entries dropped beyond
    /// [`QUARANTINE_KEPT`], for the caller to delete.
    ///
    /// A peer re-offers refused documents at every session: the same refusal from the same
    /// peer replaces the one kept before, rather than crowding out the others.
    pub fn quarantine(&self, entry: &Quarantined) -> Result<Vec<String>, AppError> {
        self.write(|c| {
            let mut old = c.query(
                "DELETE FROM quarantine WHERE peer = ? AND reason = ? RETURNING file",
                args![entry.peer, entry.reason],
                |r| r.get(0),
            )?;
            c.execute(
                "INSERT INTO quarantine (peer, at, reason, file) VALUES (?, ?, ?, ?)",
                args![entry.peer, entry.at, entry.reason, entry.file],
            )?;
            old.extend(c.query(
                "DELETE FROM quarantine WHERE id NOT IN (SELECT id FROM quarantine ORDER BY id DESC LIMIT ?) \
                 RETURNING file",
                args![QUARANTINE_KEPT],
                |r| r.get(0),
            )?);
            Ok(old)
        })
    }

    /// The latest quarantined bundles, newest first.
    pub fn quarantined(&self, limit: i64) -> Result<Vec<Quarantined>, AppError> {
        self.with(|c| {
            c.query("SELECT id, peer, at, reason, file FROM quarantine ORDER BY id DESC LIMIT ?", args![limit], |r| {
                Ok(Quarantined { id: r.get(0)?, peer: r.get(1)?, at: r.get(2)?, reason: r.get(3)?, file: r.get(4)? })
            })
        })
    }

    /// Forgets a quarantined bundle; returns where its bytes are, to delete them.
    pub fn discard_quarantined(&self, id: i64) -> Result<Option<String>, AppError> {
        self.with(|c| c.query_opt("DELETE FROM quarantine WHERE id = ? RETURNING file", args![id], |r| r.get(0)))
    }

    /// The classes the tablet with this token hash serves.
    pub fn tablet_classes(&self, token_hash: &[u8; 32]) -> Result<Vec<String>, AppError> {
        self.with(|c| {
            c.query("SELECT class FROM class_tablet WHERE token_hash = ? ORDER BY class", args![token_hash], |r| {
                r.get(0)
            })
        })
    }

    /// Makes the tablet with this token hash one of `class`'s.
    pub fn add_tablet(&self, token_hash: &[u8; 32], class: &str, by: &str) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO class_tablet (token_hash, class, marked_by, marked_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (token_hash, class) DO UPDATE SET marked_by = ?3, marked_at = ?4",
                args![token_hash, class, by, crate::platform::clock::now_ms()],
            )
            .map(drop)
        })
    }

    /// How many tablets serve `class`.
    pub fn tablet_count(&self, class: &str) -> Result<i64, AppError> {
        self.with(|c| c.query_one("SELECT count(*) FROM class_tablet WHERE class = ?", args![class], |r| r.get(0)))
    }

    /// Withdraws every tablet of `class` (one was lost): they no longer open its pupils' logins.
    pub fn remove_tablets(&self, class: &str) -> Result<usize, AppError> {
        self.with(|c| c.execute("DELETE FROM class_tablet WHERE class = ?", args![class]))
    }

    /// Appends to an audit (the account audit keeps its newest [`AUDIT_KEPT`] entries).
    pub fn audit(&self, audit: Audit, entries: &[AuditEntry]) -> Result<(), AppError> {
        let insert =
            format!("INSERT INTO {} (at, by_user, target, action, reason) VALUES (?, ?, ?, ?, ?)", audit.table());
        self.write(|c| {
            for e in entries {
                c.execute(&insert, args![e.at, e.by, e.target, e.action, e.reason])?;
            }
            if audit == Audit::Accounts {
                c.execute(
                    "DELETE FROM account_audit WHERE id <= (SELECT max(id) FROM account_audit) - ?",
                    args![AUDIT_KEPT],
                )?;
            }
            Ok(())
        })
    }

    /// An audit's newest entries, newest first; only `target`'s when given.
    pub fn audit_trail(&self, audit: Audit, target: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
        let sql = format!(
            "SELECT at, by_user, target, action, reason FROM {} \
             WHERE ?1 = '' OR target = ?1 ORDER BY id DESC LIMIT ?2",
            audit.table()
        );
        self.with(|c| {
            c.query(&sql, args![target.unwrap_or_default(), limit], |r| {
                Ok(AuditEntry { at: r.get(0)?, by: r.get(1)?, target: r.get(2)?, action: r.get(3)?, reason: r.get(4)? })
            })
        })
    }

    /// The hub administrator's password hash, once set.
    pub fn admin_hash(&self) -> Result<Option<String>, AppError> {
        self.with(|c| c.query_opt("SELECT password_hash FROM admin", args![], |r| r.get(0)))
    }

    /// Sets the hub administrator's password hash.
    pub fn set_admin_hash(&self, hash: &str) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO admin (one, password_hash) VALUES (1, ?1) ON CONFLICT (one) DO UPDATE SET password_hash = ?1",
                args![hash],
            )
            .map(drop)
        })
    }

    /// Sets the hub administrator's first password hash, unless one is set (two hub
    /// processes starting together on one database); whether this one was.
    pub fn first_admin_hash(&self, hash: &str) -> Result<bool, AppError> {
        self.with(|c| {
            c.execute("INSERT INTO admin (one, password_hash) VALUES (1, ?1) ON CONFLICT (one) DO NOTHING", args![hash])
                .map(|n| n > 0)
        })
    }
}

fn read_away(conn: &Conn) -> Result<Option<Upstream>, AppError> {
    let row = conn
        .query_opt("SELECT url, server_id, server_key FROM away_server", args![], |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Vec<u8>>(2)?))
        })
        .map_err(db)?;
    let Some((url, id, key)) = row else { return Ok(None) };
    let corrupt = |what: &str| AppError::Internal(format!("links database: bad away {what}"));
    Ok(Some(Upstream {
        url,
        server: id.parse().map_err(|_| corrupt("server id"))?,
        server_key: key.try_into().map_err(|_| corrupt("server key"))?,
    }))
}

fn read_hub(conn: &Conn) -> Result<Option<HubLink>, AppError> {
    let row = conn
        .query_opt("SELECT url, hub_id, hub_key, chain, enrolled_at, owner FROM hub_link", args![], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<Vec<u8>>(2)?,
                r.get::<Vec<u8>>(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(db)?;
    let Some((url, id, key, chain, enrolled_at, owner)) = row else { return Ok(None) };
    let corrupt = |what: &str| AppError::Internal(format!("links database: bad {what}"));
    Ok(Some(HubLink {
        url,
        hub_id: id.parse().map_err(|_| corrupt("hub id"))?,
        hub_key: key.try_into().map_err(|_| corrupt("hub key"))?,
        chain: Chain::from_bytes(&chain).map_err(|_| corrupt("certificate"))?,
        enrolled_at,
        owner,
    }))
}
