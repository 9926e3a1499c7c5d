//! Accounts: logging in (password or activation code, pictures, QR card), changing a
//! password, and the credential changes staff make (resets, QR cards). The functions here
//! are the one implementation behind both the HTML pages (`pages`) and the JSON API (`api`).

pub mod api;
pub mod audit;
pub mod devices;
pub mod pages;
pub mod secrets;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use preau_sync::kinds::Credentials;
use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::Person;

use crate::platform::config::PupilLoginFrom;
use crate::platform::error::AppError;
use crate::platform::ratelimit::{self, address_key};
use crate::school::directory::{ClassId, Directory, Member, Profile, UserId, credentials_address, slug};
use crate::web::Routes;
use crate::web::service::Service;
use crate::web::{AppState, Ctx, SignedIn};

pub use pages::{PupilTile, pupil_tiles, sign_in_response, signed_in_as};

pub(crate) fn routes() -> Routes {
    pages::routes()
}

/// Checks a login and a password, or the account's one-time activation code (then the
/// session must choose a password). Throttled without locking anyone out (ARCHITECTURE.md,
/// "Logins and throttling"): per account and address, and, for devices the account does not
/// know, per account and per address; a device that logged into this account before is
/// only slowed by its own mistakes.
pub async fn password_login(
    state: &AppState,
    ctx: &Ctx,
    login: &str,
    password: &str,
) -> Result<(Member, bool), AppError> {
    let addr = address_key(ctx.client_ip);
    let failed = || AppError::LoginFailed { message: "login-failed", detail: format!("{login:?} from {addr}") };
    if login.len() > 200 || password.len() > secrets::MAX_PASSWORD_LEN * 4 {
        return Err(failed());
    }
    let dir = state.directory();
    let found = dir
        .by_login(login)
        .filter(|m| !m.person.archived)
        .and_then(|m| dir.credentials.get(&m.id).map(|c| (m.clone(), c.clone())));
    // The known-device token this browser holds for the account, if any: its own key.
    let known = found.as_ref().and_then(|(m, c)| devices::known_token(state, ctx, &m.id, &c.password_hash));
    // A letter's activation code has ~59 bits: guessing it is hopeless, so typing one is
    // never held up by what strangers did to the account (the director's new letter is
    // how an owner gets in during an attack).
    let code_shaped = found.as_ref().is_some_and(|(_, c)| !c.activation_code.is_empty())
        && secrets::normalize_code(password).len() == secrets::CODE_LEN;
    // Keys are built from what nobody types: the account's id (or, for no account, a hash of
    // the login as typed) and the device's token, never the raw login, so no typed login can
    // land on another account's counters.
    // The school's UAI first: the hub holds several schools, each with its own logins.
    let school = dir.uai().map(ToString::to_string).unwrap_or_default();
    let account = match &found {
        Some((m, _)) => format!("account/{school}/{}", m.id),
        None => format!("account/{school}/?{}", &blake3::hash(login.trim().to_lowercase().as_bytes()).to_hex()[..32]),
    };
    let pair = match &known {
        Some(token) => format!("{account}/known/{token}"),
        None => format!("{account}/{addr}"),
    };
    let spray = format!("{addr}/passwords");
    let mut keys = vec![(pair.as_str(), ratelimit::PAIR)];
    if known.is_none() {
        keys.push((spray.as_str(), ratelimit::ADDRESS));
        if !code_shaped {
            keys.push((account.as_str(), ratelimit::ACCOUNT));
        }
    }
    if let Err(wait) = state.limits.attempt(&keys) {
        return Err(AppError::TooManyAttempts {
            message: "login-too-many",
            detail: format!("{login:?} from {addr}: {}s to wait", wait.as_secs()),
        });
    }
    let password = password.to_owned();
    let outcome = argon2(state, move |memory| match found {
        Some((member, cred)) if !cred.disabled => {
            // Every failure costs one verification, whether the account exists, is activated
            // or not: the answer's timing says nothing about who is at the school.
            if cred.password_hash.is_empty() {
                memory.burn();
            } else if memory.verify(&password, &cred.password_hash) {
                return Some((member, cred.must_change_password));
            }
            secrets::code_matches(&password, &cred.activation_code).then_some((member, true))
        }
        _ => {
            memory.burn();
            None
        }
    })
    .await?;
    let Some((member, must_change)) = outcome else { return Err(failed()) };
    // Take back this try's failure only from the keys it was counted against.
    let counted: Vec<&str> = keys[1..].iter().map(|(k, _)| *k).collect();
    state.limits.succeeded(&[&pair], &counted);
    // The right password, but not on the ENT yet: told so (only once the password is
    // proven, so it says nothing to a guesser).
    on_the_ent(&dir, &member)?;
    tracing::info!(user = %member.id, profile = member.profile.as_str(), known = known.is_some(), "login");
    Ok((member, must_change))
}

