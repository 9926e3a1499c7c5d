//! Where messaging documents live, who may do what, and the rule every change to them meets.

use super::*;

// ---- who may talk with whom ----

pub(super) fn member<'d>(dir: &'d Directory, id: &str) -> Option<&'d Member> {
    UserId::parse(id).ok().and_then(|id| dir.member(&id)).filter(|m| !m.person.archived)
}

/// Whether these participants may gather in a conversation at `partition`, started by
/// `creator`, about `about` (a child, or empty). The one place the contact rules live.
pub(super) fn may_gather(
    dir: &Directory,
    partition: &Partition,
    creator: &str,
    participants: &[String],
    about: &str,
) -> Result<(), String> {
    let unique: BTreeSet<&String> = participants.iter().collect();
    if unique.len() != participants.len() || participants.len() < 2 || participants.len() > MAX_PARTICIPANTS {
        return Err(format!("{} participants, or twice the same", participants.len()));
    }
    if !participants.iter().any(|p| p == creator) {
        return Err("the creator is not a participant".into());
    }
    let people: Vec<&Member> = participants
        .iter()
        .map(|p| member(dir, p).ok_or_else(|| format!("unknown participant {p}")))
        .collect::<Result<_, _>>()?;
    // The creator writes only to people offered to them (`contacts`, the same rule), and a
    // conversation about a child also reaches that child's legal guardians.
    let author = member(dir, creator).ok_or("unknown creator")?;
    let guardian_of_about =
        |m: &Member| !about.is_empty() && UserId::parse(about).is_ok_and(|child| dir.is_legal_guardian(&m.id, &child));
    if let Some(m) = people.iter().find(|m| m.id != author.id && !may_write_to(dir, author, m) && !guardian_of_about(m))
    {
        return Err(format!("{creator} may not write to {}", m.id));
    }
    if let Partition::Staff(uai) = partition {
        if dir.uai() != Some(uai) || !about.is_empty() || people.iter().any(|m| !m.profile.is_staff()) {
            return Err("the staff room is for the school's staff only".into());
        }
        return Ok(());
    }
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: no conversation lives there"))?;
    let teaches = |m: &Member| dir.teaches(&m.id, class);
    let pupil_of_class = |m: &Member| m.profile == Profile::Pupil && m.person.class_id == class.id.as_str();
    if people.iter().any(|m| m.profile.is_staff() && !teaches(m)) {
        return Err("only the class's teachers and the director speak for the school here".into());
    }
    if about.is_empty() {
        // Pupils with their teachers; with classmates only where the class allows it.
        if people.iter().any(|m| !teaches(m) && !pupil_of_class(m)) {
            return Err("only the class's pupils and teachers take part".into());
        }
        let pupils = people.iter().filter(|m| pupil_of_class(m)).count();
        if pupils == 0 {
            return Err("teachers talk among themselves in the staff room".into());
        }
        if pupils > 1 && !class.class.classmates {
            return Err("this class's pupils do not write to each other".into());
        }
        return Ok(());
    }
    // About a child: the child's legal guardians (all of them) and the class's teachers.
    if !people.iter().any(|m| teaches(m)) {
        return Err("a family's conversation includes one of the class's teachers or the director".into());
    }
    let child = member(dir, about).filter(|m| pupil_of_class(m)).ok_or("not a pupil of this class")?;
    let guardians: Vec<String> =
        dir.guardians_of(&child.id).into_iter().filter(|(_, legal)| *legal).map(|(g, _)| g.id.to_string()).collect();
    if guardians.iter().any(|g| !participants.contains(g)) {
        return Err("every legal guardian of the child receives what is sent about them".into());
    }
    if people.iter().any(|m| !teaches(m) && !guardians.contains(&m.id.to_string())) {
        return Err("only the child's legal guardians and the class's teachers take part".into());
    }
    Ok(())
}

