//! CTAP2 canonical CBOR on top of [`ciborium`]'s data model.
//!
//! * [`encode`] always writes the CTAP2 canonical form
//!   ([CTAP 2.1 §8 "Message Encoding"](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#ctap2-canonical-cbor-encoding-form)):
//!   shortest integers and lengths, definite lengths, map keys sorted by major type, then
//!   encoded length, then bytes; no tags and no floats.
//! * [`decode`] is a strict decoder for untrusted bytes: it rejects trailing bytes, indefinite
//!   lengths, duplicate map keys, tags, floats, nesting beyond a limit and items larger than a
//!   limit, and, with [`DecodeOptions::canonical`], any non-canonical encoding. Every error
//!   carries the byte offset where it was found.
//!
//! Decoded values are [`ciborium::Value`]s so that `coset` and `serde` can take them further.

use std::cmp::Ordering;
use std::fmt;

pub use ciborium::value::{Integer, Value};

#[cfg(test)]
mod tests;

/// Limits and strictness of [`decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Reject encodings that are valid CBOR but not CTAP2 canonical (non-shortest integers or
    /// lengths, map keys out of order).
    pub canonical: bool,
    /// Maximum nesting depth of arrays and maps (the top-level item is depth 0).
    pub max_depth: usize,
    /// Maximum length of one byte or text string, and maximum element count of one array or map.
    pub max_item_len: usize,
}

impl DecodeOptions {
    /// Lenient on form (accepts non-canonical encodings), strict on structure.
    pub const STRUCTURAL: DecodeOptions = DecodeOptions {
        canonical: false,
        max_depth: 16,
        max_item_len: 1 << 20,
    };
    /// Strict CTAP2 canonical form, as an authenticator's answer must be.
    pub const CANONICAL: DecodeOptions = DecodeOptions {
        canonical: true,
        ..DecodeOptions::STRUCTURAL
    };
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions::STRUCTURAL
    }
}

/// What is wrong with a CBOR input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ends inside an item.
    Truncated,
    /// Bytes follow the single top-level item.
    TrailingBytes,
    /// An indefinite-length string, array or map (additional info 31).
    IndefiniteLength,
    /// Additional information 28..=30, which CBOR reserves.
    ReservedAdditionalInfo(u8),
    /// The same key appears twice in one map.
    DuplicateMapKey,
    /// Arrays and maps nest deeper than [`DecodeOptions::max_depth`].
    TooDeep {
        /// The configured limit.
        max_depth: usize,
    },
    /// A string or container is larger than [`DecodeOptions::max_item_len`].
    ItemTooLarge {
        /// The declared length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// An integer or length is not in its shortest form (canonical mode).
    NonShortestForm,
    /// Map keys are not in CTAP2 canonical order (canonical mode).
    MapKeysOutOfOrder,
    /// A semantic tag (major type 6); CTAP2 allows none.
    Tag(u64),
    /// A floating-point number; CTAP2 allows none.
    Float,
    /// A simple value other than false, true and null.
    UnsupportedSimpleValue(u8),
    /// A text string that is not valid UTF-8.
    InvalidUtf8,
}

/// A CBOR decoding failure: what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CBOR at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Byte offset in the input where the problem starts.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Truncated => f.write_str("input ends inside an item"),
            DecodeErrorKind::TrailingBytes => f.write_str("trailing bytes after the item"),
            DecodeErrorKind::IndefiniteLength => f.write_str("indefinite length is not allowed"),
            DecodeErrorKind::ReservedAdditionalInfo(v) => {
                write!(f, "reserved additional information {v}")
            }
            DecodeErrorKind::DuplicateMapKey => f.write_str("duplicate map key"),
            DecodeErrorKind::TooDeep { max_depth } => {
                write!(f, "nesting deeper than {max_depth} levels")
            }
            DecodeErrorKind::ItemTooLarge { len, max } => {
                write!(f, "item of length {len} exceeds the limit of {max}")
            }
            DecodeErrorKind::NonShortestForm => {
                f.write_str("integer or length not in shortest form (non-canonical)")
            }
            DecodeErrorKind::MapKeysOutOfOrder => {
                f.write_str("map keys not in CTAP2 canonical order (non-canonical)")
            }
            DecodeErrorKind::Tag(t) => write!(f, "semantic tag {t} is not allowed"),
            DecodeErrorKind::Float => f.write_str("floating-point values are not allowed"),
            DecodeErrorKind::UnsupportedSimpleValue(v) => {
                write!(f, "simple value {v} is not allowed")
            }
            DecodeErrorKind::InvalidUtf8 => f.write_str("text string is not valid UTF-8"),
        }
    }
}

