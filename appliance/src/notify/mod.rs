//! The hub's e-mail notifications: families and staff are told of what concerns them (a
//! note to sign, a message, a post, tomorrow's homework), immediately or in a daily digest
//! as each chooses, never in the académie's quiet hours nor during a school's holidays when
//! it asks, never a pupil.
//!
//! The hub alone sends: it is the replica that sees every school's changes, whoever made
//! them and wherever, and it is online. One pass ([`tick`], every [`TICK`]):
//! 1. **derive**: the catalog's entries changed since the cursor go to the service that owns
//!    their kind ([`crate::web::service::NoticeSource`]), which says who is to be told
//!    what; notices are kept once per (school, person, item), with the new cursor, in one
//!    transaction of `links.db`;
//! 2. **plan**: for each person with notices waiting, those whose time has come (sending
//!    open, her mode, her digest's moment) are merged into one e-mail, queued in the outbox
//!    in the same transaction that marks them told;
//! 3. **send**: the outbox goes through the académie's SMTP server; an e-mail is marked sent
//!    once the server took it, retried with backoff when it says « later », and its address
//!    marked failing after [`FAILING_AFTER`] refusals in a row.
//!
//! A restart loses nothing and repeats nothing but, at worst, the one e-mail the server took
//! in the instant before the hub could note it (see ARCHITECTURE.md).

mod calendar;
mod mailer;
mod pages;

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use preau_sync::{Partition, Uai};

pub use calendar::{Calendar, Own, Quiet};
pub use mailer::{Mailer, NotSent};
pub use pages::SERVICE;

use crate::platform::config::MailConfig;
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::replication::Replication;
use crate::replication::links::{Links, NewMail, NewNotice, NotifySettings, Waiting};
use crate::school::directory::{Directory, Member, Profile, UserId};
use crate::web::AppState;
use crate::web::service::{Mode, NoticeInput, NoticeSource, Services, Topic};

/// What happened more than this many days before it reached the hub is not news: a
/// school's first sync brings its whole year, and nobody wants September's notes in June.
pub const NEWS_DAYS: i64 = 7;
/// Refusals in a row after which an address is failing: shown to its holder and her
/// director, and sent nothing more until it works or is changed. Three, so that one full
/// mailbox or a server's bad day does not silence a family.
pub const FAILING_AFTER: i64 = 3;
/// How long an e-mail the server keeps answering « later » is retried: three days, the
/// span of a long week-end's outage at the académie's relay.
const RETRY_FOR_MS: i64 = 3 * DAY_MS;
/// How long sent e-mails and told notices are kept (longer than [`NEWS_DAYS`], so nothing
/// forgotten is told again).
const KEPT_MS: i64 = 30 * DAY_MS;
/// Catalog entries read per transaction while deriving.
const CATALOG_BATCH: usize = 500;
/// E-mails sent per pass, at most.
const SEND_BATCH: usize = 200;
/// Between two passes.
pub const TICK: Duration = Duration::from_secs(30);
/// How long an address's confirmation link holds.
pub const CONFIRM_FOR_MS: i64 = 2 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

/// The hub's notifier: the académie's calendar and SMTP server, when `[mail]` names one.
pub struct Notifier {
    /// When e-mail may leave.
    pub calendar: Calendar,
    /// Where it goes through.
    pub mailer: Mailer,
    /// One pass at a time.
    pass: tokio::sync::Mutex<()>,
}

impl Notifier {
    /// The notifier `config` describes: `None` when it names no SMTP server, an error when
    /// its settings are wrong (the hub does not start on a half-understood `[mail]`).
    pub fn from_config(config: &MailConfig) -> Result<Option<Self>, String> {
        let Some(mailer) = Mailer::new(config)? else { return Ok(None) };
        Ok(Some(Self { calendar: Calendar::new(config)?, mailer, pass: tokio::sync::Mutex::new(()) }))
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Notices kept.
    pub noticed: usize,
    /// E-mails queued.
    pub queued: usize,
    /// E-mails the server took.
    pub sent: usize,
    /// E-mails refused for good.
    pub failed: usize,
}

/// Passes every [`TICK`], for as long as the server runs (the hub with a `[mail]` server).
pub async fn run(state: AppState) {
    loop {
        match tick(&state, Timestamp::now()).await {
            Ok(pass) if pass != Pass::default() => tracing::info!(?pass, "notifications"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "notifications: pass failed"),
        }
        tokio::time::sleep(TICK).await;
    }
}

/// One pass at `now`: derive, plan, send.
pub async fn tick(state: &AppState, now: Timestamp) -> Result<Pass, AppError> {
    let Some(notifier) = state.try_part::<Notifier>() else { return Ok(Pass::default()) };
    let _one = notifier.pass.lock().await;
    let links = &state.part::<Replication>().links;
    let (noticed, queued) = crate::platform::blocking::offload(|| {
        let noticed = derive(state, links, now)?;
        let queued = plan(state, notifier, links, now)?;
        links.forget_mail_before(now.as_millisecond() - KEPT_MS)?;
        Ok::<_, AppError>((noticed, queued))
    })?;
    let (sent, failed) = send(notifier, links, now).await?;
    Ok(Pass { noticed, queued, sent, failed })
}

/// Every topic, from the services' notice sources.
pub fn topics(state: &AppState) -> Vec<&'static Topic> {
    let mut topics: Vec<&'static Topic> = sources(state).flat_map(|s| s.topics.iter().copied()).collect();
    topics.dedup_by_key(|t| t.id);
    topics
}

