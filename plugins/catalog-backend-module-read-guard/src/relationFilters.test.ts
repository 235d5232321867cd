import {
  UNREADABLE_TARGET,
  mapFilterParam,
  mapStructuredFilter,
  refuseRelationOrderAndSearch,
  rewriteRelationFilters,
} from './relationFilters';

const HIDDEN = 'resource:default/payments-db';
const READABLE = 'component:default/payments-service';

/** Rewrites as the router does, with `READABLE` the only readable ref. */
async function rewrite(run: Parameters<typeof rewriteRelationFilters>[0]) {
  const asked: string[][] = [];
  await rewriteRelationFilters(run, async refs => {
    asked.push(refs);
    // As CallerReads.readable answers: the readable ones, lowercased.
    return new Set(
      refs.map(r => r.trim().toLowerCase()).filter(r => r === READABLE),
    );
  });
  return asked;
}

describe('relation filters', () => {
  it('rewrites only relation values of filter query parameters, whatever their case and spacing', async () => {
    let param: unknown = [
      `kind=group,Relations.OwnerOf= ${HIDDEN}`,
      `relations.ownerOf=${READABLE.toUpperCase()},metadata.name=${HIDDEN}`,
    ];
    const asked = await rewrite(visit => {
      param = mapFilterParam(param, visit);
    });
    expect(param).toEqual([
      `kind=group,Relations.OwnerOf=${UNREADABLE_TARGET}`,
      `relations.ownerOf=${READABLE.toUpperCase()},metadata.name=${HIDDEN}`,
    ]);
    // One readability check for every value of the request.
    expect(asked).toEqual([[HIDDEN, READABLE.toUpperCase()]]);
  });

  it('rewrites predicates and the filters cursors carry, nested at any depth', async () => {
    const query = {
      $any: [
        { $not: { 'relations.ownerOf': HIDDEN } },
        { 'relations.dependsOn': { $in: [HIDDEN, READABLE] } },
        { 'relations.hasPart': { $contains: HIDDEN } },
        { relations: { $contains: { type: 'ownerOf', targetRef: HIDDEN } } },
        {
          relations: {
            $contains: { type: 'ownerOf', targetRef: { $in: [READABLE] } },
          },
        },
      ],
    };
    const cursorFilter = {
      allOf: [{ key: 'relations.ownerOf', values: [HIDDEN, READABLE] }],
    };
    await rewrite(visit => {
      mapStructuredFilter(query, visit);
      mapStructuredFilter(cursorFilter, visit);
    });
    expect(query).toEqual({
      $any: [
        { $not: { 'relations.ownerOf': UNREADABLE_TARGET } },
        { 'relations.dependsOn': { $in: [UNREADABLE_TARGET, READABLE] } },
        { 'relations.hasPart': { $contains: UNREADABLE_TARGET } },
        {
          relations: {
            $contains: { type: 'ownerOf', targetRef: UNREADABLE_TARGET },
          },
        },
        {
          relations: {
            $contains: { type: 'ownerOf', targetRef: { $in: [READABLE] } },
          },
        },
      ],
    });
    expect(cursorFilter).toEqual({
      allOf: [
        { key: 'relations.ownerOf', values: [UNREADABLE_TARGET, READABLE] },
      ],
    });
  });

  it('leaves filters without relations alone and asks nothing', async () => {
    const query = { kind: 'component', 'spec.owner': HIDDEN };
    let param: unknown = `metadata.name=${HIDDEN}`;
    const asked = await rewrite(visit => {
      mapStructuredFilter(query, visit);
      param = mapFilterParam(param, visit);
    });
    expect(asked).toEqual([]);
    expect(query).toEqual({ kind: 'component', 'spec.owner': HIDDEN });
    expect(param).toBe(`metadata.name=${HIDDEN}`);
  });

  it.each([
    ['a key-only filter', () => mapFilterParam('relations.ownerOf', v => v)],
    [
      '$exists',
      () =>
        mapStructuredFilter({ 'relations.ownerOf': { $exists: true } }, v => v),
    ],
    [
      '$hasPrefix',
      () =>
        mapStructuredFilter(
          { 'relations.ownerOf': { $hasPrefix: 'resource:' } },
          v => v,
        ),
    ],
    [
      'a relations $contains without targetRef',
      () =>
        mapStructuredFilter(
          { relations: { $contains: { type: 'ownerOf' } } },
          v => v,
        ),
    ],
    [
      'a key without values in a cursor',
      () => mapStructuredFilter({ key: 'relations.ownerOf' }, v => v),
    ],
    [
      'ordering by a relation',
      () =>
        refuseRelationOrderAndSearch({
          orderFields: [{ field: 'relations.ownerOf', order: 'asc' }],
        }),
    ],
    [
      'full-text search over a relation',
      () =>
        refuseRelationOrderAndSearch({
          fullTextFields: 'metadata.name,relations.ownerOf',
        }),
    ],
  ])('refuses %s, naming no entity', (_, run) => {
    expect(run).toThrow(
      /is not available to people whose catalog reads are limited by the permission policy/,
    );
  });
});
