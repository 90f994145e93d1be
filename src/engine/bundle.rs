//! Compiled bundles: a checked program that `routerc serve` loads without the source.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "RTRCBNDL"
//! 8       4     format version, little-endian u32
//! 12      4     length of the writer's version string (≤ 64), little-endian u32
//! 16      n     the routerc version that wrote the bundle (UTF-8)
//! 16+n    8     payload length, little-endian u64
//! 24+n    32    SHA-256 of every byte before it and of the payload
//! 56+n    …     payload: JSON of [`Contents`]
//! ```
//!
//! The header is fixed across format versions so that any routerc can say which version
//! wrote a bundle it cannot read. Loading checks, in order: magic, format version, length,
//! checksum, JSON shape, and finally the program's invariants ([`super::validate`]), so a
//! truncated, corrupted or tampered file is an error, never undefined behaviour in native
//! code.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::source::SourceMap;

use super::ir::Program;

pub const MAGIC: &[u8; 8] = b"RTRCBNDL";
/// Bumped whenever the IR or this layout changes incompatibly.
pub const FORMAT_VERSION: u32 = 2;
const MAX_WRITER_LEN: usize = 64;

/// What a bundle holds besides the header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contents {
    /// SHA-256 over every source file (name, then text), in load order.
    pub source_hash: String,
    /// The source files the policy was compiled from.
    pub sources: Vec<String>,
    pub program: Program,
}

/// The hash recorded in a bundle: it changes when any source file changes.
pub fn source_hash(sources: &SourceMap) -> String {
    let mut h = Sha256::new();
    for (_, f) in sources.files() {
        h.update((f.name.len() as u64).to_le_bytes());
        h.update(f.name.as_bytes());
        h.update((f.text.len() as u64).to_le_bytes());
        h.update(f.text.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn write(contents: &Contents) -> Vec<u8> {
    // Serialising plain data structures to JSON cannot fail.
    let payload = serde_json::to_vec(contents).unwrap_or_default();
    let writer = env!("CARGO_PKG_VERSION").as_bytes();
    let mut out = Vec::with_capacity(payload.len() + 128);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(writer.len() as u32).to_le_bytes());
    out.extend_from_slice(writer);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let sum = checksum(&out, &payload);
    out.extend_from_slice(&sum);
    out.extend_from_slice(&payload);
    out
}

/// Covers the header too, so no byte of a bundle can change unnoticed.
fn checksum(header: &[u8], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(header);
    h.update(payload);
    h.finalize().into()
}

/// Whether `bytes` start like a bundle (as opposed to policy source).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[derive(Debug, PartialEq, Eq)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BundleError {}

fn fail(m: impl Into<String>) -> BundleError {
    BundleError(m.into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], BundleError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => Err(fail(format!(
                "the bundle is truncated: it ends at byte {} inside the {what}",
                self.bytes.len()
            ))),
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, BundleError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// Reads and checks a bundle. The program it returns has passed validation.
pub fn read(bytes: &[u8]) -> Result<Contents, BundleError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8, "header").ok() != Some(&MAGIC[..]) {
        return Err(fail(
            "not a routerc bundle (it does not start with the bundle signature); \
             pass a policy source or a file written by `routerc compile`",
        ));
    }
    let version = r.u32("header")?;
    let writer_len = r.u32("header")? as usize;
    if writer_len > MAX_WRITER_LEN {
        return Err(fail(
            "the bundle header is corrupted (writer version too long)",
        ));
    }
    let writer = String::from_utf8_lossy(r.take(writer_len, "header")?).into_owned();
    if version != FORMAT_VERSION {
        return Err(fail(format!(
            "the bundle has format version {version} (written by routerc {writer}), but this \
             routerc {} reads format version {FORMAT_VERSION}; recompile the policy with \
             `routerc compile`",
            env!("CARGO_PKG_VERSION")
        )));
    }
    let len = r.u64("header")?;
    let header_end = r.at;
    let sum = r.take(32, "header")?;
    let rest = bytes.len() - r.at;
    if len != rest as u64 {
        return Err(fail(if len > rest as u64 {
            format!("the bundle is truncated: the payload should be {len} bytes, found {rest}")
        } else {
            format!(
                "the bundle has {} bytes after its payload",
                rest as u64 - len
            )
        }));
    }
    let payload = &bytes[r.at..];
    if checksum(&bytes[..header_end], payload).as_slice() != sum {
        return Err(fail(
            "the bundle is corrupted: its checksum does not match its contents",
        ));
    }
    let contents: Contents = serde_json::from_slice(payload)
        .map_err(|e| fail(format!("the bundle's contents do not decode: {e}")))?;
    super::validate(&contents.program)
        .map_err(|e| fail(format!("the bundle's program is invalid: {e}")))?;
    Ok(contents)
}
