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