/// A value that cannot be written as CTAP2 canonical CBOR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Tags are not allowed in CTAP2 CBOR.
    #[error("semantic tags cannot be encoded in CTAP2 canonical CBOR")]
    Tag,
    /// Floats are not allowed in CTAP2 CBOR.
    #[error("floating-point values cannot be encoded in CTAP2 canonical CBOR")]
    Float,
    /// Two keys of one map encode to the same bytes.
    #[error("duplicate map key")]
    DuplicateMapKey,
}

/// Decodes exactly one CBOR item that spans all of `bytes`.
pub fn decode(bytes: &[u8], options: DecodeOptions) -> Result<Value, DecodeError> {
    let (value, used) = decode_prefix(bytes, options)?;
    if used != bytes.len() {
        return Err(DecodeError {
            offset: used,
            kind: DecodeErrorKind::TrailingBytes,
        });
    }
    Ok(value)
}

/// Decodes one CBOR item at the start of `bytes` and returns it with the number of bytes it
/// used; what follows is left to the caller (authenticator data puts extensions after the key).
pub fn decode_prefix(bytes: &[u8], options: DecodeOptions) -> Result<(Value, usize), DecodeError> {
    let mut decoder = Decoder {
        input: bytes,
        pos: 0,
        options,
    };
    let value = decoder.item(0)?;
    Ok((value, decoder.pos))
}

/// Checks that `bytes` is one CTAP2 canonical item, without building a value.
pub fn check_canonical(bytes: &[u8]) -> Result<(), DecodeError> {
    decode(bytes, DecodeOptions::CANONICAL).map(|_| ())
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    options: DecodeOptions,
}