/// Checks a pupil's picture sequence: only on a tablet of the pupil's class (and from the
/// school's network), and never after five wrong sequences in a row until their teacher
/// lifts the lock (ARCHITECTURE.md, "Logins and throttling").
pub fn picture_login(
    state: &AppState,
    ctx: &Ctx,
    class: &str,
    pupil: &str,
    pictures: &[String],
) -> Result<Member, AppError> {
    require_lan(state, ctx.client_ip)?;
    devices::require_tablet(state, ctx, &ClassId::parse(class)?)?;
    let dir = state.directory();
    let (member, cred) = find_pupil(&dir, class, pupil)?;
    let locked =
        || AppError::TooManyAttempts { message: "pictures-too-many", detail: format!("{} is locked", member.id) };
    if !state.limits.pupil_try(member.id.as_str()) {
        return Err(locked());
    }
    let ok = !cred.disabled
        && !cred.picture_secret.is_empty()
        && secrets::constant_eq(pictures.join(",").as_bytes(), cred.picture_secret.as_bytes());
    if !ok {
        tracing::info!(user = %member.id, client = ?ctx.client_ip, "wrong pictures");
        if state.limits.pupil_locked(member.id.as_str()) {
            return Err(locked());
        }
        return Err(AppError::LoginFailed {
            message: "pictures-wrong",
            detail: format!("{} wrong pictures", member.id),
        });
    }
    state.limits.pupil_unlock(member.id.as_str())?;
    on_the_ent(&dir, member)?;
    tracing::info!(user = %member.id, "picture login");
    Ok(member.clone())
}

/// Refuses a sign-in that the directory keeps off the ENT, saying why: a parent with no
/// child in a class open to families, a pupil whose class the académie's conventions do not
/// cover (`Directory::on_the_ent`).
pub fn on_the_ent(dir: &Directory, member: &Member) -> Result<(), AppError> {
    if dir.on_the_ent(member) {
        return Ok(());
    }
    let (message, why) = match member.profile {
        Profile::Pupil => ("login-class-closed", "a class no convention covers"),
        _ => ("login-families-closed", "no child in a class open to families"),
    };
    Err(AppError::LoginFailed { message, detail: format!("{} is in {why}", member.id) })
}

/// Whether `pupil` must wait for their teacher after wrong pictures.
pub fn pupil_locked(state: &AppState, pupil: &UserId) -> bool {
    state.limits.pupil_locked(pupil.as_str())
}

/// Lifts a pupil's picture lock (their teacher, in one tap).
pub fn unlock_pupil(state: &AppState, by: &SignedIn, id: &str) -> Result<Member, AppError> {
    let target = managed_account(&state.directory(), by, id)?;
    if target.profile != Profile::Pupil {
        return Err(AppError::NotFound);
    }
    audit::record(state, &by.user, [&target.id], audit::Action::Unlock, "")?;
    state.limits.pupil_unlock(target.id.as_str())?;
    tracing::info!(by = %by.user, user = %target.id, "pupil unlocked");
    Ok(target)
}

