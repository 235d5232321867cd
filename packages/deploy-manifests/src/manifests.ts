/*
 * deploy/kubernetes/: the objects the chart renders from deploy/helm/values.yaml,
 * as plain manifests for `kubectl apply -k`, plus Secret templates. Typed
 * with kubernetes-models, so tsc refuses a field Kubernetes does not have.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type {
  INamespace,
  ISecret,
  IService,
  IServiceAccount,
} from 'kubernetes-models/v1';
import {
  BACKEND_ARGS,
  BACKEND_COMMAND,
  BACKEND_PORT,
  containerSecurityContext,
  disruptionBudget,
  environment,
  environmentSecrets,
  imageReference,
  livenessProbe,
  podLabels,
  podSecurityContext,
  readinessProbe,
  resources,
  rollingUpdate,
  selectorLabels,
  serviceAccountAnnotations,
  startupProbe,
  topologySpread,
  volumeMounts,
  volumes,
} from './podParts';
import type { DeploySettings, EntraCredentialVariant } from './settings';

function metadata(settings: DeploySettings, name = settings.name) {
  return {
    name,
    namespace: settings.namespace,
    labels: selectorLabels(settings),
  };
}

export function namespace(settings: DeploySettings): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: settings.namespace,
      // Pod Security Admission: the pods meet the `restricted` profile.
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

export function serviceAccount(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): IServiceAccount {
  const annotations = serviceAccountAnnotations(settings, variant);
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      ...metadata(settings, settings.entra.serviceAccountName),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    automountServiceAccountToken: false,
  };
}

export function deployment(
  settings: DeploySettings,
  variant: EntraCredentialVariant,
): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(settings),
    spec: {
      replicas: settings.replicas,
      revisionHistoryLimit: 10,
      strategy: rollingUpdate,
      selector: { matchLabels: selectorLabels(settings) },
      template: {
        metadata: {
          labels: { ...selectorLabels(settings), ...podLabels(variant) },
        },
        spec: {
          serviceAccountName: settings.entra.serviceAccountName,
          securityContext: podSecurityContext,
          topologySpreadConstraints: topologySpread(settings),
          volumes: volumes(settings, variant),
          containers: [
            {
              // The chart's container name.
              name: 'backstage-backend',
              image: imageReference(settings),
              imagePullPolicy: 'IfNotPresent',
              securityContext: containerSecurityContext,
              command: BACKEND_COMMAND,
              args: BACKEND_ARGS,
              resources: resources(settings),
              readinessProbe,
              livenessProbe,
              startupProbe,
              envFrom: environmentSecrets(settings).map(name => ({
                secretRef: { name },
              })),
              env: environment(settings, variant),
              ports: [
                { name: 'backend', containerPort: BACKEND_PORT, protocol: 'TCP' },
              ],
              volumeMounts: volumeMounts(variant),
            },
          ],
        },
      },
    },
  };
}

export function service(settings: DeploySettings): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(settings),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(settings),
      ports: [
        {
          name: 'http-backend',
          port: BACKEND_PORT,
          targetPort: 'backend',
          protocol: 'TCP',
        },
      ],
    },
  };
}

export function podDisruptionBudget(
  settings: DeploySettings,
): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(settings),
    spec: {
      ...disruptionBudget,
      selector: { matchLabels: selectorLabels(settings) },
    },
  };
}

export function ingress(settings: DeploySettings): IIngress {
  const host = new URL(settings.publicUrl).host;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: metadata(settings),
    spec: {
      ingressClassName: settings.ingress.className,
      tls: [{ hosts: [host], secretName: settings.ingress.tlsSecretName }],
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: {
                  service: {
                    name: settings.name,
                    port: { name: 'http-backend' },
                  },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

const REPLACE = 'REPLACE-ME';

/**
 * Secret templates: the keys the backend reads, no values. Never applied by
 * the kustomizations (a template would overwrite the real Secret).
 */
export function secretTemplates(settings: DeploySettings): ISecret[] {
  const secret = (name: string, data: Record<string, string>): ISecret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(settings, name),
    type: 'Opaque',
    stringData: data,
  });
  return [
    secret(settings.secrets.postgres, {
      POSTGRES_HOST: REPLACE,
      POSTGRES_PORT: '5432',
      POSTGRES_USER: REPLACE,
      POSTGRES_PASSWORD: REPLACE,
      PGSSLMODE: 'require',
    }),
    secret(settings.secrets.redis, {
      REDIS_URL: `rediss://:${REPLACE}@${REPLACE}:6380`,
    }),
  ];
}

/** The certificate Secret the certificate variant mounts (template). */
export function certificateSecretTemplate(settings: DeploySettings): ISecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(settings, settings.entra.certificate.secretName),
    type: 'Opaque',
    stringData: {
      [settings.entra.certificate.fileName]: [
        '-----BEGIN PRIVATE KEY-----',
        REPLACE,
        '-----END PRIVATE KEY-----',
        '-----BEGIN CERTIFICATE-----',
        REPLACE,
        '-----END CERTIFICATE-----',
        '',
      ].join('\n'),
    },
  };
}
