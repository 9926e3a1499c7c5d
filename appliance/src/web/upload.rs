//! Multipart forms (forms with files): their text fields and their files, read once with
//! the size limit of the request.

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{FromRequest, Multipart};

use crate::platform::error::AppError;

/// A file sent with a form.
pub struct Uploaded {
    /// The form field.
    pub field: String,
    /// The file's name on the sender's device.
    pub name: String,
    /// The media type the browser gave.
    pub mime: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A multipart form.
pub struct MultipartForm {
    /// Text fields, in order (a name may repeat).
    pub fields: Vec<(String, String)>,
    /// Files that were chosen (empty file inputs are left out).
    pub files: Vec<Uploaded>,
}

impl MultipartForm {
    /// Reads a whole form; more than `max_files` files is refused with `too_many`.
    pub async fn read(
        multipart: Result<Multipart, MultipartRejection>,
        max_files: usize,
        too_many: &'static str,
    ) -> Result<Self, AppError> {
        let mut multipart = multipart.map_err(|e| AppError::bad("error-bad-form", e.body_text()))?;
        let too_large = |e: MultipartError| AppError::bad("error-too-large", e.to_string());
        let mut form = Self { fields: Vec::new(), files: Vec::new() };
        while let Some(field) = multipart.next_field().await.map_err(too_large)? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(ToOwned::to_owned) {
                Some(file_name) => {
                    let mime = field.content_type().unwrap_or_default().to_owned();
                    let bytes = field.bytes().await.map_err(too_large)?;
                    if !bytes.is_empty() {
                        form.files.push(Uploaded { field: name, name: file_name, mime, bytes: bytes.to_vec() });
                    }
                }
                None => form.fields.push((name, field.text().await.map_err(too_large)?)),
            }
            if form.files.len() > max_files {
                return Err(AppError::bad(too_many, format!("more than {max_files} files")));
            }
        }
        Ok(form)
    }

    /// The first value of a text field (empty when absent).
    pub fn value(&self, name: &str) -> String {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every value of a text field.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

/// A form that may carry files (`multipart/form-data`) or not (urlencoded), once its CSRF
/// token is checked; at most 10 files.
pub struct FormWithFiles(pub MultipartForm);

impl<S: Send + Sync> FromRequest<S> for FormWithFiles {
    type Rejection = AppError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let ctx = req
            .extensions()
            .get::<super::Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("session layer missing".into()))?;
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let form = if multipart {
            let form =
                MultipartForm::read(Multipart::from_request(req, state).await, 10, "error-too-many-files").await?;
            ctx.check_csrf(&form.value("csrf"))?;
            form
        } else {
            let body = axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|e| AppError::bad("error-too-large", e.body_text()))?;
            MultipartForm { fields: ctx.form_pairs(&body)?, files: Vec::new() }
        };
        Ok(FormWithFiles(form))
    }
}
