/*
 * Not only the committed files: what the generator writes from other valid
 * settings validates too, and a setting reaches every place that uses it.
 */
import path from 'node:path';
import YAML from 'yaml';
import { chartValuesValidator } from './chartSchema';
import { SETTINGS_FILE, VALUES_FILES, generateFiles } from './generate';
import { validateKubernetesObject } from './kubernetesSchemas';
import { parseSettings } from './settings';
import { readRepoFile } from './testFiles';
import { parseYamlStream } from './yamlFile';

const validateValues = chartValuesValidator({ strict: true });

function generateWith(change: (settings: any) => void) {
  const settings = YAML.parse(readRepoFile(SETTINGS_FILE));
  change(settings);
  return generateFiles(parseSettings(settings, 'changed settings'));
}

const variations: Array<[string, (settings: any) => void]> = [
  [
    'another namespace, name and service account',
    s => {
      s.namespace = 'developer-portal';
      s.name = 'portal';
      s.entra.serviceAccountName = 'portal-web';
    },
  ],
  ['three replicas', s => (s.replicas = 3)],
  [
    'a registry with a port and a tag that looks like a number',
    s => {
      s.image.registry = 'registry.internal:5000';
      s.image.tag = '2.10';
    },
  ],
];

describe.each(variations)('generated from settings with %s', (_name, change) => {
  const files = generateWith(change);

  it('the values validate against the chart schema', () => {
    for (const file of Object.values(VALUES_FILES)) {
      expect(validateValues(YAML.parse(files.get(file)!))).toEqual([]);
    }
  });

  it('every manifest validates against the Kubernetes schemas', () => {
    for (const [file, content] of files) {
      if (!file.startsWith('deploy/kubernetes/') || path.basename(file) === 'kustomization.yaml') {
        continue;
      }
      for (const object of parseYamlStream(content)) {
        expect({ file, problems: validateKubernetesObject(object) }).toEqual({
          file,
          problems: [],
        });
      }
    }
  });
});

it('a tag that looks like a number stays a string in every file', () => {
  const files = generateWith(s => (s.image.tag = '2.10'));
  const [values] = parseYamlStream(files.get(VALUES_FILES.workloadIdentity)!) as any[];
  expect(values.backstage.image.tag).toBe('2.10');
  const [deployment] = parseYamlStream(
    files.get('deploy/kubernetes/workload-identity/deployment.yaml')!,
  ) as any[];
  expect(deployment.spec.template.spec.containers[0].image).toBe(
    'myregistry.azurecr.io/backstage-entra-starter:2.10',
  );
});

it('the namespace and service account reach the federated-credential subject the docs tell you to register', () => {
  const files = generateWith(s => {
    s.namespace = 'developer-portal';
    s.entra.serviceAccountName = 'portal-web';
  });
  expect(files.get(VALUES_FILES.workloadIdentity)).toContain(
    'subject system:serviceaccount:developer-portal:portal-web',
  );
  const [account] = parseYamlStream(
    files.get('deploy/kubernetes/workload-identity/serviceaccount.yaml')!,
  ) as any[];
  expect(account.metadata).toMatchObject({ name: 'portal-web', namespace: 'developer-portal' });
});
