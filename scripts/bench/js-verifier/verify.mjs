// Verifies one credential with the JavaScript verifier most wallets use (@digitalbazaar/vc
// + the eddsa-rdfc-2022 cryptosuite), as a wallet would: JSON-LD contexts only from the
// published ones bundled in contexts/INDEX.tsv (never the network), and the issuer's DID
// document given as a file (what https://HOST/.well-known/did.json serves).
//
//   node verify.mjs CREDENTIAL.json DID-DOCUMENT.json
//
// Prints {"verified": true|false, "error": …} and exits 0 only when the credential verifies.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const read = p => readFileSync(path.join(root, p), 'utf8');

const [credentialFile, didFile] = process.argv.slice(2);
if(!credentialFile || !didFile) {
  console.error('usage: node verify.mjs CREDENTIAL.json DID-DOCUMENT.json');
  process.exit(2);
}

const documents = new Map();
for(const line of read('contexts/INDEX.tsv').split('\n').slice(1)) {
  const [url, file] = line.split('\t');
  if(url && file) {
    documents.set(url, JSON.parse(read(`contexts/${file}`)));
  }
}
const didDocument = JSON.parse(readFileSync(didFile, 'utf8'));
documents.set(didDocument.id, didDocument);
for(const vm of didDocument.verificationMethod || []) {
  documents.set(vm.id, {'@context': didDocument['@context'], ...vm});
}

const documentLoader = async url => {
  const document = documents.get(url);
  if(!document) {
    throw new Error(`no local document for ${url} (this verifier never fetches)`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
};

const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
let result;
try {
  result = await vc.verifyCredential({credential, suite, documentLoader});
} catch(error) {
  result = {verified: false, error};
}
const error = result.error || result.results?.find(r => !r.verified)?.error;
console.log(JSON.stringify({
  verified: result.verified === true,
  error: error ? String(error.message || error).slice(0, 500) : undefined,
}));
process.exit(result.verified === true ? 0 : 1);
