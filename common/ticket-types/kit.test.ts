import { describe, expect, it } from 'vitest';
import { PREVIEW_KINDS } from './kit.ts';
import { SubmitTicketSchema, TICKET_TYPE_SPECS, TICKET_TYPES } from './index.ts';

describe('ticket-type definitions (pure half)', () => {
  it('list the types in one order, keyed by their own type', () => {
    expect(Object.keys(TICKET_TYPE_SPECS)).toEqual([...TICKET_TYPES]);
    for (const t of TICKET_TYPES) expect(TICKET_TYPE_SPECS[t].type).toBe(t);
  });

  it.each([...TICKET_TYPES])('%s: its schema is the submit-body member for its type', (type) => {
    const spec = TICKET_TYPE_SPECS[type];
    const wrong = spec.schema.safeParse({ type: type === 'quota-change' ? 'space-create' : 'quota-change' });
    expect(wrong.success).toBe(false);
    const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
      r.success ? [] : (r.error?.issues ?? []).map((i) => i.path.join('.'));
    // The union routes a body of this type to this schema: both report the same issues.
    expect(issues(SubmitTicketSchema.safeParse({ type }))).toEqual(issues(spec.schema.safeParse({ type })));
  });

  it('name every type in each locale, and use every preview kind', () => {
    for (const t of TICKET_TYPES) {
      expect(TICKET_TYPE_SPECS[t].labels.en).not.toBe('');
      expect(TICKET_TYPE_SPECS[t].labels['zh-CN']).not.toBe('');
    }
    expect(new Set(TICKET_TYPES.map((t) => TICKET_TYPE_SPECS[t].previewKind))).toEqual(new Set(PREVIEW_KINDS));
  });

  it('leave only the quota lease cancellable once approved (until its start)', () => {
    expect(TICKET_TYPES.filter((t) => TICKET_TYPE_SPECS[t].cancelWindow === 'until-started')).toEqual(['quota-lease']);
  });
});
