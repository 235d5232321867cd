import { Config, readDurationFromConfig } from '@backstage/config';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

/** The configuration key of the policy. */
export const CONFIG_KEY = 'permission.ownershipPolicy';

/** A deploy environment and who may deploy to it. */
export interface DeployEnvironment {
  name: string;
  /** Lowercase group refs; undefined: owners of the deployed entity. */
  groups?: string[];
}

/**
 * The validated policy configuration. Every entity ref is a full, lowercase
 * ref (`group:default/platform-admins`), as ownership refs are.
 *
 * @public
 */
export interface OwnershipPolicyConfig {
  admins: string[];
  /** How long a person's catalog state (User present, groups) is reused. */
  identityCacheTtlMs: number;
  catalog: {
    /** Lowercase kinds only owners may read. */
    restrictReadToOwners: string[];
    /** Groups that may register, besides admins; empty: admins only. */
    registerGroups: string[];
  };
  scaffolder: {
    tags: Array<{ tag: string; groups: string[] }>;
    templates: Array<{ template: string; groups: string[] }>;
    dryRunGroups: string[];
    deploy?: {
      actions: string[];
      environmentInput: string;
      targetInput: string;
      environments: DeployEnvironment[];
    };
  };
}

const KNOWN_KEYS: Record<string, string[]> = {
  '': ['admins', 'identityCacheTtl', 'catalog', 'scaffolder'],
  catalog: ['restrictReadToOwners', 'registerGroups'],
  'catalog.restrictReadToOwners': ['kinds'],
  scaffolder: ['tags', 'templates', 'dryRunGroups', 'deploy'],
  'scaffolder.deploy': [
    'actions',
    'environmentInput',
    'targetInput',
    'environments',
  ],
};

function fail(key: string, message: string): never {
  throw new InputError(`Invalid config at ${CONFIG_KEY}.${key}: ${message}`);
}

function checkKeys(config: Config, path: string) {
  const known = KNOWN_KEYS[path];
  for (const key of config.keys()) {
    if (!known.includes(key)) {
      fail(
        path ? `${path}.${key}` : key,
        `unknown key; expected one of ${known.join(', ')}`,
      );
    }
  }
}

/** Reads a list through Config so type errors name the key, then wraps them. */
function stringList(config: Config, key: string, path: string): string[] {
  try {
    return config.getStringArray(key);
  } catch (e) {
    return fail(path, `must be a list of strings (${(e as Error).message})`);
  }
}

function optionalString(config: Config, key: string, path: string) {
  try {
    return config.getOptionalString(key);
  } catch (e) {
    return fail(path, `must be a string (${(e as Error).message})`);
  }
}

function entityRef(value: string, kind: string, path: string): string {
  let ref;
  try {
    ref = parseEntityRef(value);
  } catch {
    return fail(
      path,
      `'${value}' is not an entity ref; write it as ${kind}:default/<name>`,
    );
  }
  if (ref.kind.toLocaleLowerCase('en-US') !== kind) {
    fail(
      path,
      `'${value}' is a ${ref.kind} ref, expected a ${kind} ref like ${kind}:default/<name>`,
    );
  }
  return stringifyEntityRef(ref);
}

/** Default of `identityCacheTtl`: with a 30 s ingestion poll, under two minutes. */
export const DEFAULT_IDENTITY_CACHE_TTL_MS = 30_000;

const MS_PER_UNIT: Record<string, number> = {
  milliseconds: 1,
  seconds: 1_000,
  minutes: 60_000,
  hours: 3_600_000,
};

function identityCacheTtl(config: Config): number {
  const key = 'identityCacheTtl';
  if (!config.has(key)) return DEFAULT_IDENTITY_CACHE_TTL_MS;
  let duration;
  try {
    duration = readDurationFromConfig(config, { key });
  } catch (e) {
    return fail(
      'identityCacheTtl',
      `must be a duration such as '30s' or { seconds: 30 } (${
        (e as Error).message
      })`,
    );
  }
  let ms = 0;
  for (const [unit, value] of Object.entries(duration)) {
    if (!(unit in MS_PER_UNIT)) {
      fail(
        'identityCacheTtl',
        `'${unit}' is too long for a revocation delay; give it in seconds or minutes`,
      );
    }
    ms += (value ?? 0) * MS_PER_UNIT[unit];
  }
  if (!Number.isFinite(ms) || ms < 0) {
    fail('identityCacheTtl', 'must not be negative');
  }
  return ms;
}

function groupList(config: Config, key: string, path: string): string[] {
  return stringList(config, key, path).map((v, i) =>
    entityRef(v, 'group', `${path}[${i}]`),
  );
}

function objectList(config: Config, key: string, path: string): Config[] {
  try {
    return config.getOptionalConfigArray(key) ?? [];
  } catch (e) {
    return fail(path, `must be a list of objects (${(e as Error).message})`);
  }
}

function requireUnique(values: string[], path: string, what: string) {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) fail(`${path}[${i}]`, `${what} '${v}' is listed twice`);
    seen.add(v);
  });
}

