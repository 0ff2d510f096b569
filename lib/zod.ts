import { z } from 'zod';

// MV3 extension pages forbid eval; zod 4 probes `new Function` for its JIT and every page then
// fires a CSP securitypolicyviolation. Every zod import in the project goes through this module.
z.config({ jitless: true });

export { z };
