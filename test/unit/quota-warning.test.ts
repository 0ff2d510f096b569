import { describe, expect, it } from 'vitest';
import { quotaShortfall } from '@/lib/migrate/quota-warning';

const MB = 1024 * 1024;

describe('the preview’s quota check', () => {
  it('warns with both sizes when the planned bytes exceed what the quota leaves free', () => {
    const w = quotaShortfall(47.5 * MB, { usedBytes: 2 * MB - 300 * 1024, limitBytes: 2 * MB }, 'migration');
    expect(w?.text).toBe(
      '47.5 MB to copy, 300.0 KB free on the destination. The migration would stop when the destination is full (Partially Complete); free space there or raise its quota first.',
    );
    expect(w?.freeBytes).toBe(300 * 1024);
  });

  it('is quiet when it fits exactly, when nothing is to be copied, and when the server reports no limit', () => {
    expect(quotaShortfall(MB, { usedBytes: MB, limitBytes: 2 * MB }, 'restore')).toBeNull();
    expect(quotaShortfall(0, { usedBytes: 2 * MB, limitBytes: 2 * MB }, 'restore')).toBeNull();
    expect(quotaShortfall(MB, { usedBytes: 5, limitBytes: null }, 'restore')).toBeNull();
    expect(quotaShortfall(MB, null, 'restore')).toBeNull();
  });

  it('counts a quota already over its limit as nothing free, and an unknown usage as none used', () => {
    expect(quotaShortfall(1, { usedBytes: 3 * MB, limitBytes: 2 * MB }, 'restore')?.freeBytes).toBe(0);
    expect(quotaShortfall(3 * MB, { usedBytes: null, limitBytes: 2 * MB }, 'migration')?.freeBytes).toBe(2 * MB);
  });
});
