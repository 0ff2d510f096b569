// Whether the relay bundle under `root` may run: stamp.json (written by scripts/build-relay.mjs)
// names the build and every source file it was built from with its size and mtime as the build
// read it; the bundle runs only while each of them is exactly so. Any save, even one that moves a
// file's mtime back (a checkout, a restore from backup), or a file gone makes it stale. One stat
// per source file (about 100, well under a millisecond): no tree walk, no hashing.
// `kind`: 'cli' (the split build, mailkeep.mjs) or 'relay' (the single file for `mailkeep relay`).
// Returns the file to import, or null.
import fs from 'node:fs';
import path from 'node:path';

export function freshBundle(root, kind = 'cli') {
  const out = path.join(root, '.output/relay');
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(out, 'stamp.json'), 'utf8'));
    if (stamp?.v !== 2 || typeof stamp.build !== 'string' || !/^b-[a-z0-9-]+$/.test(stamp.build) || !Array.isArray(stamp.files) || stamp.files.length === 0) return null;
    for (const [file, size, mtimeMs] of stamp.files) {
      const st = fs.statSync(path.join(root, file));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return null;
    }
    const bundle = path.join(out, stamp.build, kind === 'relay' ? 'relay.mjs' : 'mailkeep.mjs');
    return fs.existsSync(bundle) ? bundle : null;
  } catch {
    return null; // no stamp, or a source file it names is gone: run the sources
  }
}
