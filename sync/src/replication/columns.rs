//! Three of Automerge's operation columns rewritten so that what they repeat is not sent.
//!
//! A school day is mostly typed text: one operation per character, each naming its text
//! object and the character before it by operation counter, and each with a value length.
//! As Automerge writes them, those counters are large absolute numbers that differ from one
//! change to the next, and the value lengths break their runs at every accented letter. On
//! the wire:
//! - object counters are written relative to the change's first operation when that is
//!   shorter (the objects a change writes in are mostly ones it just created);
//! - in delta-coded counter columns (keys, predecessors), a lone jump is written as the
//!   counter it lands on, absolute or relative to the change's first operation, whichever
//!   is shortest;
//! - the length of a one-character string value is left out: the first byte of its UTF-8
//!   gives it back.
//!
//! Every rewrite has an exact inverse; [`super::pack`] checks it on each change before
//! sending, and sends the change unmodelled otherwise.

use std::borrow::Cow;

use crate::replication::varint::{Reader, unzigzag, write_sleb, write_uleb, zigzag};

/// Column specs (column id << 4 | type), as in Automerge's change format.
const OBJ_CTR: u64 = 0x02;
const KEY_CTR: u64 = 0x13;
const PRED_CTR: u64 = 0x73;
const VALUE_META: u64 = 0x56;
pub(super) const VALUE_RAW: u64 = 0x57;
pub(super) const ACTION: u64 = 0x42;

/// Value type of a UTF-8 string in a value metadata entry (`length << 4 | type`).
const UTF8: u64 = 6;

/// More literal values than any change of a bundle holds: beyond, a column is refused.
const MAX_VALUES: u64 = 1 << 22;

/// What a change's columns are rewritten against.
pub(super) struct Change<'a> {
    /// The counter of the change's first operation.
    pub start_op: u64,
    /// The change's raw values (column [`VALUE_RAW`]).
    pub raw: &'a [u8],
}

/// The wire form of a column (the column itself when its spec is not modelled), or `None`
/// when its rewrite would not give it back byte for byte.
pub(super) fn model<'a>(spec: u64, data: &'a [u8], change: &Change<'_>) -> Option<Cow<'a, [u8]>> {
    let rewritten = match spec {
        OBJ_CTR => counters(data, |v| object_code(v, change.start_op)),
        KEY_CTR | PRED_CTR => deltas(data, Direction::Model, change.start_op),
        VALUE_META => value_lengths(data, Direction::Model, change.raw),
        _ => return Some(Cow::Borrowed(data)),
    };
    let rewritten = rewritten.ok()?;
    (*unmodel(spec, &rewritten, change).ok()? == *data).then_some(Cow::Owned(rewritten))
}

/// The column Automerge wrote, from its wire form; columns that are not modelled are
/// returned as they are.
pub(super) fn unmodel<'a>(spec: u64, data: &'a [u8], change: &Change<'_>) -> Result<Cow<'a, [u8]>, String> {
    let rewritten = match spec {
        OBJ_CTR => counters(data, |code| object_counter(code, change.start_op)),
        KEY_CTR | PRED_CTR => deltas(data, Direction::Unmodel, change.start_op),
        VALUE_META => value_lengths(data, Direction::Unmodel, change.raw),
        _ => return Ok(Cow::Borrowed(data)),
    };
    rewritten.map(Cow::Owned)
}

/// The number of values of a run-length column (of a change's action column: its number of
/// operations), or `None` if it does not read as one.
pub(super) fn count(data: &[u8]) -> Option<u64> {
    let mut next = tokens(data, Reader::uleb);
    let mut count = 0u64;
    while let Some(token) = next().ok()? {
        let n = match token {
            Token::Nulls(n) => n,
            Token::Run(n, _) => n as u64,
            Token::Literal(values) => values.len() as u64,
        };
        count = count.checked_add(n)?;
    }
    Some(count)
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Model,
    Unmodel,
}

