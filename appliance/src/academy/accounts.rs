//! Console accounts: the académie's staff (rectorat, DANE, IEN) and its communes' staff.
//! Created by whoever `manages_account` allows, with a password the console draws (an
//! activation code's ~59 bits), shown once to its creator to hand over; its holder chooses
//! her own at her first login. Signing in is throttled like an adult's at school (the same
//! growing delays, never a lock: ARCHITECTURE.md, « Adults' passwords »), under keys of
//! their own. A console session lasts as long as its account's password and standing.

use preau_sync::Insee;
use preau_sync::kinds::AcademyStaff;
use preau_sync::kinds::academy::StaffAccount;

use super::{Console, Role, audit, manages_account, require, staff, staff_address};
use crate::platform::error::AppError;
use crate::platform::ratelimit::{self, address_key};
use crate::school::accounts::secrets;
use crate::school::directory::{CredentialMark, Profile, UserId, slug};
use crate::web::session::SignedIn;
use crate::web::{AppState, Ctx};

/// An account as its creator asks for it.
pub struct NewAccount {
    /// « Prénom Nom ».
    pub name: String,
    /// Where the académie writes to them.
    pub email: String,
    /// Its role.
    pub role: String,
    /// A commune's staff's commune (INSEE code).
    pub commune: String,
}

/// What the holder needs: her login and the password to change at her first login.
pub struct Handover {
    /// Login.
    pub login: String,
    /// The drawn password.
    pub password: String,
}

/// What opened a console session: its password hash and standing, as a mark.
fn mark(account: &StaffAccount) -> CredentialMark {
    let mut hasher = blake3::Hasher::new();
    hasher.update(account.password_hash.as_bytes());
    hasher.update(&[u8::from(account.disabled)]);
    let mut mark = [0; 16];
    mark.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    CredentialMark(mark)
}

/// Whether a console session still holds: its account is there, enabled, with the password
/// it was opened with.
pub fn session_alive(state: &AppState, session: &SignedIn) -> bool {
    let Ok(staff) = staff(state) else { return false };
    staff.accounts.get(session.user.as_str()).is_some_and(|a| !a.disabled && Some(mark(a)) == session.credential)
}

/// Edits the accounts' document under its rule.
async fn edit<R: Send + 'static>(
    state: &AppState,
    change: impl FnOnce(&mut AcademyStaff) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<AcademyStaff, R>(state, staff_address(), super::rule::staff, change).await
}

/// Creates an account.
pub async fn create(state: &AppState, by: &Console, new: NewAccount) -> Result<Handover, AppError> {
    let role = Role::parse(&new.role).ok_or_else(|| AppError::bad("console-bad-role", format!("{:?}", new.role)))?;
    let commune = match role.of_commune() {
        true => Some(
            Insee::parse(new.commune.trim())
                .map_err(|_| AppError::bad("console-unknown-insee", format!("{:?}", new.commune)))?,
        ),
        false => None,
    };
    require(manages_account(by, role, commune.as_ref()), "accounts")?;
    let name = crate::platform::text::required_line(&new.name, 120, "console-bad-name")?;
    let email = crate::platform::text::one_line(&new.email, 200, "console-bad-email")?;
    if !email.is_empty() {
        email.parse::<lettre::Address>().map_err(|e| AppError::bad("console-bad-email", format!("{email:?}: {e}")))?;
    }
    if let Some(insee) = &commune {
        super::commune(state, insee).map_err(|_| AppError::bad("console-unknown-commune", insee.to_string()))?;
    }
    let base: String = name.split_whitespace().map(slug).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(".");
    if base.is_empty() {
        return Err(AppError::bad("console-bad-name", format!("{name:?} makes no login")));
    }
    let password = secrets::new_activation_code();
    let hash = {
        let password = password.clone();
        crate::school::accounts::argon2(state, move |memory| memory.hash(&password)).await?
    };
    let id = UserId::random().to_string();
    let by_id = by.id.clone();
    let login = edit(state, move |staff| {
        let taken = |login: &str| staff.accounts.values().any(|a| a.login.eq_ignore_ascii_case(login));
        let login = (1..).map(|n| if n == 1 { base.clone() } else { format!("{base}{n}") }).find(|l| !taken(l));
        let login = login.expect("an unbounded search finds a free login");
        staff.accounts.insert(
            id,
            StaffAccount {
                login: login.clone(),
                name,
                email,
                role: role.as_str().into(),
                commune: commune.map(|c| c.to_string()).unwrap_or_default(),
                password_hash: hash,
                must_change_password: true,
                disabled: false,
                created_by: by_id,
                created_at: crate::platform::clock::now_ms(),
            },
        );
        Ok(login)
    })
    .await?;
    audit::record(state, by, "account-create", &format!("account/{login}"), role.as_str())?;
    Ok(Handover { login, password })
}

/// The account `id`, if `by` manages it.
fn managed(state: &AppState, by: &Console, id: &str) -> Result<StaffAccount, AppError> {
    let account = staff(state)?.accounts.get(id).cloned().ok_or(AppError::NotFound)?;
    let role = Role::parse(&account.role).ok_or(AppError::NotFound)?;
    require(manages_account(by, role, Insee::parse(&account.commune).ok().as_ref()), "account")?;
    Ok(account)
}