/// Whose QR card `secret` is: at school from the school's network only, as every pupil
/// login; on the hub from anywhere, since a card's 256 random bits are no easier to guess
/// over the internet than a password (and the letter's « à la maison » code is how a pupil
/// logs in at home). Unknown cards slow down their address only for QR cards: a class's
/// tablet never holds up anyone's password.
pub fn qr_holder(state: &AppState, client: Option<IpAddr>, secret: &str) -> Result<Member, AppError> {
    if state.config.role != crate::platform::config::Role::Hub {
        require_lan(state, client)?;
    }
    let key = format!("{}:qr", address_key(client));
    if state.limits.attempt(&[(&key, ratelimit::QR_ADDRESS)]).is_err() {
        return Err(AppError::TooManyAttempts { message: "error-too-many-attempts", detail: key });
    }
    let dir = state.directory();
    let usable = |m: &&Member| !m.person.archived && dir.credentials.get(&m.id).is_some_and(|c| !c.disabled);
    match dir.by_qr_secret(secret).filter(usable) {
        Some(member) => {
            state.limits.succeeded(&[], &[&key]);
            on_the_ent(&dir, member)?;
            Ok(member.clone())
        }
        // A card that opens nothing is a failed login, like a wrong password.
        None => Err(AppError::LoginFailed {
            message: "qr-unknown",
            detail: format!("unknown or revoked QR card from {key}"),
        }),
    }
}

/// Changes the signed-in user's password and ends their other sessions. Unless the session
/// was opened with a still-unused activation code, the current password must be given.
pub async fn change_password(
    state: &AppState,
    sid: &str,
    user: &SignedIn,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let cred = state.directory().credentials.get(&user.user).cloned().ok_or(AppError::NotFound)?;
    // Only a session opened with a still-unused activation code may skip the current
    // password: once the account is activated, an old code session cannot take it over.
    let activating = user.must_change_password && !cred.activation_code.is_empty();
    if !activating {
        // A session left open must not become a way to guess the password.
        let key = format!(
            "password-change:{}/{}",
            user.school.as_ref().map(ToString::to_string).unwrap_or_default(),
            user.user
        );
        if state.limits.attempt(&[(&key, ratelimit::PAIR)]).is_err() {
            return Err(AppError::TooManyAttempts {
                message: "login-too-many",
                detail: format!("password change {}", user.user),
            });
        }
        let (current, hash) = (current.to_owned(), cred.password_hash.clone());
        if !argon2(state, move |memory| memory.verify(&current, &hash)).await? {
            return Err(AppError::bad("password-current-wrong", "wrong current password"));
        }
        state.limits.succeeded(&[&key], &[]);
    }
    let dir = state.directory();
    let school = dir.school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    let person = dir.member(&user.user).map(|m| m.person.clone()).unwrap_or_default();
    secrets::check_new_password(new, confirm, &cred.login, &[&person.first_name, &person.last_name, &school])
        .map_err(|id| AppError::bad(id, "new password refused"))?;
    let new = new.to_owned();
    let hash = argon2(state, move |memory| memory.hash(&new)).await?;
    update_credential(state, &user.user, move |c| {
        c.password_hash = hash;
        c.activation_code.clear();
        c.must_change_password = false;
        // A new password also retires the secret calendar address (it may have leaked
        // with the old password) and the notice of a reset, now seen.
        c.calendar_secret.clear();
        c.reset_by.clear();
        c.reset_at = 0;
        c.reset_reason.clear();
    })
    .await?;
    state.sessions.end_all_of(user.school.as_ref(), &user.user, Some(sid));
    // This session goes on with the new credentials; on the hub, so does its family link,
    // which the account's holder has just proven again.
    let mark = state.directory().credential_mark(&user.user);
    state.sessions.update(sid, |s| s.credential = Some(mark));
    if let Some(school) = &user.school {
        let account = crate::replication::links::Account { school: school.clone(), user: user.user.to_string() };
        state.part::<crate::replication::Replication>().links.renew_proof(&account, &mark.0)?;
    }
    tracing::info!(user = %user.user, "password changed");
    Ok(())
}