/// `2v` for an absolute counter, `2·zigzag(v − start) + 1` for one near the change's start,
/// whichever is smaller.
fn object_code(v: u64, start: u64) -> Result<u64, String> {
    let absolute = v.checked_mul(2);
    let relative = zigzag(v.wrapping_sub(start) as i64).checked_mul(2).and_then(|c| c.checked_add(1));
    absolute.into_iter().chain(relative).min().ok_or_else(|| format!("object counter {v} too large"))
}

fn object_counter(code: u64, start: u64) -> Result<u64, String> {
    Ok(if code & 1 == 0 { code / 2 } else { start.wrapping_add(unzigzag(code / 2) as u64) })
}

/// One run-length token of an Automerge column: a run of one value, literal values, or nulls.
enum Token<T> {
    Run(i64, T),
    Literal(Vec<T>),
    Nulls(u64),
}

/// Reads run-length tokens whose values `value` reads.
fn tokens<'a, T>(
    data: &'a [u8],
    mut value: impl FnMut(&mut Reader<'a>) -> Result<T, String>,
) -> impl FnMut() -> Result<Option<Token<T>>, String> {
    let mut r = Reader::new(data);
    move || {
        if r.remaining() == 0 {
            return Ok(None);
        }
        Ok(Some(match r.sleb()? {
            0 => Token::Nulls(r.uleb()?),
            n if n > 0 => Token::Run(n, value(&mut r)?),
            n => {
                let count = n.unsigned_abs();
                if count > MAX_VALUES {
                    return Err(format!("literal run of {count} values"));
                }
                Token::Literal((0..count).map(|_| value(&mut r)).collect::<Result<_, _>>()?)
            }
        }))
    }
}

/// Rewrites a run-length column token by token (runs stay runs, literal values literal,
/// nulls nulls). `value` reads a value; `map` writes its replacement, given the length of
/// its run (`None` for a literal value).
fn rewrite<'a>(
    data: &'a [u8],
    value: impl FnMut(&mut Reader<'a>) -> Result<u64, String>,
    mut map: impl FnMut(&mut Vec<u8>, u64, Option<i64>) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let mut next = tokens(data, value);
    let mut out = Vec::with_capacity(data.len());
    while let Some(token) = next()? {
        match token {
            Token::Nulls(n) => {
                write_sleb(&mut out, 0);
                write_uleb(&mut out, n);
            }
            Token::Run(n, v) => {
                write_sleb(&mut out, n);
                map(&mut out, v, Some(n))?;
            }
            Token::Literal(values) => {
                write_sleb(&mut out, -(values.len() as i64));
                for v in values {
                    map(&mut out, v, None)?;
                }
            }
        }
    }
    Ok(out)
}

/// Rewrites each value of an unsigned run-length column on its own (`map` must be
/// injective, so runs stay runs).
fn counters(data: &[u8], map: impl Fn(u64) -> Result<u64, String>) -> Result<Vec<u8>, String> {
    rewrite(data, Reader::uleb, |out, v, _| {
        write_uleb(out, map(v)?);
        Ok(())
    })
}

/// Rewrites a delta-coded column. A run keeps its delta (`3·zigzag(d)`); a literal value
/// becomes the smallest of its delta, the counter it lands on (`3t + 1`), or that counter
/// relative to the change's start (`3·zigzag(t − start) + 2`).
fn deltas(data: &[u8], direction: Direction, start: u64) -> Result<Vec<u8>, String> {
    // The counter reached so far, as Automerge's delta decoder keeps it.
    let mut at = 0i64;
    let read = match direction {
        Direction::Model => |r: &mut Reader<'_>| r.sleb().map(|d| d as u64),
        Direction::Unmodel => |r: &mut Reader<'_>| r.uleb(),
    };
    rewrite(data, read, |out, v, run| {
        let delta = match direction {
            Direction::Model => {
                let delta = v as i64;
                write_uleb(out, delta_code(delta, at, start, run.is_none()).ok_or("counter too large")?);
                delta
            }
            Direction::Unmodel => {
                let delta = code_delta(v, at, start, run.is_none()).ok_or("a run of counters that are not deltas")?;
                write_sleb(out, delta);
                delta
            }
        };
        at = at.wrapping_add(delta.wrapping_mul(run.unwrap_or(1)));
        Ok(())
    })
}

