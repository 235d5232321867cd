import { ConfigReader } from '@backstage/config';
import {
  groupsOnlyReason,
  ownerOnlyReason,
  ownersOf,
  readPolicySummary,
} from './reasons';

const payments = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments', namespace: 'default' },
  spec: { owner: 'payments' },
};

describe('reasons the app gives for a denied action', () => {
  const summary = readPolicySummary(
    new ConfigReader({
      permission: {
        ownershipPolicy: {
          admins: ['group:default/platform-admins'],
          scaffolder: {
            deploy: {
              environments: [
                {
                  name: 'production',
                  groups: ['group:default/production-deployers'],
                },
                { name: 'staging' },
              ],
            },
          },
        },
      },
    }),
  );

  it('reads the policy settings it explains with', () => {
    expect(summary).toEqual({
      admins: ['group:default/platform-admins'],
      registerGroups: [], // left out: admins only, as the policy reads it
      deployEnvironments: [
        { name: 'production', groups: ['group:default/production-deployers'] },
        { name: 'staging', groups: undefined },
      ],
    });
  });

  it('names the owners (resolved relations first, else spec.owner) and the admins', () => {
    expect(ownersOf(payments)).toEqual(['group:default/payments']);
    expect(
      ownersOf({
        ...payments,
        relations: [{ type: 'ownedBy', targetRef: 'user:default/eve.ellis' }],
      }),
    ).toEqual(['user:default/eve.ellis']);
    expect(ownerOnlyReason(payments, 'unregister', summary)).toBe(
      'Only owners of component:default/payments — group:default/payments — and portal admins (group:default/platform-admins) can unregister it.',
    );
    expect(
      ownerOnlyReason({ ...payments, spec: {} }, 'refresh', {
        ...summary,
        admins: [],
      }),
    ).toBe(
      'Only owners of component:default/payments (it has none) and portal admins can refresh it.',
    );
  });

  it('names the groups an action is limited to', () => {
    expect(
      groupsOnlyReason('deploy to production', [
        'group:default/production-deployers',
      ]),
    ).toBe(
      'Only members of group:default/production-deployers can deploy to production.',
    );
    expect(groupsOnlyReason('register', [])).toBe(
      'Only portal admins can register.',
    );
  });
});
