//! Where liaison documents live, who may do what, and the rule every change to them meets.

use super::*;

// ---- where it lives ----

pub(super) fn note_address(dir: &Directory, class: &Class, note: &str) -> Result<DocAddress, AppError> {
    let uai = dir.uai().ok_or(AppError::NotFound)?;
    let key = DocKey::parse(note).map_err(|_| AppError::NotFound)?;
    Ok(DocAddress::new(class_partition(uai, &class.id), Kind::LiaisonNote, key))
}

/// The class a note's stored partition names.
pub(super) fn class_of_partition<'d>(dir: &'d Directory, partition: &str) -> Option<&'d Class> {
    dir.class_of_partition(&Partition::parse(partition).ok()?)
}

// ---- who may do what ----

pub(super) fn same_note(a: &LiaisonNote, b: &LiaisonNote) -> bool {
    a.title == b.title
        && a.body.as_str() == b.body.as_str()
        && a.ask == b.ask
        && a.recipients == b.recipients
        && a.author == b.author
        && a.posted_at == b.posted_at
        && a.edited_by == b.edited_by
        && a.edited_at == b.edited_at
        && a.reminded_at == b.reminded_at
        && a.withdrawn == b.withdrawn
}

/// Whether `after` may follow `before` in a note of the class at `partition`: the note is
/// written by the class's teachers and the director, for pupils of the class; each
/// signature is written once, by a legal guardian of a child the note is for, and never
/// changed or removed. Checked on every local edit and every change from a peer.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &LiaisonNote,
    after: &LiaisonNote,
) -> Result<(), String> {
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: not a class of this school"))?;
    if !same_note(before, after) {
        let editor = UserId::parse(&after.edited_by).map_err(|_| "note without an editor".to_owned())?;
        if !dir.teaches(&editor, class) {
            return Err(format!("{editor} does not write for this class"));
        }
        let new = before.author.is_empty();
        if (new && after.author != after.edited_by) || (!new && after.author != before.author) {
            return Err("the note's author cannot be changed or borrowed".into());
        }
        if !ASKS.contains(&after.ask.as_str()) {
            return Err(format!("unknown request {:?}", after.ask));
        }
        let unique: BTreeSet<&String> = after.recipients.iter().collect();
        if unique.len() != after.recipients.len() {
            return Err("a recipient named twice".into());
        }
        let added = after.recipients.iter().filter(|p| !before.recipients.contains(p));
        for pupil in added {
            let ok = UserId::parse(pupil)
                .ok()
                .and_then(|p| dir.member(&p))
                .is_some_and(|p| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str());
            if !ok {
                return Err(format!("recipient {pupil} is not a pupil of this class"));
            }
        }
    }
    for (key, old) in &before.signatures {
        if after.signatures.get(key) != Some(old) {
            return Err(format!("signature {key} changed or removed"));
        }
    }
    for (key, s) in after.signatures.iter().filter(|(k, _)| !before.signatures.contains_key(*k)) {
        let (child, guardian) = Signature::split_key(key).ok_or_else(|| format!("signature {key}: malformed key"))?;
        if after.ask.is_empty() {
            return Err("this note asks for no signature".into());
        }
        if !after.recipients.iter().any(|r| r == child) {
            return Err(format!("signature {key}: the note is not for this child"));
        }
        let (Ok(child), Ok(guardian)) = (UserId::parse(child), UserId::parse(guardian)) else {
            return Err(format!("signature {key}: malformed ids"));
        };
        if !dir.is_legal_guardian(&guardian, &child) {
            return Err(format!("signature {key}: not a legal guardian of the child"));
        }
        if s.reply.chars().count() > MAX_REPLY {
            return Err(format!("signature {key}: answer too long"));
        }
    }
    Ok(())
}

pub(super) async fn edit_note<R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    edit: impl FnOnce(&mut LiaisonNote) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<LiaisonNote, R>(state, address, check_change, edit).await
}
