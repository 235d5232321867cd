import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  CATALOG_FIXTURE,
  REPO_ROOT,
  SHIPPED_CASE_FILES,
} from './__testUtils__/paths';
import { runPolicyTestFile } from '../dev/policyTest/runPolicyTests';

const appConfig = [
  {
    data: parse(
      fs.readFileSync(path.join(REPO_ROOT, 'app-config.yaml'), 'utf8'),
    ),
    context: 'app-config.yaml',
  },
];

function caseFile(content: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-test-'));
  const file = path.join(dir, 'cases.yaml');
  fs.writeFileSync(file, content);
  return file;
}

describe('yarn policy:test', () => {
  it.each(SHIPPED_CASE_FILES.map(f => [path.basename(f), f]))(
    'passes the shipped cases of %s against app-config.yaml',
    async (_, file) => {
      const results = await runPolicyTestFile(file, appConfig);
      expect(results.length).toBeGreaterThan(5);
      expect(results.filter(r => !r.passed).map(r => r.case.text)).toEqual([]);
    },
  );

  it('reports a case whose expectation the policy contradicts', async () => {
    const file = caseFile(`
organisation: seeded
catalog: [${CATALOG_FIXTURE}]
cases:
  - rosa.ruiz may delete component:default/payments-service: allow
  - "rosa.ruiz may read component:default/payments-service: allow"
`);
    const results = await runPolicyTestFile(file, appConfig);
    expect(
      results.map(r => [r.case.text, r.case.expected, r.actual, r.passed]),
    ).toEqual([
      [
        'rosa.ruiz may delete component:default/payments-service',
        'allow',
        'deny',
        false,
      ],
      [
        'rosa.ruiz may read component:default/payments-service',
        'allow',
        'allow',
        true,
      ],
    ]);
  });

  it('names every malformed case and says how to write one', async () => {
    const file = caseFile(`
organisation: seeded
cases:
  - rosa.ruiz may fly: allow
  - rosa.ruiz may read component:default/x: maybe
  - rosa.ruiz reads everything: allow
`);
    const error = await runPolicyTestFile(file, appConfig).catch(e => e);
    expect(error.message).toContain(
      'cases[0]: malformed case "rosa.ruiz may fly": "fly" is not a form the runner knows',
    );
    expect(error.message).toContain(
      'cases[1]: malformed case "rosa.ruiz may read component:default/x": the expected decision must be "allow" or "deny", got "maybe"',
    );
    expect(error.message).toContain(
      'cases[2]: malformed case "rosa.ruiz reads everything": expected "<who> may <what>"',
    );
    expect(error.message).toContain('deploy <entity ref> to <environment>');
  });

  it('refuses a case naming someone or something not in the catalog', async () => {
    const file = caseFile(`
organisation: seeded
cases:
  - nobody.here may read component:default/x: deny
`);
    await expect(runPolicyTestFile(file, appConfig)).rejects.toThrow(
      'names nobody.here, which is not in the case file',
    );
  });

  it('fails on a configuration the backend would refuse, naming the key', async () => {
    const file = caseFile(`
config: { permission: { ownershipPolicy: { admins: [platform-admins] } } }
cases: []
`);
    await expect(runPolicyTestFile(file, appConfig)).rejects.toThrow(
      'permission.ownershipPolicy.admins[0]',
    );
  });
});
