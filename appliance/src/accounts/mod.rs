//! Accounts: logging in (password or activation code, pictures, QR card), changing a
//! password, and the credential changes staff make (resets, QR cards). The functions here
//! are the one implementation behind both the HTML pages (`pages`) and the JSON API (`api`).

pub mod api;
pub mod pages;
pub mod secrets;

use std::net::IpAddr;

use preau_sync::kinds::Credentials;
use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::Person;

use crate::config::PupilLoginFrom;
use crate::directory::{ClassId, Directory, Member, Profile, UserId, credentials_address, slug};
use crate::error::AppError;
use crate::ratelimit::{self, account_key, address_key};
use crate::web::{AppState, SignedIn};

pub use pages::{PupilTile, pupil_tiles, sign_in_response};

pub(crate) fn routes() -> axum::Router<AppState> {
    pages::routes()
}

/// Checks a login and a password, or the account's one-time activation code (then the
/// session must choose a password). Rate limited per account and per client address.
pub async fn password_login(
    state: &AppState,
    client: Option<IpAddr>,
    login: &str,
    password: &str,
) -> Result<(Member, bool), AppError> {
    let addr = address_key(client);
    let account = account_key(login);
    if !state.limits.allowed(&addr, ratelimit::ADDRESS) || !state.limits.allowed(&account, ratelimit::ACCOUNT) {
        return Err(AppError::TooManyAttempts { message: "login-too-many", detail: format!("{login:?} from {addr}") });
    }
    let failed = || AppError::LoginFailed { message: "login-failed", detail: format!("{login:?} from {addr}") };
    if login.len() > 200 || password.len() > secrets::MAX_PASSWORD_LEN * 4 {
        return Err(failed());
    }
    // Counted before the (slow) check, so that parallel guesses cannot all slip under the
    // limit; forgiven on success.
    state.limits.fail(&account);
    state.limits.fail(&addr);
    let dir = state.directory();
    let found = dir
        .by_login(login)
        .filter(|m| !m.person.archived)
        .and_then(|m| dir.credentials.get(&m.id).map(|c| (m.clone(), c.clone())));
    let password = password.to_owned();
    let outcome = argon2(state, move || match found {
        Some((member, cred)) if !cred.disabled => {
            // Every failure costs one verification, whether the account exists, is activated
            // or not: the answer's timing says nothing about who is at the school.
            if cred.password_hash.is_empty() {
                secrets::burn_verification();
            } else if secrets::verify_password(&password, &cred.password_hash) {
                return Some((member, cred.must_change_password));
            }
            secrets::code_matches(&password, &cred.activation_code).then_some((member, true))
        }
        _ => {
            secrets::burn_verification();
            None
        }
    })
    .await?;
    let Some((member, must_change)) = outcome else { return Err(failed()) };
    state.limits.clear(&account);
    state.limits.forgive(&addr);
    tracing::info!(user = %member.id, profile = member.profile.as_str(), "login");
    Ok((member, must_change))
}

/// Checks a pupil's picture sequence (from the school's network only).
pub fn picture_login(
    state: &AppState,
    client: Option<IpAddr>,
    class: &str,
    pupil: &str,
    pictures: &[String],
) -> Result<Member, AppError> {
    require_lan(state, client)?;
    let dir = state.directory();
    let (member, cred) = find_pupil(&dir, class, pupil)?;
    let key = picture_key(&member.id);
    let addr = address_key(client);
    if !state.limits.allowed(&key, ratelimit::PICTURES)
        || !state.limits.allowed(&format!("{addr}:pictures"), ratelimit::PICTURES_ADDRESS)
    {
        return Err(AppError::TooManyAttempts {
            message: "pictures-too-many",
            detail: format!("{} from {addr}", member.id),
        });
    }
    let ok = !cred.disabled
        && !cred.picture_secret.is_empty()
        && secrets::constant_eq(pictures.join(",").as_bytes(), cred.picture_secret.as_bytes());
    if !ok {
        state.limits.fail(&key);
        state.limits.fail(&format!("{addr}:pictures"));
        return Err(AppError::LoginFailed { message: "pictures-wrong", detail: format!("{} from {addr}", member.id) });
    }
    state.limits.clear(&key);
    tracing::info!(user = %member.id, "picture login");
    Ok(member.clone())
}

