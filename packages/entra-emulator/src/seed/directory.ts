import {
  EmulatorSeed,
  SeedApp,
  SeedGroup,
  SeedTenantInfo,
  SeedUser,
} from '../types';

/** A person and the tenant they belong to. */
export interface Account {
  user: SeedUser;
  tenantId: string;
}

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
  /** People of `otherTenants`, by lower-cased id and UPN. */
  private readonly foreignAccounts = new Map<string, Account>();
  /** Increases with every change, so views built from the directory know when to rebuild. */
  version = 0;

  constructor(readonly seed: EmulatorSeed) {
    this.users = seed.users;
    this.groups = seed.groups;
    this.reindex();
    for (const a of seed.apps) this.appsByClientId.set(a.clientId, a);
    for (const t of seed.otherTenants ?? []) {
      for (const user of t.users) {
        const account = { user, tenantId: t.tenant.id };
        this.foreignAccounts.set(user.id.toLowerCase(), account);
        this.foreignAccounts.set(user.userPrincipalName.toLowerCase(), account);
      }
    }
  }

  /** The home tenant first, then `otherTenants`. */
  get tenants(): SeedTenantInfo[] {
    return [
      this.seed.tenant,
      ...(this.seed.otherTenants ?? []).map(t => t.tenant),
    ];
  }

  /** A known tenant by id or verified domain (case-insensitive). */
  findTenant(idOrDomain: string): SeedTenantInfo | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenants.find(
      t =>
        t.id.toLowerCase() === key ||
        t.domains.some(d => d.toLowerCase() === key),
    );
  }

  /** The people of one tenant, as its login page lists them. */
  usersOf(tenantId: string): SeedUser[] {
    if (tenantId === this.tenantId) return this.users;
    return (
      this.seed.otherTenants?.find(t => t.tenant.id === tenantId)?.users ?? []
    );
  }

  /**
   * Finds a person by object id or UPN in any tenant (home first). Graph and
   * everything tenant-scoped use {@link Directory.findUser}, which sees the
   * home tenant only.
   */
  findAccount(idOrUpn: string): Account | undefined {
    const home = this.findUser(idOrUpn);
    if (home) return { user: home, tenantId: this.tenantId };
    return this.foreignAccounts.get(idOrUpn.trim().toLowerCase());
  }

  /** Adds a person, optionally as a direct member of `groupIds`. */
  addUser(user: SeedUser, groupIds: string[] = []): void {
    if (this.usersById.has(user.id)) {
      throw new Error(`A user with id ${user.id} already exists`);
    }
    this.users.push(user);
    for (const id of groupIds) this.requireGroup(id).members.push(user.id);
    this.reindex();
  }

  /** Deletes a person and their memberships, as deleting a user in Entra does. */
  removeUser(id: string): void {
    const index = this.users.findIndex(u => u.id === id);
    if (index < 0) throw new Error(`No user with id ${id}`);
    this.users.splice(index, 1);
    for (const g of this.groups) g.members = g.members.filter(m => m !== id);
    this.reindex();
  }

  /** Moves a direct member (user or group) from one group to another. */
  moveMember(memberId: string, fromGroupId: string, toGroupId: string): void {
    const from = this.requireGroup(fromGroupId);
    if (!from.members.includes(memberId)) {
      throw new Error(`${memberId} is not a member of group ${fromGroupId}`);
    }
    from.members = from.members.filter(m => m !== memberId);
    this.requireGroup(toGroupId).members.push(memberId);
    this.reindex();
  }

  /**
   * Disables or re-enables an account, as an admin does in Entra: a disabled
   * person cannot sign in or redeem refresh tokens (AADSTS50057) and Graph
   * shows `accountEnabled: false`. Takes an object id or UPN.
   */
  setAccountEnabled(idOrUpn: string, enabled: boolean): SeedUser {
    const user = this.findAccount(idOrUpn)?.user;
    if (!user) throw new Error(`No user with id or UPN ${idOrUpn}`);
    user.accountEnabled = enabled;
    this.reindex();
    return user;
  }

  private requireGroup(id: string): SeedGroup {
    const group = this.groupsById.get(id);
    if (!group) throw new Error(`No group with id ${id}`);
    return group;
  }

  private reindex(): void {
    this.usersById.clear();
    this.usersByUpn.clear();
    this.groupsById.clear();
    this.directMemberOf.clear();
    this.transitiveCache.clear();
    for (const u of this.users) {
      this.usersById.set(u.id, u);
      this.usersByUpn.set(u.userPrincipalName.toLowerCase(), u);
    }
    for (const g of this.groups) {
      this.groupsById.set(g.id, g);
      for (const m of g.members) {
        const list = this.directMemberOf.get(m) ?? [];
        list.push(g.id);
        this.directMemberOf.set(m, list);
      }
    }
    this.version++;
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