/// Whose credentials `user` may reset and print: the director's anyone's (but an academy
/// admin's); a teacher's, the pupils of their classes and the parents whose children are all
/// in their classes.
pub fn manages_account(dir: &Directory, user: &SignedIn, target: &Member) -> bool {
    match user.profile {
        Profile::Director => target.profile != Profile::AcademyAdmin,
        Profile::Teacher => {
            let in_my_class =
                |p: &Member| dir.class_of(p).is_some_and(|c| crate::school::permissions::manages_class(user, c));
            match target.profile {
                Profile::Pupil => in_my_class(target),
                // All the parent's children: a parent's account also opens their other
                // children's school life (or will, once their class opens to families),
                // which another class's teacher must not reach.
                Profile::Parent => {
                    let children = dir.children_of_any(&target.id);
                    !children.is_empty() && children.into_iter().all(in_my_class)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The account `id` if `user` manages it (else "not found": no probing other accounts).
pub fn managed_account(dir: &Directory, user: &SignedIn, id: &str) -> Result<Member, AppError> {
    let member = dir.member(&UserId::parse(id)?).ok_or(AppError::NotFound)?;
    if manages_account(dir, user, member) { Ok(member.clone()) } else { Err(AppError::NotFound) }
}

/// Longest reason for a reset.
pub const MAX_REASON: usize = 300;

/// Whether `user` may reset `target`'s credentials, and on what condition. An account
/// already activated belongs to an adult who chose a password: taking it over would let
/// whoever resets it read that family's or colleague's messages, so only the director may,
/// with a written reason; a teacher resets their pupils and the accounts of their classes'
/// families that were never activated.
pub fn reset_rule(dir: &Directory, user: &SignedIn, target: &Member) -> ResetRule {
    if !manages_account(dir, user, target) {
        return ResetRule::Refused;
    }
    // Activated, or reset by the director and not yet taken back by its owner (her reason
    // is the mark): between the two, a teacher must not get the new code either.
    let activated_adult = target.profile != Profile::Pupil
        && dir.credentials.get(&target.id).is_some_and(|c| !c.password_hash.is_empty() || !c.reset_reason.is_empty());
    match (activated_adult, user.profile) {
        (false, _) => ResetRule::Allowed,
        (true, Profile::Director) => ResetRule::WithReason,
        (true, _) => ResetRule::DirectorOnly,
    }
}

/// See [`reset_rule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetRule {
    /// Not the user's to touch (answered "not found").
    Refused,
    /// An activated adult account: the director's.
    DirectorOnly,
    /// Allowed, with a written reason.
    WithReason,
    /// Allowed.
    Allowed,
}

/// New credentials for an account: a fresh activation code (the letter must be printed
/// again), and for a pupil new pictures. Ends the account's sessions, forgets its known
/// devices and its calendar address, lifts its locks, tells its owner at the next login,
/// and goes into the account audit.
pub async fn reset(state: &AppState, by: &SignedIn, id: &str, reason: &str) -> Result<Member, AppError> {
    let dir = state.directory();
    let target = managed_account(&dir, by, id)?;
    let reason = match reset_rule(&dir, by, &target) {
        ResetRule::Refused => return Err(AppError::NotFound),
        ResetRule::DirectorOnly => {
            return Err(AppError::Refused {
                message: "reset-director-only",
                detail: format!("{} may not reset the activated account {}", by.user, target.id),
            });
        }
        ResetRule::WithReason => crate::platform::text::required_line(reason, MAX_REASON, "reset-reason-required")?,
        // A reason is kept only for the director's resets of adults' accounts (it marks them).
        ResetRule::Allowed => String::new(),
    };
    // Recorded first: a reset that happened is never missing from the audit.
    audit::record(state, &by.user, [&target.id], audit::Action::Reset, &reason)?;
    let pupil = target.profile == Profile::Pupil;
    let (by_id, why) = (by.user.to_string(), reason.clone());
    update_credential(state, &target.id, move |c| {
        c.password_hash.clear();
        c.activation_code = secrets::new_activation_code();
        c.must_change_password = true;
        c.calendar_secret.clear();
        c.reset_by = by_id;
        c.reset_at = crate::platform::clock::now_ms();
        c.reset_reason = why;
        if pupil {
            c.picture_secret = secrets::new_picture_secret();
        }
    })
    .await?;
    state.sessions.end_all_of(state.directory().uai(), &target.id, None);
    state.limits.pupil_unlock(target.id.as_str())?;
    tracing::info!(by = %by.user, user = %target.id, "credentials reset");
    Ok(target)
}

/// What the owner of a reset account is told at their next login: « Votre compte a été
/// réinitialisé le … par … ». `None` when it never was.
pub fn reset_notice(state: &AppState, l: &crate::platform::i18n::Locale, user: &UserId) -> Option<String> {
    let dir = state.directory();
    let c = dir.credentials.get(user).filter(|c| !c.reset_by.is_empty())?;
    let by = UserId::parse(&c.reset_by).ok().and_then(|id| dir.member(&id).map(Member::full_name));
    let date = l.date(&crate::platform::clock::date_of_ms(c.reset_at));
    let by = by.unwrap_or_else(|| l.t("reset-by-school"));
    let mut notice = l.ta("reset-notice", &[("date", &date), ("by", &by)]);
    if !c.reset_reason.is_empty() {
        notice.push(' ');
        notice.push_str(&l.ta("reset-notice-reason", &[("reason", &c.reset_reason)]));
    }
    Some(notice)
}

/// Issues a pupil a new QR card (`reissue`) or revokes the current one; the old card stops
/// working at once.
pub async fn qr_card(state: &AppState, by: &SignedIn, id: &str, reissue: bool) -> Result<Member, AppError> {
    let target = managed_account(&state.directory(), by, id)?;
    if target.profile != Profile::Pupil {
        return Err(AppError::bad("error-bad-request", "QR cards are for pupils"));
    }
    let action = if reissue { audit::Action::QrCard } else { audit::Action::QrRevoke };
    audit::record(state, &by.user, [&target.id], action, "")?;
    update_credential(state, &target.id, move |c| {
        c.qr_secret = if reissue { secrets::new_qr_secret() } else { String::new() };
    })
    .await?;
    // A found card may have opened a session: it ends with the card.
    state.sessions.end_all_of(state.directory().uai(), &target.id, None);
    tracing::info!(by = %by.user, user = %target.id, reissue, "QR card changed");
    Ok(target)
}

/// A new account's credentials: a unique login and an activation code; pupils also get a
/// picture secret and a QR card.
pub fn new_credential(accounts: &Credentials, person: &Person, profile: Profile) -> Credential {
    let base = format!("{}.{}", slug(&person.first_name), slug(&person.last_name));
    let base = if base == "." { "compte".to_owned() } else { base };
    let taken = |l: &str| accounts.accounts.values().any(|c| c.login == l);
    let login = if taken(&base) {
        (2..).map(|n| format!("{base}{n}")).find(|l| !taken(l)).expect("an unbounded range finds a free login")
    } else {
        base
    };
    let pupil = profile == Profile::Pupil;
    Credential {
        login,
        activation_code: secrets::new_activation_code(),
        must_change_password: true,
        picture_secret: if pupil { secrets::new_picture_secret() } else { String::new() },
        qr_secret: if pupil { secrets::new_qr_secret() } else { String::new() },
        ..Credential::default()
    }
}

/// Changes one account's credentials in the replicated credentials document.
pub async fn update_credential(
    state: &AppState,
    user: &UserId,
    edit: impl FnOnce(&mut Credential) + Send + 'static,
) -> Result<(), AppError> {
    let uai = state.uai()?;
    let user = user.clone();
    state
        .db
        .run(move |store| {
            store.change::<Credentials, _>(&credentials_address(&uai), |creds| {
                match creds.accounts.get_mut(user.as_str()) {
                    Some(c) => {
                        edit(c);
                        Ok(())
                    }
                    None => Err(AppError::NotFound),
                }
            })?
        })
        .await?;
    state.reload_directory().await?;
    Ok(())
}

/// Whether young pupils' logins are open to this client.
pub fn pupil_login_allowed(state: &AppState, ip: Option<IpAddr>) -> bool {
    match state.config.pupil_login_from {
        PupilLoginFrom::Anywhere => true,
        PupilLoginFrom::Lan => ip.is_some_and(crate::platform::net::is_lan),
    }
}

/// Refuses pupils' logins outside the school's network.
pub fn require_lan(state: &AppState, client: Option<IpAddr>) -> Result<(), AppError> {
    if pupil_login_allowed(state, client) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("pupil login from {client:?} outside the LAN")))
    }
}

/// A current pupil of a current class, with their credentials.
pub fn find_pupil<'d>(dir: &'d Directory, class: &str, pupil: &str) -> Result<(&'d Member, &'d Credential), AppError> {
    let class = ClassId::parse(class)?;
    let member = dir.member(&UserId::parse(pupil)?).ok_or(AppError::NotFound)?;
    if member.profile != Profile::Pupil || member.person.class_id != class.as_str() || member.person.archived {
        return Err(AppError::NotFound);
    }
    let cred = dir.credentials.get(&member.id).ok_or(AppError::NotFound)?;
    Ok((member, cred))
}

