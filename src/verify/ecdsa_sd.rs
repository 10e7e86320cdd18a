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
use ciborium::Value as Cbor;
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
        let parts = read_cbor(body).map_err(|e| malformed(&e))?;
        let Cbor::Array(parts) = parts else {
            return Err(malformed("a derived proof is a CBOR array"));
        };
        let [base_signature, public_key, signatures, labels, mandatory] =
            <[Cbor; 5]>::try_from(parts)
                .map_err(|_| malformed("a derived proof has five components"))?;
        let signature = |item: Cbor| -> Result<p256::ecdsa::Signature, NotDerived> {
            match item {
                Cbor::Bytes(bytes) => p256::ecdsa::Signature::from_slice(&bytes)
                    .map_err(|_| malformed("a P-256 signature is 64 bytes (r ‖ s)")),
                _ => Err(malformed("a signature is a CBOR byte string")),
            }
        };
        let base_signature = signature(base_signature)?;
        let Cbor::Bytes(public_key) = public_key else {
            return Err(malformed("the one-time public key is a CBOR byte string"));
        };
        let one_time_key = public_key
            .strip_prefix(&P256_MULTIKEY_PREFIX)
            .and_then(|point| p256::ecdsa::VerifyingKey::from_sec1_bytes(point).ok())
            .ok_or_else(|| malformed("the one-time public key is not a P-256 multikey"))?;
        let Cbor::Array(signatures) = signatures else {
            return Err(malformed("the statement signatures are a CBOR array"));
        };
        let signatures = signatures
            .into_iter()
            .map(signature)
            .collect::<Result<Vec<_>, _>>()?;
        let Cbor::Map(compressed) = labels else {
            return Err(malformed("the label map is a CBOR map"));
        };
        let mut labels = HashMap::with_capacity(compressed.len());
        for (key, value) in compressed {
            let (Some(index), Cbor::Bytes(hmac)) = (unsigned(&key), value) else {
                return Err(malformed(
                    "the label map maps blank node numbers to byte strings",
                ));
            };
            labels.insert(
                format!("c14n{index}"),
                format!("u{}", URL_SAFE_NO_PAD.encode(hmac)),
            );
        }
        let Cbor::Array(mandatory) = mandatory else {
            return Err(malformed("the mandatory indexes are a CBOR array"));
        };
        let mandatory_indexes = mandatory
            .into_iter()
            .map(|item| match unsigned(&item) {
                Some(index) => usize::try_from(index)
                    .ok()
                    .filter(|i| *i < MAX_STATEMENTS)
                    .ok_or_else(|| malformed("a mandatory index is out of range")),
                None => Err(malformed("a mandatory index is an unsigned integer")),
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

/// How deep the proof value's CBOR may nest (it needs 2).
const MAX_CBOR_DEPTH: usize = 4;

/// Reads the one CBOR value (RFC 8949) that makes up a derived proof, with nothing after it.
/// ciborium bounds the nesting and reads byte strings in chunks, so a length that claims more
/// than the value holds fails at its end instead of allocating what it claims.
fn read_cbor(bytes: &[u8]) -> Result<Cbor, String> {
    let mut rest = bytes;
    let value: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_CBOR_DEPTH)
        .map_err(|error| match error {
            ciborium::de::Error::RecursionLimitExceeded => {
                "the CBOR value nests too deeply".to_string()
            }
            ciborium::de::Error::Io(_) => "the CBOR value ends early".to_string(),
            other => format!("the proof value is not well-formed CBOR: {other}"),
        })?;
    if !rest.is_empty() {
        return Err("proofValue has bytes after its CBOR value".into());
    }
    Ok(value)
}

/// An unsigned integer (CBOR major type 0), the only numbers a derived proof holds.
fn unsigned(value: &Cbor) -> Option<u64> {
    match value {
        Cbor::Integer(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proof value made of `cbor` after the derived-proof header.
    fn proof_value(cbor: &[u8]) -> String {
        let mut bytes = DERIVED_HEADER.to_vec();
        bytes.extend_from_slice(cbor);
        format!("u{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn encoded(value: &Cbor) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(value, &mut bytes).expect("encodes");
        bytes
    }

    fn refusal(cbor: &[u8]) -> String {
        match DerivedProof::parse(&proof_value(cbor)) {
            Err(NotDerived::Malformed(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Five components of the right kinds, the one-time key and signatures made up.
    fn components() -> Vec<Cbor> {
        let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a key");
        let point = key.verifying_key().to_encoded_point(true);
        let mut public_key = P256_MULTIKEY_PREFIX.to_vec();
        public_key.extend_from_slice(point.as_bytes());
        vec![
            Cbor::Bytes(vec![1; 64]),
            Cbor::Bytes(public_key),
            Cbor::Array(vec![Cbor::Bytes(vec![2; 64])]),
            Cbor::Map(vec![(Cbor::Integer(0.into()), Cbor::Bytes(vec![3; 32]))]),
            Cbor::Array(vec![Cbor::Integer(0.into())]),
        ]
    }

    #[test]
    fn a_well_formed_value_parses() {
        let proof = DerivedProof::parse(&proof_value(&encoded(&Cbor::Array(components()))))
            .expect("parses");
        assert_eq!(proof.signatures.len(), 1);
        assert_eq!(proof.mandatory_indexes, vec![0]);
        assert!(proof.labels["c14n0"].starts_with('u'));
    }

    #[test]
    fn a_base_proof_is_told_apart() {
        let mut bytes = BASE_HEADER.to_vec();
        bytes.push(0x80);
        let value = format!("u{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            DerivedProof::parse(&value).expect_err("a base proof"),
            NotDerived::Base
        );
    }

    #[test]
    fn a_value_cut_short_is_refused() {
        let whole = encoded(&Cbor::Array(components()));
        for end in [0, 1, 10, whole.len() - 1] {
            assert!(
                refusal(&whole[..end]).contains("ends early"),
                "cut at {end}"
            );
        }
    }

    #[test]
    fn a_length_beyond_the_value_is_refused_without_allocating_it() {
        // An array holding a byte string that claims 2^64 - 1 bytes, and an array that
        // claims 2^32 elements.
        let huge_bytes = [
            0x81, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
        ];
        assert!(refusal(&huge_bytes).contains("ends early"));
        let huge_array = [0x9a, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert!(refusal(&huge_array).contains("ends early"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut bytes = vec![0x81; 64];
        bytes.push(0x00);
        assert!(refusal(&bytes).contains("nests too deeply"));
    }

    #[test]
    fn bytes_after_the_value_are_refused() {
        let mut bytes = encoded(&Cbor::Array(components()));
        bytes.push(0x00);
        assert!(refusal(&bytes).contains("bytes after"));
    }

    #[test]
    fn components_of_the_wrong_kind_are_refused() {
        assert!(refusal(&encoded(&Cbor::Map(vec![]))).contains("is a CBOR array"));
        let four = components().into_iter().take(4).collect();
        assert!(refusal(&encoded(&Cbor::Array(four))).contains("five components"));

        let mut text_signature = components();
        text_signature[0] = Cbor::Text("signature".into());
        assert!(refusal(&encoded(&Cbor::Array(text_signature))).contains("byte string"));

        let mut short_signature = components();
        short_signature[0] = Cbor::Bytes(vec![1; 63]);
        assert!(refusal(&encoded(&Cbor::Array(short_signature))).contains("64 bytes"));

        let mut not_a_key = components();
        not_a_key[1] = Cbor::Bytes(vec![0x80, 0x24, 9, 9, 9]);
        assert!(refusal(&encoded(&Cbor::Array(not_a_key))).contains("P-256 multikey"));

        let mut text_label = components();
        text_label[3] = Cbor::Map(vec![(Cbor::Text("0".into()), Cbor::Bytes(vec![3; 32]))]);
        assert!(refusal(&encoded(&Cbor::Array(text_label))).contains("label map"));

        let mut negative_index = components();
        negative_index[4] = Cbor::Array(vec![Cbor::Integer((-1).into())]);
        assert!(refusal(&encoded(&Cbor::Array(negative_index))).contains("unsigned"));

        let mut far_index = components();
        far_index[4] = Cbor::Array(vec![Cbor::Integer((MAX_STATEMENTS as u64).into())]);
        assert!(refusal(&encoded(&Cbor::Array(far_index))).contains("out of range"));

        let mut float_index = components();
        float_index[4] = Cbor::Array(vec![Cbor::Float(1.0)]);
        assert!(refusal(&encoded(&Cbor::Array(float_index))).contains("unsigned"));
    }
}
