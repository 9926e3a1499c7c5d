//! The primitives of the packed wire forms: LEB128 integers (unsigned, signed, zigzag) and
//! length-prefixed bytes, written and read back with every length checked against what is
//! left.

/// An unsigned LEB128 integer at `at`, and where the next item starts.
pub(crate) fn read_uleb(bytes: &[u8], mut at: usize) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at).ok_or("truncated integer")?;
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((value, at));
        }
    }
    Err("integer too long".into())
}

pub(crate) fn write_uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads the primitives back from `bytes`, in order, refusing what is truncated or too long.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    pub(crate) fn uleb(&mut self) -> Result<u64, String> {
        let (value, at) = read_uleb(self.bytes, self.at)?;
        self.at = at;
        Ok(value)
    }

    pub(crate) fn sleb(&mut self) -> Result<i64, String> {
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
    pub(crate) fn len(&mut self) -> Result<usize, String> {
        let len = self.uleb()?;
        usize::try_from(len).ok().filter(|&len| len <= self.remaining()).ok_or_else(|| format!("length {len} too long"))
    }

    /// Length-prefixed bytes (see [`write_bytes`]).
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.len()?;
        self.take(len)
    }

    /// A count-prefixed list of length-prefixed bytes (see [`write_list`]).
    pub(crate) fn list(&mut self) -> Result<Vec<&'a [u8]>, String> {
        let count = self.uleb()?;
        (0..count).map(|_| self.bytes()).collect()
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(len).filter(|&end| end <= self.bytes.len()).ok_or("truncated")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// What is left to read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
}

pub(crate) fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_uleb(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(crate) fn write_list(out: &mut Vec<u8>, items: &[&[u8]]) {
    write_uleb(out, items.len() as u64);
    for item in items {
        write_bytes(out, item);
    }
}

pub(crate) fn write_sleb(out: &mut Vec<u8>, mut value: i64) {
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

pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(crate) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}
