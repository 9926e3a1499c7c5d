//! Thin changes laid out column by column for the wire.
//!
//! Each Automerge change stores its operations in columns (objects, keys, actions, values…),
//! but a bundle of changes written one after the other interleaves those columns: zstd
//! then meets an object counter, a key, a character, another counter… and finds few long
//! matches. Here every column of every change of a bundle is put after the same column of
//! the previous change, and the change headers (sequence, first operation, time) become
//! differences from the previous change. The transform is exact: the unpacked changes are
//! byte for byte the packed ones, and a change whose layout is not recognised, or would not
//! be rewritten identically, travels whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::replication::thin::{Dep, ThinChange, read_uleb, write_uleb};

/// The changes of a bundle, stream by stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packed {
    /// Each change's dependencies and actor index.
    links: Vec<u8>,
    /// Each change's header: its layout, sequence, first operation, time, message, other
    /// actors and trailing bytes (or the whole body, for a change that travels whole).
    heads: Vec<u8>,
    /// Each change's column list: how many, then each column's id and length.
    layouts: Vec<u8>,
    /// The data of each column id, every change's in turn.
    columns: Vec<(u64, Vec<u8>)>,
}

const WHOLE: u64 = 0;
const COLUMNAR: u64 = 1;

const GENESIS: u64 = 0;
const HELD: u64 = 1;
const HASH: u64 = 2;
/// `EARLIER + zigzag(i - 1 - j)` for a dependency on change `j` of the document's changes.
const EARLIER: u64 = 3;

/// The parts of a change body after its actor.
struct Body<'a> {
    seq: u64,
    start_op: u64,
    time: i64,
    message: &'a [u8],
    others: Vec<&'a [u8]>,
    columns: Vec<(u64, &'a [u8])>,
    extra: &'a [u8],
}

impl<'a> Body<'a> {
    fn parse(rest: &'a [u8]) -> Result<Self, String> {
        let mut r = Reader { bytes: rest, at: 0 };
        let seq = r.uleb()?;
        let start_op = r.uleb()?;
        let time = r.sleb()?;
        let message = r.bytes()?;
        let others = r.list()?;
        let mut layout = Vec::new();
        for _ in 0..r.uleb()? {
            layout.push((r.uleb()?, r.len()?));
        }
        let mut columns = Vec::with_capacity(layout.len());
        for (spec, len) in layout {
            columns.push((spec, r.take(len)?));
        }
        Ok(Body { seq, start_op, time, message, others, columns, extra: &rest[r.at..] })
    }

    fn write(&self, out: &mut Vec<u8>) {
        write_uleb(out, self.seq);
        write_uleb(out, self.start_op);
        write_sleb(out, self.time);
        write_bytes(out, self.message);
        write_list(out, &self.others);
        write_uleb(out, self.columns.len() as u64);
        for (spec, data) in &self.columns {
            write_uleb(out, *spec);
            write_uleb(out, data.len() as u64);
        }
        for (_, data) in &self.columns {
            out.extend_from_slice(data);
        }
        out.extend_from_slice(self.extra);
    }
}

/// The previous change's header, which the next one is written against.
#[derive(Default)]
struct Previous {
    seq: u64,
    start_op: u64,
    time: i64,
}

/// Packs the changes of a bundle's documents, in order.
pub fn pack<'a>(docs: impl IntoIterator<Item = &'a [ThinChange]>) -> Packed {
    let mut packed = Packed::default();
    let mut columns: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut prev = Previous::default();
    for changes in docs {
        for (i, change) in changes.iter().enumerate() {
            write_uleb(&mut packed.links, change.deps.len() as u64);
            for dep in &change.deps {
                match dep {
                    Dep::Genesis => write_uleb(&mut packed.links, GENESIS),
                    Dep::Held(prefix) => {
                        write_uleb(&mut packed.links, HELD);
                        packed.links.extend_from_slice(prefix);
                    }
                    Dep::Hash(hash) => {
                        write_uleb(&mut packed.links, HASH);
                        packed.links.extend_from_slice(hash);
                    }
                    Dep::Earlier(j) => {
                        write_uleb(&mut packed.links, EARLIER + zigzag(i as i64 - 1 - i64::from(*j)));
                    }
                }
            }
            write_uleb(&mut packed.links, u64::from(change.actor));

            let body = Body::parse(&change.rest).ok().filter(|body| {
                let mut again = Vec::with_capacity(change.rest.len());
                body.write(&mut again);
                again == change.rest
            });
            let Some(body) = body else {
                write_uleb(&mut packed.heads, WHOLE);
                write_bytes(&mut packed.heads, &change.rest);
                continue;
            };
            let heads = &mut packed.heads;
            write_uleb(heads, COLUMNAR);
            write_uleb(heads, zigzag(body.seq.wrapping_sub(prev.seq) as i64));
            write_uleb(heads, zigzag(body.start_op.wrapping_sub(prev.start_op) as i64));
            write_uleb(heads, zigzag(body.time.wrapping_sub(prev.time)));
            prev = Previous { seq: body.seq, start_op: body.start_op, time: body.time };
            write_bytes(heads, body.message);
            write_list(heads, &body.others);
            write_bytes(heads, body.extra);
            write_uleb(&mut packed.layouts, body.columns.len() as u64);
            for (spec, data) in &body.columns {
                write_uleb(&mut packed.layouts, *spec);
                write_uleb(&mut packed.layouts, data.len() as u64);
                columns.entry(*spec).or_default().extend_from_slice(data);
            }
        }
    }
    packed.columns = columns.into_iter().collect();
    packed
}

