import { backoffDelay, parseRetryAfter, RetryPolicy } from './graphClient';

describe('Retry-After as Graph sends it', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it.each([
    ['integer seconds', '3', 3000],
    ['decimal seconds', '0.25', 250],
    ['an HTTP-date', 'Fri, 27 Nov 2026 10:00:30 GMT', 30_000],
    ['an HTTP-date in the past', 'Fri, 27 Nov 2026 09:59:00 GMT', 0],
  ])('reads %s', (_name, header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([null, '', 'soon', '-1'])(
    'leaves %p to the client backoff',
    header => {
      expect(parseRetryAfter(header, now)).toBeUndefined();
    },
  );
});

describe('backoff without Retry-After', () => {
  const policy: RetryPolicy = {
    maxRetries: 4,
    baseDelayMs: 1000,
    maxDelayMs: 5000,
  };
  it('doubles its ceiling per attempt, up to the maximum, with full jitter', () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 4].map(a => backoffDelay(a, policy, top))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(1000);
  });
});