fn sources(state: &AppState) -> impl Iterator<Item = &'static NoticeSource> + '_ {
    state.part::<Services>().0.iter().flat_map(|s| s.notices.iter())
}

/// A person's mode for `topic`.
pub fn mode_of(settings: &NotifySettings, topic: &Topic) -> Mode {
    settings.modes.get(topic.id).and_then(|m| Mode::parse(m)).unwrap_or(topic.default)
}

/// Who may be told anything: an adult still at the school, a parent only while one of her
/// children's classes is open to families. Never a pupil, whatever a service says.
pub fn may_be_told(dir: &Directory, member: &Member) -> bool {
    member.profile != Profile::Pupil && !member.person.archived && dir.on_the_ent(member)
}

/// Where `member`'s e-mail goes: the address she confirmed, else her school's
/// (ONDE's « Courriel », or what the director typed).
pub fn address_of(settings: &NotifySettings, member: &Member) -> Option<String> {
    let address = if settings.address.is_empty() { member.person.email.trim() } else { settings.address.as_str() };
    address.parse::<lettre::Address>().ok().map(|a| a.to_string())
}

// ---- 1. derive ----

fn derive(state: &AppState, links: &Links, now: Timestamp) -> Result<usize, AppError> {
    let by_kind: HashMap<preau_sync::Kind, &NoticeSource> = sources(state).map(|s| (s.kind, s)).collect();
    let Some(mut cursor) = links.notify_cursor()? else {
        // First pass: what the hub held before notifications were on is not news.
        let last = state.db.read(|r| Ok(r.catalog_after(0, usize::MAX)?.last().map_or(0, |e| e.seq)))?;
        links.add_notices(&[], last, now.as_millisecond())?;
        return Ok(0);
    };
    let since = now.as_millisecond() - NEWS_DAYS * DAY_MS;
    let l = Locale::default();
    let mut added = 0;
    loop {
        let entries = state.db.read(|r| Ok(r.catalog_after(cursor, CATALOG_BATCH)?))?;
        let Some(last) = entries.last().map(|e| e.seq) else { return Ok(added) };
        let mut notices = Vec::new();
        let mut people: HashMap<(Uai, UserId), Option<(NotifySettings, bool)>> = HashMap::new();
        for entry in &entries {
            let (Some(source), Some(uai)) = (by_kind.get(&entry.address.kind), entry.address.partition.school()) else {
                continue;
            };
            let school = match state.within(uai) {
                Ok(school) => school,
                Err(AppError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let dir = school.directory();
            let found = state.db.read(|reader| {
                (source.derive)(&NoticeInput { reader, dir: &dir, doc: &entry.address, id: entry.id, since, l: &l })
            })?;
            for notice in found {
                let key = (uai.clone(), notice.to.clone());
                if !people.contains_key(&key) {
                    let told = dir.member(&notice.to).filter(|m| may_be_told(&dir, m));
                    let settings = match told {
                        Some(m) => {
                            let s = links.notify_settings(uai.as_str(), notice.to.as_str())?;
                            let has_address = address_of(&s, m).is_some();
                            Some((s, has_address))
                        }
                        None => None,
                    };
                    people.insert(key.clone(), settings);
                }
                let Some((settings, true)) = &people[&key] else { continue };
                if mode_of(settings, notice.topic) == Mode::Never {
                    continue;
                }
                notices.push(NewNotice {
                    school: uai.to_string(),
                    user: notice.to.to_string(),
                    topic: notice.topic.id.to_owned(),
                    item: notice.item,
                    child: notice.child.map(|c| c.to_string()).unwrap_or_default(),
                    line: notice.line,
                    href: notice.href,
                    at: notice.at,
                    due_on: notice.due_on.unwrap_or_default(),
                });
            }
        }
        added += links.add_notices(&notices, last, now.as_millisecond())?;
        cursor = last;
    }
}

// ---- 2. plan ----

fn plan(state: &AppState, notifier: &Notifier, links: &Links, now: Timestamp) -> Result<usize, AppError> {
    let topics: HashMap<&str, &Topic> = topics(state).into_iter().map(|t| (t.id, t)).collect();
    let mut holidays: HashMap<String, bool> = HashMap::new();
    let mut queued = 0;
    for (school, user) in links.waiting_recipients()? {
        let waiting = links.waiting_notices(&school, &user)?;
        let within = Uai::parse(&school).ok().and_then(|uai| state.within(&uai).ok());
        let (Some(within), Ok(id)) = (within, UserId::parse(&user)) else {
            links.drop_notices(&waiting.iter().map(|w| w.id).collect::<Vec<_>>())?;
            continue;
        };
        let dir = within.directory();
        let settings = links.notify_settings(&school, &user)?;
        let member = dir.member(&id).filter(|m| may_be_told(&dir, m));
        let address = member.and_then(|m| address_of(&settings, m));
        let (Some(member), Some(address)) = (member, address) else {
            links.drop_notices(&waiting.iter().map(|w| w.id).collect::<Vec<_>>())?;
            continue;
        };
        if links.address_states(std::slice::from_ref(&address))?.iter().any(|s| s.failing) {
            continue;
        }
        let own = Own { quiet: Quiet::parse(&settings.quiet_hours).ok().flatten(), saturday: settings.saturday };
        let paused = *holidays.entry(school.clone()).or_insert_with(|| on_holiday(&within, &dir, notifier, now));
        if paused || !notifier.calendar.open(now, own) {
            continue;
        }
        let moment = notifier.calendar.digest_moment(now, settings.digest_hour);
        let digest_day = moment.date().to_string();
        let digest_open = settings.last_digest_on < digest_day;
        let eve = Calendar::next_school_day(moment.date()).to_string();
        let (mut due, mut dropped, mut digest) = (Vec::new(), Vec::new(), false);
        for w in &waiting {
            let mode = topics.get(w.notice.topic.as_str()).map_or(Mode::Never, |t| mode_of(&settings, t));
            let evening = topics.get(w.notice.topic.as_str()).is_some_and(|t| t.eve);
            match mode {
                Mode::Never => dropped.push(w.id),
                _ if evening && w.notice.due_on.as_str() <= digest_day.as_str() => dropped.push(w.id),
                _ if evening => {
                    if digest_open && w.notice.due_on <= eve {
                        due.push(w);
                        digest = true;
                    }
                }
                Mode::Immediate => due.push(w),
                Mode::Digest => {
                    if digest_open && w.noticed <= moment.timestamp().as_millisecond() {
                        due.push(w);
                        digest = true;
                    }
                }
            }
        }
        links.drop_notices(&dropped)?;
        if due.is_empty() {
            continue;
        }
        let mail = compose(&within, notifier, &dir, member, &address, &due);
        let ids: Vec<i64> = due.iter().map(|w| w.id).collect();
        links.queue_mail(&mail, &ids, digest.then_some(digest_day.as_str()), now.as_millisecond())?;
        queued += 1;
    }
    Ok(queued)
}

/// Whether the school asks for quiet during its holidays and is on holiday today.
fn on_holiday(school: &AppState, dir: &Directory, notifier: &Notifier, now: Timestamp) -> bool {
    let (Some(info), Some(uai)) = (dir.school.as_ref(), dir.uai()) else { return false };
    if !info.info.holiday_pause {
        return false;
    }
    let today = notifier.calendar.date(now).to_string();
    let partitions = [Partition::School(uai.clone()).to_string()];
    school
        .db
        .read(|r| Ok(r.events(&partitions, &today, &today, None)?))
        .map(|events| events.iter().any(|e| e.event.category == "holiday"))
        .unwrap_or(false)
}

/// One e-mail telling `due` to `member`: each line under the child it concerns, with its
/// page's address; her settings' and unsubscribe addresses at the foot.
fn compose(
    school: &AppState,
    notifier: &Notifier,
    dir: &Directory,
    member: &Member,
    address: &str,
    due: &[&Waiting],
) -> NewMail {
    let l = Locale::default();
    let base = crate::web::base_url(school);
    let school_name = dir.school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    // Grouped by child (the school's own news last), in the order they happened.
    let mut groups: Vec<(String, Vec<&Waiting>)> = Vec::new();
    for w in due {
        let heading = UserId::parse(&w.notice.child)
            .ok()
            .and_then(|c| dir.member(&c))
            .map(|c| {
                let class = dir.class_of(c).map(|k| k.class.name.clone()).unwrap_or_default();
                l.ta("notify-mail-for-child", &[("child", &c.person.first_name), ("class", &class)])
            })
            .unwrap_or_else(|| l.ta("notify-mail-for-school", &[("school", &school_name)]));
        match groups.iter_mut().find(|(h, _)| *h == heading) {
            Some((_, items)) => items.push(w),
            None => groups.push((heading, vec![w])),
        }
    }
    let mut body = l.ta("notify-mail-hello", &[("name", &member.formal_name())]);
    body.push_str("\n\n");
    for (heading, items) in &groups {
        body.push_str(heading);
        body.push('\n');
        for w in items {
            body.push_str(&format!("  • {}\n    {base}{}\n", w.notice.line, w.notice.href));
        }
        body.push('\n');
    }
    let unsubscribe = unsubscribe_url(school, &member.id);
    body.push_str(&l.ta("notify-mail-settings", &[("url", &format!("{base}/notifications"))]));
    body.push('\n');
    body.push_str(&l.ta("notify-mail-unsubscribe", &[("url", &unsubscribe)]));
    body.push('\n');
    let subject = match (due, groups.as_slice()) {
        ([one], [(heading, _)]) => format!("{} — {}", heading.trim_end_matches(" :"), one.notice.line),
        _ => l.ta("notify-mail-subject-many", &[("count", &due.len().to_string()), ("school", &school_name)]),
    };
    NewMail {
        school: dir.uai().map(ToString::to_string).unwrap_or_default(),
        user: member.id.to_string(),
        address: address.to_owned(),
        message_id: message_id(notifier),
        subject,
        body,
        unsubscribe,
    }
}

/// A fresh `Message-ID`: kept with the queued e-mail, so that a retry is the same message.
pub fn message_id(notifier: &Notifier) -> String {
    format!("<{}@{}>", hex::encode(crate::platform::random_bytes::<16>()), notifier.mailer.domain())
}

/// The secret of `user`'s one-click unsubscribe address in `school`: a MAC under the
/// server's key, so it needs no storage and cannot be made for someone else.
pub fn unsubscribe_token(school: &AppState, user: &UserId) -> String {
    let uai = school.uai().map(|u| u.to_string()).unwrap_or_default();
    school.sessions.keyed_hash("notify-unsubscribe", &[&uai, user.as_str()])[..32].to_owned()
}

fn unsubscribe_url(school: &AppState, user: &UserId) -> String {
    let uai = school.uai().map(|u| u.to_string()).unwrap_or_default();
    let token = unsubscribe_token(school, user);
    format!("{}/notifications/stop?s={uai}&u={user}&t={token}", crate::web::base_url(school))
}

// ---- 3. send ----

/// Backoff before the next attempt, after `attempts` (1 min, 5 min, 30 min, then 2 h).
fn backoff_ms(attempts: i64) -> i64 {
    match attempts {
        0 => 60_000,
        1 => 5 * 60_000,
        2 => 30 * 60_000,
        _ => 2 * 3_600_000,
    }
}

async fn send(notifier: &Notifier, links: &Links, now: Timestamp) -> Result<(usize, usize), AppError> {
    let now_ms = now.as_millisecond();
    let (mut sent, mut failed) = (0, 0);
    for mail in links.due_mails(now_ms, SEND_BATCH)? {
        match notifier.mailer.send(&mail.mail).await {
            Ok(()) => {
                links.mail_sent(mail.id, &mail.mail.address, now_ms)?;
                sent += 1;
            }
            Err(NotSent::Refused(e)) => {
                tracing::warn!(mail = mail.id, error = %e, "notifications: refused by the SMTP server");
                links.mail_failed(mail.id, &mail.mail.address, &e, now_ms, FAILING_AFTER)?;
                failed += 1;
            }
            Err(NotSent::Later(e)) if now_ms - mail.created_at > RETRY_FOR_MS => {
                tracing::warn!(mail = mail.id, error = %e, "notifications: given up after retries");
                links.mail_failed(mail.id, &mail.mail.address, &e, now_ms, FAILING_AFTER)?;
                failed += 1;
            }
            Err(NotSent::Later(e)) => {
                tracing::info!(mail = mail.id, error = %e, "notifications: will retry");
                links.mail_retry(mail.id, now_ms + backoff_ms(mail.attempts), &e)?;
                // The server is away or busy: the rest waits for the next pass.
                break;
            }
        }
    }
    Ok((sent, failed))
}
