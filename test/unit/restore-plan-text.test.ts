import { describe, expect, it } from 'vitest';
import { restorePlanText } from '@/lib/ui/restore-plan-text';

const plan = { folder: '', into: null, toAppend: 8, alreadyPresent: 0, foldersToCreate: 0, overAppendLimit: 0 };

describe('the restore confirmation line and the destination’s quota', () => {
  it('warns before the restore when the planned bytes will not fit the quota the dry run read', () => {
    const text = restorePlanText({ ...plan, bytesToAppend: 160 * 1024, quota: { usedBytes: 50 * 1024, limitBytes: 100 * 1024 } });
    expect(text).toBe(
      '8 messages will be put back into their folders. Nothing is deleted. Will not fit: 160.0 KB to copy, 50.0 KB free on the destination. The restore would stop when the destination is full (Partially Complete); free space there or raise its quota first.',
    );
  });

  it('says nothing of quota when it fits or the server reports none', () => {
    expect(restorePlanText({ ...plan, bytesToAppend: 10 * 1024, quota: { usedBytes: 50 * 1024, limitBytes: 100 * 1024 } })).not.toContain('Will not fit');
    expect(restorePlanText({ ...plan, bytesToAppend: 10 * 1024, quota: null })).not.toContain('Will not fit');
  });
});
