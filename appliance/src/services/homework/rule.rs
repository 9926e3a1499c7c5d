//! Where homework documents live, who may do what, and the rule every change to them meets.

use super::*;

// ---- where it lives ----

/// A class's cahier de textes for its school year.
pub fn book_address(uai: &Uai, class: &Class) -> Result<DocAddress, AppError> {
    let year = DocKey::parse(&class.class.school_year)
        .map_err(|_| AppError::Internal(format!("class {} has no valid school year", class.id)))?;
    Ok(DocAddress::new(class_partition(uai, &class.id), Kind::HomeworkBook, year))
}

pub(super) fn school(dir: &Directory) -> Result<Uai, AppError> {
    dir.uai().cloned().ok_or(AppError::NotFound)
}

// ---- who may do what ----

/// Ticks a pupil's work: the pupil, or one of their legal guardians.
pub fn ticks_for(dir: &Directory, user: &UserId, pupil: &Member) -> bool {
    *user == pupil.id || dir.is_legal_guardian(user, &pupil.id)
}

/// Reads a class's cahier: its writers, its pupils, their guardians.
pub(super) fn reads_book(dir: &Directory, user: &UserId, class: &Class) -> bool {
    let in_class = |p: &Member| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str();
    dir.teaches(user, class)
        || dir.member(user).is_some_and(in_class)
        || dir.children_of(user).into_iter().any(in_class)
}

/// A pupil whose work `user` may see: themselves, their guardians, their class's writers.
pub(super) fn visible_pupil(dir: &Directory, user: &SignedIn, id: &str) -> Result<(Member, Class), AppError> {
    let pupil = dir.member(&UserId::parse(id)?).filter(|m| m.profile == Profile::Pupil && !m.person.archived);
    let pupil = pupil.ok_or(AppError::NotFound)?;
    let class = dir.class_of(pupil).ok_or(AppError::NotFound)?;
    let sees = user.user == pupil.id
        || dir.guardians_of(&pupil.id).iter().any(|(g, _)| g.id == user.user)
        || dir.teaches(&user.user, class);
    if sees { Ok((pupil.clone(), class.clone())) } else { Err(AppError::NotFound) }
}

// ---- the rule ----

pub(super) fn same_entry(a: &HomeworkEntry, b: &HomeworkEntry) -> bool {
    a.audience == b.audience
        && a.subject == b.subject
        && a.title == b.title
        && a.details.as_str() == b.details.as_str()
        && a.lesson.as_str() == b.lesson.as_str()
        && a.assigned_on == b.assigned_on
        && a.due_on == b.due_on
        && a.attachments == b.attachments
        && a.author == b.author
        && a.edited_by == b.edited_by
        && a.edited_at == b.edited_at
        && a.removed == b.removed
}

/// Whether `after` may follow `before` in the cahier of the class at `partition`: entries
/// are written by the class's teachers and the director (and never deleted, only
/// withdrawn); a tick is written by its pupil or a legal guardian, for a pupil of the class
/// and an entry of the book. Checked on every local edit and every change from a peer.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &HomeworkBook,
    after: &HomeworkBook,
) -> Result<(), String> {
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: not a class of this school"))?;
    for (id, old) in &before.entries {
        if !after.entries.contains_key(id) {
            return Err(format!("entry {id} deleted (entries are withdrawn, never deleted)"));
        }
        let new = &after.entries[id];
        if !same_entry(old, new) && new.author != old.author {
            return Err(format!("entry {id}: its author changed"));
        }
    }
    let changed =
        after.entries.iter().filter(|(id, new)| before.entries.get(*id).is_none_or(|old| !same_entry(old, new)));
    for (id, entry) in changed {
        if entry.attachments.len() > MAX_FILES || !entry.attachments.iter().all(crate::platform::files::is_reference) {
            return Err(format!("entry {id}: malformed or too many attachments"));
        }
        let editor = UserId::parse(&entry.edited_by).map_err(|_| format!("entry {id}: no editor"))?;
        if !dir.teaches(&editor, class) {
            return Err(format!("entry {id}: {editor} does not write this class's cahier"));
        }
        if !before.entries.contains_key(id) && entry.author != entry.edited_by {
            return Err(format!("entry {id}: created on someone else's behalf"));
        }
    }
    if after.entries.len() > MAX_ENTRIES {
        return Err(format!("{} entries (at most {MAX_ENTRIES})", after.entries.len()));
    }
    for key in before.done.keys() {
        if !after.done.contains_key(key) {
            return Err(format!("tick {key} deleted"));
        }
    }
    for (key, mark) in after.done.iter().filter(|(k, m)| before.done.get(*k) != Some(m)) {
        let (entry, pupil) = DoneMark::split_key(key).ok_or_else(|| format!("tick {key}: malformed key"))?;
        if !after.entries.contains_key(entry) {
            return Err(format!("tick {key}: no such entry"));
        }
        let pupil = UserId::parse(pupil)
            .ok()
            .and_then(|p| dir.member(&p))
            .filter(|p| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str())
            .ok_or_else(|| format!("tick {key}: not a pupil of this class"))?;
        let by = UserId::parse(&mark.by).map_err(|_| format!("tick {key}: no author"))?;
        if !ticks_for(dir, &by, pupil) {
            return Err(format!("tick {key}: {by} ticks neither for themselves nor for their child"));
        }
    }
    Ok(())
}

/// Edits a class's cahier under its rule.
pub(super) async fn edit_book<R: Send + 'static>(
    state: &AppState,
    class: &Class,
    edit: impl FnOnce(&mut HomeworkBook) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    let address = book_address(&school(&state.directory())?, class)?;
    crate::school::edit::under_rule::<HomeworkBook, R>(state, address, check_change, edit).await
}