/**
 * Reads and validates `permission.ownershipPolicy`. Throws an `InputError`
 * naming the offending key, so a wrong value stops the backend at startup.
 *
 * @public
 */
export function readOwnershipPolicyConfig(
  rootConfig: Config,
): OwnershipPolicyConfig {
  const config = rootConfig.getOptionalConfig(CONFIG_KEY);
  if (!config) {
    throw new InputError(
      `Missing config ${CONFIG_KEY}: the ownership policy needs at least ` +
        `${CONFIG_KEY}.admins (e.g. [group:default/platform-admins]); see docs/permissions.md`,
    );
  }
  checkKeys(config, '');

  if (!config.has('admins')) fail('admins', 'is required');
  const admins = groupList(config, 'admins', 'admins');
  if (admins.length === 0) {
    fail('admins', 'must name at least one group');
  }

  const catalogConfig = config.getOptionalConfig('catalog');
  if (catalogConfig) checkKeys(catalogConfig, 'catalog');
  const restrict = catalogConfig?.getOptionalConfig('restrictReadToOwners');
  if (restrict) checkKeys(restrict, 'catalog.restrictReadToOwners');
  const restrictKinds = restrict
    ? stringList(restrict, 'kinds', 'catalog.restrictReadToOwners.kinds').map(
        k => k.toLocaleLowerCase('en-US'),
      )
    : [];
  restrictKinds.forEach((k, i) => {
    if (!/^[a-z][a-z0-9-]*$/.test(k)) {
      fail(
        `catalog.restrictReadToOwners.kinds[${i}]`,
        `'${k}' is not an entity kind`,
      );
    }
  });
  // Left out means admins only: whoever may register also brings entities
  // into everyone's catalog, so a fork names who may (docs/permissions.md).
  const registerGroups = catalogConfig?.has('registerGroups')
    ? groupList(catalogConfig, 'registerGroups', 'catalog.registerGroups')
    : [];

  const scaffolder = config.getOptionalConfig('scaffolder');
  if (scaffolder) checkKeys(scaffolder, 'scaffolder');

  const tags = scaffolder
    ? objectList(scaffolder, 'tags', 'scaffolder.tags').map((t, i) => {
        const path = `scaffolder.tags[${i}]`;
        const tag = optionalString(t, 'tag', `${path}.tag`);
        if (!tag) fail(`${path}.tag`, 'is required');
        return { tag, groups: groupList(t, 'groups', `${path}.groups`) };
      })
    : [];
  requireUnique(
    tags.map(t => t.tag),
    'scaffolder.tags',
    'tag',
  );

  const templates = scaffolder
    ? objectList(scaffolder, 'templates', 'scaffolder.templates').map(
        (t, i) => {
          const path = `scaffolder.templates[${i}]`;
          const ref = optionalString(t, 'template', `${path}.template`);
          if (!ref) fail(`${path}.template`, 'is required');
          return {
            template: entityRef(ref, 'template', `${path}.template`),
            groups: groupList(t, 'groups', `${path}.groups`),
          };
        },
      )
    : [];
  requireUnique(
    templates.map(t => t.template),
    'scaffolder.templates',
    'template',
  );

  const dryRunGroups = scaffolder?.has('dryRunGroups')
    ? groupList(scaffolder, 'dryRunGroups', 'scaffolder.dryRunGroups')
    : [];

  const deployConfig = scaffolder?.getOptionalConfig('deploy');
  let deploy: OwnershipPolicyConfig['scaffolder']['deploy'];
  if (deployConfig) {
    checkKeys(deployConfig, 'scaffolder.deploy');
    const actions = stringList(
      deployConfig,
      'actions',
      'scaffolder.deploy.actions',
    );
    if (actions.length === 0) {
      fail('scaffolder.deploy.actions', 'must name at least one action id');
    }
    const environments = objectList(
      deployConfig,
      'environments',
      'scaffolder.deploy.environments',
    ).map((e, i) => {
      const path = `scaffolder.deploy.environments[${i}]`;
      const name = optionalString(e, 'name', `${path}.name`);
      if (!name) fail(`${path}.name`, 'is required');
      return {
        name,
        groups: e.has('groups')
          ? groupList(e, 'groups', `${path}.groups`)
          : undefined,
      };
    });
    if (environments.length === 0) {
      fail(
        'scaffolder.deploy.environments',
        'must list at least one environment (deploys to unlisted environments are refused)',
      );
    }
    requireUnique(
      environments.map(e => e.name),
      'scaffolder.deploy.environments',
      'environment',
    );
    deploy = {
      actions,
      environmentInput:
        optionalString(
          deployConfig,
          'environmentInput',
          'scaffolder.deploy.environmentInput',
        ) ?? 'environment',
      targetInput:
        optionalString(
          deployConfig,
          'targetInput',
          'scaffolder.deploy.targetInput',
        ) ?? 'component',
      environments,
    };
  }

  return {
    admins,
    identityCacheTtlMs: identityCacheTtl(config),
    catalog: { restrictReadToOwners: restrictKinds, registerGroups },
    scaffolder: { tags, templates, dryRunGroups, deploy },
  };
}
