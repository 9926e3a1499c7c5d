//! The replication messages. A session is always four messages, whatever the number of
//! documents: `Hello` → `Offer` → `AckAndBundle` → `Ack`.

use serde::{Deserialize, Serialize};

use crate::error::Refusal;
use crate::ids::{DocAddress, DocId, ReplicaId, Scope};
use crate::replication::frame;
use crate::replication::pack::{self, Packed};
use crate::replication::thin::{Actors, ThinChange};

/// Default cap on the change bytes of one bundle; beyond it the bundle is cut short
/// (`complete = false`) and the next session carries on from its watermark.
pub const BUNDLE_BUDGET_BYTES: usize = 24 << 20;

/// Protocol version spoken by this build.
pub const PROTOCOL_VERSION: u16 = 3;

/// Everything that travels between two replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Initiator → responder: who I am, what I hold, what I already have of yours.
    Hello(Hello),
    /// Responder → initiator: the same about the responder, and what the initiator lacks.
    Offer {
        /// The responder's hello.
        hello: Hello,
        /// Changes for the initiator.
        bundle: Bundle,
    },
    /// Initiator → responder: receipt of the offer (after commit) and what the responder lacks.
    AckAndBundle {
        /// Acknowledgement of the offer's bundle.
        ack: Ack,
        /// Changes for the responder.
        bundle: Bundle,
    },
    /// Responder → initiator: receipt of the initiator's bundle (after commit).
    Ack(Ack),
}

impl Message {
    /// Serialises and frames the message.
    pub fn encode(&self) -> Vec<u8> {
        encode_body(self)
    }

    /// Checks the frame and decodes the message.
    pub fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        decode_body(bytes)
    }

    /// The message's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "Hello",
            Message::Offer { .. } => "Offer",
            Message::AckAndBundle { .. } => "AckAndBundle",
            Message::Ack(_) => "Ack",
        }
    }
}

/// A replica introducing itself for one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol version.
    pub protocol: u16,
    /// Session id, chosen by the initiator.
    pub session: [u8; 16],
    /// The sender.
    pub from: ReplicaId,
    /// The partitions the sender holds.
    pub scope: Scope,
    /// The sender holds every shared document the recipient had changed up to this
    /// recipient-local sequence number...
    pub received_through: u64,
    /// ...for the shared scope with this fingerprint (otherwise the watermark is void).
    pub scope_tag: [u8; 16],
    /// Set when the sender saw a divergence: its full catalog of shared documents, so the
    /// recipient sends exactly what is missing instead of trusting its own records.
    pub catalog: Option<Vec<(DocId, Vec<[u8; 32]>)>>,
}

impl Bundle {
    /// Serialises and frames a bundle on its own (a bundle file, or an upload).
    pub fn encode(&self) -> Vec<u8> {
        encode_body(self)
    }

    /// Checks the frame and decodes a bundle.
    pub fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        decode_body(bytes)
    }
}

fn encode_body<T: Serialize>(value: &T) -> Vec<u8> {
    let body = postcard::to_allocvec(value).expect("serialising to memory cannot fail");
    frame::encode(&body)
}

fn decode_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let body = frame::decode(bytes)?;
    let (value, rest) = postcard::take_from_bytes(&body).map_err(|e| Refusal::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Refusal::Malformed(format!("{} bytes after the content", rest.len())));
    }
    Ok(value)
}

/// Changes for one peer, since what the sender believes the peer acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireBundle", try_from = "WireBundle")]
pub struct Bundle {
    /// Random id, for idempotent re-application.
    pub id: [u8; 16],
    /// Sender.
    pub from: ReplicaId,
    /// Intended recipient.
    pub to: ReplicaId,
    /// Fingerprint of the shared scope the bundle was built for.
    pub scope_tag: [u8; 16],
    /// Every shared document the sender changed up to this sender-local seq is covered.
    pub through: u64,
    /// False when a size limit cut the bundle short (another session follows).
    pub complete: bool,
    /// The actors of all the changes below.
    pub actors: Actors,
    /// The documents.
    pub docs: Vec<DocChanges>,
}

/// A bundle as it travels: its documents with their number of changes, and the changes of
/// all of them packed column by column (see [`pack`]).
#[derive(Serialize, Deserialize)]
struct WireBundle {
    id: [u8; 16],
    from: ReplicaId,
    to: ReplicaId,
    scope_tag: [u8; 16],
    through: u64,
    complete: bool,
    actors: Actors,
    docs: Vec<(DocTarget, u32)>,
    changes: Packed,
}

impl From<Bundle> for WireBundle {
    fn from(b: Bundle) -> Self {
        let changes = pack::pack(b.docs.iter().map(|d| &d.changes[..]));
        let docs = b.docs.into_iter().map(|d| (d.target, d.changes.len() as u32)).collect();
        let Bundle { id, from, to, scope_tag, through, complete, actors, .. } = b;
        WireBundle { id, from, to, scope_tag, through, complete, actors, docs, changes }
    }
}

impl TryFrom<WireBundle> for Bundle {
    type Error = String;

    fn try_from(w: WireBundle) -> Result<Self, String> {
        let counts: Vec<u32> = w.docs.iter().map(|(_, n)| *n).collect();
        let changes = pack::unpack(&w.changes, &counts)?;
        let docs =
            w.docs.into_iter().zip(changes).map(|((target, _), changes)| DocChanges { target, changes }).collect();
        let WireBundle { id, from, to, scope_tag, through, complete, actors, .. } = w;
        Ok(Bundle { id, from, to, scope_tag, through, complete, actors, docs })
    }
}

/// The changes of one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    /// Which document.
    pub target: DocTarget,
    /// Its changes since what the recipient is believed to hold, in causal order.
    pub changes: Vec<ThinChange>,
}

/// How a bundle names a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocTarget {
    /// A document the recipient is believed to hold, by the first 8 bytes of its id
    /// (resolved in the recipient's catalog; an ambiguous prefix counts as unknown).
    Known([u8; 8]),
    /// A document the recipient may not hold: its address, from which the recipient
    /// derives the id (so the partition cannot be forged).
    New(DocAddress),
}

impl DocTarget {
    /// How a document the recipient holds is named.
    pub fn known(id: DocId) -> Self {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&id.0[..8]);
        DocTarget::Known(prefix)
    }

    /// The first 8 bytes of the document's id, however it is named.
    pub fn prefix(&self) -> [u8; 8] {
        match self {
            DocTarget::Known(prefix) => *prefix,
            DocTarget::New(address) => DocTarget::known(address.id()).prefix(),
        }
    }
}

/// Receipt of a bundle, sent only after the recipient committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The bundle acknowledged.
    pub bundle: [u8; 16],
    /// Documents (id prefixes, as named in the bundle) whose changes could not be applied
    /// for lack of earlier history.
    pub missing: Vec<[u8; 8]>,
    /// Digest of the recipient's shared catalog after the commit.
    pub digest: [u8; 32],
    /// True when, since the session began, the recipient's shared documents changed only
    /// through this session: only then does a digest mismatch prove a divergence.
    pub quiet: bool,
    /// Documents the recipient refused (their rules, schema or bytes): nothing of them was
    /// applied, the rest of the bundle was.
    pub refused: Vec<DocRefusal>,
}

/// A document of a bundle that its recipient refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRefusal {
    /// The document's id prefix, as named in the bundle.
    pub doc: [u8; 8],
    /// The refusal, as the recipient logs it.
    pub reason: String,
}
