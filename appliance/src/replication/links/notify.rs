//! The hub's e-mail notifications as `links.db` keeps them (`crate::notify` decides; this
//! stores): the catalog cursor, people's choices and addresses, the notices waiting, the
//! outbox and what the SMTP server said of each address. Deriving notices and moving the
//! cursor commit together, as do queuing an e-mail and marking its notices: each notice is
//! taken once, and each e-mail is queued once.

use std::collections::BTreeMap;

use preau_sync::sql::{Conn, args};

use super::Links;
use crate::platform::error::AppError;

/// A person's notification choices (defaults until she saves hers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifySettings {
    /// Her mode per topic id, where she chose one.
    pub modes: BTreeMap<String, String>,
    /// The hour of her daily digest (the académie's time zone).
    pub digest_hour: u8,
    /// Her own quiet hours (`HH:MM-HH:MM`), on top of the académie's; empty: none.
    pub quiet_hours: String,
    /// Nothing on Saturdays either.
    pub saturday: bool,
    /// The day of her last digest (`YYYY-MM-DD`).
    pub last_digest_on: String,
    /// The address she entered and confirmed; empty: her school's (ONDE's « Courriel »).
    pub address: String,
    /// An address she entered, waiting for its confirmation.
    pub pending_address: String,
    /// BLAKE3 (hex) of that confirmation's secret.
    pub pending_token: String,
    /// Until when that confirmation holds (Unix ms).
    pub pending_until: i64,
    /// She unsubscribed: nothing is sent until she saves her choices again.
    pub stopped: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            modes: BTreeMap::new(),
            digest_hour: 18,
            quiet_hours: String::new(),
            saturday: false,
            last_digest_on: String::new(),
            address: String::new(),
            pending_address: String::new(),
            pending_token: String::new(),
            pending_until: 0,
            stopped: false,
        }
    }
}

/// A notice to keep for someone.
#[derive(Clone, Debug)]
pub struct NewNotice {
    /// Her school.
    pub school: String,
    /// Her user id.
    pub user: String,
    /// The topic id.
    pub topic: String,
    /// What it is about (unique for her within her school).
    pub item: String,
    /// The document it comes from (its id, hex): derived again before it is sent.
    pub doc: String,
    /// The child's user id, or empty.
    pub child: String,
    /// The e-mail's line.
    pub line: String,
    /// The page, within the school.
    pub href: String,
    /// When it happened (Unix ms).
    pub at: i64,
    /// For an evening topic, the day it matters; else empty.
    pub due_on: String,
}

/// A notice waiting for its e-mail.
#[derive(Clone, Debug)]
pub struct Waiting {
    /// Its row id.
    pub id: i64,
    /// When it reached the hub (Unix ms).
    pub noticed: i64,
    /// Its content.
    pub notice: NewNotice,
}

/// An e-mail to queue.
#[derive(Clone, Debug)]
pub struct NewMail {
    /// The recipient's school.
    pub school: String,
    /// The recipient's user id.
    pub user: String,
    /// Where it goes.
    pub address: String,
    /// Its `Message-ID` (kept, so a retry is the same message).
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Its one-click unsubscribe address (RFC 8058), or empty.
    pub unsubscribe: String,
}

/// An e-mail of the outbox.
#[derive(Clone, Debug)]
pub struct Mail {
    /// Its row id.
    pub id: i64,
    /// What it is.
    pub mail: NewMail,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// Attempts so far.
    pub attempts: i64,
}

/// What the SMTP server said of an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressState {
    /// The address (lower case).
    pub address: String,
    /// Refusals in a row.
    pub failures: i64,
    /// The last refusal, as the server worded it.
    pub last_error: String,
    /// When (Unix ms).
    pub failed_at: i64,
    /// No more e-mail to it until it works again or is changed.
    pub failing: bool,
}

