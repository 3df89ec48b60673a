import { describe, expect, it } from 'vitest';
import { SubmitTicketSchema } from './tickets.ts';

const fields = (body: unknown): string[] => {
  const r = SubmitTicketSchema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('application space request bodies', () => {
  it.each([
    ['a plain space', { type: 'space-create', vdcId: 'demo', name: 'web' }, []],
    ['labels with a prefix and an empty value', { type: 'space-create', vdcId: 'demo', name: 'web', labels: { 'example.com/team': 'blue', tier: '' } }, []],
    ['namespace over 63 characters', { type: 'space-create', vdcId: 'd'.repeat(30), name: 'n'.repeat(40) }, ['name']],
    ['a VDC named kube', { type: 'space-create', vdcId: 'kube', name: 'system' }, ['vdcId']],
    ['a VDC named vdc (first-namespace prefix)', { type: 'space-create', vdcId: 'vdc', name: 'demo' }, ['vdcId']],
    ['label name over 63', { type: 'space-create', vdcId: 'demo', name: 'web', labels: { ['k'.repeat(64)]: 'v' } }, [`labels.${'k'.repeat(64)}`]],
    [
      'label prefix not a DNS subdomain',
      { type: 'space-create', vdcId: 'demo', name: 'web', labels: { 'Example.com/team': 'v' } },
      ['labels.Example.com/team'],
    ],
    ['reserved k8s.io prefix', { type: 'space-create', vdcId: 'demo', name: 'web', labels: { 'node.k8s.io/x': 'v' } }, ['labels.node.k8s.io/x']],
    ['label value with a slash', { type: 'space-create', vdcId: 'demo', name: 'web', labels: { team: 'a/b' } }, ['labels.team']],
    ['delete takes no labels', { type: 'space-delete', vdcId: 'demo', name: 'web', labels: {} }, ['']],
  ])('%s', (_name, body, expected) => {
    expect(fields(body)).toEqual(expected);
  });
});
