import fs from 'node:fs';
import YAML from 'yaml';

/**
 * deploy/settings.yaml: the one source of the Helm values and the plain
 * manifests. Every key is required; {@link parseSettings} names the key and
 * what to write when one is missing or malformed.
 */
export interface DeploySettings {
  name: string;
  namespace: string;
  image: { registry: string; repository: string; tag: string };
  replicas: number;
  publicUrl: string;
  ingress: { className: string; tlsSecretName: string };
  entra: {
    tenantId: string;
    clientId: string;
    serviceAccountName: string;
    certificate: { secretName: string; fileName: string };
  };
  secrets: { postgres: string; redis: string };
  resources: {
    requests: { cpu: string; memory: string };
    limits: { memory: string };
  };
  tmpSizeLimit: string;
}

/** How the portal's Entra app authenticates in the cluster. */
export type EntraCredentialVariant = 'workloadIdentity' | 'certificate';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

type Check = (value: unknown) => string | undefined;

const text: Check = v =>
  typeof v === 'string' && v.trim() !== '' ? undefined : 'a non-empty string';
const pattern =
  (re: RegExp, what: string): Check =>
  v =>
    typeof v === 'string' && re.test(v) ? undefined : what;
const dnsLabel = pattern(
  DNS_LABEL,
  'a DNS label (lower-case letters, digits and "-", e.g. backstage)',
);
const quantity = pattern(QUANTITY, 'a Kubernetes quantity (e.g. 250m, 2Gi)');

const checks: Record<string, Check> = {
  name: dnsLabel,
  namespace: dnsLabel,
  'image.registry': text,
  'image.repository': text,
  'image.tag': v =>
    text(v) ??
    (v === 'latest' ? 'an immutable tag, not "latest"' : undefined),
  replicas: v =>
    Number.isInteger(v) && (v as number) >= 2
      ? undefined
      : 'an integer of at least 2 (one PostgreSQL, several replicas)',
  publicUrl: v =>
    typeof v === 'string' && /^https:\/\/[^/]+$/.test(v)
      ? undefined
      : 'an https:// URL without a path (e.g. https://backstage.example.com)',
  'ingress.className': text,
  'ingress.tlsSecretName': dnsLabel,
  'entra.tenantId': pattern(GUID, "a GUID (your tenant's id)"),
  'entra.clientId': pattern(GUID, "a GUID (the portal app's client id)"),
  'entra.serviceAccountName': dnsLabel,
  'entra.certificate.secretName': dnsLabel,
  'entra.certificate.fileName': pattern(
    /^[A-Za-z0-9._-]+$/,
    'a file name (e.g. portal.pem)',
  ),
  'secrets.postgres': dnsLabel,
  'secrets.redis': dnsLabel,
  'resources.requests.cpu': quantity,
  'resources.requests.memory': quantity,
  'resources.limits.memory': quantity,
  tmpSizeLimit: quantity,
};

function valueAt(root: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (node, key) =>
        node && typeof node === 'object'
          ? (node as Record<string, unknown>)[key]
          : undefined,
      root,
    );
}

/**
 * Checks a parsed settings document; throws one error naming every bad key
 * of `source` and what it must be.
 */
export function parseSettings(raw: unknown, source: string): DeploySettings {
  const problems = Object.entries(checks).flatMap(([path, check]) => {
    const problem = check(valueAt(raw, path));
    return problem ? [`  ${path}: must be ${problem}`] : [];
  });
  if (problems.length > 0) {
    throw new Error(`${source} is not valid:\n${problems.join('\n')}`);
  }
  return raw as DeploySettings;
}

/** Reads and checks deploy/settings.yaml (or another settings file). */
export function readSettings(file: string): DeploySettings {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `Cannot read the deploy settings ${file}: ${(error as Error).message}`,
    );
  }
  return parseSettings(YAML.parse(content), file);
}
