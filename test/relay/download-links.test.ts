import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { DownloadLinks } from '../../relay/server/download-links.ts';

describe('download links', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = (): { dir: string; links: DownloadLinks; file: string; expired: string[] } => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-links-'));
    const links = new DownloadLinks(dir);
    const expired: string[] = [];
    links.onExpire = (id) => expired.push(id);
    const work = links.workDir('j_1');
    const file = path.join(work.dir, 'a.zip');
    fs.writeFileSync(file, 'zip');
    work.release();
    return { dir, links, file, expired };
  };

  it('expire on their timer: file deleted, job told once, token then answers expired', () => {
    vi.useFakeTimers();
    const { links, file, expired } = setup();
    const link = links.register('j_1', file, 'a.zip', 2 * 60_000);
    links.start();
    const token = link.url.split('/').pop()!;
    expect(links.lookup(token)).toMatchObject({ state: 'ok', bytes: 3 });
    vi.advanceTimersByTime(2 * 60_000 + 100);
    expect(expired).toEqual(['j_1']);
    expect(fs.existsSync(file)).toBe(false);
    expect(links.lookup(token)).toEqual({ state: 'expired' });
    expect(links.lookup('f'.repeat(64))).toEqual({ state: 'unknown' });
    links.stop();
  });

  it('default to 24 hours and clamp what a job asks for', () => {
    const { dir, file } = setup();
    const now = Date.UTC(2031, 6, 15, 12);
    const links = new DownloadLinks(dir, () => now);
    const at = (ttl?: number): number => Date.parse(links.register('j_1', file, 'a.zip', ttl).expiresAt) - now;
    expect(at()).toBe(RELAY_LIMITS.downloadLinkTtlMs);
    expect(at(1)).toBe(RELAY_LIMITS.downloadLinkMinTtlMs);
    expect(at(1e12)).toBe(RELAY_LIMITS.downloadLinkMaxTtlMs);
    links.stop();
  });

  it('the sweep removes leftovers no live link or running export owns', () => {
    const { dir, links } = setup();
    const running = links.workDir('j_running');
    fs.mkdirSync(path.join(dir, 'downloads', 'j_killed'));
    fs.writeFileSync(path.join(dir, 'downloads', 'j_killed', '.x.partial'), 'half');
    links.sweep();
    expect(fs.readdirSync(path.join(dir, 'downloads')).sort()).toEqual(['j_running']);
    running.release();
    links.sweep();
    expect(fs.readdirSync(path.join(dir, 'downloads'))).toEqual([]);
  });
});