fn delta_code(delta: i64, at: i64, start: u64, lone: bool) -> Option<u64> {
    let as_delta = zigzag(delta).checked_mul(3);
    if !lone {
        return as_delta;
    }
    let target = at.wrapping_add(delta);
    let absolute = u64::try_from(target).ok().and_then(|t| t.checked_mul(3)?.checked_add(1));
    let relative = zigzag(target.wrapping_sub(start as i64)).checked_mul(3).and_then(|c| c.checked_add(2));
    [as_delta, absolute, relative].into_iter().flatten().min()
}

fn code_delta(code: u64, at: i64, start: u64, lone: bool) -> Option<i64> {
    let target = match (code % 3, lone) {
        (0, _) => return Some(unzigzag(code / 3)),
        (_, false) => return None,
        (1, true) => (code / 3) as i64,
        (_, true) => (start as i64).wrapping_add(unzigzag(code / 3)),
    };
    Some(target.wrapping_sub(at))
}

/// Rewrites the value metadata column: a one-character string's entry becomes 0, any other
/// entry `m` becomes `m + 1`. Runs are re-formed both ways as Automerge forms them, so a
/// text's characters make one run whatever their UTF-8 lengths.
fn value_lengths(data: &[u8], direction: Direction, raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut next = tokens(data, Reader::uleb);
    let mut out = RleWriter::default();
    let mut offset = 0usize;
    // One entry's replacement, once checked against the raw bytes its value takes.
    let mut one = |meta: u64| -> Result<u64, String> {
        let lead = raw.get(offset).copied();
        let (written, original) = match direction {
            Direction::Model => {
                let implied = meta & 0xf == UTF8 && lead.and_then(utf8_len) == Some(meta >> 4);
                (if implied { 0 } else { meta.checked_add(1).ok_or("value metadata too large")? }, meta)
            }
            Direction::Unmodel => match meta {
                0 => {
                    let len = lead.and_then(utf8_len).ok_or("an implied length without a character")?;
                    (len << 4 | UTF8, len << 4 | UTF8)
                }
                meta => (meta - 1, meta - 1),
            },
        };
        offset = usize::try_from(original >> 4)
            .ok()
            .and_then(|len| offset.checked_add(len))
            .filter(|&end| end <= raw.len())
            .ok_or("values longer than the raw column")?;
        Ok(written)
    };
    while let Some(token) = next()? {
        match token {
            Token::Nulls(n) => out.push_run(None, n)?,
            Token::Run(n, v) => {
                // Entries whose values take no bytes are rewritten once for the whole run;
                // the others each take at least one raw byte, which bounds the loop.
                let empty = match direction {
                    Direction::Model => v >> 4 == 0,
                    Direction::Unmodel => v != 0 && (v - 1) >> 4 == 0,
                };
                if empty {
                    out.push_run(Some(one(v)?), n as u64)?;
                } else {
                    for _ in 0..n {
                        out.push(Some(one(v)?));
                    }
                }
            }
            Token::Literal(values) => {
                for v in values {
                    out.push(Some(one(v)?));
                }
            }
        }
    }
    Ok(out.finish())
}

/// The length of the UTF-8 character a byte starts.
fn utf8_len(lead: u8) -> Option<u64> {
    match lead.leading_ones() {
        0 => Some(1),
        n @ 2..=4 => Some(u64::from(n)),
        _ => None,
    }
}

/// Automerge's run-length encoder for unsigned columns, state for state: runs of two or
/// more equal values, literal runs of differing values, null runs (none at all when the
/// column holds only nulls).
#[derive(Default)]
struct RleWriter {
    out: Vec<u8>,
    state: State,
}

