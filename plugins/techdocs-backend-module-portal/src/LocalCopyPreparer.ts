import { cp, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { ScmIntegrationRegistry } from '@backstage/integration';
import {
  parseReferenceAnnotation,
  PreparerBase,
  PreparerOptions,
  PreparerResponse,
  transformDirLocation,
} from '@backstage/plugin-techdocs-node';
import { parseDocument } from 'yaml';

const TECHDOCS_REF = 'backstage.io/techdocs-ref';

/**
 * The `dir:` preparer for docs on the backend's own disk.
 *
 * Upstream hands the generator the entity's directory itself, and the
 * generator rewrites mkdocs.yml there before every build (sanitised, plugins
 * added, comments dropped) and writes a default one where there is none: in
 * `yarn dev` that is the developer's working tree. Here the generator gets a
 * throwaway copy of mkdocs.yml and its docs_dir instead, removed after the
 * build. A `dir:` of an entity read from a URL is already a download, and is
 * passed on as it is.
 */
export class LocalCopyPreparer implements PreparerBase {
  constructor(
    private readonly upstream: PreparerBase,
    private readonly integrations: ScmIntegrationRegistry,
    private readonly tempDir: string = os.tmpdir(),
  ) {}

  shouldCleanPreparedDirectory(): boolean {
    // What prepare() returns is always a temporary directory: the copy, or
    // the download of a URL (which upstream leaves behind).
    return true;
  }

  async prepare(
    entity: Entity,
    options?: PreparerOptions,
  ): Promise<PreparerResponse> {
    const { type } = transformDirLocation(
      entity,
      parseReferenceAnnotation(TECHDOCS_REF, entity),
      this.integrations,
    );
    const prepared = await this.upstream.prepare(entity, options);
    if (type !== 'dir') return prepared;
    const source = prepared.preparedDir;
    const copy = await mkdtemp(path.join(this.tempDir, 'techdocs-source-'));
    for (const name of ['mkdocs.yml', 'mkdocs.yaml']) {
      if (await exists(path.join(source, name))) {
        await cp(path.join(source, name), path.join(copy, name));
      }
    }
    const docsDir = await readDocsDir(copy);
    // The generator refuses a docs_dir outside the directory; so does the copy,
    // before reading anything there.
    const docsSource = resolveSafeChildPath(source, docsDir);
    if (await exists(docsSource)) {
      await cp(docsSource, resolveSafeChildPath(copy, docsDir), {
        recursive: true,
      });
    }
    options?.logger?.debug(`Copied the docs of ${source} to ${copy}`);
    return { preparedDir: copy, etag: prepared.etag };
  }
}

async function exists(file: string) {
  return stat(file).then(
    () => true,
    () => false,
  );
}

// mkdocs' own default when mkdocs.yml names none. Without a mkdocs.yml the
// generator writes a default one, into the copy.
async function readDocsDir(dir: string): Promise<string> {
  for (const name of ['mkdocs.yaml', 'mkdocs.yml']) {
    const file = path.join(dir, name);
    if (!(await exists(file))) continue;
    // mkdocs.yml may carry Python tags (!!python/name:...): kept as unknown,
    // they do not stop docs_dir from being read.
    const docsDir = parseDocument(await readFile(file, 'utf8'), {
      logLevel: 'silent',
    }).get('docs_dir');
    return typeof docsDir === 'string' && docsDir ? docsDir : 'docs';
  }
  return 'docs';
}
