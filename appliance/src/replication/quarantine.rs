//! Quarantine: bundles whose documents broke the rules, kept aside with the reason. Nothing
//! of a refused document is applied; the bytes stay for inspection until an administrator
//! discards them, or newer refusals push them out.

use preau_sync::ReplicaId;

use super::links::Quarantined;
use crate::platform::error::AppError;

/// The refused documents of a bundle, in one line (`None` when nothing was refused).
pub fn refusals(refused: &[preau_sync::replication::DocRefusal]) -> Option<String> {
    let reasons: Vec<&str> = refused.iter().map(|r| r.reason.as_str()).collect();
    (!reasons.is_empty()).then(|| reasons.join(" ; "))
}

/// Keeps a bundle with refused documents for inspection (newest
/// [`super::links::QUARANTINE_KEPT`]), with why they were refused.
pub async fn keep(links: &super::Links, data_dir: &std::path::Path, peer: ReplicaId, reason: &str, bytes: &[u8]) {
    let at = crate::platform::clock::now_ms();
    let dir = data_dir.join("quarantine");
    let file = dir.join(format!("{at}-{peer}.bundle"));
    let write = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(&file, bytes).await
    };
    if let Err(e) = write.await {
        tracing::error!(error = %e, "could not keep a quarantined bundle");
    }
    let entry =
        Quarantined { id: 0, peer: peer.to_string(), at, reason: reason.to_owned(), file: file.display().to_string() };
    match links.quarantine(&entry) {
        Ok(old) => old.iter().for_each(|f| drop(std::fs::remove_file(f))),
        Err(e) => tracing::error!(error = %e, "could not record a quarantined bundle"),
    }
    tracing::warn!(%peer, %reason, "refused changes quarantined: nothing of them applied");
}

/// Discards a quarantined bundle and its bytes; false if there was none with this number.
pub fn discard(links: &super::Links, id: i64) -> Result<bool, AppError> {
    let Some(file) = links.discard_quarantined(id)? else { return Ok(false) };
    if let Err(e) = std::fs::remove_file(&file) {
        tracing::warn!(error = %e, %file, "could not delete a quarantined bundle");
    }
    Ok(true)
}
