//! An issuer made for the tests: an Ed25519 key, its did:key, and eddsa-rdfc-2022 signing
//! of the OB 3.0 test vector's credential as a real issuer would sign it.

use credentialconnect::verify::{Verifier, data_integrity};
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};

pub fn ed25519_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
}

pub fn did_key(key: &ed25519_dalek::SigningKey) -> String {
    let mut bytes = vec![0xed, 0x01];
    bytes.extend_from_slice(key.verifying_key().as_bytes());
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

/// The OB 3.0 test vector's credential, issued by `issuer`.
pub fn credential(issuer: &str) -> Value {
    let mut credential =
        super::fixture_json("standards/examples/signed/ob30-ldp-test-vector-unsigned.json");
    credential["issuer"]["id"] = issuer.into();
    credential
}

/// Signs with eddsa-rdfc-2022 as an issuer would.
pub fn sign(verifier: &Verifier, mut credential: Value, method: &str) -> Value {
    let proof = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": method,
        "proofPurpose": "assertionMethod"
    });
    let options = proof.as_object().expect("object").clone();
    let data = data_integrity::hash_data(verifier, &options, &credential).expect("hash data");
    let signature = ed25519_key().sign(&data);
    let mut proof = proof;
    proof["proofValue"] = format!("z{}", bs58::encode(signature.to_bytes()).into_string()).into();
    credential["proof"] = proof;
    credential
}
