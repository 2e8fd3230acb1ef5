import { z } from 'zod';

/** A command as argv: every element is quoted before it reaches a shell (local or over SSH). */
export const Argv = z.array(z.string().min(1)).min(1);
