import http from 'node:http';
import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import { graphAppToken } from '../testUtils/tokens';
import { retryAfterValue } from './faultMiddleware';

describe('fault switches', () => {
  let emulator: EntraEmulator;
  let token: string;

  beforeAll(async () => {
    emulator = await startTestEmulator({
      faults: [
        { route: '/v1.0/organization/*', type: 'unavailable', times: 1 },
      ],
    });
    token = await graphAppToken(emulator);
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  const users = (query = '') =>
    fetch(`${emulator.httpUrl}/v1.0/users${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });

  it('faults given at start apply (and `times` limits them)', async () => {
    const url = `${emulator.httpUrl}/v1.0/organization/${emulator.tenantId}`;
    const headers = { authorization: `Bearer ${token}` };
    expect((await fetch(url, { headers })).status).toBe(503);
    expect((await fetch(url, { headers })).status).toBe(200);
  });

  it('latency delays the answer', async () => {
    emulator.setFaults([{ route: '/v1.0/users', type: 'latency', ms: 300 }]);
    const start = Date.now();
    expect((await users()).status).toBe(200);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
  });

  it.each([
    ['integer', 2, '2'],
    ['decimal', 1.5, '1.5'],
  ])('429 with Retry-After as %s', async (_name, retryAfter, header) => {
    emulator.setFaults([
      { route: '/v1.0/users', type: 'throttle', retryAfter },
    ]);
    const res = await users();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(header);
    expect((await res.json()).error.code).toBe('TooManyRequests');
  });

  it('429 with Retry-After as an HTTP-date', async () => {
    emulator.setFaults([
      {
        route: '/v1.0/users',
        type: 'throttle',
        retryAfter: { httpDateInSeconds: 30 },
      },
    ]);
    const res = await users();
    const date = Date.parse(res.headers.get('retry-after')!);
    expect(date - Date.now()).toBeGreaterThan(25_000);
    expect(
      retryAfterValue(
        { route: '', type: 'throttle', retryAfter: { httpDateInSeconds: 0 } },
        0,
      ),
    ).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });

  it('429 without Retry-After', async () => {
    emulator.setFaults([{ route: '/v1.0/users', type: 'throttle' }]);
    const res = await users();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it("503 on the token endpoint uses Entra's error shape", async () => {
    emulator.setFaults([
      { route: '*/oauth2/v2.0/token', type: 'unavailable', method: 'POST' },
    ]);
    const res = await fetch(
      `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/token`,
      { method: 'POST' },
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: 'temporarily_unavailable',
      error_codes: [90033],
    });
  });

  it('connection reset', async () => {
    emulator.setFaults([{ route: '/v1.0/users', type: 'reset' }]);
    const error = await new Promise<NodeJS.ErrnoException>(resolve => {
      http
        .get(
          `${emulator.httpUrl}/v1.0/users`,
          { headers: { authorization: `Bearer ${token}` } },
          () => resolve(new Error('answered') as NodeJS.ErrnoException),
        )
        .on('error', resolve);
    });
    expect(error.code).toBe('ECONNRESET');
  });

  it('failure on page K of a collection', async () => {
    emulator.setFaults([
      { route: '/v1.0/users', type: 'failPage', page: 2, status: 503 },
    ]);
    const first = await users('?$top=5');
    expect(first.status).toBe(200);
    const next = (await first.json())['@odata.nextLink'];
    const second = await fetch(next, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(second.status).toBe(503);
    expect((await second.json()).error.code).toBe('serviceNotAvailable');
  });

  it('an empty directory answered with 200', async () => {
    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    const res = await users();
    expect(res.status).toBe(200);
    expect((await res.json()).value).toEqual([]);
  });

  it('the admin endpoint switches faults at runtime and refuses bad rules', async () => {
    const admin = `${emulator.httpUrl}/_emulator/faults`;
    const set = await fetch(admin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        faults: [{ route: '/v1.0/users', type: 'unavailable' }],
      }),
    });
    expect(set.status).toBe(200);
    expect((await (await fetch(admin)).json()).faults).toHaveLength(1);
    expect((await users()).status).toBe(503);
    expect((await fetch(admin, { method: 'DELETE' })).status).toBe(204);
    expect((await users()).status).toBe(200);
    const bad = await fetch(admin, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ route: '/x', type: 'explode' }]),
    });
    expect(bad.status).toBe(400);
  });
});
