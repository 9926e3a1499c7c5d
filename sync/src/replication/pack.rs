//! Thin changes laid out column by column for the wire.
//!
//! Each Automerge change stores its operations in columns (objects, keys, actions, values…),
//! but a bundle of changes written one after the other interleaves those columns: zstd
//! then meets an object counter, a key, a character, another counter… and finds few long
//! matches. Here every column of every change of a bundle is put after the same column of
//! the previous change, and what a change repeats of the ones before is left out: its
//! sequence and time are differences from the previous change's, its first operation a
//! difference from where the previous change ended, its other actors numbers once sent,
//! and three of its columns are rewritten (see `columns.rs`). The transform is exact: the
//! unpacked changes are byte for byte the packed ones, and a change whose layout is not
//! recognised, or would not be rewritten identically, travels whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::replication::columns;
use crate::replication::thin::{Dep, ThinChange};
use crate::replication::varint::{Reader, unzigzag, write_bytes, write_list, write_sleb, write_uleb, zigzag};

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
        let mut r = Reader::new(rest);
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
        Ok(Body { seq, start_op, time, message, others, columns, extra: r.rest() })
    }

    /// What its columns are modelled against.
    fn change(&self) -> columns::Change<'a> {
        let raw = self.columns.iter().find(|(spec, _)| *spec == columns::VALUE_RAW).map_or(&[][..], |c| c.1);
        columns::Change { start_op: self.start_op, raw }
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
    /// Its first operation plus its number of operations: the next change of the same
    /// document by the same actor starts there.
    next_op: u64,
    time: i64,
}

impl Previous {
    fn of(body: &Body<'_>) -> Self {
        let ops = body.columns.iter().find(|c| c.0 == columns::ACTION).and_then(|c| columns::count(c.1));
        Previous { seq: body.seq, next_op: body.start_op.wrapping_add(ops.unwrap_or(0)), time: body.time }
    }
}

/// Actors other than a change's own, each sent once per bundle and then by number (the
/// actor who created a document appears in most changes made to it).
#[derive(Default)]
struct Others<'a>(Vec<&'a [u8]>);

impl<'a> Others<'a> {
    fn write(&mut self, out: &mut Vec<u8>, others: &[&'a [u8]]) {
        write_uleb(out, others.len() as u64);
        for &actor in others {
            match self.0.iter().position(|&known| known == actor) {
                Some(i) => write_uleb(out, i as u64 + 1),
                None => {
                    write_uleb(out, 0);
                    write_bytes(out, actor);
                    self.0.push(actor);
                }
            }
        }
    }

    fn read(&mut self, r: &mut Reader<'a>) -> Result<Vec<&'a [u8]>, String> {
        (0..r.uleb()?)
            .map(|_| match r.uleb()? {
                0 => {
                    let actor = r.bytes()?;
                    self.0.push(actor);
                    Ok(actor)
                }
                i => usize::try_from(i - 1)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or_else(|| format!("no actor {i}")),
            })
            .collect()
    }
}

/// Packs the changes of a bundle's documents, in order.
pub fn pack<'a>(docs: impl IntoIterator<Item = &'a [ThinChange]>) -> Packed {
    let mut packed = Packed::default();
    let mut streams: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut prev = Previous::default();
    let mut others = Others::default();
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
            let wire = body.as_ref().and_then(|body| {
                let change = body.change();
                body.columns.iter().map(|&(spec, data)| columns::model(spec, data, &change)).collect::<Option<Vec<_>>>()
            });
            let (Some(body), Some(wire)) = (body, wire) else {
                write_uleb(&mut packed.heads, WHOLE);
                write_bytes(&mut packed.heads, &change.rest);
                continue;
            };
            let heads = &mut packed.heads;
            write_uleb(heads, COLUMNAR);
            write_uleb(heads, zigzag(body.seq.wrapping_sub(prev.seq) as i64));
            write_uleb(heads, zigzag(body.start_op.wrapping_sub(prev.next_op) as i64));
            write_uleb(heads, zigzag(body.time.wrapping_sub(prev.time)));
            prev = Previous::of(&body);
            write_bytes(heads, body.message);
            others.write(heads, &body.others);
            write_bytes(heads, body.extra);
            write_uleb(&mut packed.layouts, body.columns.len() as u64);
            for ((spec, _), data) in body.columns.iter().zip(wire) {
                write_uleb(&mut packed.layouts, *spec);
                write_uleb(&mut packed.layouts, data.len() as u64);
                streams.entry(*spec).or_default().extend_from_slice(&data);
            }
        }
    }
    packed.columns = streams.into_iter().collect();
    packed
}

