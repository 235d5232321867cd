/*
 * deploy/helm/values*.yaml for the official chart `backstage` 2.8.x
 * (https://backstage.github.io/charts). Key names and shapes follow the
 * chart's values.schema.json (deploy/helm/vendor/backstage-2.8.2).
 */
import {
  BACKEND_ARGS,
  BACKEND_COMMAND,
  BACKEND_PORT,
  containerSecurityContext,
  disruptionBudget,
  environment,
  environmentSecrets,
  livenessProbe,
  podLabels,
  podSecurityContext,
  readinessProbe,
  resources,
  rollingUpdate,
  serviceAccountAnnotations,
  startupProbe,
  topologySpread,
  volumeMounts,
  volumes,
} from './podParts';
import type { DeploySettings, EntraCredentialVariant } from './settings';
import { KeyComments } from './yamlFile';

export function helmValues(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
) {
  const host = new URL(settings.publicUrl).host;
  return {
    // The chart names objects after the release; this keeps them equal to
    // deploy/kubernetes/ whatever the release is called.
    fullnameOverride: settings.name,
    backstage: {
      replicas: settings.replicas,
      strategy: rollingUpdate,
      image: {
        registry: settings.image.registry,
        repository: settings.image.repository,
        tag: settings.image.tag,
        pullPolicy: 'IfNotPresent',
      },
      pdb: { create: true, ...disruptionBudget },
      containerPorts: { backend: BACKEND_PORT },
      command: BACKEND_COMMAND,
      args: BACKEND_ARGS,
      extraEnvVars: environment(settings, variant),
      extraEnvVarsSecrets: environmentSecrets(settings),
      extraVolumes: volumes(settings, variant),
      extraVolumeMounts: volumeMounts(variant),
      podLabels: podLabels(variant),
      readinessProbe,
      livenessProbe,
      startupProbe,
      resources: resources(settings),
      podSecurityContext,
      containerSecurityContext,
      topologySpreadConstraints: topologySpread(settings),
    },
    serviceAccount: {
      create: true,
      name: settings.entra.serviceAccountName,
      annotations: serviceAccountAnnotations(settings, variant),
      // The portal never calls the Kubernetes API; the workload identity
      // token is a projected volume of its own, not this one.
      automountServiceAccountToken: false,
    },
    service: {
      type: 'ClusterIP',
      ports: { backend: BACKEND_PORT },
    },
    ingress: {
      enabled: true,
      className: settings.ingress.className,
      host,
      tls: { enabled: true, secretName: settings.ingress.tlsSecretName },
    },
    // External PostgreSQL: connection settings come from the Secret in
    // extraEnvVarsSecrets, read by app-config.production.yaml.
    postgresql: { enabled: false },
  };
}

export function helmValuesComments(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): KeyComments {
  const credential: KeyComments =
    variant === 'workloadIdentity'
      ? [
          [
            ['backstage', 'podLabels'],
            [
              'AKS workload identity: the webhook mounts a projected service-account',
              'token (/var/run/secrets/azure/tokens/azure-identity-token) and sets',
              'AZURE_FEDERATED_TOKEN_FILE to it; the portal sends it to Entra as its',
              'client_assertion. No secret to rotate. For a certificate instead, use',
              'values-certificate.yaml (the same values with the certificate mounted',
              'from a Secret and AZURE_CLIENT_CERTIFICATE_PATH set).',
            ].join('\n'),
          ],
          [
            ['serviceAccount', 'annotations'],
            [
              'The portal app registration trusts this account through a federated',
              `credential: subject system:serviceaccount:${settings.namespace}:${settings.entra.serviceAccountName},`,
              "issuer the cluster's OIDC issuer URL (docs/deploy-kubernetes.md).",
            ].join('\n'),
          ],
        ]
      : [
          [
            ['backstage', 'extraVolumes'],
            [
              `Certificate credential: the Secret ${settings.entra.certificate.secretName} holds ${settings.entra.certificate.fileName},`,
              'one PEM file with the private key and the certificate. Mounted as a',
              'directory (no subPath) so that a rotated Secret reaches the pod.',
            ].join('\n'),
          ],
        ];
  return [
    [
      ['fullnameOverride'],
      'Object names: the same as deploy/kubernetes/, whatever the release name.',
    ],
    [
      ['backstage', 'replicas'],
      'Replicas share PostgreSQL (and the cache in Redis); see docs/operations.md.',
    ],
    [
      ['backstage', 'strategy'],
      'A new pod is ready before an old one stops. Migrations take a lock in\nPostgreSQL, so two versions may start side by side.',
    ],
    [
      ['backstage', 'image'],
      "The portal's image, built from the repository's Dockerfile.",
    ],
    [
      ['backstage', 'pdb'],
      'The chart renders a policy/v1 PodDisruptionBudget from this.',
    ],
    [
      ['backstage', 'command'],
      "The Dockerfile's CMD: both configuration files, production last.",
    ],
    [
      ['backstage', 'extraEnvVars'],
      [
        'Not secret. APP_BASE_URL: the public URL; BACKEND_CACHE_STORE: the cache in',
        'Redis at REDIS_URL (app-config.production.yaml); serverShutdownDelay: a',
        'stopping pod keeps serving (readiness 503) while the Service drops it.',
      ].join('\n'),
    ],
    [
      ['backstage', 'extraEnvVarsSecrets'],
      [
        `${settings.secrets.postgres}: POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD`,
        `${settings.secrets.redis}: REDIS_URL (the cache shared by the replicas)`,
        'Templates: deploy/kubernetes/secrets/.',
      ].join('\n'),
    ],
    [
      ['backstage', 'readinessProbe'],
      '200 once every plugin has started; 503 before, and from the moment a pod\nbegins to shut down (the Service then stops routing to it).',
    ],
    [
      ['backstage', 'livenessProbe'],
      '200 while the process serves HTTP; independent of PostgreSQL and Entra.',
    ],
    [
      ['backstage', 'startupProbe'],
      'Up to 300 s (migrations on a cold database) before liveness applies.',
    ],
    [
      ['backstage', 'podSecurityContext'],
      "The image's node user (uid 1000); the root filesystem is read-only and\n/tmp an emptyDir.",
    ],
    [['postgresql'], 'External PostgreSQL, not the bundled Bitnami chart.'],
    ...credential,
  ];
}
