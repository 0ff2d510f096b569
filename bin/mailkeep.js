#!/usr/bin/env node
// Thin launcher: the relay is TypeScript run through tsx, so `npx mailkeep` works right after `npm ci`
// with no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../relay/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
