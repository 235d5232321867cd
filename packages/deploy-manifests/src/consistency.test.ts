/*
 * The Helm values and the plain manifests say the same things, and both
 * match the image the Dockerfile builds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EntraCredentialVariant } from './settings';
import { VALUES_FILES, VARIANT_FOLDERS, SECRET_TEMPLATES_FILE } from './generate';
import { readRepoFile, readYaml, root } from './testFiles';

const variants = Object.keys(VALUES_FILES) as EntraCredentialVariant[];

function load(variant: EntraCredentialVariant) {
  const [values] = readYaml(VALUES_FILES[variant]);
  const [deployment] = readYaml(`${VARIANT_FOLDERS[variant]}/deployment.yaml`);
  const [serviceAccount] = readYaml(
    `${VARIANT_FOLDERS[variant]}/serviceaccount.yaml`,
  );
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  return { values, backstage: values.backstage, deployment, serviceAccount, pod, container };
}

/** The runtime stage's CMD and the files it copies from the build context. */
function dockerfileRuntime() {
  const dockerfile = readRepoFile('Dockerfile');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]) as string[];
  // COPY [--chown=... --link ...] <sources...> <./ or /app/>, not --from
  // another stage: files taken from the build context into /app.
  const copied = [...runtime.matchAll(/^COPY\s+(.+)$/gm)].flatMap(m => {
    const words = m[1].trim().split(/\s+/);
    if (words.some(w => w.startsWith('--from='))) return [];
    const [destination, ...sources] = words
      .filter(w => !w.startsWith('--'))
      .reverse();
    return ['./', '/app/', '/app'].includes(destination) ? sources : [];
  });
  return { cmd, copied };
}

describe.each(variants)('values and manifests agree (%s)', variant => {
  const { values, backstage, deployment, serviceAccount, pod, container } =
    load(variant);

  it('run the same image', () => {
    const { registry, repository, tag } = backstage.image;
    expect(container.image).toBe(`${registry}/${repository}:${tag}`);
    expect(container.imagePullPolicy).toBe(backstage.image.pullPolicy);
    expect(tag).not.toBe('latest');
  });

  it("run the Dockerfile's CMD, with config files the image contains", () => {
    const { cmd, copied } = dockerfileRuntime();
    expect(container.command).toEqual(backstage.command);
    expect(container.args).toEqual(backstage.args);
    expect([...backstage.command, ...backstage.args]).toEqual(cmd);
    const configFiles = backstage.args.filter(
      (_: string, i: number) => backstage.args[i - 1] === '--config',
    );
    expect(configFiles).toEqual(['app-config.yaml', 'app-config.production.yaml']);
    for (const file of configFiles) {
      expect(copied).toContain(file);
      expect(fs.existsSync(path.join(root, file))).toBe(true);
    }
  });

  it('have the same replicas, rollout strategy and disruption budget', () => {
    expect(deployment.spec.replicas).toBe(backstage.replicas);
    expect(backstage.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy).toEqual(backstage.strategy);
    const [pdb] = readYaml('deploy/kubernetes/common/pdb.yaml');
    expect(backstage.pdb.create).toBe(true);
    expect(pdb.spec.minAvailable).toBe(backstage.pdb.minAvailable);
    expect(pdb.spec.minAvailable).toBeLessThan(backstage.replicas);
    expect(pdb.spec.selector).toEqual(deployment.spec.selector);
  });

  it('probe the health routes on the backend port', () => {
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(container[probe]).toEqual(backstage[probe]);
      expect(container[probe].httpGet.port).toBe(backstage.containerPorts.backend);
    }
    expect(container.readinessProbe.httpGet.path).toBe('/.backstage/health/v1/readiness');
    expect(container.livenessProbe.httpGet.path).toBe('/.backstage/health/v1/liveness');
    expect(container.startupProbe.httpGet.path).toBe('/.backstage/health/v1/liveness');
    expect(container.ports).toEqual([
      { name: 'backend', containerPort: backstage.containerPorts.backend, protocol: 'TCP' },
    ]);
  });

  it('read the same environment and Secrets', () => {
    expect(container.env).toEqual(backstage.extraEnvVars);
    expect(container.envFrom).toEqual(
      backstage.extraEnvVarsSecrets.map((name: string) => ({ secretRef: { name } })),
    );
  });

  it('run as the non-root node user with a read-only root filesystem', () => {
    expect(pod.spec.securityContext).toEqual(backstage.podSecurityContext);
    expect(container.securityContext).toEqual(backstage.containerSecurityContext);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec.volumes).toEqual(backstage.extraVolumes);
    expect(container.volumeMounts).toEqual(backstage.extraVolumeMounts);
    const tmp = container.volumeMounts.find((m: any) => m.mountPath === '/tmp');
    expect(pod.spec.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined();
  });

  it('have the same resources, spread and service account', () => {
    expect(container.resources).toEqual(backstage.resources);
    expect(container.resources.limits.memory).toBeDefined();
    expect(pod.spec.topologySpreadConstraints).toEqual(backstage.topologySpreadConstraints);
    expect(pod.spec.serviceAccountName).toBe(values.serviceAccount.name);
    expect(serviceAccount.metadata.name).toBe(values.serviceAccount.name);
    expect(serviceAccount.metadata.annotations ?? {}).toEqual(values.serviceAccount.annotations);
    expect(serviceAccount.automountServiceAccountToken).toBe(
      values.serviceAccount.automountServiceAccountToken,
    );
    for (const [label, value] of Object.entries(backstage.podLabels)) {
      expect(pod.metadata.labels[label]).toBe(value);
    }
  });

  it('uses external PostgreSQL', () => {
    expect(values.postgresql).toEqual({ enabled: false });
  });
});

