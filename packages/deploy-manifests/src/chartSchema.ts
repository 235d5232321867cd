/*
 * Validates Helm values against the chart's own values.schema.json, as
 * `helm install` / `helm lint` do before rendering (Helm validates with
 * JSON Schema too). The schema is vendored: deploy/helm/vendor/backstage-2.8.2.
 */
import Ajv2020, { ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { repositoryRoot } from './generate';

export const CHART_SCHEMA_FILE =
  'deploy/helm/vendor/backstage-2.8.2/values.schema.json';

type Schema = Record<string, unknown>;

/**
 * The chart's schema embeds the Bitnami PostgreSQL subchart's schema, which
 * declares the draft-04-era `$schema: http://json-schema.org/schema#`; a
 * draft 2020-12 validator refuses an unknown meta-schema inside a document,
 * so nested `$schema` keys are dropped (the root one stays).
 */
function withoutNestedSchemaKeywords(node: unknown, isRoot = true): unknown {
  if (Array.isArray(node)) return node.map(n => withoutNestedSchemaKeywords(n, false));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Schema)
      .filter(([key]) => isRoot || key !== '$schema')
      .map(([key, value]) => [key, withoutNestedSchemaKeywords(value, false)]),
  );
}

/**
 * Kubernetes' own schemas (which the chart embeds for probes, security
 * contexts, volumes, ...) leave unknown fields open; the API server refuses
 * them (strict field validation). This closes every object schema that lists
 * its properties and says nothing of others, as kubeconform's -strict does,
 * so a misspelt field such as `readOnlyRootFileSystem` is an error here too.
 */
export function closeObjectSchemas(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjectSchemas);
  if (!node || typeof node !== 'object') return node;
  const schema = Object.fromEntries(
    Object.entries(node as Schema).map(([key, value]) => [
      key,
      closeObjectSchemas(value),
    ]),
  );
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    schema.patternProperties === undefined
  ) {
    schema.additionalProperties = false;
  }
  return schema;
}

/**
 * Closes the `backstage` subtree only. Left open: `postgresql` (the Bitnami
 * subchart's schema does not declare its own `enabled` switch) and
 * `backstage.podSecurityContext`, which chart 2.8.2 types as a container
 * SecurityContext (no fsGroup, supplementalGroups, ...); the same pod
 * security context is checked against Kubernetes' PodSecurityContext in the
 * plain manifests, which say the same (consistency test).
 */
function closeBackstage(schema: Schema): Schema {
  const properties = schema.properties as Record<string, Schema>;
  const backstage = closeObjectSchemas(properties.backstage) as Schema;
  const backstageProperties = backstage.properties as Record<string, Schema>;
  backstageProperties.podSecurityContext = (
    properties.backstage.properties as Record<string, Schema>
  ).podSecurityContext;
  return { ...schema, properties: { ...properties, backstage } };
}

export function readChartSchema(root = repositoryRoot()): Schema {
  const file = path.join(root, CHART_SCHEMA_FILE);
  return withoutNestedSchemaKeywords(
    JSON.parse(fs.readFileSync(file, 'utf8')),
  ) as Schema;
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown key "${
      (error.params as { additionalProperty: string }).additionalProperty
    }"`;
  }
  return `${where}: ${error.message}`;
}

export interface ChartValuesValidator {
  /** Problems, each naming the path in the values (`/backstage/replicas`). */
  (values: unknown): string[];
}

/**
 * A validator for values of chart `backstage` 2.8.2. With `strict`, fields
 * of embedded Kubernetes types must exist too.
 */
export function chartValuesValidator(
  options: { strict?: boolean; root?: string } = {},
): ChartValuesValidator {
  const schema = readChartSchema(options.root);
  // strict: false: the schema uses annotation keywords of its generator
  // (`form`, `x-kubernetes-*`), which ajv's strict mode refuses.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(options.strict ? closeBackstage(schema) : schema);
  return values =>
    validate(values) ? [] : (validate.errors ?? []).map(formatError);
}