/// Unpacks the changes of documents holding `counts` changes each; every stream must be
/// used up exactly.
pub fn unpack(packed: &Packed, counts: &[u32]) -> Result<Vec<Vec<ThinChange>>, String> {
    let mut links = Reader { bytes: &packed.links, at: 0 };
    let mut heads = Reader { bytes: &packed.heads, at: 0 };
    let mut layouts = Reader { bytes: &packed.layouts, at: 0 };
    let mut columns: BTreeMap<u64, Reader<'_>> = BTreeMap::new();
    for (spec, data) in &packed.columns {
        if columns.insert(*spec, Reader { bytes: data, at: 0 }).is_some() {
            return Err(format!("column {spec} appears twice"));
        }
    }
    let mut prev = Previous::default();
    let mut docs = Vec::with_capacity(counts.len().min(packed.links.len()));
    for &count in counts {
        let mut changes = Vec::with_capacity((count as usize).min(links.remaining()));
        for i in 0..count {
            let mut deps = Vec::new();
            for _ in 0..links.uleb()? {
                deps.push(match links.uleb()? {
                    GENESIS => Dep::Genesis,
                    HELD => Dep::Held(links.take(8)?.try_into().map_err(|_| "prefix")?),
                    HASH => Dep::Hash(links.take(32)?.try_into().map_err(|_| "hash")?),
                    code => {
                        let back = unzigzag(code - EARLIER);
                        let j = i64::from(i).checked_sub(1).and_then(|i| i.checked_sub(back));
                        Dep::Earlier(
                            j.and_then(|j| u32::try_from(j).ok())
                                .ok_or_else(|| format!("change {i}: bad dependency"))?,
                        )
                    }
                });
            }
            let actor = u32::try_from(links.uleb()?).map_err(|_| "actor index")?;
            let rest = match heads.uleb()? {
                WHOLE => heads.bytes()?.to_vec(),
                COLUMNAR => {
                    let seq = prev.seq.wrapping_add(unzigzag(heads.uleb()?) as u64);
                    let start_op = prev.start_op.wrapping_add(unzigzag(heads.uleb()?) as u64);
                    let time = prev.time.wrapping_add(unzigzag(heads.uleb()?));
                    prev = Previous { seq, start_op, time };
                    let (message, others, extra) = (heads.bytes()?, heads.list()?, heads.bytes()?);
                    let mut body_columns = Vec::new();
                    for _ in 0..layouts.uleb()? {
                        let spec = layouts.uleb()?;
                        let len = usize::try_from(layouts.uleb()?).map_err(|_| "column length")?;
                        let column = columns.get_mut(&spec).ok_or_else(|| format!("no column {spec}"))?;
                        body_columns.push((spec, column.take(len)?));
                    }
                    let body = Body { seq, start_op, time, message, others, columns: body_columns, extra };
                    let mut rest = Vec::new();
                    body.write(&mut rest);
                    rest
                }
                layout => return Err(format!("unknown change layout {layout}")),
            };
            changes.push(ThinChange { deps, actor, rest });
        }
        docs.push(changes);
    }
    let unused = links.remaining() + heads.remaining() + layouts.remaining();
    let unused = unused + columns.values().map(Reader::remaining).sum::<usize>();
    if unused > 0 {
        return Err(format!("{unused} packed bytes belong to no change"));
    }
    Ok(docs)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn uleb(&mut self) -> Result<u64, String> {
        let (value, at) = read_uleb(self.bytes, self.at)?;
        self.at = at;
        Ok(value)
    }

    fn sleb(&mut self) -> Result<i64, String> {
        let mut value = 0i64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or("truncated integer")?;
            self.at += 1;
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift < 57 && byte & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err("integer too long".into())
    }

    /// A length, which must fit in what is left.
    fn len(&mut self) -> Result<usize, String> {
        let len = self.uleb()?;
        usize::try_from(len).ok().filter(|&len| len <= self.remaining()).ok_or_else(|| format!("length {len} too long"))
    }

    /// Length-prefixed bytes (see [`write_bytes`]).
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.len()?;
        self.take(len)
    }

    /// A count-prefixed list of length-prefixed bytes (see [`write_list`]).
    fn list(&mut self) -> Result<Vec<&'a [u8]>, String> {
        let count = self.uleb()?;
        (0..count).map(|_| self.bytes()).collect()
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len()).ok_or("truncated")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_uleb(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn write_list(out: &mut Vec<u8>, items: &[&[u8]]) {
    write_uleb(out, items.len() as u64);
    for item in items {
        write_bytes(out, item);
    }
}

fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ObjType, ROOT, ReadDoc};
    use proptest::prelude::*;

    use super::*;
    use crate::replication::thin::{Actors, HeldDeps, thin};

    /// Two documents' thin changes: text typed by two actors, a merge, values of every kind.
    fn sample() -> Vec<Vec<ThinChange>> {
        let mut actors = Actors::default();
        let mut docs = Vec::new();
        for n in 0..2 {
            let mut doc = Automerge::new();
            let genesis = doc.transact(|tx| tx.put_object(ROOT, "text", ObjType::Text)).unwrap().hash.unwrap();
            let text = doc.get(ROOT, "text").unwrap().unwrap().1;
            let mut other = doc.fork();
            for i in 0..5 {
                doc.transact(|tx| tx.splice_text(&text, 0, 0, &format!("école {i} "))).unwrap();
                other.transact(|tx| tx.put(ROOT, format!("k{i}"), i64::from(i) * 1_000_000 - 3)).unwrap();
            }
            doc.merge(&mut other).unwrap();
            doc.transact_with(
                |_| automerge::transaction::CommitOptions::default().with_message(format!("fusion {n}")).with_time(-5),
                |tx| tx.put(ROOT, "done", true),
            )
            .unwrap();
            let changes = doc.get_changes(&[genesis]);
            let held = if n == 0 { HeldDeps::Prefix } else { HeldDeps::Full };
            let (first, rest) = changes.split_at(3);
            // A delta on top of held changes, so that every kind of dependency appears.
            let _ = thin(first, genesis, &mut actors, held).unwrap();
            docs.push(thin(rest, genesis, &mut actors, held).unwrap());
        }
        // A body that is not a change layout travels whole.
        docs[1].push(ThinChange { deps: vec![Dep::Earlier(0)], actor: 1, rest: vec![0xff; 12] });
        docs
    }

    fn counts(docs: &[Vec<ThinChange>]) -> Vec<u32> {
        docs.iter().map(|d| d.len() as u32).collect()
    }

    #[test]
    fn unpacking_gives_back_the_exact_changes() {
        let docs = sample();
        let packed = pack(docs.iter().map(|d| &d[..]));
        assert!(packed.columns.len() > 5, "columns are gathered by id");
        assert_eq!(unpack(&packed, &counts(&docs)).unwrap(), docs);
        assert_eq!(unpack(&pack([]), &[]).unwrap(), Vec::<Vec<ThinChange>>::new());
    }

    #[test]
    fn inconsistent_streams_are_refused() {
        let docs = sample();
        let packed = pack(docs.iter().map(|d| &d[..]));
        let mut fewer = counts(&docs);
        fewer[1] -= 1;
        assert!(unpack(&packed, &fewer).unwrap_err().contains("belong to no change"));
        let mut more = counts(&docs);
        more[0] += 1;
        assert!(unpack(&packed, &more).is_err());
        let mut cut = packed.clone();
        cut.columns[0].1.pop();
        assert!(unpack(&cut, &counts(&docs)).is_err());
        let mut twice = packed.clone();
        twice.columns.push(twice.columns[0].clone());
        assert!(unpack(&twice, &counts(&docs)).unwrap_err().contains("twice"));
    }

    proptest! {
        #[test]
        fn any_streams_unpack_or_are_refused_without_panicking(
            links in proptest::collection::vec(any::<u8>(), 0..64),
            heads in proptest::collection::vec(any::<u8>(), 0..64),
            layouts in proptest::collection::vec(any::<u8>(), 0..32),
            column in proptest::collection::vec(any::<u8>(), 0..64),
            counts in proptest::collection::vec(0u32..4, 0..4),
        ) {
            let packed = Packed { links, heads, layouts, columns: vec![(2, column)] };
            let _ = unpack(&packed, &counts);
        }
    }
}
