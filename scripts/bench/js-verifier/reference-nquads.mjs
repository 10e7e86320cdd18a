// Reference canonical N-Quads from jsonld.js (the JSON-LD processor of the JavaScript
// verifier) for every JSON example in tests/fixtures/standards/examples: the document
// without its proofs, and each proof's options (the proof without proofValue, under the
// document's @context), both in safe mode as Data Integrity verification uses them. Written
// to tests/fixtures/verification/jsonld-js/ for tests/jsonld_reference.rs; an example that
// jsonld.js refuses in safe mode gets a .error file with its message.
//
//   node scripts/bench/js-verifier/reference-nquads.mjs
import {readFileSync, writeFileSync, mkdirSync, rmSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import jsonld from 'jsonld';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const read = p => readFileSync(path.join(root, p), 'utf8');
const contexts = new Map();
for(const line of read('contexts/INDEX.tsv').split('\n').slice(1)) {
  const [url, file] = line.split('\t');
  if(url && file) {
    contexts.set(url, JSON.parse(read(`contexts/${file}`)));
  }
}
const documentLoader = async url => {
  if(!contexts.has(url)) {
    throw new Error(`unknown context ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
};

const out = path.join(root, 'tests/fixtures/verification/jsonld-js');
rmSync(out, {recursive: true, force: true});
mkdirSync(out, {recursive: true});
const examples = 'tests/fixtures/standards/examples';
for(const line of read(`${examples}/INDEX.tsv`).split('\n').slice(1)) {
  const file = line.split('\t')[0];
  if(!file || !(file.endsWith('.json') || file.endsWith('testlist'))) {
    continue;
  }
  let credential;
  try {
    credential = JSON.parse(read(`${examples}/${file}`));
  } catch {
    continue;
  }
  const units = [['', credential]];
  const nested = credential?.credentialSubject?.verifiableCredential;
  if(Array.isArray(nested)) {
    nested.forEach((vc, i) => typeof vc === 'object' && units.push([`-vc${i}`, vc]));
  }
  for(const [suffix, unit] of units) {
    const name = file.replaceAll('/', '__') + suffix;
    const {proof, ...unsecured} = unit;
    const inputs = [['document', unsecured]];
    const proofs = Array.isArray(proof) ? proof : (proof ? [proof] : []);
    proofs.forEach((p, i) => {
      const {proofValue, ...options} = p;
      inputs.push([`proof${i}`, {...options, '@context': unit['@context']}]);
    });
    for(const [kind, input] of inputs) {
      try {
        const nquads = await jsonld.canonize(input, {
          algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true, documentLoader,
        });
        writeFileSync(path.join(out, `${name}.${kind}.nq`), nquads);
      } catch(e) {
        writeFileSync(path.join(out, `${name}.${kind}.error`), String(e.message) + '\n');
      }
    }
  }
}
console.log(`written to ${path.relative(root, out)}`);