impl<'a> Decoder<'a> {
    fn err(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    fn take(&mut self, n: usize, start: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.input.len())
            .ok_or(DecodeError {
                offset: start,
                kind: DecodeErrorKind::Truncated,
            })?;
        let slice = &self.input[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    /// Reads the argument of an initial byte; `None` for indefinite length (info 31).
    fn argument(&mut self, info: u8, start: usize) -> Result<Option<u64>, DecodeError> {
        let (value, min) = match info {
            0..=23 => return Ok(Some(u64::from(info))),
            24 => (u64::from(self.take(1, start)?[0]), 24),
            25 => {
                let b = self.take(2, start)?;
                (u64::from(u16::from_be_bytes([b[0], b[1]])), 0x100)
            }
            26 => {
                let b = self.take(4, start)?;
                (
                    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    0x1_0000,
                )
            }
            27 => {
                let b = self.take(8, start)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            31 => return Ok(None),
            other => {
                return Err(self.err(start, DecodeErrorKind::ReservedAdditionalInfo(other)));
            }
        };
        if self.options.canonical && value < min {
            return Err(self.err(start, DecodeErrorKind::NonShortestForm));
        }
        Ok(Some(value))
    }

    fn length(&mut self, info: u8, start: usize) -> Result<usize, DecodeError> {
        let len = self.argument(info, start)?.ok_or(DecodeError {
            offset: start,
            kind: DecodeErrorKind::IndefiniteLength,
        })?;
        let max = self.options.max_item_len;
        usize::try_from(len)
            .ok()
            .filter(|l| *l <= max)
            .ok_or(DecodeError {
                offset: start,
                kind: DecodeErrorKind::ItemTooLarge { len, max },
            })
    }

    fn item(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let start = self.pos;
        let initial = self.take(1, start)?[0];
        let major = initial >> 5;
        let info = initial & 0x1f;
        match major {
            0 | 1 => {
                let n = self
                    .argument(info, start)?
                    .ok_or(self.err(start, DecodeErrorKind::IndefiniteLength))?;
                let v = if major == 0 {
                    i128::from(n)
                } else {
                    -1 - i128::from(n)
                };
                // Always in ciborium's range [-2^64, 2^64 - 1].
                Integer::try_from(v)
                    .map(Value::Integer)
                    .map_err(|_| self.err(start, DecodeErrorKind::ItemTooLarge { len: n, max: 0 }))
            }
            2 => {
                let len = self.length(info, start)?;
                Ok(Value::Bytes(self.take(len, start)?.to_vec()))
            }
            3 => {
                let len = self.length(info, start)?;
                let raw = self.take(len, start)?;
                std::str::from_utf8(raw)
                    .map(|s| Value::Text(s.to_owned()))
                    .map_err(|_| self.err(start, DecodeErrorKind::InvalidUtf8))
            }
            4 => {
                let len = self.length(info, start)?;
                self.enter(depth, start)?;
                // Every element takes at least one byte: a count beyond the input is truncation.
                if len > self.input.len() - self.pos {
                    return Err(self.err(start, DecodeErrorKind::Truncated));
                }
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let len = self.length(info, start)?;
                self.enter(depth, start)?;
                if len.saturating_mul(2) > self.input.len() - self.pos {
                    return Err(self.err(start, DecodeErrorKind::Truncated));
                }
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(len);
                let mut key_spans: Vec<(usize, usize)> = Vec::with_capacity(len);
                for _ in 0..len {
                    let key_start = self.pos;
                    let key = self.item(depth + 1)?;
                    let key_span = (key_start, self.pos);
                    let key_bytes = &self.input[key_span.0..key_span.1];
                    if let Some(prev) = key_spans.last() {
                        let prev_bytes = &self.input[prev.0..prev.1];
                        match canonical_key_order(prev_bytes, key_bytes) {
                            Ordering::Less => {}
                            Ordering::Equal => {
                                return Err(self.err(key_start, DecodeErrorKind::DuplicateMapKey));
                            }
                            Ordering::Greater if self.options.canonical => {
                                return Err(self.err(key_start, DecodeErrorKind::MapKeysOutOfOrder));
                            }
                            Ordering::Greater => {}
                        }
                    }
                    key_spans.push(key_span);
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                if !self.options.canonical {
                    self.check_unique_keys(&entries, &key_spans)?;
                }
                Ok(Value::Map(entries))
            }
            6 => {
                let tag = self.argument(info, start)?.unwrap_or(u64::MAX);
                Err(self.err(start, DecodeErrorKind::Tag(tag)))
            }
            _ => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                25..=27 => Err(self.err(start, DecodeErrorKind::Float)),
                24 => {
                    let v = self.take(1, start)?[0];
                    Err(self.err(start, DecodeErrorKind::UnsupportedSimpleValue(v)))
                }
                28..=30 => Err(self.err(start, DecodeErrorKind::ReservedAdditionalInfo(info))),
                31 => Err(self.err(start, DecodeErrorKind::IndefiniteLength)),
                v => Err(self.err(start, DecodeErrorKind::UnsupportedSimpleValue(v))),
            },
        }
    }

    /// Duplicate detection for maps whose keys may be out of order or non-shortest: keys are
    /// compared by their canonical re-encoding, sorted, in O(n log n).
    fn check_unique_keys(
        &self,
        entries: &[(Value, Value)],
        key_spans: &[(usize, usize)],
    ) -> Result<(), DecodeError> {
        let mut keys: Vec<(Vec<u8>, usize)> = Vec::with_capacity(entries.len());
        for ((key, _), span) in entries.iter().zip(key_spans) {
            // Decoded keys never hold tags or floats, so re-encoding cannot fail.
            let bytes = encode(key).map_err(|_| self.err(span.0, DecodeErrorKind::Float))?;
            keys.push((bytes, span.0));
        }
        keys.sort();
        match keys.windows(2).find(|w| w[0].0 == w[1].0) {
            Some(w) => Err(self.err(w[0].1.max(w[1].1), DecodeErrorKind::DuplicateMapKey)),
            None => Ok(()),
        }
    }

    fn enter(&self, depth: usize, start: usize) -> Result<(), DecodeError> {
        if depth >= self.options.max_depth {
            return Err(self.err(
                start,
                DecodeErrorKind::TooDeep {
                    max_depth: self.options.max_depth,
                },
            ));
        }
        Ok(())
    }
}

/// CTAP2 canonical order of two encoded map keys: lower major type first, then shorter
/// encoding first, then byte-wise lexical order.
pub fn canonical_key_order(a: &[u8], b: &[u8]) -> Ordering {
    let major = |x: &[u8]| x.first().map(|b| b >> 5);
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then_with(|| a.cmp(b))
}

/// Encodes `value` as CTAP2 canonical CBOR.
pub fn encode(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the CTAP2 canonical encoding of `value` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match value {
        Value::Integer(i) => {
            let v = i128::from(*i);
            if v >= 0 {
                head(out, 0, v as u64);
            } else {
                head(out, 1, (-1 - v) as u64);
            }
        }
        Value::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(out, 3, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(out, 4, items.len() as u64);
            for item in items {
                encode_into(item, out)?;
            }
        }
        Value::Map(entries) => {
            let mut encoded: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                encoded.push((encode(k)?, encode(v)?));
            }
            encoded.sort_by(|a, b| canonical_key_order(&a.0, &b.0));
            if encoded.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(EncodeError::DuplicateMapKey);
            }
            head(out, 5, encoded.len() as u64);
            for (k, v) in encoded {
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Tag(..) => return Err(EncodeError::Tag),
        Value::Float(_) => return Err(EncodeError::Float),
        // ciborium's Value is non-exhaustive.
        _ => return Err(EncodeError::Tag),
    }
    Ok(())
}

/// Writes an initial byte with the shortest argument encoding.
fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if arg <= u64::from(u8::MAX) {
        out.extend_from_slice(&[m | 24, arg as u8]);
    } else if arg <= u64::from(u16::MAX) {
        out.push(m | 25);
        out.extend_from_slice(&(arg as u16).to_be_bytes());
    } else if arg <= u64::from(u32::MAX) {
        out.push(m | 26);
        out.extend_from_slice(&(arg as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// Read access to a decoded CBOR map by integer or text key.
pub trait MapExt {
    /// The value under integer key `key`.
    fn get_int(&self, key: i64) -> Option<&Value>;
    /// The value under text key `key`.
    fn get_text(&self, key: &str) -> Option<&Value>;
}

impl MapExt for [(Value, Value)] {
    fn get_int(&self, key: i64) -> Option<&Value> {
        self.iter()
            .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
            .map(|(_, v)| v)
    }

    fn get_text(&self, key: &str) -> Option<&Value> {
        self.iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }
}

/// Builds a map with integer keys, as CTAP2 requests and responses use.
#[derive(Debug, Default, Clone)]
pub struct IntMap(Vec<(Value, Value)>);

impl IntMap {
    /// An empty map.
    pub fn new() -> Self {
        IntMap(Vec::new())
    }
    /// Adds `key => value`.
    pub fn insert(mut self, key: i64, value: impl Into<Value>) -> Self {
        self.0.push((Value::from(key), value.into()));
        self
    }
    /// Adds `key => value` when `value` is present.
    pub fn insert_opt(self, key: i64, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.insert(key, v),
            None => self,
        }
    }
    /// The finished map value.
    pub fn into_value(self) -> Value {
        Value::Map(self.0)
    }
}