describe('the Entra credential of each variant', () => {
  it('workload identity: labelled pod, annotated account, no secret or certificate', () => {
    const { backstage, serviceAccount, pod, container } = load('workloadIdentity');
    expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(backstage.podLabels['azure.workload.identity/use']).toBe('true');
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(serviceAccount.metadata.annotations).toEqual({
      'azure.workload.identity/client-id': env.AZURE_CLIENT_ID,
      'azure.workload.identity/tenant-id': env.AZURE_TENANT_ID,
    });
    // The webhook sets AZURE_FEDERATED_TOKEN_FILE; nothing here overrides it.
    for (const name of [
      'AZURE_FEDERATED_TOKEN_FILE',
      'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_SECRET_FILE', 'AZURE_CLIENT_CERTIFICATE_PATH']) {
      expect(env[name]).toBeUndefined();
    }
  });

  it('certificate: the path it names is in the mounted Secret directory, no subPath', () => {
    const { pod, container, serviceAccount } = load('certificate');
    expect(pod.metadata.labels['azure.workload.identity/use']).toBeUndefined();
    expect(serviceAccount.metadata.annotations).toBeUndefined();
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    const certificatePath: string = env.AZURE_CLIENT_CERTIFICATE_PATH;
    const mount = container.volumeMounts.find(
      (m: any) => path.posix.dirname(certificatePath) === m.mountPath,
    );
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    const volume = pod.spec.volumes.find((v: any) => v.name === mount.name);
    const certificateSecret = readYaml(SECRET_TEMPLATES_FILE).find(
      s => s.metadata.name === volume.secret.secretName,
    );
    expect(Object.keys(certificateSecret.stringData)).toEqual([
      path.posix.basename(certificatePath),
    ]);
    expect(env.AZURE_CLIENT_SECRET).toBeUndefined();
  });
});

describe('what the backend reads', () => {
  const templates = readYaml(SECRET_TEMPLATES_FILE);
  const { backstage } = load('workloadIdentity');

  it('every Secret the pods read from has a template with no real value', () => {
    // Not secret, and the same everywhere; every other value is a placeholder.
    const harmlessDefaults: Record<string, string> = {
      POSTGRES_PORT: '5432',
      PGSSLMODE: 'require',
    };
    for (const name of backstage.extraEnvVarsSecrets) {
      const template = templates.find(t => t.metadata.name === name);
      expect(template).toBeDefined();
      const entries = Object.entries<string>(template.stringData);
      const placeholders = entries.filter(([key]) => !(key in harmlessDefaults));
      expect(placeholders.length).toBeGreaterThan(0);
      for (const [, value] of placeholders) {
        expect(value).toContain('REPLACE-ME');
      }
      for (const [key, value] of entries.filter(([k]) => k in harmlessDefaults)) {
        expect(value).toBe(harmlessDefaults[key]);
      }
    }
  });

  it('every variable the pods get is read by the configuration in the image, or by a library that reads it', () => {
    const configs = ['app-config.yaml', 'app-config.production.yaml'].map(readRepoFile).join('\n');
    const readByLibraries: Record<string, string> = {
      PGSSLMODE: 'node-postgres',
    };
    for (const variant of variants) {
      const { container } = load(variant);
      const names = [
        ...container.env.map((e: any) => e.name),
        ...templates
          .filter(t => backstage.extraEnvVarsSecrets.includes(t.metadata.name))
          .flatMap(t => Object.keys(t.stringData)),
      ];
      const unread = names.filter(
        name =>
          !name.startsWith('APP_CONFIG_') &&
          !readByLibraries[name] &&
          !configs.includes(`\${${name}}`) &&
          !configs.includes(`\${${name}:-`),
      );
      expect({ variant, unread }).toEqual({ variant, unread: [] });
    }
  });

  it('the PostgreSQL settings app-config.production.yaml reads come from the postgres Secret', () => {
    const production = readRepoFile('app-config.production.yaml');
    const read = [...production.matchAll(/\$\{(POSTGRES_[A-Z_]+)\}/g)].map(m => m[1]);
    expect(read.length).toBeGreaterThan(0);
    const postgres = templates.find(t => t.metadata.name === backstage.extraEnvVarsSecrets[0]);
    for (const name of read) {
      expect(Object.keys(postgres.stringData)).toContain(name);
    }
  });

  it('the public URL app-config.production.yaml reads is set, and is the Ingress host', () => {
    expect(readRepoFile('app-config.production.yaml')).toContain('${APP_BASE_URL');
    const [ingress] = readYaml('deploy/kubernetes/common/ingress.yaml');
    const [values] = readYaml(VALUES_FILES.workloadIdentity);
    const url = backstage.extraEnvVars.find((e: any) => e.name === 'APP_BASE_URL').value;
    expect(new URL(url).host).toBe(ingress.spec.rules[0].host);
    expect(values.ingress.host).toBe(ingress.spec.rules[0].host);
    expect(values.ingress.className).toBe(ingress.spec.ingressClassName);
    expect(values.ingress.tls.secretName).toBe(ingress.spec.tls[0].secretName);
    const [service] = readYaml('deploy/kubernetes/common/service.yaml');
    expect(service.spec.ports[0].port).toBe(values.service.ports.backend);
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe(service.metadata.name);
  });
});
