import { EXPIRY_MARGIN_MS, ExchangeCache } from './exchangeCache';

const value = (entityRef: string) => ({
  backstageToken: `backstage-token-of-${entityRef}`,
  entityRef,
  appId: 'app',
  objectId: 'oid',
  tenantId: 'tid',
});

describe('ExchangeCache', () => {
  it('keys by sha256 of the token, never the token', () => {
    const key = ExchangeCache.keyOf('eyJ.secret.token');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain('secret');
  });

  it('keeps an entry until a minute before the earlier of the two expiries', () => {
    let now = 1_000_000;
    const cache = new ExchangeCache(10, () => now);
    // Entra token expires in 10 min, Backstage token in 60 min.
    cache.set('k', value('a'), [now + 600_000, now + 3_600_000]);
    now += 600_000 - EXPIRY_MARGIN_MS - 1;
    expect(cache.get('k')?.entityRef).toBe('a');
    now += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not cache what has less than the margin left', () => {
    const now = 5_000_000;
    const cache = new ExchangeCache(10, () => now);
    cache.set('k', value('a'), [now + EXPIRY_MARGIN_MS, now + 3_600_000]);
    expect(cache.get('k')).toBeUndefined();
  });

  it('drops the least recently used entry once full', () => {
    const now = 0;
    const cache = new ExchangeCache(2, () => now);
    const later = [3_600_000];
    cache.set('a', value('a'), later);
    cache.set('b', value('b'), later);
    cache.get('a'); // a is now more recent than b
    cache.set('c', value('c'), later);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.entityRef).toBe('a');
    expect(cache.get('c')?.entityRef).toBe('c');
  });
});
