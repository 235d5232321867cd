import { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { validateEntities } from './entityValidation';

const group = (name: string, extra: Partial<GroupEntity['spec']> = {}) =>
  ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      annotations: { 'graph.microsoft.com/group-id': `id-${name}` },
    },
    spec: { type: 'team', children: [], ...extra },
  } as GroupEntity);

const user = (name: string, memberOf: string[]) =>
  ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name,
      annotations: { 'graph.microsoft.com/user-id': `id-${name}` },
    },
    spec: { memberOf },
  } as UserEntity);

describe('validateEntities', () => {
  it('leaves out what the catalog rejects, says why, and drops every reference to it', async () => {
    const { users, groups, rejected } = await validateEntities(
      [
        user('ada', ['group:default/team', 'group:default/bad_']),
        user('', ['group:default/team']),
      ],
      [
        group('team', { children: ['group:default/bad_'] }),
        group('bad_', { parent: 'group:default/team' }),
        group('child', { parent: 'group:default/bad_' }),
        // Fails the Group kind schema, not the name rule.
        group('typeless', { type: '' }),
      ],
    );
    expect(users.map(u => u.metadata.name)).toEqual(['ada']);
    expect(groups.map(g => g.metadata.name)).toEqual(['team', 'child']);
    expect(rejected.map(r => [r.kind, r.objectId])).toEqual([
      ['User', 'id-'],
      ['Group', 'id-bad_'],
      ['Group', 'id-typeless'],
    ]);
    expect(rejected[1].reason).toMatch(/metadata\.name/);
    expect(users[0].spec.memberOf).toEqual(['group:default/team']);
    expect(groups[0].spec.children).toEqual([]);
    expect(groups[1].spec.parent).toBeUndefined();
  });
});
