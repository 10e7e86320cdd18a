#!/usr/bin/env python3
"""Writes the worst upload bodies a hostile partner can send, one JSON body per line (for
oha -Z): a SkillSync carrier of 40,000 alignments, a 3 MB package of a million empty items,
and a package of 150 credentials whose subjects are "poison" blank-node graphs (a clique of
8 alike blank nodes, the worst case of RDF canonicalization) behind well-formed proofs."""
import json

alignments = ",".join(['{"targetName":"Teaching"}'] * 40_000)
print('{"credentials":[{"id":"c1","type":"VerifiableCredential","issuer":"i","name":"Skills",'
      '"credentialSubject":{"achievement":{"achievementType":"ext:SkillsAndAbilities",'
      '"alignment":[' + alignments + ']}}}]}')

print('{"credentials":[' + ",".join(["{}"] * 1_000_000) + "]}")

KNOWS = "https://example.org/knows"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data):
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = BASE58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


# A well-formed Ed25519 signature (64 bytes) that signs nothing: the verifier canonicalizes
# the document before it finds that out.
PROOF_VALUE = "z" + base58(bytes([7] * 64))


def poison(i, size=8):
    nodes = [{"@id": "_:n%d" % a, KNOWS: [{"@id": "_:n%d" % b} for b in range(size) if b != a]}
             for a in range(size)]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:poison-%d" % i,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Example"},
        "validFrom": "2010-01-01T00:00:00Z",
        "name": "Poison",
        "credentialSubject": {
            "id": "did:example:subject", "type": ["AchievementSubject"],
            "achievement": {"id": "https://example.com/a", "type": ["Achievement"],
                            "criteria": {"narrative": "n"}, "description": "d", "name": "Poison"},
            KNOWS: nodes,
        },
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                  "created": "2024-01-01T00:00:00Z", "verificationMethod": "did:example:issuer#key-1",
                  "proofPurpose": "assertionMethod",
                  "proofValue": PROOF_VALUE},
    }


print(json.dumps({"credentials": [poison(i) for i in range(150)]}, separators=(",", ":")))
