/**
 * `mailkeep relay --background`: started by a service manager or the native host, with no terminal.
 * Its own small module so the native host can name it without loading the relay's server code.
 */
export const BACKGROUND_FLAG = '--background';