/// Whether `after` may follow `before` in a conversation at `partition`: its participants
/// may gather (see [`may_gather`]) and never change; messages come from participants and
/// are never edited or removed; a pupil's message in a moderated class waits for approval;
/// decisions come from the class's teachers, once; each read mark is a participant's.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &Conversation,
    after: &Conversation,
) -> Result<(), String> {
    if before.created_by.is_empty() {
        may_gather(dir, partition, &after.created_by, &after.participants, &after.about)?;
        text::required_line(&after.subject, MAX_SUBJECT, "messaging-bad-subject").map_err(|e| e.to_string())?;
    } else if (&before.subject, &before.participants, &before.about, &before.created_by, before.created_at)
        != (&after.subject, &after.participants, &after.about, &after.created_by, after.created_at)
    {
        return Err("a conversation's subject and participants never change".into());
    }
    let class = dir.class_of_partition(partition);
    for (id, old) in &before.messages {
        if after.messages.get(id) != Some(old) {
            return Err(format!("message {id} changed or removed"));
        }
    }
    for (id, m) in after.messages.iter().filter(|(id, _)| !before.messages.contains_key(*id)) {
        if !after.participants.contains(&m.author) {
            return Err(format!("message {id}: its author does not take part"));
        }
        if m.body.trim().is_empty() || m.body.chars().count() > MAX_BODY {
            return Err(format!("message {id}: empty or too long"));
        }
        if m.attachments.len() > MAX_FILES || !m.attachments.iter().all(crate::platform::files::is_reference) {
            return Err(format!("message {id}: malformed or too many files"));
        }
        let pupil = member(dir, &m.author).is_some_and(|a| a.profile == Profile::Pupil);
        if pupil && class.is_some_and(|c| !c.class.unmoderated) && !m.held {
            return Err(format!("message {id}: a pupil's message skipped moderation"));
        }
        if pupil && !pupils_may_write(dir, class, &after.participants) {
            return Err(format!("message {id}: this class's pupils no longer write to each other"));
        }
    }
    for (id, old) in &before.moderation {
        if after.moderation.get(id) != Some(old) {
            return Err(format!("decision on {id} changed or removed"));
        }
    }
    for (id, d) in after.moderation.iter().filter(|(id, _)| !before.moderation.contains_key(*id)) {
        if !after.messages.get(id).is_some_and(|m| m.held) {
            return Err(format!("decision on {id}: no such held message"));
        }
        let moderator = UserId::parse(&d.by).map_err(|_| format!("decision on {id}: no moderator"))?;
        if !class.is_some_and(|c| dir.teaches(&moderator, c)) {
            return Err(format!("decision on {id}: {moderator} does not moderate this class"));
        }
    }
    if after.read.keys().any(|u| !after.participants.contains(u)) {
        return Err("a read mark of someone who does not take part".into());
    }
    Ok(())
}

/// Whether pupils may still write in a conversation with these participants: one among
/// several pupils only while their class allows classmates to write to each other (the
/// switch applies to conversations already started, too).
pub fn pupils_may_write(dir: &Directory, class: Option<&Class>, participants: &[String]) -> bool {
    let pupils = participants.iter().filter(|p| member(dir, p).is_some_and(|m| m.profile == Profile::Pupil)).count();
    pupils <= 1 || class.is_some_and(|c| c.class.classmates)
}

pub(super) fn conversation_address(partition: Partition, key: &str) -> Result<DocAddress, AppError> {
    let key = DocKey::parse(key).map_err(|_| AppError::NotFound)?;
    Ok(DocAddress::new(partition, Kind::Conversation, key))
}

pub(super) async fn edit_conversation<R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    participants: Vec<String>,
    edit: impl FnOnce(&mut Conversation) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    let (key, school) = (address.key.as_str().to_owned(), address.partition.school().cloned());
    let result = crate::school::edit::under_rule::<Conversation, R>(state, address, check_change, edit).await?;
    // Nobody listening is fine.
    let _ = state.part::<Updates>().0.send(Arc::new(Update { school, key, participants }));
    Ok(result)
}

/// What an open page hears about: a conversation changed, for these participants.
#[derive(Debug)]
pub struct Update {
    /// Its school: on the hub, participants' ids name people within their school only.
    pub school: Option<preau_sync::Uai>,
    /// The conversation's id.
    pub key: String,
    /// Who takes part.
    pub participants: Vec<String>,
}

/// Changed conversations, for open pages (server-sent events).
pub struct Updates(pub(super) tokio::sync::broadcast::Sender<Arc<Update>>);

impl Default for Updates {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(256).0)
    }
}
