//! The académie's administration, held by the hub alone (partition `academy/admin`): the
//! accounts of its staff and of its communes' staff ([`AcademyStaff`]), and its settings,
//! the per-pupil rate of each school year ([`AcademySettings`]).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The key of the staff document (partition `academy/admin`).
pub const STAFF_KEY: &str = "staff";
/// The key of the settings document (partition `academy/admin`).
pub const SETTINGS_KEY: &str = "settings";

/// Every console account, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct AcademyStaff {
    /// By account id.
    pub accounts: BTreeMap<String, StaffAccount>,
}

/// One account of the console: an academy's staff member (rectorat, DANE, IEN) or a
/// commune's (its administrator, its agents).
#[derive(Clone, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct StaffAccount {
    /// Login name, unique among console accounts.
    pub login: String,
    /// « Prénom Nom ».
    pub name: String,
    /// Where the académie writes to them.
    pub email: String,
    /// `rectorat`, `dane`, `ien`, `commune_admin` or `commune_agent`.
    pub role: String,
    /// The commune's INSEE code, for a commune's staff; empty otherwise.
    pub commune: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The next login must choose a new password (a password someone else chose).
    pub must_change_password: bool,
    /// The account may not log in.
    pub disabled: bool,
    /// Who created it (an account id, or `hub` for the hub's administrator).
    pub created_by: String,
    /// When (Unix milliseconds).
    pub created_at: i64,
}

impl std::fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffAccount")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("commune", &self.commune)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// `academy_staff`: one row per console account.
pub(crate) const ACADEMY_STAFF: TableDef = TableDef::new(
    "academy_staff",
    &[
        "doc_id",
        "user_id",
        "login",
        "name",
        "email",
        "role",
        "commune",
        "password_hash",
        "must_change_password",
        "disabled",
        "created_at",
    ],
);

impl DocKind for AcademyStaff {
    const KIND: Kind = Kind::AcademyStaff;
    type State = AcademyStaff;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        for (id, a) in &state.accounts {
            out.push(Row::new(
                Table::AcademyStaff,
                vec![
                    ctx.id.to_string().into(),
                    id.as_str().into(),
                    a.login.as_str().into(),
                    a.name.as_str().into(),
                    a.email.as_str().into(),
                    a.role.as_str().into(),
                    a.commune.as_str().into(),
                    a.password_hash.as_str().into(),
                    i64::from(a.must_change_password).into(),
                    i64::from(a.disabled).into(),
                    a.created_at.into(),
                ],
            ));
        }
    }
}

/// The académie's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct AcademySettings {
    /// The communes' contribution per pupil covered, in euro cents, by school year
    /// (`2026-2027`); a year without one uses the default (150).
    pub rates: BTreeMap<String, i64>,
}

/// `academy_rate`: one row per school year with its own rate.
pub(crate) const ACADEMY_RATE: TableDef = TableDef::new("academy_rate", &["doc_id", "school_year", "cents"]);

impl DocKind for AcademySettings {
    const KIND: Kind = Kind::AcademySettings;
    type State = AcademySettings;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        for (year, cents) in &state.rates {
            out.push(Row::new(
                Table::AcademyRate,
                vec![ctx.id.to_string().into(), year.as_str().into(), (*cents).into()],
            ));
        }
    }
}
