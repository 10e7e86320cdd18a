//! The `ecdsa-sd-2023` cryptosuite (W3C VC DI ECDSA §3.4), derived proofs only: what a holder
//! shows after selective disclosure. The issuer's P-256 key signs SHA-256 of the canonical
//! proof options, the holder's one-time ("ephemeral") public key and SHA-256 of the mandatory
//! statements; the one-time key signs every other statement on its own. The verifier
//! canonicalizes what it received, gives its blank nodes the labels the proof carries (HMAC
//! labels chosen by the issuer), and checks every signature.
//!
//! A base proof (the issuer's, addressed to the holder) is not for verifiers: it is left
//! unchecked.

use super::Verifier;
use super::canonical::{self, CanonicalError};
use super::data_integrity::{proof_options, unsecured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The CBOR tag that starts a derived proof value (0xd9 0x5d 0x01); 0xd9 0x5d 0x00 is a base
/// proof.
const DERIVED_HEADER: [u8; 3] = [0xd9, 0x5d, 0x01];
const BASE_HEADER: [u8; 3] = [0xd9, 0x5d, 0x00];
/// A P-256 multikey: the multicodec prefix 0x8024 and a 33-byte compressed point.
const P256_MULTIKEY_PREFIX: [u8; 2] = [0x80, 0x24];
/// A mandatory index beyond any credential's statement count is refused.
const MAX_STATEMENTS: usize = 100_000;

/// Why a proof value is not a derived proof we can check.
#[derive(Debug, PartialEq, Eq)]
pub enum NotDerived {
    /// A base proof: addressed to the holder, not to a verifier.
    Base,
    /// Not a proof value of this suite at all.
    Malformed(String),
}

/// A parsed derived proof value (§3.5.7 parseDerivedProofValue).
#[derive(Debug)]
pub struct DerivedProof {
    base_signature: p256::ecdsa::Signature,
    /// The one-time key, as its multikey bytes (signed over as they are).
    public_key: Vec<u8>,
    one_time_key: p256::ecdsa::VerifyingKey,
    signatures: Vec<p256::ecdsa::Signature>,
    /// Canonical blank node label (`c14n0`) → the label the issuer gave it (`u…`).
    labels: HashMap<String, String>,
    mandatory_indexes: Vec<usize>,
}

impl DerivedProof {
    pub fn parse(proof_value: &str) -> Result<DerivedProof, NotDerived> {
        let malformed = |why: &str| NotDerived::Malformed(why.to_string());
        let encoded = proof_value.strip_prefix('u').ok_or_else(|| {
            malformed("an ecdsa-sd-2023 proofValue is base64url multibase (it starts with 'u')")
        })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|e| NotDerived::Malformed(format!("proofValue is not base64url: {e}")))?;
        if bytes.starts_with(&BASE_HEADER) {
            return Err(NotDerived::Base);
        }
        let Some(body) = bytes.strip_prefix(&DERIVED_HEADER) else {
            return Err(malformed(
                "proofValue is not an ecdsa-sd-2023 derived proof",
            ));
        };
        let mut reader = Cbor { bytes: body, at: 0 };
        let parts = reader.item(0).map_err(|e| malformed(&e))?;
        if reader.at != body.len() {
            return Err(malformed("proofValue has bytes after its CBOR value"));
        }
        let Item::Array(parts) = parts else {
            return Err(malformed("a derived proof is a CBOR array"));
        };
        let [base_signature, public_key, signatures, labels, mandatory] =
            <[Item; 5]>::try_from(parts)
                .map_err(|_| malformed("a derived proof has five components"))?;
        let signature = |item: Item| -> Result<p256::ecdsa::Signature, NotDerived> {
            match item {
                Item::Bytes(bytes) => p256::ecdsa::Signature::from_slice(&bytes)
                    .map_err(|_| malformed("a P-256 signature is 64 bytes (r ‖ s)")),
                _ => Err(malformed("a signature is a CBOR byte string")),
            }
        };
        let base_signature = signature(base_signature)?;
        let Item::Bytes(public_key) = public_key else {
            return Err(malformed("the one-time public key is a CBOR byte string"));
        };
        let one_time_key = public_key
            .strip_prefix(&P256_MULTIKEY_PREFIX)
            .and_then(|point| p256::ecdsa::VerifyingKey::from_sec1_bytes(point).ok())
            .ok_or_else(|| malformed("the one-time public key is not a P-256 multikey"))?;
        let Item::Array(signatures) = signatures else {
            return Err(malformed("the statement signatures are a CBOR array"));
        };
        let signatures = signatures
            .into_iter()
            .map(signature)
            .collect::<Result<Vec<_>, _>>()?;
        let Item::Map(compressed) = labels else {
            return Err(malformed("the label map is a CBOR map"));
        };
        let mut labels = HashMap::with_capacity(compressed.len());
        for (key, value) in compressed {
            let (Item::Unsigned(index), Item::Bytes(hmac)) = (key, value) else {
                return Err(malformed(
                    "the label map maps blank node numbers to byte strings",
                ));
            };
            labels.insert(
                format!("c14n{index}"),
                format!("u{}", URL_SAFE_NO_PAD.encode(hmac)),
            );
        }
        let Item::Array(mandatory) = mandatory else {
            return Err(malformed("the mandatory indexes are a CBOR array"));
        };
        let mandatory_indexes = mandatory
            .into_iter()
            .map(|item| match item {
                Item::Unsigned(index) => usize::try_from(index)
                    .ok()
                    .filter(|i| *i < MAX_STATEMENTS)
                    .ok_or_else(|| malformed("a mandatory index is out of range")),
                _ => Err(malformed("a mandatory index is an unsigned integer")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DerivedProof {
            base_signature,
            public_key,
            one_time_key,
            signatures,
            labels,
            mandatory_indexes,
        })
    }

    /// What the signatures are over (§3.5.8 createVerifyData): SHA-256 of the canonical
    /// proof options, and the received document's statements, canonical, relabelled with the
    /// issuer's labels and sorted, split into the mandatory ones and the others.
    pub fn verify_data(
        &self,
        verifier: &Verifier,
        proof: &Map<String, Value>,
        document: &Value,
    ) -> Result<VerifyData, CanonicalError> {
        let options =
            canonical::canonical_nquads(verifier.processor(), &proof_options(proof, document))?;
        let statements = canonical::canonical_nquads(verifier.processor(), &unsecured(document))?;
        let mut relabelled = Vec::new();
        for line in statements.lines() {
            match relabel(line, &self.labels) {
                Some(line) => relabelled.push(line + "\n"),
                None => {
                    return Err(CanonicalError::Canonicalization(format!(
                        "a blank node of the document has no label in the proof: {line}"
                    )));
                }
            }
        }
        relabelled.sort();
        let mut mandatory = String::new();
        let mut others = Vec::new();
        for (i, statement) in relabelled.into_iter().enumerate() {
            if self.mandatory_indexes.contains(&i) {
                mandatory.push_str(&statement);
            } else {
                others.push(statement);
            }
        }
        Ok(VerifyData {
            proof_hash: canonical::hash(&options),
            mandatory_hash: canonical::hash(&mandatory),
            others,
        })
    }

    /// The signatures (§3.5.2 verifyProof): the issuer's over the proof hash, the one-time
    /// key and the mandatory hash; the one-time key's over each other statement.
    pub fn check(
        &self,
        data: &VerifyData,
        issuer_key: &p256::ecdsa::VerifyingKey,
    ) -> Result<(), String> {
        let mut signed = Vec::with_capacity(64 + self.public_key.len());
        signed.extend_from_slice(&data.proof_hash);
        signed.extend_from_slice(&self.public_key);
        signed.extend_from_slice(&data.mandatory_hash);
        issuer_key
            .verify(&signed, &self.base_signature)
            .map_err(|_| {
                "the issuer's signature does not match: the proof options or the statements every holder must show were changed, or signed with another key".to_string()
            })?;
        if self.signatures.len() != data.others.len() {
            return Err(format!(
                "the proof signs {} disclosed statements, the credential has {}: statements were added or removed",
                self.signatures.len(),
                data.others.len()
            ));
        }
        for (i, (statement, signature)) in data.others.iter().zip(&self.signatures).enumerate() {
            self.one_time_key
                .verify(statement.as_bytes(), signature)
                .map_err(|_| {
                    format!(
                        "the signature of disclosed statement {i} does not match: the credential was changed after signing ({})",
                        statement.trim_end()
                    )
                })?;
        }
        Ok(())
    }
}

/// The data a derived proof's signatures are over.
pub struct VerifyData {
    proof_hash: [u8; 32],
    mandatory_hash: [u8; 32],
    /// The statements signed one by one, each with its line feed.
    others: Vec<String>,
}

/// One canonical N-Quads line with each blank node label (`_:c14nN`) replaced by the
/// issuer's; `None` when a label has no replacement. Terms are read one by one, so text
/// inside a literal is never taken for a label.
fn relabel(line: &str, labels: &HashMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(line.len() + 32);
    let mut rest = line;
    loop {
        if let Some(after) = rest.strip_prefix("_:") {
            let end = after.find(' ').unwrap_or(after.len());
            out.push_str("_:");
            out.push_str(labels.get(&after[..end])?);
            rest = &after[end..];
        } else if rest.starts_with('<') {
            let end = rest.find('>')? + 1;
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with('"') {
            let end = literal_end(rest)?;
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            // The final " ." (or something no canonical line has).
            out.push_str(rest);
            return Some(out);
        }
        match rest.strip_prefix(' ') {
            Some(after) => {
                out.push(' ');
                rest = after;
            }
            None => {
                out.push_str(rest);
                return Some(out);
            }
        }
    }
}

/// Where a literal term that starts `text` ends (after its datatype or language tag).
fn literal_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    if i >= bytes.len() {
        return None;
    }
    i += 1;
    let tail = &text[i..];
    if tail.starts_with("^^<") {
        Some(i + tail.find('>')? + 1)
    } else if tail.starts_with('@') {
        Some(i + tail.find(' ').unwrap_or(tail.len()))
    } else {
        Some(i)
    }
}

/// The CBOR the proof value uses: unsigned integers, byte strings, arrays and maps
/// (RFC 8949 major types 0, 2, 4, 5). Anything else is refused.
#[derive(Debug)]
enum Item {
    Unsigned(u64),
    Bytes(Vec<u8>),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
}

struct Cbor<'b> {
    bytes: &'b [u8],
    at: usize,
}

/// How deep the proof value's CBOR may nest (it needs 2).
const MAX_CBOR_DEPTH: usize = 4;

impl Cbor<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.bytes.get(self.at).ok_or("the CBOR value ends early")?;
        self.at += 1;
        Ok(byte)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("the CBOR value ends early")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn item(&mut self, depth: usize) -> Result<Item, String> {
        if depth > MAX_CBOR_DEPTH {
            return Err("the CBOR value nests too deeply".into());
        }
        let initial = self.byte()?;
        let (major, additional) = (initial >> 5, initial & 0x1f);
        let argument = match additional {
            0..=23 => u64::from(additional),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().map_err(|_| "short")?,
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().map_err(|_| "short")?,
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| "short")?),
            _ => return Err("indefinite or reserved CBOR lengths are not used here".into()),
        };
        // Every element takes at least one byte: a count beyond what is left is a lie.
        let count = usize::try_from(argument)
            .ok()
            .filter(|n| *n <= self.bytes.len() - self.at);
        match major {
            0 => Ok(Item::Unsigned(argument)),
            2 => {
                let n = count.ok_or("a CBOR byte string is longer than the value")?;
                Ok(Item::Bytes(self.take(n)?.to_vec()))
            }
            4 => {
                let n = count.ok_or("a CBOR array is longer than the value")?;
                (0..n)
                    .map(|_| self.item(depth + 1))
                    .collect::<Result<_, _>>()
                    .map(Item::Array)
            }
            5 => {
                let n = count.ok_or("a CBOR map is longer than the value")?;
                (0..n)
                    .map(|_| Ok((self.item(depth + 1)?, self.item(depth + 1)?)))
                    .collect::<Result<_, String>>()
                    .map(Item::Map)
            }
            other => Err(format!(
                "CBOR major type {other} is not part of a derived proof"
            )),
        }
    }
}
