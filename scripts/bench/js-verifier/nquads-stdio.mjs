// jsonld.js (the JSON-LD processor of the JavaScript verifier) as a line-oriented reference
// for the differential fuzz target fuzz/fuzz_targets/jsonld_differential.rs: each line on
// stdin is a JSON document; each line on stdout is {"nquads": "..."} (canonical N-Quads,
// RDFC-1.0, safe mode as Data Integrity uses it) or {"error": "..."}. Contexts come only
// from contexts/INDEX.tsv, never the network.
//
//   node scripts/bench/js-verifier/nquads-stdio.mjs < documents.jsonl
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import readline from 'node:readline';
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

const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
for await (const line of lines) {
  let answer;
  try {
    const nquads = await jsonld.canonize(JSON.parse(line), {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true, documentLoader,
    });
    answer = {nquads};
  } catch(e) {
    answer = {error: String(e && e.message || e)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
