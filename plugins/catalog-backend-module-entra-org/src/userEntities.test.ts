import { UserEntity } from '@backstage/catalog-model';
import { normalizeName, resolveNameCollisions } from './userEntities';

const user = (name: string, oid: string): UserEntity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, annotations: { 'graph.microsoft.com/user-id': oid } },
  spec: { memberOf: [] },
});

describe('user entity names', () => {
  it('normalizes UPN local parts, including guests', () => {
    expect(normalizeName('Ada.Admin')).toBe('ada.admin');
    expect(normalizeName('olga_partner.example#EXT#')).toBe(
      'olga_partner.example-ext',
    );
    expect(normalizeName('x'.repeat(80))).toHaveLength(63);
  });

  it('resolves collisions by object id, whatever the order', () => {
    const a = user('kim', 'aaaaaaaa-1111-4111-8111-111111111111');
    const b = user('kim', 'bbbbbbbb-2222-4222-8222-222222222222');
    const c = user('lee', 'cccccccc-3333-4333-8333-333333333333');
    const names = (us: UserEntity[]) => us.map(u => u.metadata.name).sort();
    expect(names(resolveNameCollisions([a, b, c]))).toEqual([
      'kim-aaaaaaaa',
      'kim-bbbbbbbb',
      'lee',
    ]);
    expect(names(resolveNameCollisions([c, b, a]))).toEqual(
      names(resolveNameCollisions([a, b, c])),
    );
  });
});
