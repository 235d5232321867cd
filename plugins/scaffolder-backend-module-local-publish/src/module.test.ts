import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  scaffolderActionsExtensionPoint,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import scaffolderModuleLocalPublish from './index';

async function start(directory?: string) {
  const actions: TemplateAction<any, any, any>[] = [];
  const { server } = await startTestBackend({
    extensionPoints: [
      [scaffolderActionsExtensionPoint, { addActions: (...a: any[]) => actions.push(...a) }],
    ],
    features: [
      scaffolderModuleLocalPublish,
      mockServices.rootConfig.factory({
        data: directory ? { scaffolder: { localPublish: { directory } } } : {},
      }),
    ],
  });
  return { server, actions };
}

async function workspace() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'workspace-'));
  await fs.writeFile(
    path.join(dir, 'catalog-info.yaml'),
    'kind: Component\nmetadata:\n  name: orders\n',
  );
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src', 'index.js'), 'console.log(1);\n');
  return dir;
}

function run(action: TemplateAction<any, any, any>, workspacePath: string, input: object) {
  const output: Record<string, unknown> = {};
  const ctx = {
    input,
    workspacePath,
    logger: mockServices.logger.mock(),
    output: (key: string, value: unknown) => {
      output[key] = value;
    },
  };
  return { done: action.handler(ctx as any), output };
}

describe('publish:local', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), 'published-'));
  });

  it('publishes the workspace and serves it to anyone who reads URLs, as the catalog does', async () => {
    const { server, actions } = await start(directory);
    const action = actions.find(a => a.id === 'publish:local')!;
    const { done, output } = run(action, await workspace(), { name: 'orders' });
    await done;

    expect(output.catalogInfoUrl).toMatch(
      /\/api\/scaffolder\/local-publish\/repos\/orders\/catalog-info\.yaml$/,
    );
    const url = new URL(output.catalogInfoUrl as string);
    // No credentials: the catalog's URL reader sends none.
    const res = await request(server).get(url.pathname);
    expect(res.status).toBe(200);
    expect(res.text).toContain('name: orders');
    const nested = await request(server).get(
      url.pathname.replace('catalog-info.yaml', 'src/index.js'),
    );
    expect(nested.status).toBe(200);
  });

  it('never overwrites a published repository', async () => {
    const { actions } = await start(directory);
    const action = actions.find(a => a.id === 'publish:local')!;
    await run(action, await workspace(), { name: 'orders' }).done;
    await expect(
      run(action, await workspace(), { name: 'orders' }).done,
    ).rejects.toThrow(
      'A repository named "orders" was already published; choose another name',
    );
  });

  it('refuses names that are not one URL segment', async () => {
    const { actions } = await start(directory);
    const action = actions.find(a => a.id === 'publish:local')!;
    for (const name of ['../escape', 'Orders', 'a/b', '-x']) {
      await expect(run(action, await workspace(), { name }).done).rejects.toThrow(
        /a repository name is lowercase letters, digits and dashes/,
      );
    }
    expect(await fs.readdir(directory)).toEqual([]);
  });

  it('serves nothing outside the folder, and missing files as 404 alike', async () => {
    const { server } = await start(directory);
    await fs.writeFile(path.join(os.tmpdir(), 'outside.txt'), 'secret');
    const traversal = await request(server).get(
      '/api/scaffolder/local-publish/repos/..%2Foutside.txt',
    );
    const missing = await request(server).get(
      '/api/scaffolder/local-publish/repos/nothing/catalog-info.yaml',
    );
    expect(traversal.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(traversal.body).toEqual(missing.body);
  });

  it('does not exist unless a folder is configured', async () => {
    const { server, actions } = await start(undefined);
    expect(actions).toEqual([]);
    const res = await request(server).get(
      '/api/scaffolder/local-publish/repos/orders/catalog-info.yaml',
    );
    expect(res.status).toBe(404);
  });
});