/// Argon2 work, a few computations at a time, each in memory kept from one to the next:
/// at most `permits` × 19 MiB, whatever the number of logins and threads (ARCHITECTURE.md,
/// "Memory of password checks").
pub struct Argon2Pool {
    permits: Arc<tokio::sync::Semaphore>,
    /// The memories of the permits not in use (allocated on first need: an idle
    /// appliance holds none).
    idle: Mutex<Vec<secrets::Argon2Memory>>,
}

impl Argon2Pool {
    /// At most `permits` computations at once.
    pub fn new(permits: usize) -> Self {
        Self { permits: Arc::new(tokio::sync::Semaphore::new(permits)), idle: Mutex::default() }
    }

    /// One computation per core, up to four (76 MiB): more would not make a school's
    /// morning faster on an appliance, and would only raise the bound.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get).min(4))
    }

    /// Runs `f` on a blocking thread once a permit is free (within 10 s), with the
    /// permit's memory.
    pub async fn run<T: Send + 'static>(
        self: Arc<Self>,
        f: impl FnOnce(&mut secrets::Argon2Memory) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let busy = || AppError::TooManyAttempts { message: "error-busy", detail: "argon2 queue full".into() };
        let permit = tokio::time::timeout(std::time::Duration::from_secs(10), self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        tokio::task::spawn_blocking(move || {
            // A memory is taken only with a permit and given back before the permit is
            // released, so there are never more memories than permits.
            let mut memory = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
            let out = f(&mut memory);
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
            drop(permit);
            out
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// Runs argon2 work off the async runtime, with one of the pool's memories: a burst of
/// logins waits its turn instead of exhausting memory and blocking threads.
pub async fn argon2<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut secrets::Argon2Memory) -> T + Send + 'static,
) -> Result<T, AppError> {
    state.part_arc::<Argon2Pool>().run(f).await
}

/// Accounts, logins (passwords, pictures, QR cards, class tablets) and the password page.
pub const SERVICE: Service = Service {
    name: "accounts",
    pages: routes,
    api: api::routes,
    tags: &[("auth", "Logging in and out"), ("accounts", "Credentials, QR cards and login letters")],
    parts: |parts| parts.insert(Argon2Pool::for_this_machine()),
    ..Service::NOTHING
};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn argon2_work_reuses_one_memory_per_permit() {
        let pool = Arc::new(Argon2Pool::new(2));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move |memory| {
                        use std::sync::atomic::Ordering::SeqCst;
                        most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, SeqCst);
                        // The memory works, whoever used it before.
                        let hash = if i % 4 == 0 { memory.hash("x") } else { return true };
                        memory.verify("x", &hash)
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap());
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2, "two at a time");
        assert_eq!(pool.idle.lock().unwrap().len(), 2, "two memories, kept for the next logins");
    }
}
