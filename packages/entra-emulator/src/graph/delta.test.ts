import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import { graphAppToken } from '../testUtils/tokens';

const GROUP_SELECT = 'id,displayName,members';

describe('Graph delta queries for users and groups', () => {
  let emulator: EntraEmulator;
  let token: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    token = await graphAppToken(emulator);
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  async function getUrl(url: string, headers: Record<string, string> = {}) {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  /** Follows nextLinks to the deltaLink; returns every page's items. */
  async function walk(url: string, headers: Record<string, string> = {}) {
    const pages: any[][] = [];
    let next: string = url;
    for (;;) {
      const { status, body } = await getUrl(next, headers);
      expect(status).toBe(200);
      pages.push(body.value);
      expect(
        Boolean(body['@odata.nextLink']) !== Boolean(body['@odata.deltaLink']),
      ).toBe(true);
      if (body['@odata.deltaLink']) {
        return {
          pages,
          items: pages.flat(),
          deltaLink: body['@odata.deltaLink'] as string,
        };
      }
      next = body['@odata.nextLink'];
      expect(next).toContain('$skiptoken=');
    }
  }

  const users = () =>
    `${emulator.graphBaseUrl}/users/delta?$select=id,displayName,accountEnabled`;
  const groups = () =>
    `${emulator.graphBaseUrl}/groups/delta?$select=${GROUP_SELECT}`;

  it('pages through every user first, then returns only changes with @removed for deletions', async () => {
    const first = await walk(users(), { Prefer: 'odata.maxpagesize=2' });
    expect(first.pages.length).toBeGreaterThan(1);
    expect(first.items.map(u => u.id).sort()).toEqual(
      emulator.seed.users.map(u => u.id).sort(),
    );
    expect(first.deltaLink).toContain('$deltatoken=');

    const quiet = await walk(first.deltaLink);
    expect(quiet.items).toEqual([]);

    const [a, b, c] = emulator.seed.users.filter(u => u.userType !== 'Guest');
    emulator.directory.updateUser(a.id, { displayName: 'Renamed Person' });
    emulator.directory.setAccountEnabled(b.id, false);
    emulator.directory.removeUser(c.id);
    const changed = await walk(quiet.deltaLink);
    expect(changed.items).toEqual(
      expect.arrayContaining([
        { id: a.id, displayName: 'Renamed Person', accountEnabled: true },
        expect.objectContaining({ id: b.id, accountEnabled: false }),
        { id: c.id, '@removed': { reason: 'changed' } },
      ]),
    );
    expect(changed.items).toHaveLength(3);

    emulator.directory.restoreUser(c.id);
    const restored = await walk(changed.deltaLink);
    expect(restored.items).toEqual([
      expect.objectContaining({ id: c.id, displayName: c.displayName }),
    ]);
    emulator.directory.removeUser(c.id, { permanent: true });
    const gone = await walk(restored.deltaLink);
    expect(gone.items).toEqual([
      { id: c.id, '@removed': { reason: 'deleted' } },
    ]);
    emulator.directory.setAccountEnabled(b.id, true);
  });

  it('reports membership changes as members@delta, spreading a big group over pages', async () => {
    const base = await walk(groups());
    const g = emulator.seed.groups[0];
    expect(base.items.find(i => i.id === g.id)['members@delta']).toEqual(
      g.members.map(id => expect.objectContaining({ id })),
    );

    const bigId = '00000000-0000-4000-8000-0000000b1900';
    const people = Array.from({ length: 2500 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: `Person ${i}`,
      userPrincipalName: `person${i}@contoso.example`,
    }));
    for (const p of people) emulator.directory.addUser(p);
    emulator.directory.addGroup({
      id: bigId,
      displayName: 'Everyone big',
      members: people.map(p => p.id),
    });
    const removedMember = g.members[0];
    emulator.directory.removeMember(g.id, removedMember);
    emulator.directory.addMember(g.id, bigId);

    const changes = await walk(base.deltaLink);
    const bigRecords = changes.items.filter(i => i.id === bigId);
    expect(bigRecords.length).toBeGreaterThan(1);
    expect(changes.pages.length).toBeGreaterThan(2);
    // Properties come with the group's first appearance only.
    expect(bigRecords[0].displayName).toBe('Everyone big');
    expect(
      bigRecords.flatMap(r => r['members@delta'].map((m: any) => m.id)).sort(),
    ).toEqual(people.map(p => p.id).sort());
    expect(changes.items.find(i => i.id === g.id)['members@delta']).toEqual(
      expect.arrayContaining([
        {
          '@odata.type': expect.any(String),
          id: removedMember,
          '@removed': { reason: 'deleted' },
        },
        { '@odata.type': '#microsoft.graph.group', id: bigId },
      ]),
    );

    emulator.directory.removeGroup(bigId);
    const removed = await walk(changes.deltaLink);
    expect(removed.items).toEqual(
      expect.arrayContaining([
        { id: bigId, '@removed': { reason: 'deleted' } },
        expect.objectContaining({
          id: g.id,
          'members@delta': [
            {
              '@odata.type': '#microsoft.graph.group',
              id: bigId,
              '@removed': { reason: 'deleted' },
            },
          ],
        }),
      ]),
    );
  });

  it('$deltatoken=latest gives a deltaLink for now without reading anything', async () => {
    const latest = await walk(`${users()}&$deltatoken=latest`);
    expect(latest.items).toEqual([]);
    const u = emulator.seed.users[0];
    emulator.directory.updateUser(u.id, { jobTitle: 'Changed' });
    const next = await walk(latest.deltaLink);
    expect(next.items.map(i => i.id)).toEqual([u.id]);
  });

  it('an expired or unknown delta token answers 410 syncStateNotFound', async () => {
    const { deltaLink } = await walk(groups());
    emulator.directory.expireDeltaTokens();
    const expired = await getUrl(deltaLink);
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('syncStateNotFound');
    const unknown = await getUrl(
      `${emulator.graphBaseUrl}/users/delta?$deltatoken=not-a-token`,
    );
    expect(unknown.status).toBe(410);
    // Starting over works.
    expect((await walk(groups())).items.length).toBeGreaterThan(0);
  });

  it('a page fault on a later page fails only that request; retrying the same link continues', async () => {
    const first = await getUrl(users(), { Prefer: 'odata.maxpagesize=2' });
    emulator.setFaults([
      {
        route: '/v1.0/users/delta',
        type: 'failPage',
        page: 2,
        status: 429,
        times: 1,
      },
    ]);
    const next = first.body['@odata.nextLink'];
    expect((await getUrl(next)).status).toBe(429);
    const again = await getUrl(next);
    expect(again.status).toBe(200);
    expect(again.body.value.length).toBeGreaterThan(0);
  });
});
