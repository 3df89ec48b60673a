import { describe, expect, it } from 'vitest';
import { TICKET_TYPE_SPECS, TICKET_TYPES } from '../../../common/tickets.ts';
import { TICKET_TYPE_DEFS } from './index.ts';

describe('ticket-type registry (API half)', () => {
  it.each([...TICKET_TYPES])('%s: one definition, over the pure half of its type', (type) => {
    const def = TICKET_TYPE_DEFS[type];
    expect(def.spec).toBe(TICKET_TYPE_SPECS[type]);
    expect(def.workflowType).not.toBe('');
    // A type cancellable until its start must be able to ask its workflow whether it has started.
    expect(def.spec.cancelWindow === 'until-started').toBe(def.awaitingStart !== undefined);
  });

  it('has no definition beyond the type list', () => {
    expect(Object.keys(TICKET_TYPE_DEFS).sort()).toEqual([...TICKET_TYPES].sort());
  });
});
