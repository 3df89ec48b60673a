import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './index.ts';

const origin = 'http://127.0.0.1:17250';

describe('safeReturnTo', () => {
  it.each(['/tickets/tkt-1', '/approvals?x=1#top', '/'])('keeps the same-origin path %s', (p) => expect(safeReturnTo(p, origin)).toBe(p));
  it.each(['https://evil.com/', '//evil.com', '/.//evil.com', '/..//evil.com', '/%2e//evil.com', '/\\evil.com', '/auth/login', '/a\u0000b', 'tickets', ''])(
    'falls back to / for %j',
    (p) => expect(safeReturnTo(p, origin)).toBe('/'),
  );
});
