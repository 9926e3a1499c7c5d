//! Every local change to a replicated document goes through [`under_rule`].

use preau_sync::DocAddress;
use preau_sync::kinds::DocKind;

use crate::platform::error::AppError;
use crate::school::rule::Rule;
use crate::web::AppState;

/// Edits a document under its kind's rule: `edit` changes the state, then `rule` must
/// accept the result, or nothing is written (a refusal is a 403: the pages and the API
/// check permissions first, so reaching it means a bug or a forged request).
pub async fn under_rule<K: DocKind, R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    rule: Rule<K>,
    edit: impl FnOnce(&mut K::State) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError>
where
    K::State: Clone + 'static,
{
    let dir = state.directory();
    state
        .db
        .run(move |store| {
            store.try_change::<K, R, AppError>(&address, |doc| {
                let before = doc.clone();
                let result = edit(doc)?;
                rule(&dir, &address.partition, &before, doc)
                    .map_err(|detail| AppError::Forbidden(format!("{}: {detail}", address.kind)))?;
                Ok(result)
            })
        })
        .await
}
