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
/// E-mails sent per pass, at most (the next pass follows at once while more are due).
const SEND_BATCH: usize = 200;
/// E-mails on their way at once, each on its own SMTP connection.
const SENDERS: usize = 8;
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
}

impl Notifier {
    /// The notifier `config` describes: `None` when it names no SMTP server, an error when
    /// its settings are wrong (the hub does not start on a half-understood `[mail]`).
    pub fn from_config(config: &MailConfig) -> Result<Option<Self>, String> {
        let Some(mailer) = Mailer::new(config)? else { return Ok(None) };
        Ok(Some(Self { calendar: Calendar::new(config)?, mailer }))
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

/// Passes every [`TICK`], for as long as the server runs (the hub with a `[mail]` server);
/// at once again while a pass leaves e-mail due (a batch was full).
pub async fn run(state: AppState) {
    loop {
        let pass = tick(&state, Timestamp::now()).await;
        match &pass {
            Ok(pass) if *pass != Pass::default() => tracing::info!(?pass, "notifications"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "notifications: pass failed"),
        }
        if !pass.is_ok_and(|p| p.sent + p.failed >= SEND_BATCH) {
            tokio::time::sleep(TICK).await;
        }
    }
}

/// One pass at `now`: derive, plan, send. Each step runs even when the one before failed
/// (logged): one bad document or a full disk for a moment does not hold everyone's e-mail.
pub async fn tick(state: &AppState, now: Timestamp) -> Result<Pass, AppError> {
    let Some(notifier) = state.try_part::<Notifier>() else { return Ok(Pass::default()) };
    // One pass at a time, across the hub's processes: two would both send what is due.
    let _one = state.records.lock("notifications").await?;
    // What another process wrote (a school's sync) since this one last looked.
    state.db.refresh();
    let links = &state.part::<Replication>().links;
    let (noticed, queued) = crate::platform::blocking::offload(|| {
        let noticed = derive(state, notifier, links, now)
            .inspect_err(|e| tracing::warn!(error = %e, "notifications: deriving failed"))
            .unwrap_or(0);
        let queued = plan(state, notifier, links, now)
            .inspect_err(|e| tracing::warn!(error = %e, "notifications: planning failed"))
            .unwrap_or(0);
        let today = notifier.calendar.date(now).to_string();
        links.forget_mail_before(now.as_millisecond() - KEPT_MS, &today)?;
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

/// Who may be told anything: an adult still at the school whose account is not disabled,
/// a parent only while one of her children's classes is open to families. Never a pupil,
/// whatever a service says.
pub fn may_be_told(dir: &Directory, member: &Member) -> bool {
    member.profile != Profile::Pupil
        && !member.person.archived
        && dir.credentials.get(&member.id).is_some_and(|c| !c.disabled)
        && dir.on_the_ent(member)
}

/// Where `member`'s e-mail goes: the address she confirmed, else her school's
/// (ONDE's « Courriel », or what the director typed).
pub fn address_of(settings: &NotifySettings, member: &Member) -> Option<String> {
    let address = if settings.address.is_empty() { member.person.email.trim() } else { settings.address.as_str() };
    address.parse::<lettre::Address>().ok().map(|a| a.to_string())
}

// ---- 1. derive ----

/// What `entry`'s service says it tells now, to those who may be told.
fn notices_of(
    state: &AppState,
    notifier: &Notifier,
    entry: &preau_sync::CatalogEntry,
    now: Timestamp,
) -> Result<Vec<crate::web::service::Notice>, AppError> {
    let (Some(source), Some(uai)) =
        (sources(state).find(|s| s.kind == entry.address.kind), entry.address.partition.school())
    else {
        return Ok(Vec::new());
    };
    let school = match state.within(uai) {
        Ok(school) => school,
        Err(AppError::NotFound) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let dir = school.directory();
    let (since, today, l) =
        (now.as_millisecond() - NEWS_DAYS * DAY_MS, notifier.calendar.date(now).to_string(), Locale::default());
    let found = state.db.read(|reader| {
        (source.derive)(&NoticeInput {
            reader,
            dir: &dir,
            doc: &entry.address,
            id: entry.id,
            since,
            today: &today,
            l: &l,
        })
    })?;
    Ok(found.into_iter().filter(|n| dir.member(&n.to).is_some_and(|m| may_be_told(&dir, m))).collect())
}

fn derive(state: &AppState, notifier: &Notifier, links: &Links, now: Timestamp) -> Result<usize, AppError> {
    let Some(mut cursor) = links.notify_cursor()? else {
        // First pass: what the hub held before notifications were on is not news.
        let last = state.db.read(|r| Ok(r.last_seq()?))?;
        links.add_notices(&[], last, now.as_millisecond())?;
        return Ok(0);
    };
    let mut added = 0;
    loop {
        let entries = state.db.read(|r| Ok(r.catalog_after(cursor, CATALOG_BATCH)?))?;
        let Some(last) = entries.last().map(|e| e.seq) else { return Ok(added) };
        let mut notices = Vec::new();
        let mut people: HashMap<(Uai, UserId), Option<NotifySettings>> = HashMap::new();
        for entry in &entries {
            let found = match notices_of(state, notifier, entry, now) {
                Ok(found) => found,
                Err(e) => {
                    // One document that cannot be read holds no one else's notices.
                    tracing::warn!(doc = %entry.id, error = %e, "notifications: document skipped");
                    continue;
                }
            };
            let Some(uai) = entry.address.partition.school() else { continue };
            for notice in found {
                let key = (uai.clone(), notice.to.clone());
                if !people.contains_key(&key) {
                    let settings = links.notify_settings(uai.as_str(), notice.to.as_str())?;
                    people.insert(key.clone(), Some(settings).filter(|s| !s.stopped));
                }
                let Some(settings) = &people[&key] else { continue };
                if mode_of(settings, notice.topic) == Mode::Never {
                    continue;
                }
                notices.push(NewNotice {
                    school: uai.to_string(),
                    user: notice.to.to_string(),
                    topic: notice.topic.id.to_owned(),
                    item: notice.item,
                    doc: entry.id.to_string(),
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

/// The (person, item) pairs each document still tells, derived again at sending time, so
/// that nothing goes that its service would no longer say: a withdrawn post, a moved
/// homework, a class closed since, a parent no longer guardian, a disabled account.
#[derive(Default)]
struct StillTold(HashMap<String, std::collections::HashSet<(String, String)>>);

impl StillTold {
    fn holds(&mut self, state: &AppState, notifier: &Notifier, now: Timestamp, w: &Waiting) -> Result<bool, AppError> {
        if !self.0.contains_key(&w.notice.doc) {
            let id = w.notice.doc.parse::<preau_sync::DocId>().ok();
            let entry = match id {
                Some(id) => state.db.read(|r| Ok(r.catalog_entry(id)?))?,
                None => None,
            };
            let told = match entry {
                Some(entry) => {
                    notices_of(state, notifier, &entry, now)?.into_iter().map(|n| (n.to.to_string(), n.item)).collect()
                }
                None => Default::default(),
            };
            self.0.insert(w.notice.doc.clone(), told);
        }
        Ok(self.0[&w.notice.doc].contains(&(w.notice.user.clone(), w.notice.item.clone())))
    }
}

fn plan(state: &AppState, notifier: &Notifier, links: &Links, now: Timestamp) -> Result<usize, AppError> {
    // Nothing can leave in the académie's quiet hours: everyone's own only add to them.
    if !notifier.calendar.open(now, Own::default()) {
        return Ok(0);
    }
    let topics: HashMap<&str, &Topic> = topics(state).into_iter().map(|t| (t.id, t)).collect();
    let mut holidays: HashMap<String, bool> = HashMap::new();
    let mut still = StillTold::default();
    let mut queued = 0;
    for (school, user) in links.waiting_recipients()? {
        let waiting = links.waiting_notices(&school, &user)?;
        let all = || waiting.iter().map(|w| w.id).collect::<Vec<_>>();
        let within = match Uai::parse(&school).map(|uai| state.within(&uai)) {
            Ok(Ok(within)) => within,
            Ok(Err(AppError::NotFound)) | Err(_) => {
                links.drop_notices(&all())?;
                continue;
            }
            Ok(Err(e)) => return Err(e),
        };
        let Ok(id) = UserId::parse(&user) else {
            links.drop_notices(&all())?;
            continue;
        };
        let dir = within.directory();
        let settings = links.notify_settings(&school, &user)?;
        let member = dir.member(&id).filter(|m| may_be_told(&dir, m) && !settings.stopped);
        let address = member.and_then(|m| address_of(&settings, m));
        let (Some(member), Some(address)) = (member, address) else {
            links.drop_notices(&all())?;
            continue;
        };
        if links.address_states(std::slice::from_ref(&address))?.iter().any(|s| s.failing) {
            // Nothing goes to a failing address; what it missed is not kept for later.
            links.drop_notices(&all())?;
            continue;
        }
        let own = Own { quiet: Quiet::parse(&settings.quiet_hours).ok().flatten(), saturday: settings.saturday };
        let paused = *holidays.entry(school.clone()).or_insert_with(|| on_holiday(&within, &dir, notifier, now));
        if paused || !notifier.calendar.open(now, own) {
            continue;
        }
        let moment = notifier.calendar.digest_moment(now, settings.digest_hour);
        let digest_day = moment.date().to_string();
        // A day whose digest could not go at its hour (a quiet day) has none: the next
        // day's tells it all, so a Monday has one digest, not Sunday's at 7 h and its own.
        let digest_open = settings.last_digest_on < digest_day && notifier.calendar.open(moment.timestamp(), own);
        let eve = Calendar::next_school_day(moment.date()).to_string();
        let (mut due, mut dropped, mut digest) = (Vec::new(), Vec::new(), false);
        for w in &waiting {
            let topic = topics.get(w.notice.topic.as_str());
            let mode = topic.map_or(Mode::Never, |t| mode_of(&settings, t));
            let evening = topic.is_some_and(|t| t.eve);
            let ready = match mode {
                Mode::Never => None,
                _ if evening && w.notice.due_on.as_str() <= digest_day.as_str() => None,
                _ if evening => Some(digest_open && w.notice.due_on <= eve),
                Mode::Immediate => Some(true),
                Mode::Digest => Some(digest_open && w.noticed <= moment.timestamp().as_millisecond()),
            };
            match ready {
                None => dropped.push(w.id),
                Some(false) => {}
                Some(true) if !still.holds(state, notifier, now, w)? => dropped.push(w.id),
                Some(true) => {
                    digest |= mode == Mode::Digest || evening;
                    due.push(w);
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
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let now_ms = now.as_millisecond();
    // In the académie's quiet hours only confirmations go (their holder is waiting): what
    // was queued before they began waits for them to end.
    let open = notifier.calendar.open(now, Own::default());
    let mails: Vec<_> =
        links.due_mails(now_ms, SEND_BATCH)?.into_iter().filter(|m| open || m.mail.unsubscribe.is_empty()).collect();
    // A few at once, each on its own connection. Once the server is out of reach nothing
    // more starts; what is on its way finishes, so that nothing taken goes unrecorded.
    let server_away = AtomicBool::new(false);
    let mut results = futures_util::stream::iter(mails)
        .map(|mail| {
            let server_away = &server_away;
            async move {
                if server_away.load(Ordering::Relaxed) {
                    return (mail, None);
                }
                let result = notifier.mailer.send(&mail.mail).await;
                if matches!(result, Err(NotSent::Server(_))) {
                    server_away.store(true, Ordering::Relaxed);
                }
                (mail, Some(result))
            }
        })
        .buffer_unordered(SENDERS);
    let (mut sent, mut failed) = (0, 0);
    while let Some((mail, result)) = results.next().await {
        let Some(result) = result else { continue };
        let given_up = now_ms - mail.created_at > RETRY_FOR_MS;
        match result {
            Ok(()) => {
                links.mail_sent(mail.id, &mail.mail.address, now_ms)?;
                sent += 1;
            }
            Err(NotSent::Address(e)) => {
                tracing::warn!(mail = mail.id, error = %e, "notifications: address refused by the SMTP server");
                links.mail_failed(mail.id, &mail.mail.address, &e, now_ms, FAILING_AFTER)?;
                failed += 1;
            }
            Err(NotSent::Later(e) | NotSent::Server(e)) if given_up => {
                tracing::warn!(mail = mail.id, error = %e, "notifications: given up after retries");
                links.mail_failed(mail.id, &mail.mail.address, &e, now_ms, FAILING_AFTER)?;
                failed += 1;
            }
            Err(NotSent::Later(e) | NotSent::Server(e)) => {
                tracing::info!(mail = mail.id, error = %e, "notifications: will retry");
                links.mail_retry(mail.id, now_ms + backoff_ms(mail.attempts), &e)?;
            }
        }
    }
    Ok((sent, failed))
}
