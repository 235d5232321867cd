/*
 * Validates Kubernetes objects against Kubernetes' own OpenAPI schemas, as
 * compiled by kubernetes-models (one validator per API type, generated from
 * the upstream OpenAPI specification). ES modules only: loaded by the tests
 * (see jestResolver.cjs), not by the generator.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  Namespace,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-models/v1';

interface ModelClass {
  new (data: any): { validate(): void };
}

/** The API types deploy/kubernetes/ uses, by `apiVersion/kind`. */
const models: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Problems of one object: its type is unknown, its schema refuses it (the
 * message names the path, e.g. `data/spec/replicas must be integer`), or it
 * has no valid `metadata.name` (the API server requires one).
 */
export function validateKubernetesObject(object: unknown): string[] {
  const { apiVersion, kind, metadata } = (object ?? {}) as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: unknown };
  };
  const Model = models[`${apiVersion}/${kind}`];
  if (!Model) {
    return [`no Kubernetes schema for apiVersion ${apiVersion} kind ${kind}`];
  }
  const problems: string[] = [];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(...(error as Error).message.split(', '));
  }
  if (typeof metadata?.name !== 'string' || !DNS_SUBDOMAIN.test(metadata.name)) {
    problems.push('data/metadata/name must be a DNS subdomain name');
  }
  return problems;
}
