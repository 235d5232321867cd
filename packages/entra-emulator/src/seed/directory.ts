import {
  EmulatorSeed,
  SeedApp,
  SeedGroup,
  SeedTenantInfo,
  SeedUser,
} from '../types';

/**
 * One entry of the directory's change log, which Graph's delta queries read:
 * a user or group whose properties changed (or that appeared or went), or a
 * direct membership that was added or removed.
 */
export type DirectoryChange =
  | { seq: number; kind: 'user' | 'group' | 'servicePrincipal'; id: string }
  | { seq: number; kind: 'member'; groupId: string; memberId: string };

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
  /** The tenant each application (home or `otherTenants`) is registered in. */
  private readonly appTenants = new Map<string, string>();
  /** Home apps with a service principal in Graph, by its object id. */
  readonly servicePrincipalsById = new Map<string, SeedApp>();
  /** People of `otherTenants`, by lower-cased id and UPN. */
  private readonly foreignAccounts = new Map<string, Account>();
  /** Increases with every change, so views built from the directory know when to rebuild. */
  version = 0;
  /** Every change since start, in order; `seq` increases by one per entry. */
  readonly changes: DirectoryChange[] = [];
  /** Sequence number of the last change (0 before any). */
  changeSeq = 0;
  /**
   * Delta tokens issued before this sequence number have expired: Entra
   * keeps delta state for a limited time only (see
   * {@link Directory.expireDeltaTokens}).
   */
  deltaFloor = 0;
  /**
   * Soft-deleted people (Entra's deleted items, restorable for 30 days), with
   * the groups they were direct members of.
   */
  readonly deletedUsers = new Map<
    string,
    { user: SeedUser; groupIds: string[] }
  >();

  constructor(readonly seed: EmulatorSeed) {
    this.users = seed.users;
    this.groups = seed.groups;
    this.reindex();
    for (const a of seed.apps) {
      this.appsByClientId.set(a.clientId, a);
      this.appTenants.set(a.clientId, seed.tenant.id);
      if (a.servicePrincipal) {
        this.servicePrincipalsById.set(a.servicePrincipal.id, a);
      }
    }
    for (const t of seed.otherTenants ?? []) {
      for (const a of t.apps ?? []) {
        this.appsByClientId.set(a.clientId, a);
        this.appTenants.set(a.clientId, t.tenant.id);
      }
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
    if (this.usersById.has(user.id) || this.deletedUsers.has(user.id)) {
      throw new Error(`A user with id ${user.id} already exists`);
    }
    this.users.push(user);
    this.record({ kind: 'user', id: user.id });
    for (const id of groupIds) this.pushMember(this.requireGroup(id), user.id);
    this.reindex();
  }

  /**
   * Deletes a person and their memberships, as deleting a user in Entra
   * does: soft, into deleted items ({@link Directory.restoreUser} brings
   * them back), or for good with `permanent`.
   */
  removeUser(id: string, options: { permanent?: boolean } = {}): void {
    const index = this.users.findIndex(u => u.id === id);
    if (index < 0) throw new Error(`No user with id ${id}`);
    const [user] = this.users.splice(index, 1);
    const groupIds = this.memberOf(id);
    for (const gid of groupIds) this.pullMember(this.requireGroup(gid), id);
    if (!options.permanent) this.deletedUsers.set(id, { user, groupIds });
    this.record({ kind: 'user', id });
    this.reindex();
  }

  /** Deletes a soft-deleted person for good (emptying deleted items). */
  purgeDeletedUser(id: string): void {
    if (!this.deletedUsers.delete(id)) {
      throw new Error(`No deleted user with id ${id}`);
    }
    this.record({ kind: 'user', id });
  }

  /** Restores a soft-deleted person with the direct memberships they had. */
  restoreUser(id: string): SeedUser {
    const deleted = this.deletedUsers.get(id);
    if (!deleted) throw new Error(`No deleted user with id ${id}`);
    this.deletedUsers.delete(id);
    this.users.push(deleted.user);
    this.record({ kind: 'user', id });
    for (const gid of deleted.groupIds) {
      const group = this.groupsById.get(gid);
      if (group) this.pushMember(group, id);
    }
    this.reindex();
    return deleted.user;
  }

  /** Changes a person's properties (a rename, a new job title). */
  updateUser(
    id: string,
    patch: Partial<Omit<SeedUser, 'id' | 'accountEnabled'>>,
  ): SeedUser {
    const user = this.usersById.get(id);
    if (!user) throw new Error(`No user with id ${id}`);
    Object.assign(user, patch);
    this.record({ kind: 'user', id });
    this.reindex();
    return user;
  }

  /** Adds a group, with its direct members. */
  addGroup(group: SeedGroup): void {
    if (this.groupsById.has(group.id)) {
      throw new Error(`A group with id ${group.id} already exists`);
    }
    const members = group.members;
    this.groups.push({ ...group, members: [] });
    const added = this.groups[this.groups.length - 1];
    this.record({ kind: 'group', id: group.id });
    for (const m of members) this.pushMember(added, m);
    this.reindex();
  }

  /** Deletes a group; its members stay, it is no longer their parent. */
  removeGroup(id: string): void {
    const index = this.groups.findIndex(g => g.id === id);
    if (index < 0) throw new Error(`No group with id ${id}`);
    this.groups.splice(index, 1);
    for (const gid of this.memberOf(id)) {
      const parent = this.groupsById.get(gid);
      if (parent) this.pullMember(parent, id);
    }
    this.record({ kind: 'group', id });
    this.reindex();
  }

  /**
   * Makes a user, group (nesting) or service principal a direct member of a
   * group.
   */
  addMember(groupId: string, memberId: string): void {
    const group = this.requireGroup(groupId);
    if (
      !this.usersById.has(memberId) &&
      !this.groupsById.has(memberId) &&
      !this.servicePrincipalsById.has(memberId)
    ) {
      throw new Error(
        `No user, group or service principal with id ${memberId}`,
      );
    }
    if (group.members.includes(memberId)) return;
    this.pushMember(group, memberId);
    this.reindex();
  }

  /** Removes a direct member (user or group) from a group. */
  removeMember(groupId: string, memberId: string): void {
    const group = this.requireGroup(groupId);
    if (!group.members.includes(memberId)) {
      throw new Error(`${memberId} is not a member of group ${groupId}`);
    }
    this.pullMember(group, memberId);
    this.reindex();
  }

  /** Moves a direct member (user or group) from one group to another. */
  moveMember(memberId: string, fromGroupId: string, toGroupId: string): void {
    const from = this.requireGroup(fromGroupId);
    if (!from.members.includes(memberId)) {
      throw new Error(`${memberId} is not a member of group ${fromGroupId}`);
    }
    this.pullMember(from, memberId);
    this.pushMember(this.requireGroup(toGroupId), memberId);
    this.reindex();
  }

  /**
   * Makes every delta token issued so far expire, as Entra does when it has
   * dropped a tenant's delta state: the next delta call answers 410.
   */
  expireDeltaTokens(): void {
    this.deltaFloor = this.changeSeq + 1;
    // A token for the current state would otherwise still be valid.
    this.changeSeq++;
  }

  private pushMember(group: SeedGroup, memberId: string) {
    group.members.push(memberId);
    this.record({ kind: 'member', groupId: group.id, memberId });
  }

  private pullMember(group: SeedGroup, memberId: string) {
    group.members = group.members.filter(m => m !== memberId);
    this.record({ kind: 'member', groupId: group.id, memberId });
  }

  private record(
    change:
      | { kind: 'user' | 'group' | 'servicePrincipal'; id: string }
      | { kind: 'member'; groupId: string; memberId: string },
  ) {
    this.changes.push({ ...change, seq: ++this.changeSeq } as DirectoryChange);
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
    if (this.usersById.get(user.id) === user)
      this.record({ kind: 'user', id: user.id });
    this.reindex();
    return user;
  }

  /**
   * Disables or re-enables a service principal (by object id, app id or
   * seed key), as an admin does in Entra: a disabled one gets no tokens
   * (AADSTS7000112) and Graph shows `accountEnabled: false`.
   */
  setServicePrincipalEnabled(idOrAppId: string, enabled: boolean): SeedApp {
    const app = this.findServicePrincipal(idOrAppId);
    if (!app) throw new Error(`No service principal ${idOrAppId}`);
    app.servicePrincipal!.accountEnabled = enabled;
    this.record({ kind: 'servicePrincipal', id: app.servicePrincipal!.id });
    this.reindex();
    return app;
  }

  /** A home app that has a service principal in Graph, by SP id, app id or key. */
  findServicePrincipal(idOrAppId: string): SeedApp | undefined {
    const key = idOrAppId.toLowerCase();
    return [...this.servicePrincipalsById.values()].find(
      a =>
        a.servicePrincipal!.id.toLowerCase() === key ||
        a.clientId.toLowerCase() === key ||
        a.key.toLowerCase() === key,
    );
  }

  /** The tenant an application is registered in (home or one of `otherTenants`). */
  tenantOfApp(clientId: string): string | undefined {
    return this.appTenants.get(clientId);
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

  /** The home tenant's applications: the resources tokens can be issued for. */
  get apps(): SeedApp[] {
    return this.seed.apps;
  }

  /** A client by its id, in any tenant ({@link Directory.tenantOfApp} says which). */
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
