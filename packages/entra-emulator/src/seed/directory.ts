import { EmulatorSeed, SeedApp, SeedGroup, SeedUser } from '../types';

/**
 * In-memory directory built from a seed: lookups by id/UPN and group
 * membership (direct and transitive) that tokens and Graph share.
 */
export class Directory {
  readonly users: SeedUser[];
  readonly groups: SeedGroup[];
  readonly usersById = new Map<string, SeedUser>();
  readonly groupsById = new Map<string, SeedGroup>();
  private readonly usersByUpn = new Map<string, SeedUser>();
  private readonly directMemberOf = new Map<string, string[]>();
  private readonly transitiveCache = new Map<string, string[]>();
  private readonly appsByClientId = new Map<string, SeedApp>();

  constructor(readonly seed: EmulatorSeed) {
    this.users = seed.users;
    this.groups = seed.groups;
    for (const u of seed.users) {
      this.usersById.set(u.id, u);
      this.usersByUpn.set(u.userPrincipalName.toLowerCase(), u);
    }
    for (const g of seed.groups) {
      this.groupsById.set(g.id, g);
      for (const m of g.members) {
        const list = this.directMemberOf.get(m) ?? [];
        list.push(g.id);
        this.directMemberOf.set(m, list);
      }
    }
    for (const a of seed.apps) this.appsByClientId.set(a.clientId, a);
  }

  get tenantId(): string {
    return this.seed.tenant.id;
  }

  get apps(): SeedApp[] {
    return this.seed.apps;
  }

  app(clientId: string): SeedApp | undefined {
    return this.appsByClientId.get(clientId);
  }

  /** Finds a user by object id or (case-insensitively) by UPN. Never by mail. */
  findUser(idOrUpn: string): SeedUser | undefined {
    return (
      this.usersById.get(idOrUpn) ??
      this.usersByUpn.get(idOrUpn.trim().toLowerCase())
    );
  }

  /** Groups the object is a direct member of. */
  memberOf(objectId: string): string[] {
    return this.directMemberOf.get(objectId) ?? [];
  }

  /** Groups the object belongs to directly or through nested groups. */
  transitiveMemberOf(objectId: string): string[] {
    const cached = this.transitiveCache.get(objectId);
    if (cached) return cached;
    const seen = new Set<string>();
    const queue = [...this.memberOf(objectId)];
    while (queue.length) {
      const g = queue.shift()!;
      if (seen.has(g)) continue;
      seen.add(g);
      queue.push(...this.memberOf(g));
    }
    const result = [...seen];
    this.transitiveCache.set(objectId, result);
    return result;
  }
}
