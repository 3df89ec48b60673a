import { describe, expect, it } from 'vitest';
import { redisConnection } from './redis.ts';

describe('redisConnection', () => {
  it('takes host, port, credentials, database and TLS from the URL, as the API client does', () => {
    expect(redisConnection('redis://127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380, maxRetriesPerRequest: null });
    expect(redisConnection('redis://u:p%40ss@redis:6379/3')).toEqual({
      host: 'redis',
      port: 6379,
      username: 'u',
      password: 'p@ss',
      db: 3,
      maxRetriesPerRequest: null,
    });
    expect(redisConnection('rediss://redis.example.org')).toMatchObject({ host: 'redis.example.org', port: 6379, tls: {} });
  });
  it('refuses a database that is not a number', () => {
    expect(() => redisConnection('redis://redis:6379/sessions')).toThrow(/database "sessions" is not a number/);
  });
});
