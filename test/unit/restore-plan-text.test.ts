import { describe, expect, it } from 'vitest';
import { labelChoiceMatters, restorePlanText } from '@/lib/ui/restore-plan-text';

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

describe('the restore confirmation line and Gmail labels', () => {
  const gmail = { folder: '', into: null, toAppend: 1000, alreadyPresent: 0, foldersToCreate: 0, overAppendLimit: 0 };

  it('into Gmail says each message is appended once and how many labels are added', () => {
    expect(restorePlanText({ ...gmail, distinctMessages: 1000, labelsToAdd: 2500, labelMode: 'folder-per-label' })).toBe(
      '1,000 messages will be put back into their folders (appended once each; 2,500 labels added). Nothing is deleted.',
    );
  });

  it('into Gmail with part of it there already counts only what is appended and added now', () => {
    expect(restorePlanText({ ...gmail, toAppend: 1, alreadyPresent: 1200, distinctMessages: 1201, labelsToAdd: 1 })).toBe(
      '1 message will be put back into their folders (appended once each; 1 label added), 1,200 already there (left alone). Nothing is deleted.',
    );
  });

  it('into another server, one folder per label says how many copies the distinct messages become', () => {
    expect(restorePlanText({ ...gmail, toAppend: 2500, foldersToCreate: 5, distinctMessages: 1000, labelMode: 'folder-per-label' })).toBe(
      '2,500 messages will be put back into their folders (one copy per label or folder it was in: 1,000 messages as 2,500 copies), 5 folders to create. Nothing is deleted.',
    );
  });

  it('into another server, the first label only is said when the user chose it', () => {
    expect(restorePlanText({ ...gmail, distinctMessages: 1000, labelMode: 'first-label' })).toBe(
      "1,000 messages will be put back into their folders (Gmail labels: each message into its first label's folder only). Nothing is deleted.",
    );
  });

  it('says nothing of labels when every message is in one folder', () => {
    expect(restorePlanText({ ...gmail, toAppend: 8, distinctMessages: 8, labelMode: 'folder-per-label' })).toBe('8 messages will be put back into their folders. Nothing is deleted.');
  });
});

describe('the choice of how Gmail labels become folders, beside the dry run', () => {
  const base = { folder: '', into: null, alreadyPresent: 0, foldersToCreate: 0, overAppendLimit: 0 };
  it('is offered into a server without labels when a message is in several folders, and stays offered once "first label only" is chosen', () => {
    expect(labelChoiceMatters({ ...base, toAppend: 2500, distinctMessages: 1000, labelMode: 'folder-per-label' })).toBe(true);
    expect(labelChoiceMatters({ ...base, toAppend: 1000, distinctMessages: 1000, labelMode: 'first-label' })).toBe(true);
  });
  it('is not offered into Gmail (labels are added), nor where each message is in one folder only, nor without label counts', () => {
    expect(labelChoiceMatters({ ...base, toAppend: 1000, distinctMessages: 1000, labelsToAdd: 2500, labelMode: 'folder-per-label' })).toBe(false);
    expect(labelChoiceMatters({ ...base, toAppend: 40, distinctMessages: 40, labelMode: 'folder-per-label' })).toBe(false);
    expect(labelChoiceMatters({ ...base, toAppend: 40 })).toBe(false);
  });
});
