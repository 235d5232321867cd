import { extractEntityRefs, redactMeta, redactString } from './redact';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBhcnQ';

describe('redactMeta', () => {
  it('replaces the values of secret-looking keys at any depth', () => {
    expect(
      redactMeta({
        accessToken: 'a',
        client_secret: 'b',
        nested: {
          password: 'c',
          samlAssertion: 'd',
          Authorization: 'e',
          cookie: 'f',
          codeVerifier: 'g',
          credentials: 'h',
          code: 'i',
          authCode: 'j',
          list: [{ refresh_token: 'k' }],
        },
        codename: 'l',
        templateRef: 'template:default/deploy',
      }),
    ).toEqual({
      accessToken: '[redacted]',
      client_secret: '[redacted]',
      nested: {
        password: '[redacted]',
        samlAssertion: '[redacted]',
        Authorization: '[redacted]',
        cookie: '[redacted]',
        codeVerifier: '[redacted]',
        credentials: '[redacted]',
        code: '[redacted]',
        authCode: '[redacted]',
        list: [{ refresh_token: '[redacted]' }],
      },
      codename: '[redacted]',
      templateRef: 'template:default/deploy',
    });
  });

  it('replaces JWTs and bearer values inside any string', () => {
    expect(
      redactMeta({
        raw: JWT,
        unsigned: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        sentence: `graph answered 401 for Bearer ${JWT}, retrying`,
        list: ['bearer abc123', 'fine'],
      }),
    ).toEqual({
      raw: '[redacted]',
      unsigned: '[redacted]',
      sentence: 'graph answered 401 for [redacted], retrying',
      list: ['[redacted]', 'fine'],
    });
    expect(redactString('no secrets here: eyJ alone')).toBe(
      'no secrets here: eyJ alone',
    );
  });

  it('answers plain JSON whatever it is given and never throws', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(
      redactMeta({
        when: new Date('2026-01-01T00:00:00Z'),
        err: new Error(`failed with ${JWT}`),
        big: BigInt(5),
        fn: () => 1,
        missing: undefined,
        inf: Infinity,
        cyclic,
      }),
    ).toEqual({
      when: '2026-01-01T00:00:00.000Z',
      err: { name: 'Error', message: 'failed with [redacted]' },
      big: '5',
      inf: 'Infinity',
      cyclic: { name: 'loop', self: '[redacted]' },
    });
    expect(redactMeta(undefined)).toEqual({});
    expect(redactMeta('a string' as never)).toEqual({});
  });
});

describe('extractEntityRefs', () => {
  it('takes ref-named keys at the top level and one object level down, lowercased, once each', () => {
    expect(
      extractEntityRefs({
        entityRef: 'Component:default/Shop',
        entityRefs: ['component:default/shop', 'api:default/orders'],
        resourceRef: 'resource:default/db',
        targetRef: 'system:default/payments',
        componentRef: 'component:default/checkout',
        ownerEntityRef: 'group:default/team-a',
        memberEntityRefs: ['user:default/alice'],
        task: { templateRef: 'template:default/deploy', id: 't1' },
        deep: { inner: { entityRef: 'component:default/too-deep' } },
        actor: { entityRef: 'user:default/bob' },
        initiator: { entityRef: 'user:default/carol' },
        unrelated: 'component:default/not-a-ref-key',
        count: 3,
      }),
    ).toEqual([
      'component:default/shop',
      'api:default/orders',
      'resource:default/db',
      'system:default/payments',
      'component:default/checkout',
      'group:default/team-a',
      'user:default/alice',
      'template:default/deploy',
    ]);
  });

  it('takes what the catalog events carry', () => {
    // entity-mutate refresh / entity-fetch by-name / ancestry
    expect(
      extractEntityRefs({
        queryType: 'refresh',
        entityRef: 'component:default/a',
      }),
    ).toEqual(['component:default/a']);
    expect(
      extractEntityRefs({
        actionType: 'ancestry',
        entityRef: 'component:default/a',
        rootEntityRef: 'component:default/a',
      }),
    ).toEqual(['component:default/a']);
    // a delete by uid names no ref of its own: the catalog only gives the
    // uid; the audit-entity-refs module leaves the ref on the request
    expect(extractEntityRefs({ actionType: 'delete', uid: 'abc' })).toEqual([]);
    expect(
      extractEntityRefs({ actionType: 'delete', uid: 'abc' }, [
        'Component:default/Gone',
      ]),
    ).toEqual(['component:default/gone']);
  });

  it('indexes at most 25 refs of an event, the meta keeps them all', () => {
    const entityRefs = Array.from(
      { length: 100 },
      (_, i) => `component:default/c-${i}`,
    );
    expect(extractEntityRefs({ entityRefs })).toEqual(entityRefs.slice(0, 25));
  });

  it('does not take redacted values as refs', () => {
    expect(
      extractEntityRefs(redactMeta({ entityRef: JWT, targetRef: 'Bearer x' })),
    ).toEqual([]);
  });
});
