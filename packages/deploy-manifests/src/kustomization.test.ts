import fs from 'node:fs';
import path from 'node:path';
import { COMMON_FOLDER, SECRET_TEMPLATES_FILE, VARIANT_FOLDERS } from './generate';
import { manifestFiles, readYaml, root } from './testFiles';

/** The files `kubectl apply -k <folder>` applies, following bases. */
function kustomizedFiles(folder: string): string[] {
  const [kustomization] = readYaml(`${folder}/kustomization.yaml`);
  expect(kustomization).toMatchObject({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
  });
  return kustomization.resources.flatMap((resource: string) => {
    const target = path.posix.normalize(`${folder}/${resource}`);
    expect(fs.existsSync(path.join(root, target))).toBe(true);
    return fs.statSync(path.join(root, target)).isDirectory()
      ? kustomizedFiles(target)
      : [target];
  });
}

describe.each(Object.entries(VARIANT_FOLDERS))(
  'kubectl apply -k for %s (%s)',
  (_variant, folder) => {
    // Read inside each test, so a missing file fails that test.
    const files = () => kustomizedFiles(folder);

    it('applies every object of the variant once: Namespace, ServiceAccount, Deployment, Service, PodDisruptionBudget, Ingress', () => {
      const kinds = files().flatMap(file => readYaml(file).map(o => o.kind)).sort();
      expect(kinds).toEqual([
        'Deployment',
        'Ingress',
        'Namespace',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ]);
    });

    it('never applies the Secret templates (they would overwrite the real Secrets)', () => {
      expect(files()).not.toContain(SECRET_TEMPLATES_FILE);
      for (const file of files()) {
        expect(readYaml(file).map(o => o.kind)).not.toContain('Secret');
      }
    });

    it('puts every namespaced object in the namespace it creates', () => {
      const objects = files().flatMap(file => readYaml(file));
      const namespace = objects.find(o => o.kind === 'Namespace').metadata.name;
      for (const object of objects.filter(o => o.kind !== 'Namespace')) {
        expect(object.metadata.namespace).toBe(namespace);
      }
    });
  },
);

it('every manifest is applied by a kustomization, except the Secret templates', () => {
  const applied = new Set(
    Object.values(VARIANT_FOLDERS).flatMap(folder => kustomizedFiles(folder)),
  );
  const notApplied = manifestFiles('deploy/kubernetes').filter(f => !applied.has(f));
  expect(notApplied).toEqual([SECRET_TEMPLATES_FILE]);
  expect([...applied].filter(f => f.startsWith(COMMON_FOLDER)).length).toBe(4);
});
