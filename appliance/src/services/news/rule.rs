//! Where news documents live, who may do what, and the rule every change to them meets.

use super::*;

// ---- where posts go, and who reads and writes them ----

/// Where a post is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Everyone at the school (and, if public, anyone).
    School,
    /// Families and staff.
    Parents,
    /// The staff room.
    Staff,
    /// One class: its pupils, their families, its teachers.
    Class(ClassId),
}

impl Place {
    /// Parses `school`, `parents`, `staff` or `class:{id}`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "school" => Ok(Place::School),
            "parents" => Ok(Place::Parents),
            "staff" => Ok(Place::Staff),
            other => match other.strip_prefix("class:") {
                Some(id) => Ok(Place::Class(ClassId::parse(id).map_err(|_| bad_place(s))?)),
                None => Err(bad_place(s)),
            },
        }
    }

    /// The text form.
    pub fn as_string(&self) -> String {
        match self {
            Place::School => "school".into(),
            Place::Parents => "parents".into(),
            Place::Staff => "staff".into(),
            Place::Class(id) => format!("class:{id}"),
        }
    }

    pub(super) fn of(dir: &Directory, partition: &Partition, audience: &str) -> Option<Self> {
        match partition {
            Partition::School(u) if dir.uai() == Some(u) => {
                Some(if audience == "parents" { Place::Parents } else { Place::School })
            }
            Partition::Staff(u) if dir.uai() == Some(u) => Some(Place::Staff),
            Partition::Class(..) => dir.class_of_partition(partition).map(|c| Place::Class(c.id.clone())),
            _ => None,
        }
    }

    pub(super) fn partition(&self, dir: &Directory) -> Result<(Partition, &'static str), AppError> {
        let uai = dir.uai().ok_or(AppError::NotFound)?.clone();
        Ok(match self {
            Place::School => (Partition::School(uai), ""),
            Place::Parents => (Partition::School(uai), "parents"),
            Place::Staff => (Partition::Staff(uai), ""),
            Place::Class(id) => (class_partition(&uai, id), ""),
        })
    }
}

pub(super) fn bad_place(s: &str) -> AppError {
    AppError::bad("news-bad-place", format!("place {s:?}"))
}

/// Whether `user` publishes at `place`: the director anywhere; a teacher in the staff room
/// and in their classes.
pub fn writes(dir: &Directory, user: &UserId, place: &Place) -> bool {
    let Some(m) = dir.member(user).filter(|m| !m.person.archived) else { return false };
    match (m.profile, place) {
        (Profile::Director, _) => true,
        (Profile::Teacher, Place::Staff) => true,
        (Profile::Teacher, Place::Class(id)) => dir.classes.get(id).is_some_and(|c| dir.teaches(user, c)),
        _ => false,
    }
}

/// Whether `reader` reads posts at `place`.
pub(super) fn reads(dir: &Directory, reader: &Member, place: &Place) -> bool {
    match place {
        Place::School => true,
        Place::Parents => reader.profile == Profile::Parent || reader.profile.is_staff(),
        Place::Staff => reader.profile.is_staff(),
        Place::Class(id) => match reader.profile {
            Profile::Pupil => reader.person.class_id == id.as_str(),
            Profile::Parent => dir.children_of(&reader.id).iter().any(|c| c.person.class_id == id.as_str()),
            Profile::Director | Profile::Teacher => dir.classes.get(id).is_some_and(|c| dir.teaches(&reader.id, c)),
            Profile::Staff | Profile::AcademyAdmin => false,
        },
    }
}

/// Every place `user` writes to, for the form.
pub(super) fn writable_places(dir: &Directory, user: &UserId) -> Vec<Place> {
    let mut places = vec![Place::School, Place::Parents, Place::Staff];
    places.extend(dir.current_classes().into_iter().map(|c| Place::Class(c.id.clone())));
    places.retain(|p| writes(dir, user, p));
    places
}

pub(super) fn same_post(a: &NewsPost, b: &NewsPost) -> bool {
    a.photos == b.photos && same_text(a, b)
}

pub(super) fn same_text(a: &NewsPost, b: &NewsPost) -> bool {
    (
        &a.title,
        a.body.as_str(),
        &a.author,
        a.published_at,
        a.public,
        &a.audience,
        &a.edited_by,
        a.edited_at,
        a.withdrawn,
    ) == (
        &b.title,
        b.body.as_str(),
        &b.author,
        b.published_at,
        b.public,
        &b.audience,
        &b.edited_by,
        b.edited_at,
        b.withdrawn,
    )
}

/// Whether `after` may follow `before` in a post at `partition`: its editor publishes there
/// (see [`writes`]); its author never changes; only a post to the whole school is public.
pub fn check_change(dir: &Directory, partition: &Partition, before: &NewsPost, after: &NewsPost) -> Result<(), String> {
    if same_post(before, after) {
        return Ok(());
    }
    if !AUDIENCES.contains(&after.audience.as_str()) {
        return Err(format!("unknown audience {:?}", after.audience));
    }
    let place =
        Place::of(dir, partition, &after.audience).ok_or_else(|| format!("{partition}: no post lives there"))?;
    if !after.audience.is_empty() && !matches!(place, Place::Parents) {
        return Err("only school posts have an audience".into());
    }
    let editor = UserId::parse(&after.edited_by).map_err(|_| "post without an editor".to_owned())?;
    if !writes(dir, &editor, &place) {
        return Err(format!("{editor} does not publish here"));
    }
    let new = before.author.is_empty();
    if (new && after.author != after.edited_by) || (!new && after.author != before.author) {
        return Err("the post's author cannot be changed or borrowed".into());
    }
    if after.public && place != Place::School {
        return Err("only a post to the whole school can be public".into());
    }
    if after.photos.len() > MAX_PHOTOS {
        return Err(format!("{} photos", after.photos.len()));
    }
    for photo in &after.photos {
        if !crate::platform::files::is_reference(&photo.file) || !photo.file.mime.starts_with("image/") {
            return Err(format!("photo {}: not an image reference", photo.file.hash));
        }
        if let Some(p) = photo.pupils.iter().find(|p| !may_publish_photo_of(dir, p)) {
            return Err(format!("photo {}: no consent to publish photos of {p}", photo.file.hash));
        }
    }
    Ok(())
}

/// The pupils `user` may tag on photos: those of the classes they write for.
pub(super) fn photo_subjects(dir: &Directory, user: &UserId) -> Vec<(String, String, bool)> {
    dir.current_classes()
        .into_iter()
        .filter(|c| writes(dir, user, &Place::Class(c.id.clone())))
        .flat_map(|c| dir.pupils_of(&c.id))
        .map(|p| {
            (p.id.to_string(), format!("{} ({})", p.full_name(), p.person.level), p.person.photo_consent == Some(true))
        })
        .collect()
}

/// Whether a photo showing this pupil may be published: their family said yes (ONDE's
/// « Autorisations photos »); unknown is no.
pub(super) fn may_publish_photo_of(dir: &Directory, pupil: &str) -> bool {
    UserId::parse(pupil)
        .ok()
        .and_then(|p| dir.member(&p))
        .is_some_and(|m| m.profile == Profile::Pupil && m.person.photo_consent == Some(true))
}
