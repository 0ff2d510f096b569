import { z } from '../zod.ts';
import { ErrorCode } from './error-code-schema.ts';

/**
 * The relay's few plain-HTTP bodies. Everything else travels over the WebSocket at /ws.
 * POST bodies must be `Content-Type: application/json`.
 */

/** Where `mailkeep relay` listens unless told otherwise (`--port`); the extension tries it first. */
export const DEFAULT_RELAY_PORT = 7412;

/** POST /pair: the one-time code the relay printed (case and dashes are ignored). */
export const PairRequest = z.strictObject({
  code: z.string().min(4).max(32),
  client: z.strictObject({ name: z.string().max(64), version: z.string().max(32) }).optional(),
});
export type PairRequest = z.infer<typeof PairRequest>;

/** 200 reply to POST /pair. The token is shown this once; the relay keeps only its hash. */
export const PairResponse = z.strictObject({
  token: z.string().min(32).max(256),
  protocolVersions: z.array(z.number().int().positive()),
});
export type PairResponse = z.infer<typeof PairResponse>;

/** GET /health: needs no token, tells the popup the relay runs and whether it has been paired. */
export const HealthResponse = z.strictObject({
  name: z.literal('mailkeep-relay'),
  version: z.string().max(32),
  protocolVersions: z.array(z.number().int().positive()),
  paired: z.boolean(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** Every HTTP refusal has this body (and no CORS header). */
export const HttpErrorBody = z.strictObject({
  error: z.strictObject({ code: ErrorCode, message: z.string().max(1024) }),
});
export type HttpErrorBody = z.infer<typeof HttpErrorBody>;
