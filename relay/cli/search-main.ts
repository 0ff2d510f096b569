import { oneCommandMain } from './run-command.ts';
import { SEARCH_HELP, searchCommand } from './search-command.ts';

/**
 * Where `mailkeep search` starts (bin/mailkeep.js picks it by the command name;
 * scripts/build-relay.mjs bundles it on its own): the search code and nothing of main.ts's table of
 * every command, so a one-shot search costs about what Node with SQLite does. It answers as main.ts
 * does (the same runner, run-command.ts): test/relay/relay-bundle.test.ts compares them.
 */
export const main = oneCommandMain('search', { help: SEARCH_HELP, run: searchCommand });
