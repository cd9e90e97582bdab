import type { AnyProcedure } from '@trpc/server/unstable-core-do-not-import';
import { appRouter } from '../routers/app.js';
import { callableProcedure, type Callable } from './call-procedure.js';

// At run time tRPC v11 keeps the procedures flat in `_def.procedures`, by dotted path; its type is the nested record.
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>);
const ofType = (type: AnyProcedure['_def']['type']) =>
  new Map(procedures.filter(([, p]) => p._def.type === type).map(([path, p]) => [path, callableProcedure(p)] as const));

/** The router's queries and mutations by path, callable as the adapter calls them; the lean paths answer only these. */
export const leanQueries: ReadonlyMap<string, Callable> = ofType('query');
export const leanMutations: ReadonlyMap<string, Callable> = ofType('mutation');
