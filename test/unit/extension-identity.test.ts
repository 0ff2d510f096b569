import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXTENSION_ID, EXTENSION_ORIGIN, EXTENSION_PUBLIC_KEY } from '@/lib/extension-identity';

describe('the pinned extension identity', () => {
  it('derives the extension ID from the manifest key the way Chromium does', () => {
    const hex = createHash('sha256').update(Buffer.from(EXTENSION_PUBLIC_KEY, 'base64')).digest('hex').slice(0, 32);
    const id = [...hex].map((c) => String.fromCharCode('a'.charCodeAt(0) + parseInt(c, 16))).join('');
    expect(id).toBe(EXTENSION_ID);
    expect(EXTENSION_ORIGIN).toBe(`chrome-extension://${id}`);
  });

  it('is the key the manifest is built with', () => {
    const config = readFileSync(path.resolve(__dirname, '../../wxt.config.ts'), 'utf8');
    expect(config).toMatch(/key: EXTENSION_PUBLIC_KEY/);
  });
});