/// Whose QR card `secret` is (from the school's network only; failures count against the
/// client address).
pub fn qr_holder(state: &AppState, client: Option<IpAddr>, secret: &str) -> Result<Member, AppError> {
    require_lan(state, client)?;
    let addr = address_key(client);
    if !state.limits.allowed(&addr, ratelimit::ADDRESS) {
        return Err(AppError::TooManyAttempts { message: "error-too-many-attempts", detail: addr });
    }
    let dir = state.directory();
    let usable = |m: &&Member| !m.person.archived && dir.credentials.get(&m.id).is_some_and(|c| !c.disabled);
    match dir.by_qr_secret(secret).filter(usable) {
        Some(member) => Ok(member.clone()),
        None => {
            state.limits.fail(&addr);
            Err(AppError::bad("qr-unknown", format!("unknown or revoked QR card from {addr}")))
        }
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
        let account = account_key(&cred.login);
        if !state.limits.allowed(&account, ratelimit::ACCOUNT) {
            return Err(AppError::TooManyAttempts {
                message: "login-too-many",
                detail: format!("password change {}", user.user),
            });
        }
        let (current, hash) = (current.to_owned(), cred.password_hash.clone());
        if !argon2(state, move || secrets::verify_password(&current, &hash)).await? {
            state.limits.fail(&account);
            return Err(AppError::bad("password-current-wrong", "wrong current password"));
        }
    }
    secrets::check_new_password(new, confirm, &cred.login).map_err(|id| AppError::bad(id, "new password refused"))?;
    let new = new.to_owned();
    let hash = argon2(state, move || secrets::hash_password(&new)).await?;
    update_credential(state, &user.user, move |c| {
        c.password_hash = hash;
        c.activation_code.clear();
        c.must_change_password = false;
    })
    .await?;
    state.sessions.end_all_of(&user.user, Some(sid));
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
            let in_my_class = |p: &Member| dir.class_of(p).is_some_and(|c| crate::admin::manages_class(user, c));
            match target.profile {
                Profile::Pupil => in_my_class(target),
                // All the parent's children: a parent's account also opens their other
                // children's school life, which another class's teacher must not reach.
                Profile::Parent => {
                    let children = dir.children_of(&target.id);
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

/// New credentials for an account: a fresh activation code (the letter must be printed
/// again), and for a pupil new pictures. Ends the account's sessions and lifts its locks.
pub async fn reset(state: &AppState, by: &SignedIn, id: &str) -> Result<Member, AppError> {
    let dir = state.directory();
    let target = managed_account(&dir, by, id)?;
    let pupil = target.profile == Profile::Pupil;
    update_credential(state, &target.id, move |c| {
        c.password_hash.clear();
        c.activation_code = secrets::new_activation_code();
        c.must_change_password = true;
        if pupil {
            c.picture_secret = secrets::new_picture_secret();
        }
    })
    .await?;
    state.sessions.end_all_of(&target.id, None);
    if let Some(cred) = dir.credentials.get(&target.id) {
        state.limits.clear(&account_key(&cred.login));
    }
    state.limits.clear(&picture_key(&target.id));
    tracing::info!(by = %by.user, user = %target.id, "credentials reset");
    Ok(target)
}

/// Issues a pupil a new QR card (`reissue`) or revokes the current one; the old card stops
/// working at once.
pub async fn qr_card(state: &AppState, by: &SignedIn, id: &str, reissue: bool) -> Result<Member, AppError> {
    let target = managed_account(&state.directory(), by, id)?;
    if target.profile != Profile::Pupil {
        return Err(AppError::bad("error-bad-request", "QR cards are for pupils"));
    }
    update_credential(state, &target.id, move |c| {
        c.qr_secret = if reissue { secrets::new_qr_secret() } else { String::new() };
    })
    .await?;
    // A found card may have opened a session: it ends with the card.
    state.sessions.end_all_of(&target.id, None);
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
    let uai = state.directory().uai().cloned().ok_or(AppError::NotFound)?;
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
        PupilLoginFrom::Lan => ip.is_some_and(is_lan),
    }
}

/// Loopback, private, link-local and unique-local addresses: the school's own network.
pub fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_lan(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
        },
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

fn picture_key(user: &UserId) -> String {
    format!("pictures:{user}")
}

/// Runs argon2 work off the async runtime, a few at a time: each verification holds 19 MiB,
/// so a burst of logins waits its turn instead of exhausting memory and blocking threads.
pub async fn argon2<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let busy = || AppError::TooManyAttempts { message: "error-busy", detail: "argon2 queue full".into() };
    let permit = tokio::time::timeout(std::time::Duration::from_secs(10), state.argon2.clone().acquire_owned())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}