/// Unpacks the changes of documents holding `counts` changes each; every stream must be
/// used up exactly.
pub fn unpack(packed: &Packed, counts: &[u32]) -> Result<Vec<Vec<ThinChange>>, String> {
    let mut links = Reader::new(&packed.links);
    let mut heads = Reader::new(&packed.heads);
    let mut layouts = Reader::new(&packed.layouts);
    let mut streams: BTreeMap<u64, Reader<'_>> = BTreeMap::new();
    for (spec, data) in &packed.columns {
        if streams.insert(*spec, Reader::new(data)).is_some() {
            return Err(format!("column {spec} appears twice"));
        }
    }
    let mut prev = Previous::default();
    let mut others = Others::default();
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
                    let start_op = prev.next_op.wrapping_add(unzigzag(heads.uleb()?) as u64);
                    let time = prev.time.wrapping_add(unzigzag(heads.uleb()?));
                    let (message, others, extra) = (heads.bytes()?, others.read(&mut heads)?, heads.bytes()?);
                    let mut wire = Vec::new();
                    for _ in 0..layouts.uleb()? {
                        let spec = layouts.uleb()?;
                        let len = usize::try_from(layouts.uleb()?).map_err(|_| "column length")?;
                        let column = streams.get_mut(&spec).ok_or_else(|| format!("no column {spec}"))?;
                        wire.push((spec, column.take(len)?));
                    }
                    let mut body = Body { seq, start_op, time, message, others, columns: wire, extra };
                    let change = body.change();
                    let data = body
                        .columns
                        .iter()
                        .map(|&(spec, data)| columns::unmodel(spec, data, &change))
                        .collect::<Result<Vec<_>, _>>()?;
                    for ((_, column), data) in body.columns.iter_mut().zip(&data) {
                        *column = &**data;
                    }
                    prev = Previous::of(&body);
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
    let unused = unused + streams.values().map(Reader::remaining).sum::<usize>();
    if unused > 0 {
        return Err(format!("{unused} packed bytes belong to no change"));
    }
    Ok(docs)
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
                doc.transact(|tx| tx.splice_text(&text, 0, 0, &format!("école {i} ").repeat(20))).unwrap();
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
    fn counters_and_character_lengths_travel_modelled() {
        let docs = sample();
        let packed = pack(docs.iter().map(|d| &d[..]));
        let bodies: Vec<Body<'_>> = docs.iter().flatten().filter_map(|c| Body::parse(&c.rest).ok()).collect();
        // (The sample's objects are all old ones: their counters stay absolute.)
        for spec in [0x13, 0x56] {
            let automerge: usize =
                bodies.iter().flat_map(|b| &b.columns).filter(|c| c.0 == spec).map(|c| c.1.len()).sum();
            let wire = packed.columns.iter().find(|c| c.0 == spec).map_or(0, |c| c.1.len());
            assert!(wire < automerge, "column {spec:#x}: {wire} bytes on the wire, {automerge} as Automerge wrote it");
        }
    }

    #[test]
    fn a_column_that_cannot_be_modelled_sends_its_change_whole() {
        let mut docs = sample();
        let change = &docs[0][1];
        let mut body = Body::parse(&change.rest).unwrap();
        let meta = body.columns.iter_mut().find(|c| c.0 == 0x56).expect("a value metadata column");
        // A run of five values whose value is missing: not Automerge's encoding.
        meta.1 = &[0x05];
        let mut rest = Vec::new();
        body.write(&mut rest);
        let odd = ThinChange { deps: change.deps.clone(), actor: change.actor, rest };
        docs[0].push(odd);
        let packed = pack(docs.iter().map(|d| &d[..]));
        assert_eq!(unpack(&packed, &counts(&docs)).unwrap(), docs);
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
