//! Who may do what, over the directory: the predicates the pages, the API and the rules of
//! the school's own parts share (each service keeps its own next to its rule).

use crate::platform::error::AppError;
use crate::school::directory::{Class, Profile};
use crate::web::SignedIn;

/// The director only.
pub fn director(user: &SignedIn) -> Result<(), AppError> {
    if user.profile == Profile::Director { Ok(()) } else { Err(AppError::Forbidden("director only".into())) }
}

/// The director, or a teacher of this class.
pub fn manages_class(user: &SignedIn, class: &Class) -> bool {
    user.profile == Profile::Director
        || (user.profile == Profile::Teacher && class.class.teachers.iter().any(|t| t == user.user.as_str()))
}

/// The director or a teacher: people whose own computer may hold a replica of their classes
/// (the desktop app). The director sees each such computer and may revoke it.
pub fn keeps_classes_offline(user: &SignedIn) -> Result<(), AppError> {
    match user.profile {
        Profile::Director | Profile::Teacher => Ok(()),
        _ => Err(AppError::Forbidden("only teachers and the director enrol their computers".into())),
    }
}
