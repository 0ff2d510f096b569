/** The relay protocol: platform-free (no node:*, DOM or chrome.*), shared by extension and relay. */
export * from './version.ts';
export * from './error-codes.ts';
export * from './common.ts';
export * from './job-outcome.ts';
export * from './job-kinds.ts';
export * from './ids.ts';
export * from './account-state.ts';
export * from './download-params.ts';
export * from './migrate-params.ts';
export * from './restore-params.ts';
export * from './oauth.ts';
export * from './archive-browse.ts';
export * from './client-frames.ts';
export * from './relay-frames.ts';
export * from './http.ts';
export * from './relay-client.ts';
export * from './native-host.ts';
