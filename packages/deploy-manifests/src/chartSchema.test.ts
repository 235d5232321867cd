import { chartValuesValidator } from './chartSchema';
import { VALUES_FILES } from './generate';
import { readYaml } from './testFiles';

const validate = chartValuesValidator();
const validateStrict = chartValuesValidator({ strict: true });

/** The committed values with one change applied at `path`. */
function valuesWith(path: string[], value: unknown) {
  const values = readYaml(VALUES_FILES.workloadIdentity)[0];
  let node = values;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
  return values;
}

describe("Helm values against the chart's values.schema.json (backstage 2.8.2)", () => {
  it.each(Object.entries(VALUES_FILES))(
    'the %s values (%s) validate, also with Kubernetes fields closed',
    (_variant, file) => {
      const [values] = readYaml(file);
      expect(validate(values)).toEqual([]);
      expect(validateStrict(values)).toEqual([]);
    },
  );

  it('the chart default values validate (the validator accepts what the chart ships)', () => {
    const [chartDefaults] = readYaml(
      'deploy/helm/vendor/backstage-2.8.2/values.defaults.yaml',
    );
    expect(validate(chartDefaults)).toEqual([]);
  });

  it('refuses replicas "two", naming the path', () => {
    expect(validate(valuesWith(['backstage', 'replicas'], 'two'))).toEqual([
      '/backstage/replicas: must be integer',
    ]);
  });

  it('refuses a negative replica count', () => {
    expect(validate(valuesWith(['backstage', 'replicas'], -1))).toEqual([
      '/backstage/replicas: must be >= 0',
    ]);
  });

  it('refuses a probe whose period is not a number', () => {
    const values = valuesWith(['backstage', 'readinessProbe', 'periodSeconds'], 'often');
    expect(validate(values)).toEqual([
      '/backstage/readinessProbe/periodSeconds: must be integer',
    ]);
  });

  it('refuses an HTTP probe without a port', () => {
    const values = valuesWith(['backstage', 'livenessProbe', 'httpGet'], {
      path: '/.backstage/health/v1/liveness',
    });
    expect(validate(values)).toEqual([
      "/backstage/livenessProbe/httpGet: must have required property 'port'",
    ]);
  });

  it('refuses an unknown key where the chart forbids them', () => {
    const values = valuesWith(['backstage', 'replica'], 2);
    expect(validate(values)).toEqual(['/backstage: unknown key "replica"']);
  });

  it('refuses an image pull policy the chart does not know', () => {
    const values = valuesWith(['backstage', 'image', 'pullPolicy'], 'Sometimes');
    expect(validate(values)).toEqual([
      '/backstage/image/pullPolicy: must be equal to one of the allowed values',
    ]);
  });

  it('refuses env secret names that are not strings', () => {
    const values = valuesWith(['backstage', 'extraEnvVarsSecrets'], [{ name: 'x' }]);
    expect(validate(values)).toEqual([
      '/backstage/extraEnvVarsSecrets/0: must be string',
    ]);
  });

  it('the closed schema still admits what Kubernetes allows in a pod security context (fsGroup)', () => {
    const values = valuesWith(['backstage', 'podSecurityContext', 'fsGroup'], 1000);
    expect(validateStrict(values)).toEqual([]);
  });

  it('a misspelt Kubernetes field passes the chart schema but not the closed one', () => {
    const values = valuesWith(
      ['backstage', 'containerSecurityContext', 'readOnlyRootFileSystem'],
      true,
    );
    expect(validate(values)).toEqual([]);
    expect(validateStrict(values)).toEqual([
      '/backstage/containerSecurityContext: unknown key "readOnlyRootFileSystem"',
    ]);
  });
});
