// The JavaScript verifier most wallets use, timed on the official OB 3.0 eddsa-rdfc-2022
// test vector: @digitalbazaar/vc + @digitalbazaar/data-integrity + the eddsa-rdfc-2022
// cryptosuite, with a local document loader over the same bundled contexts the Rust verifier
// uses (contexts/INDEX.tsv) and the issuer's published controller document (the test
// fixture). No network. Prints one JSON line.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const read = p => readFileSync(path.join(root, p), 'utf8');

const documents = new Map();
for(const line of read('contexts/INDEX.tsv').split('\n').slice(1)) {
  const [url, file] = line.split('\t');
  if(url && file) {
    documents.set(url, JSON.parse(read(`contexts/${file}`)));
  }
}
const published = JSON.parse(read('tests/fixtures/verification/published.json'));
for(const [url, doc] of Object.entries(published)) {
  documents.set(url, doc);
  for(const vm of doc.verificationMethod || []) {
    documents.set(vm.id, {'@context': doc['@context'], ...vm});
  }
}

const documentLoader = async url => {
  const document = documents.get(url);
  if(!document) {
    throw new Error(`no local document for ${url} (the benchmark never fetches)`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
};

const credential = JSON.parse(
  read('tests/fixtures/standards/examples/signed/ob30-ldp-test-vector-signed.json'));
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

async function verifyOnce() {
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  if(!result.verified) {
    throw new Error('the vector did not verify: ' + JSON.stringify(result, null, 1).slice(0, 2000));
  }
}

const seconds = Number(process.argv[2] || 5);
await verifyOnce();
// Warm up (JIT, jsonld.js's context cache).
for(let i = 0; i < 200; i++) {
  await verifyOnce();
}
let count = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(Math.round(seconds * 1e9));
while(process.hrtime.bigint() < deadline) {
  await verifyOnce();
  count++;
}
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({
  verifier: '@digitalbazaar/vc ' + JSON.parse(read('scripts/bench/js-verifier/node_modules/@digitalbazaar/vc/package.json')).version,
  node: process.version,
  verifications: count,
  seconds: elapsed,
  per_second: count / elapsed,
  micros_per_verification: elapsed * 1e6 / count,
}));
