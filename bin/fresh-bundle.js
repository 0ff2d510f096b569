// Whether the relay bundle under `root` may run: stamp.json (written by scripts/build-relay.mjs)
// names the build and every source file it was built from with its size and mtime as the build
// read it; the bundle runs only while each of them is exactly so. Any save, even one that moves a
// file's mtime back (a checkout, a restore from backup), or a file gone makes it stale. One stat
// per source file: no tree walk, no hashing.
// `kind`: 'cli' (the split build, mailkeep.mjs), 'relay' (the single file for `mailkeep relay`),
// 'search' or 'show' (search.mjs, show.mjs: the small entries of those commands). Each of these two
// is made from a fraction of the sources and checked against those only (stamp.search, stamp.show
// list them), since a file a build was not made from cannot make it stale: a search starts with
// about 30 stats, not 200.
// Returns the file to import, or null.
import fs from 'node:fs';

const ENTRY = { cli: 'mailkeep.mjs', relay: 'relay.mjs', search: 'search.mjs', show: 'show.mjs' };

export function freshBundle(root, kind = 'cli') {
  const out = `${root}/.output/relay`;
  try {
    const stamp = JSON.parse(fs.readFileSync(`${out}/stamp.json`, 'utf8'));
    if (stamp?.v !== 3 || typeof stamp.build !== 'string' || !/^b-[a-z0-9-]+$/.test(stamp.build) || !Array.isArray(stamp.files) || stamp.files.length === 0) return null;
    if (!Object.hasOwn(ENTRY, kind)) return null;
    const files = kind === 'search' || kind === 'show' ? stamp[kind]?.map((i) => stamp.files[i]) : stamp.files;
    if (!Array.isArray(files) || files.length === 0) return null;
    for (const [file, size, mtimeMs] of files) {
      // String paths joined by hand: path.join costs more than the stat here (this runs 30-200
      // times before every command). Stamped names are relative, with "/".
      const st = fs.statSync(`${root}/${file}`, { throwIfNoEntry: false });
      if (st === undefined || st.size !== size || st.mtimeMs !== mtimeMs) return null;
    }
    const bundle = `${out}/${stamp.build}/${ENTRY[kind]}`;
    return fs.existsSync(bundle) ? bundle : null;
  } catch {
    return null; // no stamp, a damaged one, or an entry that is not [file, size, mtime]: run the sources
  }
}
