//! The académie's console, on the hub: its staff and its communes' staff sign in at
//! `/console`, and from there the académie runs the ENT as a contract with each commune
//! (ARCHITECTURE.md, « The académie and its communes »): communes and their schools,
//! conventions and the classes they cover, contributions, the audit of every action.
//!
//! What the console writes are replicated documents under the same rules as a school's
//! (`rule.rs`): the accounts and rates in `academy/admin`, which only the hub holds; each
//! commune and its conventions in `commune/{insee}`, which its schools' servers hold too,
//! so a school knows offline which of its classes are covered (`Directory::class_covered`).
//! Who may do what is one function per rule below, for every page.

pub mod accounts;
pub mod audit;
mod communes;
pub mod contributions;
mod conventions;
pub mod freshness;
mod pages;
pub mod portal;
pub mod rule;
pub mod statistics;
pub mod usage;

use std::sync::Arc;

use preau_sync::kinds::academy::{SETTINGS_KEY, STAFF_KEY};
use preau_sync::kinds::commune::COMMUNE_KEY;
use preau_sync::kinds::{AcademySettings, AcademyStaff, Commune, Convention};
use preau_sync::{DocAddress, DocKey, Insee, Kind, Partition};

use crate::platform::error::AppError;
use crate::school::directory::Profile;
use crate::web::service::{ServedBy, Service};
use crate::web::{AppState, Ctx};

pub use conventions::{CoverageNote, covered_summary};

/// The communes' contribution per pupil covered, in cents, for a school year the académie
/// set no rate for (1,50 €, the académie de Montpellier's).
pub const DEFAULT_RATE_CENTS: i64 = 150;

/// What a console account may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The hub's administrator (`/hub`): the platform's operator, not the contract's.
    HubAdmin,
    /// The rectorat: conventions, rates, contributions, communes, activation.
    Rectorat,
    /// The délégation au numérique: communes, activation, usage.
    Dane,
    /// An inspector: follows usage and schools' sync, changes nothing.
    Ien,
    /// A commune's administrator: its own staff's accounts, its portal.
    CommuneAdmin,
    /// A commune's agent: its portal.
    CommuneAgent,
}

impl Role {
    /// The roles an account can be given (the hub's administrator is no account).
    pub const ACCOUNTS: [Role; 5] = [Role::Rectorat, Role::Dane, Role::Ien, Role::CommuneAdmin, Role::CommuneAgent];

    /// Stored name (and the suffix of its label's message id, `console-role-…`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::HubAdmin => "hub",
            Role::Rectorat => "rectorat",
            Role::Dane => "dane",
            Role::Ien => "ien",
            Role::CommuneAdmin => "commune_admin",
            Role::CommuneAgent => "commune_agent",
        }
    }

    /// Parses [`Role::as_str`] of an account's role.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ACCOUNTS.into_iter().find(|r| r.as_str() == s)
    }

    /// A commune's staff (their account names their commune).
    pub fn of_commune(self) -> bool {
        matches!(self, Role::CommuneAdmin | Role::CommuneAgent)
    }
}

/// Who acts in the console.
#[derive(Clone, Debug)]
pub struct Console {
    /// Their account's id (`hub` for the hub's administrator).
    pub id: String,
    /// « Prénom Nom », for the audit.
    pub name: String,
    /// What they are.
    pub role: Role,
    /// A commune's staff's commune.
    pub commune: Option<Insee>,
}

// ---- Who may do what: one function per rule, for every page. ----

/// Creates, disables and resets console accounts of `role` (of `commune`, for a commune's
/// staff): the hub's administrator the académie's staff; the rectorat and the DANE a
/// commune's first accounts; a commune's administrator her own commune's.
pub fn manages_account(by: &Console, role: Role, commune: Option<&Insee>) -> bool {
    match by.role {
        Role::HubAdmin => true,
        Role::Rectorat | Role::Dane => role.of_commune(),
        Role::CommuneAdmin => role.of_commune() && commune.is_some() && commune == by.commune.as_ref(),
        Role::Ien | Role::CommuneAgent => false,
    }
}

/// Creates communes and lists their schools.
pub fn manages_communes(by: &Console) -> bool {
    matches!(by.role, Role::Rectorat | Role::Dane)
}

/// Drafts, signs and ends conventions, sets the rates, states the contributions: the
/// rectorat, which signs them.
pub fn manages_conventions(by: &Console) -> bool {
    by.role == Role::Rectorat
}

/// Activates a school under a signed convention and chooses the classes covered.
pub fn activates_schools(by: &Console) -> bool {
    matches!(by.role, Role::Rectorat | Role::Dane)
}

/// Reads a commune's page: its schools, conventions and contribution statement.
pub fn reads_commune(by: &Console, commune: &Insee) -> bool {
    matches!(by.role, Role::Rectorat | Role::Dane | Role::Ien) || by.commune.as_ref() == Some(commune)
}

/// Reads the audit of every console action.
pub fn reads_audit(by: &Console) -> bool {
    matches!(by.role, Role::HubAdmin | Role::Rectorat)
}

