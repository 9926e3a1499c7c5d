//! Communes and their schools, as the académie records them: a commune by its INSEE code,
//! its schools by UAI. A school is known when the hub holds it (its server synced) or when
//! its UAI's check letter is right; anything else is refused, nothing half-written.

use preau_sync::kinds::Commune;
use preau_sync::kinds::commune::CommuneSchool;
use preau_sync::{Insee, Uai};

use super::{Console, audit, commune_address, communes, manages_communes, require};
use crate::platform::error::AppError;
use crate::platform::text::{one_line, paragraphs, required_line};
use crate::school::directory::Directory;
use crate::web::AppState;

/// The letters of a UAI's check letter, by the seven digits' remainder modulo 23 (the
/// national directory's: no I, O or Q).
const UAI_CHECK: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// Whether a UAI's letter is the one its digits call for (`0340039H`).
pub fn uai_checks(uai: &Uai) -> bool {
    let (digits, letter) = uai.as_str().split_at(7);
    digits.parse::<u32>().is_ok_and(|n| UAI_CHECK[(n % 23) as usize] == letter.as_bytes()[0])
}

/// A commune as its form gives it.
pub struct CommuneForm {
    /// Its INSEE code (on creation).
    pub insee: String,
    /// Its name.
    pub name: String,
    /// Its contacts (lines).
    pub contacts: String,
}

async fn edit<R: Send + 'static>(
    state: &AppState,
    insee: &Insee,
    change: impl FnOnce(&mut Commune) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<Commune, R>(state, commune_address(insee), super::rule::commune, change).await
}

/// Records a new commune.
pub async fn create(state: &AppState, by: &Console, form: CommuneForm) -> Result<Insee, AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(manages_communes(by), "communes")?;
    let insee = Insee::parse(form.insee.trim())
        .map_err(|_| AppError::bad("console-unknown-insee", format!("INSEE code {:?}", form.insee)))?;
    let name = required_line(&form.name, 120, "console-bad-commune-name")?;
    let contacts = paragraphs(&form.contacts, 2000, "console-bad-contacts")?;
    if communes(state)?.iter().any(|(c, _)| *c == insee) {
        return Err(AppError::bad("console-commune-exists", format!("commune {insee} exists")));
    }
    let (at, named) = (insee.clone(), name.clone());
    edit(state, &insee, move |c| {
        (c.name, c.contacts) = (named, contacts);
        Ok(())
    })
    .await?;
    audit::record(state, by, "commune-create", &format!("commune/{at}"), &name)?;
    Ok(insee)
}

/// Changes a commune's name and contacts.
pub async fn update(state: &AppState, by: &Console, insee: &Insee, form: CommuneForm) -> Result<(), AppError> {
    require(manages_communes(by), "communes")?;
    super::commune(state, insee)?;
    let name = required_line(&form.name, 120, "console-bad-commune-name")?;
    let contacts = paragraphs(&form.contacts, 2000, "console-bad-contacts")?;
    let named = name.clone();
    edit(state, insee, move |c| {
        (c.name, c.contacts) = (named, contacts);
        Ok(())
    })
    .await?;
    audit::record(state, by, "commune-edit", &format!("commune/{insee}"), &name)
}

/// Adds a school to a commune: one the hub holds (named as its directory says), or a UAI
/// whose check letter is right (then named as typed). A school belongs to one commune.
pub async fn add_school(state: &AppState, by: &Console, insee: &Insee, uai: &str, name: &str) -> Result<(), AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(manages_communes(by), "communes")?;
    super::commune(state, insee)?;
    let unknown = || AppError::bad("console-unknown-uai", format!("UAI {uai:?}"));
    let uai = Uai::parse(uai.trim()).map_err(|_| unknown())?;
    let held = state.db.read(|r| Ok(Directory::schools(r)?.into_iter().find(|s| s.uai == uai)))?;
    let name = match (&held, one_line(name, 120, "console-bad-school-name")?) {
        (Some(school), _) => school.info.name.clone(),
        (None, _) if !uai_checks(&uai) => return Err(unknown()),
        (None, typed) if typed.is_empty() => return Err(AppError::bad("console-bad-school-name", "no name")),
        (None, typed) => typed,
    };
    if let Some((other, _)) = communes(state)?.iter().find(|(c, m)| c != insee && m.schools.contains_key(uai.as_str()))
    {
        return Err(AppError::bad("console-school-elsewhere", format!("{uai} is a school of {other}")));
    }
    let key = uai.to_string();
    edit(state, insee, move |c| {
        c.schools.insert(key, CommuneSchool { name });
        Ok(())
    })
    .await?;
    audit::record(state, by, "commune-school", &format!("commune/{insee}"), uai.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uai_checks_by_its_letter() {
        for ok in ["0340039H", "0341234G"] {
            assert!(uai_checks(&Uai::parse(ok).unwrap()), "{ok}");
        }
        for bad in ["0340039A", "0341234A"] {
            assert!(!uai_checks(&Uai::parse(bad).unwrap()), "{bad}");
        }
    }
}
