// Whether the relay bundle under `root` may run: it exists and is newer than every source file it
// was built from (listed by scripts/build-relay.mjs in inputs.json). Returns its path, or null.
import fs from 'node:fs';
import path from 'node:path';

export function freshBundle(root) {
  const dir = path.join(root, '.output/relay');
  const bundle = path.join(dir, 'mailkeep.mjs');
  try {
    const built = fs.statSync(bundle).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return null;
    return inputs.every((f) => fs.statSync(path.join(root, f)).mtimeMs <= built) ? bundle : null;
  } catch {
    return null; // no bundle, or a source file it names is gone: run the sources
  }
}