/// The console's identity of the request: the hub's administrator, or a console account
/// (a session of no school, opened at `/console`, which lasts as long as its account's
/// password and standing: see `accounts::session_alive`).
pub fn console(state: &AppState, ctx: &Ctx) -> Result<Console, AppError> {
    let user = ctx.user()?;
    if user.is_hub_admin() {
        return Ok(Console { id: "hub".into(), name: user.display_name.clone(), role: Role::HubAdmin, commune: None });
    }
    if user.school.is_some() || user.profile != Profile::AcademyAdmin {
        return Err(AppError::Forbidden("console".into()));
    }
    let staff = staff(state)?;
    let account = staff.accounts.get(user.user.as_str()).filter(|a| !a.disabled).ok_or(AppError::Unauthenticated)?;
    let role = Role::parse(&account.role).ok_or_else(|| AppError::Internal(format!("role {:?}", account.role)))?;
    Ok(Console {
        id: user.user.to_string(),
        name: account.name.clone(),
        role,
        commune: Insee::parse(&account.commune).ok(),
    })
}

/// The console's checks and the writes they allow, one at a time across the hub's
/// processes: a check that spans documents (a class covered by one convention at a time, a
/// school in one commune, a status read before it moves) still holds when its write lands.
pub(crate) async fn one_at_a_time(state: &AppState) -> Result<crate::platform::records::Lock, AppError> {
    let lock = state.records.lock("console").await?;
    // What another process wrote while this one waited: the checks read it.
    state.db.refresh();
    Ok(lock)
}

/// `Ok` when `allowed`, else the refusal a console page shows.
pub fn require(allowed: bool, what: &str) -> Result<(), AppError> {
    if allowed { Ok(()) } else { Err(AppError::Forbidden(format!("console: {what}"))) }
}

// ---- The documents. ----

fn key(s: &str) -> DocKey {
    DocKey::parse(s).expect("a valid constant key")
}

/// The console's accounts.
pub fn staff_address() -> DocAddress {
    DocAddress::new(Partition::AcademyAdmin, Kind::AcademyStaff, key(STAFF_KEY))
}

/// The académie's settings (rates).
pub fn settings_address() -> DocAddress {
    DocAddress::new(Partition::AcademyAdmin, Kind::AcademySettings, key(SETTINGS_KEY))
}

/// A commune's document.
pub fn commune_address(insee: &Insee) -> DocAddress {
    DocAddress::new(Partition::Commune(insee.clone()), Kind::Commune, key(COMMUNE_KEY))
}

/// A convention of a commune.
pub fn convention_address(insee: &Insee, id: &DocKey) -> DocAddress {
    DocAddress::new(Partition::Commune(insee.clone()), Kind::Convention, id.clone())
}

/// The console's accounts, as the replica holds them now.
pub fn staff(state: &AppState) -> Result<Arc<AcademyStaff>, AppError> {
    state
        .db
        .memo("academy-staff", String::new(), |r| Ok(r.get::<AcademyStaff>(staff_address().id())?.unwrap_or_default()))
}

/// The académie's settings.
fn settings(state: &AppState) -> Result<Arc<AcademySettings>, AppError> {
    state.db.memo("academy-settings", String::new(), |r| {
        Ok(r.get::<AcademySettings>(settings_address().id())?.unwrap_or_default())
    })
}

/// The rate of a school year, in cents.
pub fn rate_of(settings: &AcademySettings, year: &str) -> i64 {
    settings.rates.get(year).copied().unwrap_or(DEFAULT_RATE_CENTS)
}

/// Every commune the console knows, by name.
pub fn communes(state: &AppState) -> Result<Arc<Vec<(Insee, Commune)>>, AppError> {
    state.db.memo("academy-communes", String::new(), |r| {
        let mut all = Vec::new();
        for row in r.rows(preau_sync::Table::Commune)? {
            let Some(preau_sync::Cell::Text(insee)) = row.get(1) else { continue };
            let Ok(insee) = Insee::parse(insee) else { continue };
            if let Some(commune) = r.get::<Commune>(commune_address(&insee).id())? {
                all.push((insee, commune));
            }
        }
        all.sort_by(|a, b| (&a.1.name, &a.0).cmp(&(&b.1.name, &b.0)));
        Ok(all)
    })
}

/// One commune, or `NotFound`.
pub fn commune(state: &AppState, insee: &Insee) -> Result<Commune, AppError> {
    communes(state)?.iter().find(|(c, _)| c == insee).map(|(_, c)| c.clone()).ok_or(AppError::NotFound)
}

/// A commune's conventions (id, convention), by start.
pub fn conventions_of(state: &AppState, insee: &Insee) -> Result<Arc<Vec<(DocKey, Convention)>>, AppError> {
    state.db.memo("academy-conventions", insee.to_string(), |r| {
        let mut all = Vec::new();
        for row in r.rows(preau_sync::Table::Convention)? {
            let (Some(preau_sync::Cell::Text(id)), Some(preau_sync::Cell::Text(of))) = (row.get(1), row.get(2)) else {
                continue;
            };
            if of != insee.as_str() {
                continue;
            }
            let Ok(id) = DocKey::parse(id) else { continue };
            if let Some(c) = r.get::<Convention>(convention_address(insee, &id).id())? {
                all.push((id, c));
            }
        }
        all.sort_by(|a, b| (&a.1.starts_on, &a.0).cmp(&(&b.1.starts_on, &b.0)));
        Ok(all)
    })
}

/// The académie's console, on the hub.
pub const SERVICE: Service =
    Service { name: "console", pages: pages::routes, rules: rule::RULES, served_by: ServedBy::Hub, ..Service::NOTHING };

/// What the conventions cover, on every school's staff pages (at school and on the hub).
pub const COVERAGE: Service =
    Service { name: "coverage", home: |h| Box::pin(conventions::home_part(h)), ..Service::NOTHING };
