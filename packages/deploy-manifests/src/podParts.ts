/*
 * The parts of the backend's pod that the Helm values and the plain manifests
 * share, built once from the settings so both say the same thing.
 */
import type { IDeploymentStrategy } from 'kubernetes-models/apps/v1';
import type {
  IEnvVar,
  IHTTPGetAction,
  IPodSecurityContext,
  IProbe,
  IResourceRequirements,
  ISecurityContext,
  ITopologySpreadConstraint,
  IVolume,
  IVolumeMount,
} from 'kubernetes-models/v1';
import type { DeploySettings, EntraCredentialVariant } from './settings';

/** The backend's HTTP port (app-config.production.yaml, backend.listen.port). */
export const BACKEND_PORT = 7007;

/** The image's `node` user (node images, Dockerfile `USER node`). */
export const NODE_UID = 1000;

/** The image's entry point and the Dockerfile's CMD, as command + args. */
export const BACKEND_COMMAND = ['node', 'packages/backend'];
export const BACKEND_ARGS = [
  '--config',
  'app-config.yaml',
  '--config',
  'app-config.production.yaml',
];

/** How long a stopping backend keeps serving while its endpoint is removed. */
export const SERVER_SHUTDOWN_DELAY = '10s';

/** Where the certificate Secret's directory is mounted (variant certificate). */
export const CERTIFICATE_DIR = '/var/run/secrets/entra';

/** Labels the chart puts on its pods and selects them by. */
export function selectorLabels(settings: DeploySettings) {
  return {
    'app.kubernetes.io/name': 'backstage',
    'app.kubernetes.io/instance': settings.name,
    'app.kubernetes.io/component': 'backstage',
  };
}

/** The AKS workload identity webhook mutates pods carrying this label. */
export function podLabels(
  variant: EntraCredentialVariant,
): Record<string, string> {
  return variant === 'workloadIdentity'
    ? { 'azure.workload.identity/use': 'true' }
    : {};
}

/**
 * The webhook reads the app's client id (and tenant) from the service
 * account and injects AZURE_CLIENT_ID, AZURE_TENANT_ID,
 * AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST with a projected
 * token volume into every labelled pod.
 */
export function serviceAccountAnnotations(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): Record<string, string> {
  return variant === 'workloadIdentity'
    ? {
        'azure.workload.identity/client-id': settings.entra.clientId,
        'azure.workload.identity/tenant-id': settings.entra.tenantId,
      }
    : {};
}

export function imageReference(settings: DeploySettings): string {
  const { registry, repository, tag } = settings.image;
  return `${registry}/${repository}:${tag}`;
}

/** Environment that is not secret; the rest comes from Secrets (envFrom). */
export function environment(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): IEnvVar[] {
  const env: IEnvVar[] = [
    { name: 'APP_BASE_URL', value: settings.publicUrl },
    // The cache the replicas share, at REDIS_URL (app-config.production.yaml).
    { name: 'BACKEND_CACHE_STORE', value: 'redis' },
    // On SIGTERM readiness turns 503 at once, but without a delay the server
    // also stops listening at once, before the Service has dropped the pod:
    // requests in those seconds were refused. It keeps serving for 10 s.
    {
      name: 'APP_CONFIG_backend_lifecycle_serverShutdownDelay',
      value: SERVER_SHUTDOWN_DELAY,
    },
    // Also set when the webhook would inject them: it leaves variables a
    // container already has alone, and the certificate variant needs them.
    { name: 'AZURE_TENANT_ID', value: settings.entra.tenantId },
    { name: 'AZURE_CLIENT_ID', value: settings.entra.clientId },
  ];
  if (variant === 'certificate') {
    env.push({
      name: 'AZURE_CLIENT_CERTIFICATE_PATH',
      value: `${CERTIFICATE_DIR}/${settings.entra.certificate.fileName}`,
    });
  }
  return env;
}

/** Secrets whose keys become environment variables of the backend. */
export function environmentSecrets(settings: DeploySettings): string[] {
  return [settings.secrets.postgres, settings.secrets.redis];
}

const healthCheck = (path: string): IHTTPGetAction => ({
  path,
  port: BACKEND_PORT,
  scheme: 'HTTP',
});

/**
 * Readiness: 200 once every plugin has started, 503 before and from the
 * moment the backend begins to shut down, so a Service only routes to pods
 * that can answer and drains a pod that is stopping.
 */
export const readinessProbe: IProbe = {
  httpGet: healthCheck('/.backstage/health/v1/readiness'),
  periodSeconds: 10,
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: 3,
};

/**
 * Liveness: 200 while the process serves HTTP at all. It never depends on
 * PostgreSQL or Entra, so an outage of either does not restart every pod.
 */
export const livenessProbe: IProbe = {
  httpGet: healthCheck('/.backstage/health/v1/liveness'),
  periodSeconds: 20,
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: 3,
};

/**
 * Startup: gives a starting backend (migrations on a cold database) up to
 * 5 s x 60 = 300 s before liveness takes over.
 */
export const startupProbe: IProbe = {
  httpGet: healthCheck('/.backstage/health/v1/liveness'),
  periodSeconds: 5,
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: 60,
};

export const podSecurityContext: IPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NODE_UID,
  runAsGroup: NODE_UID,
  // Mounted Secrets (the certificate) become readable by the node group.
  fsGroup: NODE_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const containerSecurityContext: ISecurityContext = {
  runAsNonRoot: true,
  runAsUser: NODE_UID,
  runAsGroup: NODE_UID,
  allowPrivilegeEscalation: false,
  privileged: false,
  // The backend writes only to the OS temp dir (scaffolder workspaces,
  // TechDocs builds): /tmp is an emptyDir.
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function resources(settings: DeploySettings): IResourceRequirements {
  return {
    requests: { ...settings.resources.requests },
    limits: { ...settings.resources.limits },
  };
}

export function volumes(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): IVolume[] {
  const list: IVolume[] = [
    { name: 'tmp', emptyDir: { sizeLimit: settings.tmpSizeLimit } },
  ];
  if (variant === 'certificate') {
    list.push({
      name: 'entra-certificate',
      // 0440: readable by the node group (fsGroup), by no one else.
      secret: {
        secretName: settings.entra.certificate.secretName,
        defaultMode: 0o440,
      },
    });
  }
  return list;
}

export function volumeMounts(variant: EntraCredentialVariant): IVolumeMount[] {
  const list: IVolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (variant === 'certificate') {
    // The whole directory, never a subPath: Kubernetes updates a Secret
    // volume in place (the ..data symlink) only without subPath, and the
    // portal re-reads a changed certificate without a restart.
    list.push({
      name: 'entra-certificate',
      mountPath: CERTIFICATE_DIR,
      readOnly: true,
    });
  }
  return list;
}

/** One replica per node where the cluster can, so a node drain keeps one. */
export function topologySpread(
  settings: DeploySettings,
): ITopologySpreadConstraint[] {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: selectorLabels(settings) },
    },
  ];
}

/** A new pod is ready before an old one stops: no capacity lost mid-upgrade. */
export const rollingUpdate: IDeploymentStrategy = {
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
};

/** With two replicas, a voluntary disruption (node drain) keeps one serving. */
export const disruptionBudget = { minAvailable: 1 };
