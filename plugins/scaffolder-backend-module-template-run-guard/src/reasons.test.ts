import { ConfigReader } from '@backstage/config';
import { createRunRefusalReasons } from './reasons';

const reasons = (templates: unknown) =>
  createRunRefusalReasons(
    new ConfigReader({
      permission: { ownershipPolicy: { scaffolder: { templates } } },
    } as any),
  );

describe('createRunRefusalReasons', () => {
  it('names the groups the ownership policy lists for the template', () => {
    const reason = reasons([
      {
        template: 'template:Ops/Rotate-Keys',
        groups: ['group:default/Security', 'platform-team'],
      },
    ]);
    expect(reason('template:ops/rotate-keys')).toBe(
      'You may not run template:ops/rotate-keys: only members of group:default/security, group:default/platform-team (and portal admins) can run it',
    );
  });

  it('words other refusals generically', () => {
    expect(reasons(undefined)('template:default/x')).toBe(
      'You may not run template:default/x: the permission policy does not let you run it',
    );
  });

  it('skips what it cannot read (the policy module refuses it at startup)', () => {
    const reason = reasons([
      { template: 'template:default/a' },
      { template: 'template:default/b', groups: ['group:default/b'] },
    ]);
    expect(reason('template:default/a')).toMatch(/permission policy/);
    expect(reason('template:default/b')).toMatch(/group:default\/b/);
    expect(reasons('not a list')('template:default/a')).toMatch(
      /permission policy/,
    );
  });
});