#[derive(Default)]
enum State {
    #[default]
    Empty,
    InitialNulls(u64),
    Nulls(u64),
    Lone(u64),
    Run(u64, i64),
    Literal(Vec<u64>, u64),
}

impl RleWriter {
    fn push(&mut self, value: Option<u64>) {
        self.state = match (std::mem::take(&mut self.state), value) {
            (State::Empty, None) => State::InitialNulls(1),
            (State::InitialNulls(n), None) => State::InitialNulls(n.saturating_add(1)),
            (State::Nulls(n), None) => State::Nulls(n.saturating_add(1)),
            (state, None) => {
                self.flush(state);
                State::Nulls(1)
            }
            (State::Empty, Some(v)) => State::Lone(v),
            (State::Lone(other), Some(v)) if other == v => State::Run(v, 2),
            (State::Lone(other), Some(v)) => State::Literal(vec![other], v),
            (State::Run(other, n), Some(v)) if other == v => State::Run(v, n.saturating_add(1)),
            (State::Literal(run, last), Some(v)) if last == v => {
                self.literal(&run);
                State::Run(v, 2)
            }
            (State::Literal(mut run, last), Some(v)) => {
                run.push(last);
                State::Literal(run, v)
            }
            (state, Some(v)) => {
                self.flush(state);
                State::Lone(v)
            }
        };
    }

    /// `n` times the same value, in constant time.
    fn push_run(&mut self, value: Option<u64>, n: u64) -> Result<(), String> {
        for _ in 0..n.min(2) {
            self.push(value);
        }
        let more = n.saturating_sub(2);
        // Two equal values in a row leave a run (of nulls or of the value) open.
        let longer = match &mut self.state {
            State::InitialNulls(k) | State::Nulls(k) => k.checked_add(more).map(|sum| *k = sum),
            State::Run(_, k) => i64::try_from(more).ok().and_then(|more| k.checked_add(more)).map(|sum| *k = sum),
            _ => Some(()),
        };
        longer.ok_or_else(|| "a run too long".into())
    }

    fn flush(&mut self, state: State) {
        match state {
            State::Empty => {}
            State::InitialNulls(n) | State::Nulls(n) => {
                write_sleb(&mut self.out, 0);
                write_uleb(&mut self.out, n);
            }
            State::Lone(v) => self.literal(&[v]),
            State::Run(v, n) => {
                write_sleb(&mut self.out, n);
                write_uleb(&mut self.out, v);
            }
            State::Literal(mut run, last) => {
                run.push(last);
                self.literal(&run);
            }
        }
    }

