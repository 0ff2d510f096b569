import { oneCommandMain } from './run-command.ts';
import { SHOW_HELP, showCommand } from './show-command.ts';

/** Where `mailkeep show` starts: as search-main.ts, its own small bundle. */
export const main = oneCommandMain('show', { help: SHOW_HELP, run: showCommand });