impl Links {
    /// How far notices were derived (the catalog's local sequence number); `None` before
    /// the first time.
    pub fn notify_cursor(&self) -> Result<Option<u64>, AppError> {
        self.with(|c| c.query_opt("SELECT seq FROM notify_cursor", args![], |r| r.get::<i64>(0)))
            .map(|s| s.map(|s| s as u64))
    }

    /// Keeps `notices`, which reached the hub at `now` (those already kept are skipped: each
    /// is told once), and moves the cursor to `seq`, together.
    pub fn add_notices(&self, notices: &[NewNotice], seq: u64, now: i64) -> Result<usize, AppError> {
        self.write(|tx| {
            let mut added = 0;
            for n in notices {
                added += tx.execute(
                    "INSERT INTO notice (school, user_id, topic, item, doc, child, line, href, at, noticed, due_on)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    args![n.school, n.user, n.topic, n.item, n.doc, n.child, n.line, n.href, n.at, now, n.due_on],
                )?;
            }
            tx.execute(
                "INSERT INTO notify_cursor (singleton, seq) VALUES (1, ?1) ON CONFLICT (singleton) DO UPDATE SET seq = ?1",
                args![seq as i64],
            )?;
            Ok(added)
        })
    }

    /// A person's choices.
    pub fn notify_settings(&self, school: &str, user: &str) -> Result<NotifySettings, AppError> {
        self.with(|c| {
            let mut s = c
                .query_opt(
                    "SELECT digest_hour, quiet_hours, saturday, last_digest_on, address, pending_address,
                            pending_token, pending_until, stopped
                     FROM notify_setting WHERE school = ? AND user_id = ?",
                    args![school, user],
                    |r| {
                        Ok(NotifySettings {
                            modes: BTreeMap::new(),
                            digest_hour: r.get(0)?,
                            quiet_hours: r.get(1)?,
                            saturday: r.get(2)?,
                            last_digest_on: r.get(3)?,
                            address: r.get(4)?,
                            pending_address: r.get(5)?,
                            pending_token: r.get(6)?,
                            pending_until: r.get(7)?,
                            stopped: r.get(8)?,
                        })
                    },
                )?
                .unwrap_or_default();
            s.modes = c
                .query(
                    "SELECT topic, mode FROM notify_mode WHERE school = ? AND user_id = ?",
                    args![school, user],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .into_iter()
                .collect();
            Ok(s)
        })
    }

    /// Saves a person's choices (all of them).
    pub fn save_notify_settings(&self, school: &str, user: &str, s: &NotifySettings) -> Result<(), AppError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO notify_setting (school, user_id, digest_hour, quiet_hours, saturday,
                     last_digest_on, address, pending_address, pending_token, pending_until, stopped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (school, user_id) DO UPDATE SET digest_hour = ?3, quiet_hours = ?4, saturday = ?5,
                     last_digest_on = ?6, address = ?7, pending_address = ?8, pending_token = ?9,
                     pending_until = ?10, stopped = ?11",
                args![
                    school,
                    user,
                    s.digest_hour,
                    s.quiet_hours,
                    s.saturday,
                    s.last_digest_on,
                    s.address,
                    s.pending_address,
                    s.pending_token,
                    s.pending_until,
                    s.stopped
                ],
            )?;
            tx.execute("DELETE FROM notify_mode WHERE school = ? AND user_id = ?", args![school, user])?;
            for (topic, mode) in &s.modes {
                tx.execute(
                    "INSERT INTO notify_mode (school, user_id, topic, mode) VALUES (?, ?, ?, ?)",
                    args![school, user, topic, mode],
                )?;
            }
            Ok(())
        })
    }

    /// The people with notices waiting: (school, user id).
    pub fn waiting_recipients(&self) -> Result<Vec<(String, String)>, AppError> {
        self.with(|c| {
            c.query("SELECT DISTINCT school, user_id FROM notice WHERE mail_id IS NULL", args![], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
    }

    /// A person's waiting notices, oldest first.
    pub fn waiting_notices(&self, school: &str, user: &str) -> Result<Vec<Waiting>, AppError> {
        self.with(|c| {
            c.query(
                "SELECT id, topic, item, child, line, href, at, due_on, noticed, doc FROM notice
                 WHERE school = ? AND user_id = ? AND mail_id IS NULL ORDER BY at, id",
                args![school, user],
                |r| {
                    Ok(Waiting {
                        id: r.get(0)?,
                        noticed: r.get(8)?,
                        notice: NewNotice {
                            school: school.to_owned(),
                            user: user.to_owned(),
                            topic: r.get(1)?,
                            item: r.get(2)?,
                            doc: r.get(9)?,
                            child: r.get(3)?,
                            line: r.get(4)?,
                            href: r.get(5)?,
                            at: r.get(6)?,
                            due_on: r.get(7)?,
                        },
                    })
                },
            )
        })
    }

    /// Drops waiting notices nobody will be told of (her choice is now « never », the
    /// evening they mattered passed, she left the school).
    pub fn drop_notices(&self, ids: &[i64]) -> Result<(), AppError> {
        self.write(|tx| {
            for id in ids {
                tx.execute("UPDATE notice SET mail_id = 0 WHERE id = ? AND mail_id IS NULL", args![id])?;
            }
            Ok(())
        })
    }

    /// Queues `mail` at `now` for `notices` (which it tells), and, for a digest, notes the
    /// day; together, so that a notice is in one e-mail only.
    pub fn queue_mail(
        &self,
        mail: &NewMail,
        notices: &[i64],
        digest_on: Option<&str>,
        now: i64,
    ) -> Result<i64, AppError> {
        self.write(|tx| {
            let id = insert_mail(tx, mail, now)?;
            for n in notices {
                tx.execute("UPDATE notice SET mail_id = ? WHERE id = ? AND mail_id IS NULL", args![id, n])?;
            }
            if let Some(day) = digest_on {
                tx.execute(
                    "INSERT INTO notify_setting (school, user_id, digest_hour, quiet_hours, saturday, last_digest_on,
                         address, pending_address, pending_token, pending_until)
                     VALUES (?1, ?2, 18, '', 0, ?3, '', '', '', 0)
                     ON CONFLICT (school, user_id) DO UPDATE SET last_digest_on = ?3",
                    args![mail.school, mail.user, day],
                )?;
            }
            Ok(id)
        })
    }

    /// Queues an e-mail that tells no notice (an address's confirmation).
    pub fn queue_single(&self, mail: &NewMail, now: i64) -> Result<i64, AppError> {
        self.with(|c| insert_mail(c, mail, now))
    }

    /// Queued e-mails whose time has come, oldest first.
    pub fn due_mails(&self, now: i64, limit: usize) -> Result<Vec<Mail>, AppError> {
        self.with(|c| {
            c.query(
                "SELECT id, school, user_id, address, message_id, subject, body, unsubscribe, created_at, attempts
                 FROM mail WHERE state = 'queued' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                args![now, limit as i64],
                |r| {
                    Ok(Mail {
                        id: r.get(0)?,
                        mail: NewMail {
                            school: r.get(1)?,
                            user: r.get(2)?,
                            address: r.get(3)?,
                            message_id: r.get(4)?,
                            subject: r.get(5)?,
                            body: r.get(6)?,
                            unsubscribe: r.get(7)?,
                        },
                        created_at: r.get(8)?,
                        attempts: r.get(9)?,
                    })
                },
            )
        })
    }

    /// The server took e-mail `id`: it is sent, and its address works.
    pub fn mail_sent(&self, id: i64, address: &str, now: i64) -> Result<(), AppError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE mail SET state = 'sent', done_at = ?, attempts = attempts + 1 WHERE id = ?",
                args![now, id],
            )?;
            tx.execute("DELETE FROM mail_address WHERE address = ?", args![address.to_lowercase()]).map(drop)
        })
    }

    /// E-mail `id` is tried again at `next_at` (the server was away or said « later »).
    pub fn mail_retry(&self, id: i64, next_at: i64, error: &str) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "UPDATE mail SET next_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                args![next_at, error, id],
            )
            .map(drop)
        })
    }

    /// E-mail `id` will never be sent: the server refused it for good, or retries ran out.
    /// Its address counts one more refusal; after `failing_after` in a row it is failing.
    pub fn mail_failed(
        &self,
        id: i64,
        address: &str,
        error: &str,
        now: i64,
        failing_after: i64,
    ) -> Result<(), AppError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE mail SET state = 'failed', done_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
                args![now, error, id],
            )?;
            tx.execute(
                "INSERT INTO mail_address (address, failures, last_error, failed_at, failing)
                 VALUES (?1, 1, ?2, ?3, CASE WHEN ?4 <= 1 THEN 1 ELSE 0 END)
                 ON CONFLICT (address) DO UPDATE SET failures = mail_address.failures + 1, last_error = ?2,
                     failed_at = ?3, failing = CASE WHEN mail_address.failures + 1 >= ?4 THEN 1 ELSE 0 END",
                args![address.to_lowercase(), error, now, failing_after],
            )
            .map(drop)
        })
    }

    /// What the server said of each of `addresses` that it refused (others are fine).
    pub fn address_states(&self, addresses: &[String]) -> Result<Vec<AddressState>, AppError> {
        self.with(|c| {
            let mut out = Vec::new();
            for a in addresses {
                out.extend(c.query_opt(
                    "SELECT address, failures, last_error, failed_at, failing FROM mail_address WHERE address = ?",
                    args![a.to_lowercase()],
                    |r| {
                        Ok(AddressState {
                            address: r.get(0)?,
                            failures: r.get(1)?,
                            last_error: r.get(2)?,
                            failed_at: r.get(3)?,
                            failing: r.get(4)?,
                        })
                    },
                )?);
            }
            Ok(out)
        })
    }

    /// Forgets sent and failed e-mails, and told or dropped notices, that reached the hub
    /// before `before` (Unix ms) and matter no more after `today` (homework's day): longer
    /// than anything is news (`crate::notify::NEWS_DAYS`), so nothing forgotten comes back.
    pub fn forget_mail_before(&self, before: i64, today: &str) -> Result<(), AppError> {
        self.write(|c| {
            c.execute("DELETE FROM mail WHERE state != 'queued' AND created_at < ?", args![before])?;
            c.execute(
                "DELETE FROM notice WHERE mail_id IS NOT NULL AND noticed < ? AND due_on < ?",
                args![before, today],
            )
            .map(drop)
        })
    }

    /// Cancels `user`'s e-mails still queued (she unsubscribed).
    pub fn cancel_mails(&self, school: &str, user: &str, now: i64) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "UPDATE mail SET state = 'cancelled', done_at = ? WHERE school = ? AND user_id = ? AND state = 'queued'
                     AND unsubscribe != ''",
                args![now, school, user],
            )
            .map(drop)
        })
    }

    /// Forgets that `address` failed (its holder asks to try it again).
    pub fn address_retry(&self, address: &str) -> Result<(), AppError> {
        self.with(|c| c.execute("DELETE FROM mail_address WHERE address = ?", args![address.to_lowercase()]).map(drop))
    }
}

fn insert_mail(c: &Conn, mail: &NewMail, now: i64) -> preau_sync::Result<i64> {
    c.query_one(
        "INSERT INTO mail (school, user_id, address, message_id, subject, body, unsubscribe, created_at, next_at,
             attempts, state, done_at, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'queued', 0, '') RETURNING id",
        args![
            mail.school,
            mail.user,
            mail.address,
            mail.message_id,
            mail.subject,
            mail.body,
            mail.unsubscribe,
            now,
            now
        ],
        |r| r.get(0),
    )
}