    fn literal(&mut self, values: &[u64]) {
        write_sleb(&mut self.out, -(values.len() as i64));
        for &v in values {
            write_uleb(&mut self.out, v);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        match std::mem::take(&mut self.state) {
            // A column of nulls only is written as nothing.
            State::InitialNulls(_) => {}
            state => self.flush(state),
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rle(values: &[Option<u64>]) -> Vec<u8> {
        let mut w = RleWriter::default();
        values.iter().for_each(|&v| w.push(v));
        w.finish()
    }

    #[test]
    fn runs_are_formed_as_automerge_forms_them() {
        assert_eq!(rle(&[Some(1), Some(1), Some(1)]), [3, 1]);
        assert_eq!(rle(&[Some(1), Some(2), Some(3)]), [0x7d, 1, 2, 3]);
        assert_eq!(rle(&[Some(1), Some(2), Some(2)]), [0x7f, 1, 2, 2]);
        assert_eq!(rle(&[None, None, Some(5), None]), [0, 2, 0x7f, 5, 0, 1]);
        assert_eq!(rle(&[None, None]), [] as [u8; 0]);
        assert_eq!(rle(&[Some(200)]), [0x7f, 0xc8, 0x01]);
    }

    #[test]
    fn one_character_strings_lose_their_length_and_get_it_back() {
        // "é", "t", "é" typed one by one, then the string "été" and the integer 7.
        let raw = "étéété\u{7}".as_bytes();
        let metas =
            [Some(2 << 4 | UTF8), Some(1 << 4 | UTF8), Some(2 << 4 | UTF8), Some(5 << 4 | UTF8), Some(1 << 4 | 3)];
        let column = rle(&metas);
        let change = Change { start_op: 1, raw };
        let wire = model(VALUE_META, &column, &change).unwrap();
        assert_eq!(wire[..], rle(&[Some(0), Some(0), Some(0), Some((5 << 4 | UTF8) + 1), Some((1 << 4 | 3) + 1)]));
        assert_eq!(unmodel(VALUE_META, &wire, &change).unwrap(), column);
        // Lengths beyond the raw values are not Automerge's: the column is not modelled.
        assert!(model(VALUE_META, &column, &Change { start_op: 1, raw: &raw[..4] }).is_none());
    }

    #[test]
    fn long_runs_of_values_without_bytes_are_rewritten_without_being_expanded() {
        // 2^62 nulls, then 2^62 − 1 times `false`, from a peer: a few bytes each way, at once.
        let mut column = Vec::new();
        write_sleb(&mut column, 0);
        write_uleb(&mut column, 1 << 62);
        write_sleb(&mut column, (1 << 62) - 1);
        write_uleb(&mut column, 1);
        let change = Change { start_op: 1, raw: &[] };
        let wire = model(VALUE_META, &column, &change).unwrap();
        assert_eq!(unmodel(VALUE_META, &wire, &change).unwrap(), column);
        // A run of characters longer than the raw column is refused as soon as it runs out.
        let mut chars = Vec::new();
        write_sleb(&mut chars, i64::MAX);
        write_uleb(&mut chars, 0);
        assert!(unmodel(VALUE_META, &chars, &Change { start_op: 1, raw: b"abc" }).is_err());
    }

    #[test]
    fn counters_near_the_change_start_are_written_relative_to_it() {
        let start = 1_000_000;
        // Objects created by the change itself, and the root's child created long ago.
        let column = rle(&[Some(start), Some(start), Some(start + 3), Some(2)]);
        let change = Change { start_op: start, raw: &[] };
        let wire = model(OBJ_CTR, &column, &change).unwrap();
        assert_eq!(wire[..], rle(&[Some(1), Some(1), Some(13), Some(4)]));
        assert_eq!(unmodel(OBJ_CTR, &wire, &change).unwrap(), column);
        // A counter no code can hold (from a peer's change, say) leaves the column as it is.
        let huge = rle(&[Some(1 << 63)]);
        assert!(model(OBJ_CTR, &huge, &Change { start_op: 0, raw: &[] }).is_none());

        // Keys of typed characters: HEAD (0), then each the one before, as deltas.
        let mut keys = Vec::new();
        for token in [-2i64, 0, (start + 5) as i64, 3, 1] {
            write_sleb(&mut keys, token);
        }
        let wire = model(KEY_CTR, &keys, &change).unwrap();
        assert!(wire.len() < keys.len(), "{wire:?} against {keys:?}");
        assert_eq!(unmodel(KEY_CTR, &wire, &change).unwrap(), keys);
    }

    proptest! {
        #[test]
        fn any_column_models_exactly_or_not_at_all_and_never_panics(
            spec in prop::sample::select(vec![OBJ_CTR, KEY_CTR, PRED_CTR, VALUE_META, VALUE_RAW]),
            data in proptest::collection::vec(any::<u8>(), 0..48),
            raw in proptest::collection::vec(any::<u8>(), 0..16),
            start_op in any::<u64>(),
        ) {
            let change = Change { start_op, raw: &raw };
            if let Some(wire) = model(spec, &data, &change) {
                prop_assert_eq!(unmodel(spec, &wire, &change).unwrap(), data.clone());
            }
            let _ = unmodel(spec, &data, &change);
        }
    }
}
