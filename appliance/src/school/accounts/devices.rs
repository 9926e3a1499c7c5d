//! Devices that an account or a class already knows. An adult's browser where they logged
//! in before carries a signed « known device » token: its logins skip the throttles that
//! strangers share, so nobody can lock an owner out of their own device. A class's tablets
//! carry a random tablet token that a teacher gave them: picture logins, whose codes are
//! short, are accepted only there.

use std::time::Duration;

use axum::http::HeaderValue;
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::school::directory::{ClassId, UserId};
use crate::web::session::{KNOWN_COOKIE, KNOWN_PER_DEVICE, TABLET_COOKIE};
use crate::web::{AppState, Ctx};

/// How long a device stays known without a login (browsers keep cookies 400 days at most).
const KNOWN_TTL: Duration = Duration::from_secs(400 * 24 * 3600);

/// The known-device token of `user` on a browser, valid until `expires` (Unix seconds).
/// Bound to the account's password hash: a reset or a new password forgets every device.
fn sign_known(state: &AppState, user: &UserId, password_hash: &str, expires: u64) -> String {
    let mac = state.sessions.keyed_hash("known-device", &[user.as_str(), &expires.to_string(), password_hash]);
    format!("{}.{expires}.{}", user.as_str(), &mac[..32])
}

/// Whether this browser logged into `user`'s account before, with its current password:
/// then its token's MAC, which names this device among the account's known ones.
pub fn known_token(state: &AppState, ctx: &Ctx, user: &UserId, password_hash: &str) -> Option<String> {
    if password_hash.is_empty() {
        return None;
    }
    let now = crate::platform::clock::now_ms() as u64 / 1000;
    ctx.known_devices.iter().find_map(|token| {
        let mut parts = token.split('.');
        let (Some(id), Some(expires), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let expires = expires.parse::<u64>().ok()?;
        let valid = id == user.as_str()
            && expires > now
            && crate::school::accounts::secrets::constant_eq(
                token.as_bytes(),
                sign_known(state, user, password_hash, expires).as_bytes(),
            );
        valid.then(|| mac.to_owned())
    })
}

/// The `Set-Cookie` that remembers this browser for `user` (after a password login).
pub fn remember(state: &AppState, ctx: &Ctx, user: &UserId, password_hash: &str) -> Option<HeaderValue> {
    if password_hash.is_empty() {
        return None;
    }
    let expires = crate::platform::clock::now_ms() as u64 / 1000 + KNOWN_TTL.as_secs();
    let prefix = format!("{}.", user.as_str());
    let mut tokens = vec![sign_known(state, user, password_hash, expires)];
    tokens.extend(ctx.known_devices.iter().filter(|t| !t.starts_with(&prefix)).take(KNOWN_PER_DEVICE - 1).cloned());
    cookie(state, KNOWN_COOKIE, tokens.join("~"))
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Option<HeaderValue> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .max_age(time::Duration::seconds(KNOWN_TTL.as_secs() as i64))
        .build()
        .to_string()
        .parse()
        .ok()
}

/// The classes this browser is a tablet of.
pub fn tablet_classes(state: &AppState, ctx: &Ctx) -> Result<Vec<ClassId>, AppError> {
    let Some(token) = &ctx.tablet else { return Ok(Vec::new()) };
    let classes = state.part::<Replication>().links.tablet_classes(&tablet_hash(token))?;
    Ok(classes.iter().filter_map(|c| ClassId::parse(c).ok()).collect())
}

/// Refuses picture logins (and the list of a class's pupils) on anything but a tablet of
/// that class.
pub fn require_tablet(state: &AppState, ctx: &Ctx, class: &ClassId) -> Result<(), AppError> {
    if tablet_classes(state, ctx)?.contains(class) {
        Ok(())
    } else {
        Err(AppError::TabletOnly(format!("class {class} from {:?}, not one of its tablets", ctx.client_ip)))
    }
}

/// Makes the tablet holding `token` (a new one if none) a tablet of `class` too; returns
/// its token.
pub fn mark_tablet(state: &AppState, token: Option<&str>, class: &ClassId, by: &UserId) -> Result<String, AppError> {
    let token = match token {
        Some(t) if !state.part::<Replication>().links.tablet_classes(&tablet_hash(t))?.is_empty() => t.to_owned(),
        _ => hex::encode(crate::platform::random_bytes::<32>()),
    };
    state.part::<Replication>().links.add_tablet(&tablet_hash(&token), class.as_str(), by.as_str())?;
    tracing::info!(%class, by = %by, "class tablet marked");
    Ok(token)
}

/// The `Set-Cookie` that makes a browser forget the accounts it knew (it becomes a class
/// tablet: pupils' mistakes must not count against a teacher's own devices).
pub fn forget_known() -> HeaderValue {
    HeaderValue::from_static("preau_known=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// The `Set-Cookie` that makes a browser the tablet holding `token`.
pub fn tablet_cookie(state: &AppState, token: String) -> Result<HeaderValue, AppError> {
    cookie(state, TABLET_COOKIE, token).ok_or_else(|| AppError::Internal("tablet cookie".into()))
}

/// Tablets are stored by the hash of their token: a copy of the database opens no tablet.
fn tablet_hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}
