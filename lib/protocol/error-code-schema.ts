import { z } from '../zod.ts';
import { ERROR_CODES } from './error-codes.ts';

/** The stable error codes (listed in error-codes.ts, which stays zod-free) as a schema. */
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;
