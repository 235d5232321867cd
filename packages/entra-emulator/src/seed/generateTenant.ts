import { EmulatorSeed, SeedGroup, SeedUser } from '../types';
import { deterministicGuid } from './guid';
import { loadSeed } from './loadSeed';

/** Options of {@link generateTenant}. */
export interface GenerateTenantOptions {
  users: number;
  groups: number;
  /** Seed number; the same seed always yields the same tenant. Default 1. */
  seed?: number;
  /** Groups each user joins directly, at most. Default 3. */
  maxGroupsPerUser?: number;
  /** Child groups per parent group in the nesting tree. Default 10. */
  nestingFanout?: number;
}

/** A small, fast, seedable PRNG (mulberry32): deterministic across runs and platforms. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = [
  'Alex',
  'Sam',
  'Jo',
  'Kai',
  'Noor',
  'Lea',
  'Ravi',
  'Mina',
  'Tom',
  'Ines',
  'Omar',
  'Yuki',
];
const FAMILY = [
  'Berg',
  'Costa',
  'Diaz',
  'Eng',
  'Fox',
  'Hale',
  'Ivers',
  'Kahn',
  'Lund',
  'Moss',
  'Nash',
  'Ortiz',
];

/**
 * A large synthetic tenant for benchmarks: `users` people, `groups` groups
 * arranged as a tree (nesting), each person in 1..maxGroupsPerUser groups.
 * Tenant and applications are those of the bundled seed, so the usual
 * credentials work against it.
 */
export function generateTenant(options: GenerateTenantOptions): EmulatorSeed {
  const base = loadSeed();
  const seedNumber = options.seed ?? 1;
  const random = prng(seedNumber);
  const fanout = options.nestingFanout ?? 10;
  const maxPerUser = options.maxGroupsPerUser ?? 3;
  const domain = base.tenant.domains[0];

  const users: SeedUser[] = [];
  for (let i = 0; i < options.users; i++) {
    const given = GIVEN[Math.floor(random() * GIVEN.length)];
    const family = FAMILY[Math.floor(random() * FAMILY.length)];
    const upn = `${given}.${family}.${i}@${domain}`.toLowerCase();
    users.push({
      id: deterministicGuid(`gen/${seedNumber}/user/${i}`),
      displayName: `${given} ${family} ${i}`,
      givenName: given,
      surname: family,
      userPrincipalName: upn,
      mail: upn,
      jobTitle: 'Engineer',
      accountEnabled: random() > 0.01,
    });
  }
  const groups: SeedGroup[] = [];
  for (let g = 0; g < options.groups; g++) {
    groups.push({
      id: deterministicGuid(`gen/${seedNumber}/group/${g}`),
      displayName: `team-${String(g).padStart(5, '0')}`,
      members: [],
    });
  }
  // Nesting: group g is a member of group floor((g - 1) / fanout).
  for (let g = 1; g < groups.length; g++) {
    groups[Math.floor((g - 1) / fanout)].members.push(groups[g].id);
  }
  if (groups.length) {
    for (const user of users) {
      const count = 1 + Math.floor(random() * maxPerUser);
      const chosen = new Set<number>();
      for (let k = 0; k < count; k++)
        chosen.add(Math.floor(random() * groups.length));
      for (const g of chosen) groups[g].members.push(user.id);
    }
  }
  return { tenant: base.tenant, apps: base.apps, users, groups };
}
