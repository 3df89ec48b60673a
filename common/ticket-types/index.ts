import { z } from 'zod';
import { IMAGE_PUBLISH } from './image-publish.ts';
import type { TicketTypeSpec } from './kit.ts';
import { NODE_JOIN } from './node-join.ts';
import { QUOTA_CHANGE } from './quota-change.ts';
import { QUOTA_LEASE } from './quota-lease.ts';
import { SPACE_CREATE } from './space-create.ts';
import { SPACE_DELETE } from './space-delete.ts';
import { WORKLOAD_DEPLOY } from './workload-deploy.ts';
import { WORKLOAD_OPERATION } from './workload-operation.ts';
import { WORKLOAD_ROLLBACK } from './workload-rollback.ts';

/**
 * Every ticket type, in the order the API lists them (the type list, the `type` enum of the submit body and
 * its error message follow it). A new type adds its file in this folder and one entry here.
 */
const SPECS = [
  QUOTA_CHANGE,
  SPACE_CREATE,
  SPACE_DELETE,
  NODE_JOIN,
  QUOTA_LEASE,
  WORKLOAD_DEPLOY,
  WORKLOAD_ROLLBACK,
  IMAGE_PUBLISH,
  WORKLOAD_OPERATION,
] as const;
type Specs = typeof SPECS;
type TypesOf<S extends readonly unknown[]> = { -readonly [I in keyof S]: S[I] extends { type: infer T } ? T : never };
type SchemasOf<S extends readonly unknown[]> = { -readonly [I in keyof S]: S[I] extends { schema: infer Z } ? Z : never };

export const TICKET_TYPES = SPECS.map((s) => s.type) as TypesOf<Specs>;
export type TicketType = Specs[number]['type'];

/** The pure definition of each ticket type, by type. */
export const TICKET_TYPE_SPECS = Object.fromEntries(SPECS.map((s) => [s.type, s])) as { readonly [S in Specs[number] as S['type']]: S };

/** Every ticket body, discriminated by `type`; an unknown type is a 400 naming `type`. */
export const SubmitTicketSchema = z.discriminatedUnion('type', SPECS.map((s) => s.schema) as SchemasOf<Specs>);
export type SubmitTicket = z.infer<typeof SubmitTicketSchema>;
/** The request body of one ticket type. */
export type PayloadOf<T extends TicketType> = Extract<SubmitTicket, { type: T }>;

/** The pure definition of a ticket type, typed over the whole union. */
export const ticketTypeSpec = (type: TicketType): TicketTypeSpec => TICKET_TYPE_SPECS[type];
