/*
 * Everything `yarn deploy:generate` writes, as repository-relative path ->
 * file content. Pure: the check test compares it with the committed files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { helmValues, helmValuesComments } from './helmValues';
import {
  certificateSecretTemplate,
  deployment,
  ingress,
  namespace,
  podDisruptionBudget,
  secretTemplates,
  service,
  serviceAccount,
} from './manifests';
import {
  DeploySettings,
  EntraCredentialVariant,
  readSettings,
} from './settings';
import { generatedHeader, toYaml, toYamlStream } from './yamlFile';

/** Repository-relative location of the settings. */
export const SETTINGS_FILE = 'deploy/settings.yaml';

/** The plain-manifest folders of the two credential variants. */
export const VARIANT_FOLDERS: Record<EntraCredentialVariant, string> = {
  workloadIdentity: 'deploy/kubernetes/workload-identity',
  certificate: 'deploy/kubernetes/certificate',
};

/** The Helm values file of each credential variant. */
export const VALUES_FILES: Record<EntraCredentialVariant, string> = {
  workloadIdentity: 'deploy/helm/values.yaml',
  certificate: 'deploy/helm/values-certificate.yaml',
};

export const COMMON_FOLDER = 'deploy/kubernetes/common';
export const SECRET_TEMPLATES_FILE =
  'deploy/kubernetes/secrets/secrets.template.yaml';

const kustomization = (resources: string[], header: string) =>
  toYaml(
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources,
    },
    header,
  );

export function generateFiles(settings: DeploySettings): Map<string, string> {
  const header = generatedHeader(SETTINGS_FILE);
  const files = new Map<string, string>();
  const add = (file: string, objects: unknown[]) =>
    files.set(file, toYamlStream(objects, header));

  const variants = Object.keys(VARIANT_FOLDERS) as EntraCredentialVariant[];
  for (const variant of variants) {
    files.set(
      VALUES_FILES[variant],
      toYaml(
        helmValues(settings, variant),
        `${header}\n\n Values for the official Helm chart \`backstage\` 2.8.x:\n   helm install ${settings.name} backstage/backstage --version 2.8.2 \\\n     --namespace ${settings.namespace} -f ${VALUES_FILES[variant]}\n See docs/deploy-kubernetes.md.`,
        helmValuesComments(settings, variant),
      ),
    );
    const folder = VARIANT_FOLDERS[variant];
    add(`${folder}/serviceaccount.yaml`, [serviceAccount(settings, variant)]);
    add(`${folder}/deployment.yaml`, [deployment(settings, variant)]);
    files.set(
      `${folder}/kustomization.yaml`,
      kustomization(
        ['../common', 'serviceaccount.yaml', 'deployment.yaml'],
        `${header}\n\n kubectl apply -k ${folder}`,
      ),
    );
  }

  add(`${COMMON_FOLDER}/namespace.yaml`, [namespace(settings)]);
  add(`${COMMON_FOLDER}/service.yaml`, [service(settings)]);
  add(`${COMMON_FOLDER}/pdb.yaml`, [podDisruptionBudget(settings)]);
  add(`${COMMON_FOLDER}/ingress.yaml`, [ingress(settings)]);
  files.set(
    `${COMMON_FOLDER}/kustomization.yaml`,
    kustomization(
      ['namespace.yaml', 'service.yaml', 'pdb.yaml', 'ingress.yaml'],
      `${header}\n\n Shared by workload-identity/ and certificate/; apply one of those.`,
    ),
  );
  files.set(
    SECRET_TEMPLATES_FILE,
    toYamlStream(
      [...secretTemplates(settings), certificateSecretTemplate(settings)],
      `${header}\n\n TEMPLATES: copy, fill in and apply outside Git (or create them with\n kubectl create secret, docs/deploy-kubernetes.md). No kustomization\n applies this file. The last one is only for the certificate variant.`,
    ),
  );
  return files;
}

/** The repository root, from this package's location. */
export function repositoryRoot(): string {
  // This package runs from source only (tests, `yarn deploy:generate`); it
  // is never bundled, so its own location is stable.
  // eslint-disable-next-line no-restricted-syntax
  return path.resolve(__dirname, '../../..');
}

/** Generates from the repository's settings and writes every file. */
export function writeGeneratedFiles(root = repositoryRoot()): string[] {
  const files = generateFiles(readSettings(path.join(root, SETTINGS_FILE)));
  for (const [file, content] of files) {
    const target = path.join(root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return [...files.keys()];
}

/** Files whose committed content differs from what the generator writes. */
export function staleGeneratedFiles(root = repositoryRoot()): string[] {
  const files = generateFiles(readSettings(path.join(root, SETTINGS_FILE)));
  return [...files].flatMap(([file, content]) => {
    const target = path.join(root, file);
    const current = fs.existsSync(target)
      ? fs.readFileSync(target, 'utf8')
      : undefined;
    return current === content ? [] : [file];
  });
}