/// Disables an account (its sessions end at their next request) or enables it again.
pub async fn set_disabled(state: &AppState, by: &Console, id: &str, disabled: bool) -> Result<(), AppError> {
    let account = managed(state, by, id)?;
    let key = id.to_owned();
    edit(state, move |staff| {
        if let Some(a) = staff.accounts.get_mut(&key) {
            a.disabled = disabled;
        }
        Ok(())
    })
    .await?;
    let action = if disabled { "account-disable" } else { "account-enable" };
    audit::record(state, by, action, &format!("account/{}", account.login), "")
}

/// Draws a new password for an account, to hand over (its holder forgot hers).
pub async fn reset(state: &AppState, by: &Console, id: &str) -> Result<Handover, AppError> {
    let account = managed(state, by, id)?;
    let password = secrets::new_activation_code();
    let hash = {
        let password = password.clone();
        crate::school::accounts::argon2(state, move |memory| memory.hash(&password)).await?
    };
    let key = id.to_owned();
    edit(state, move |staff| {
        if let Some(a) = staff.accounts.get_mut(&key) {
            (a.password_hash, a.must_change_password) = (hash, true);
        }
        Ok(())
    })
    .await?;
    audit::record(state, by, "account-reset", &format!("account/{}", account.login), "")?;
    Ok(Handover { login: account.login, password })
}

/// Checks a console login and password; the session to open.
pub async fn login(state: &AppState, ctx: &Ctx, login: &str, password: &str) -> Result<SignedIn, AppError> {
    let addr = address_key(ctx.client_ip);
    let failed = || AppError::LoginFailed { message: "login-failed", detail: format!("console {login:?} from {addr}") };
    if login.len() > 200 || password.len() > secrets::MAX_PASSWORD_LEN * 4 {
        return Err(failed());
    }
    let found = staff(state)?
        .accounts
        .iter()
        .find(|(_, a)| a.login.eq_ignore_ascii_case(login.trim()))
        .map(|(id, a)| (id.clone(), a.clone()));
    // Keys from what nobody types (the account's id, or a hash of the login as typed).
    let account_key = match &found {
        Some((id, _)) => format!("console/{id}"),
        None => format!("console/?{}", &blake3::hash(login.trim().to_lowercase().as_bytes()).to_hex()[..32]),
    };
    let pair = format!("{account_key}/{addr}");
    let spray = format!("{addr}/passwords");
    let keys = [
        (pair.as_str(), ratelimit::PAIR),
        (spray.as_str(), ratelimit::ADDRESS),
        (account_key.as_str(), ratelimit::ACCOUNT),
    ];
    if let Err(wait) = state.limits.attempt(&keys) {
        return Err(AppError::TooManyAttempts {
            message: "login-too-many",
            detail: format!("console {login:?} from {addr}: {}s to wait", wait.as_secs()),
        });
    }
    let password = password.to_owned();
    let outcome = crate::school::accounts::argon2(state, move |memory| match found {
        Some((id, account)) if !account.disabled => {
            memory.verify(&password, &account.password_hash).then_some((id, account))
        }
        _ => {
            memory.burn();
            None
        }
    })
    .await?;
    let Some((id, account)) = outcome else { return Err(failed()) };
    state.limits.succeeded(&[&pair], &[&spray, &account_key]);
    tracing::info!(account = %id, role = %account.role, "console login");
    session_of(&id, &account)
}

/// A console session for an account whose password was proven (tests open them directly).
pub fn session_for(state: &AppState, id: &str) -> Result<SignedIn, AppError> {
    let account = staff(state)?.accounts.get(id).cloned().ok_or(AppError::NotFound)?;
    session_of(id, &account)
}

fn session_of(id: &str, account: &StaffAccount) -> Result<SignedIn, AppError> {
    let mut session = SignedIn::new(
        None,
        UserId::parse(id)?,
        Profile::AcademyAdmin,
        account.name.clone(),
        account.must_change_password,
    );
    session.credential = Some(mark(account));
    Ok(session)
}

/// Changes the signed-in console account's password; its other sessions end (their mark
/// changed), this one goes on under the new mark.
pub async fn change_password(
    state: &AppState,
    ctx: &Ctx,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let user = ctx.user()?;
    let id = user.user.to_string();
    let account = staff(state)?.accounts.get(&id).cloned().ok_or(AppError::Unauthenticated)?;
    let personal: Vec<&str> = account.name.split_whitespace().collect();
    secrets::check_new_password(new, confirm, &account.login, &personal)
        .map_err(|message| AppError::bad(message, "console password"))?;
    let (current, new, hash) = (current.to_owned(), new.to_owned(), account.password_hash.clone());
    let fresh =
        crate::school::accounts::argon2(state, move |memory| memory.verify(&current, &hash).then(|| memory.hash(&new)))
            .await?
            .ok_or_else(|| AppError::bad("password-current-wrong", "console password: current one wrong"))?;
    let (key, proven) = (id.clone(), account.password_hash);
    let account = edit(state, move |staff| {
        let a = staff.accounts.get_mut(&key).ok_or(AppError::NotFound)?;
        // A reset (or another change) while this one checked the password wins.
        if a.password_hash != proven {
            return Err(AppError::bad("password-current-wrong", "console password changed meanwhile"));
        }
        (a.password_hash, a.must_change_password) = (fresh, false);
        Ok(a.clone())
    })
    .await?;
    state.sessions.update(&ctx.sid, |s| {
        s.credential = Some(mark(&account));
        s.must_change_password = false;
    });
    tracing::info!(account = %id, "console password changed");
    Ok(())
}
