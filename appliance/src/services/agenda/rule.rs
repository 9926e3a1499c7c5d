//! Where agenda documents live, who may do what, and the rule every change to them meets.

use super::*;

// ---- where events live, and who reads and writes them ----

/// Where an event is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The school's (events, holidays).
    School,
    /// One class's.
    Class(ClassId),
    /// A staff member's own.
    Personal,
}

impl Place {
    /// Parses `school`, `personal` or `class:{id}`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "school" => Ok(Place::School),
            "personal" => Ok(Place::Personal),
            other => other
                .strip_prefix("class:")
                .and_then(|id| ClassId::parse(id).ok())
                .map(Place::Class)
                .ok_or_else(|| AppError::bad("agenda-bad-place", format!("place {s:?}"))),
        }
    }

    pub(super) fn as_string(&self) -> String {
        match self {
            Place::School => "school".into(),
            Place::Personal => "personal".into(),
            Place::Class(id) => format!("class:{id}"),
        }
    }

    pub(super) fn of(dir: &Directory, partition: &Partition) -> Option<Self> {
        match partition {
            Partition::School(u) if dir.uai() == Some(u) => Some(Place::School),
            Partition::Staff(u) if dir.uai() == Some(u) => Some(Place::Personal),
            Partition::Class(..) => dir.class_of_partition(partition).map(|c| Place::Class(c.id.clone())),
            _ => None,
        }
    }

    pub(super) fn partition(&self, dir: &Directory) -> Result<Partition, AppError> {
        let uai = dir.uai().ok_or(AppError::NotFound)?.clone();
        Ok(match self {
            Place::School => Partition::School(uai),
            Place::Personal => Partition::Staff(uai),
            Place::Class(id) => class_partition(&uai, id),
        })
    }
}

/// Whether `user` writes events at `place`.
pub(super) fn writes(dir: &Directory, user: &UserId, place: &Place) -> bool {
    let Some(m) = dir.member(user).filter(|m| !m.person.archived) else { return false };
    match place {
        Place::School => m.profile == Profile::Director,
        Place::Class(id) => dir.classes.get(id).is_some_and(|c| dir.teaches(user, c)),
        Place::Personal => m.profile.is_staff(),
    }
}

/// The partitions whose events `reader` sees (personal events are filtered by owner).
pub(super) fn readable(dir: &Directory, reader: &Member) -> Vec<Place> {
    let mut places = vec![Place::School];
    if reader.profile.is_staff() {
        places.push(Place::Personal);
    }
    let classes: Vec<ClassId> = match reader.profile {
        Profile::Pupil => dir.class_of(reader).map(|c| c.id.clone()).into_iter().collect(),
        Profile::Parent => {
            dir.children_of(&reader.id).iter().filter_map(|c| dir.class_of(c)).map(|c| c.id.clone()).collect()
        }
        Profile::Director | Profile::Teacher => {
            dir.current_classes().into_iter().filter(|c| dir.teaches(&reader.id, c)).map(|c| c.id.clone()).collect()
        }
        Profile::Staff | Profile::AcademyAdmin => Vec::new(),
    };
    places.extend(classes.into_iter().map(Place::Class));
    places.dedup();
    places
}

/// Whether `after` may follow `before` in an event at `partition`: its editor writes there
/// (the director for the school, the class's teachers for a class, the owner alone for a
/// personal event); its author and owner never change; dates are real and in order.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &AgendaEvent,
    after: &AgendaEvent,
) -> Result<(), String> {
    if before == after {
        return Ok(());
    }
    let place = Place::of(dir, partition).ok_or_else(|| format!("{partition}: no event lives there"))?;
    let editor = UserId::parse(&after.edited_by).map_err(|_| "event without an editor".to_owned())?;
    if !writes(dir, &editor, &place) {
        return Err(format!("{editor} does not write this calendar"));
    }
    let new = before.author.is_empty();
    if (new && after.author != after.edited_by)
        || (!new && (after.author != before.author || after.owner != before.owner))
    {
        return Err("an event's author and owner never change".into());
    }
    if (place == Place::Personal) == after.owner.is_empty()
        || (place == Place::Personal && after.owner != after.edited_by)
    {
        return Err("personal events live in the staff room's partition, written by their owner only".into());
    }
    if !CATEGORIES.contains(&after.category.as_str()) || (after.category == "holiday" && place != Place::School) {
        return Err(format!("category {:?} here", after.category));
    }
    let (Ok(start), Ok(end)) = (text::date(&after.starts_on, "x"), text::date(&after.ends_on, "x")) else {
        return Err("dates are not real dates".into());
    };
    if end < start {
        return Err("the event ends before it starts".into());
    }
    Ok(())
}
