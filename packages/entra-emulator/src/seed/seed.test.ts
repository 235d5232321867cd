import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSeed } from './loadSeed';
import { Directory } from './directory';
import { generateTenant } from './generateTenant';
import { isGuid } from './guid';

describe('bundled seed', () => {
  const seed = loadSeed();
  const directory = new Directory(seed);

  it('has about 20 people with fixed GUIDs and the edge cases issue 3 lists', () => {
    expect(seed.users.length).toBe(20);
    expect(seed.users.every(u => isGuid(u.id))).toBe(true);
    expect(seed.users.filter(u => u.userType === 'Guest')).toHaveLength(1);
    expect(seed.users.filter(u => u.accountEnabled === false)).toHaveLength(1);
    expect(seed.users.filter(u => !u.mail)).toHaveLength(1);
    expect(seed.users.filter(u => u.photo).length).toBeGreaterThan(1);
    // Two people whose mail equals another person's UPN, case-insensitively.
    const upns = new Map(
      seed.users.map(u => [u.userPrincipalName.toLowerCase(), u.id]),
    );
    const collisions = seed.users.filter(u => {
      const owner = u.mail && upns.get(u.mail.toLowerCase());
      return owner && owner !== u.id;
    });
    expect(collisions).toHaveLength(2);
  });

  it('has nested groups and one person past 200 groups', () => {
    const byName = (n: string) => seed.groups.find(g => g.displayName === n)!;
    expect(byName('production-deployers').members).toContain(
      byName('platform-admins').id,
    );
    expect(byName('payments').members).toContain(byName('payments-api').id);
    const ada = seed.users.find(u => u.displayName === 'Ada Admin')!;
    expect(directory.transitiveMemberOf(ada.id)).toContain(
      byName('production-deployers').id,
    );
    const over = seed.users.filter(
      u => directory.transitiveMemberOf(u.id).length > 200,
    );
    expect(over.map(u => u.displayName)).toEqual(['Noah Novak']);
  });

  it('resolves users by id or UPN, never by mail', () => {
    expect(directory.findUser('ADA.ADMIN@contoso.example')?.displayName).toBe(
      'Ada Admin',
    );
    expect(directory.findUser('olga@partner.example')).toBeUndefined();
  });

  it('reads a seed from a YAML path and reports unknown members', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      file,
      'tenant: { id: 11111111-1111-4111-8111-111111111111, displayName: T, domains: [t.example] }\nusers: []\napps: []\ngroups:\n  - { id: 21111111-1111-4111-8111-111111111111, displayName: g, members: [ghost@t.example] }\n',
    );
    expect(() => loadSeed(file)).toThrow(
      "Seed group 'g' has unknown member 'ghost@t.example'",
    );
  });
});

describe('otherTenants', () => {
  const base = loadSeed();

  it('keeps the other tenants out of the home directory but finds their people as accounts', () => {
    const directory = new Directory(base);
    const [fabrikam] = base.otherTenants!;
    const farah = fabrikam.users[0];
    expect(directory.findUser(farah.id)).toBeUndefined();
    expect(directory.users.map(u => u.id)).not.toContain(farah.id);
    expect(directory.findAccount(farah.userPrincipalName)).toEqual({
      user: farah,
      tenantId: fabrikam.tenant.id,
    });
    expect(directory.findTenant('FABRIKAM.example')?.id).toBe(
      fabrikam.tenant.id,
    );
  });

  it('refuses an object id used in two tenants', () => {
    const seed = structuredClone(base);
    seed.otherTenants![0].users.push({ ...seed.users[0] });
    expect(() => loadSeed(seed)).toThrow(
      `Seed user id ${seed.users[0].id} is used in two tenants`,
    );
  });
});

describe('generateTenant', () => {
  it('is deterministic from the seed number and builds nesting and memberships', () => {
    const a = generateTenant({ users: 2000, groups: 200, seed: 7 });
    const b = generateTenant({ users: 2000, groups: 200, seed: 7 });
    const c = generateTenant({ users: 2000, groups: 200, seed: 8 });
    expect(a).toEqual(b);
    expect(a.users.map(u => u.displayName)).not.toEqual(
      c.users.map(u => u.displayName),
    );
    expect(a.users).toHaveLength(2000);
    expect(a.groups).toHaveLength(200);
    const directory = new Directory(loadSeed(a));
    const deepest = a.groups[199];
    expect(
      directory.transitiveMemberOf(deepest.id).length,
    ).toBeGreaterThanOrEqual(2);
    expect(a.users.every(u => directory.memberOf(u.id).length >= 1)).toBe(true);
  });
});
