import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ScmIntegrations } from '@backstage/integration';
import { DirectoryPreparer } from '@backstage/plugin-techdocs-node';
import { LocalCopyPreparer } from './LocalCopyPreparer';

const MKDOCS_YML = `# Kept as written: the build must not rewrite this file.
site_name: Portal
docs_dir: site-docs
nav:
  - Overview: index.md
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
`;

function entity(
  dir: string,
  ref = 'dir:.',
  location = `file:${dir}/catalog-info.yaml`,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'portal',
      annotations: {
        'backstage.io/techdocs-ref': ref,
        'backstage.io/managed-by-location': location,
      },
    },
    spec: {
      type: 'website',
      owner: 'group:default/a',
      lifecycle: 'production',
    },
  };
}

describe('LocalCopyPreparer', () => {
  let root: string;
  let source: string;
  let temp: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'local-copy-preparer-'));
    source = path.join(root, 'repo');
    temp = path.join(root, 'tmp');
    await mkdir(path.join(source, 'site-docs', 'guides'), { recursive: true });
    await mkdir(path.join(source, 'node_modules', 'big'), { recursive: true });
    await mkdir(temp);
    await writeFile(path.join(source, 'mkdocs.yml'), MKDOCS_YML);
    await writeFile(path.join(source, 'site-docs', 'index.md'), '# Portal\n');
    await writeFile(path.join(source, 'site-docs', 'guides', 'a.md'), '# A\n');
    await writeFile(path.join(source, 'node_modules', 'big', 'x.js'), '');
  });

  afterEach(() => rm(root, { recursive: true, force: true }));

  function preparer(urlReader = mockServices.urlReader.mock()) {
    const config = mockServices.rootConfig();
    return new LocalCopyPreparer(
      DirectoryPreparer.fromConfig(config, {
        logger: mockServices.logger.mock(),
        reader: urlReader,
      }),
      ScmIntegrations.fromConfig(config),
      temp,
    );
  }

  it("hands the generator a copy of mkdocs.yml and its docs_dir, not the entity's directory", async () => {
    const { preparedDir } = await preparer().prepare(entity(source));

    expect(preparedDir).not.toBe(source);
    expect(path.dirname(preparedDir)).toBe(temp);
    expect(await readFile(path.join(preparedDir, 'mkdocs.yml'), 'utf8')).toBe(
      MKDOCS_YML,
    );
    expect(
      await readFile(
        path.join(preparedDir, 'site-docs', 'guides', 'a.md'),
        'utf8',
      ),
    ).toBe('# A\n');
    // Only what mkdocs reads: not the rest of the repository.
    await expect(
      readFile(path.join(preparedDir, 'node_modules', 'big', 'x.js')),
    ).rejects.toThrow(/ENOENT/);

    // What the generator does to mkdocs.yml (and the docs) stays in the copy.
    await writeFile(
      path.join(preparedDir, 'mkdocs.yml'),
      'plugins: [techdocs-core]\n',
    );
    await writeFile(path.join(preparedDir, 'site-docs', 'index.md'), 'changed');
    expect(await readFile(path.join(source, 'mkdocs.yml'), 'utf8')).toBe(
      MKDOCS_YML,
    );
    expect(
      await readFile(path.join(source, 'site-docs', 'index.md'), 'utf8'),
    ).toBe('# Portal\n');
  });

  it('has the builder remove the copy after the build', () => {
    expect(preparer().shouldCleanPreparedDirectory()).toBe(true);
  });

  it('reads docs/ when mkdocs.yml names no docs_dir', async () => {
    await writeFile(path.join(source, 'mkdocs.yml'), 'site_name: Portal\n');
    await mkdir(path.join(source, 'docs'));
    await writeFile(path.join(source, 'docs', 'index.md'), '# Default\n');

    const { preparedDir } = await preparer().prepare(entity(source));

    expect(
      await readFile(path.join(preparedDir, 'docs', 'index.md'), 'utf8'),
    ).toBe('# Default\n');
  });

  it('refuses a docs_dir outside the directory, copying nothing from there', async () => {
    await writeFile(
      path.join(source, 'mkdocs.yml'),
      'site_name: Portal\ndocs_dir: ../outside\n',
    );
    await mkdir(path.join(root, 'outside'));
    await writeFile(path.join(root, 'outside', 'secret.md'), 'secret');

    await expect(preparer().prepare(entity(source))).rejects.toThrow(
      /outside/i,
    );
  });
});
