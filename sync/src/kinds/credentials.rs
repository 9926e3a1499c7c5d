//! A school's credentials: logins, password hashes, activation codes and the secrets of
//! young pupils' picture and QR-card logins. Its own partition (`school/{uai}/accounts`)
//! so that it reaches the appliance and the hub but never a teacher's laptop.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The document key of a school's credentials (partition `school/{uai}/accounts`).
pub const CREDENTIALS_KEY: &str = "credentials";

/// Every account's credentials, by user id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Credentials {
    /// By user id.
    pub accounts: BTreeMap<String, Credential>,
}

/// One account's ways to log in.
#[derive(Clone, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Credential {
    /// Login name, unique across the replica (`prenom.nom`).
    pub login: String,
    /// Argon2id PHC string; empty until the account is activated.
    pub password_hash: String,
    /// One-time activation code printed on the login letter; empty once used.
    pub activation_code: String,
    /// The next login must choose a new password.
    pub must_change_password: bool,
    /// Pupils: the picture sequence (picture names, comma-separated); empty if none.
    pub picture_secret: String,
    /// Pupils: the QR login card's secret; empty when revoked.
    pub qr_secret: String,
    /// The account may not log in.
    pub disabled: bool,
    /// The secret of the account's calendar feed address; empty when none.
    pub calendar_secret: String,
    /// Who last reset the account (user id); empty if never. Its owner is told at the next
    /// login.
    pub reset_by: String,
    /// When (Unix milliseconds).
    pub reset_at: i64,
    /// Why, as the director wrote it (resets of activated adult accounts).
    pub reset_reason: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("login", &self.login)
            .field("must_change_password", &self.must_change_password)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// `credential`: one row per account.
pub(crate) const CREDENTIAL: TableDef = TableDef::new(
    "credential",
    &[
        "doc_id",
        "user_id",
        "login",
        "password_hash",
        "activation_code",
        "must_change_password",
        "picture_secret",
        "qr_secret",
        "disabled",
        "calendar_secret",
        "reset_by",
        "reset_at",
        "reset_reason",
    ],
);

impl DocKind for Credentials {
    const KIND: Kind = Kind::Credentials;
    type State = Credentials;
    const READ_BY_POLICIES: bool = true;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        for (id, c) in &state.accounts {
            out.push(Row::new(
                Table::Credential,
                vec![
                    ctx.id.to_string().into(),
                    id.as_str().into(),
                    c.login.as_str().into(),
                    c.password_hash.as_str().into(),
                    c.activation_code.as_str().into(),
                    i64::from(c.must_change_password).into(),
                    c.picture_secret.as_str().into(),
                    c.qr_secret.as_str().into(),
                    i64::from(c.disabled).into(),
                    c.calendar_secret.as_str().into(),
                    c.reset_by.as_str().into(),
                    c.reset_at.into(),
                    c.reset_reason.as_str().into(),
                ],
            ));
        }
    }
}
