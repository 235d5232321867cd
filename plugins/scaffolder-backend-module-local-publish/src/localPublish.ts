import fs from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';

/** Where published repositories are served, under the scaffolder's URL. */
export const REPOS_PATH = '/local-publish/repos';

/** One path segment a person can read in a URL: no dots, no slashes. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * publish:local — copies the task's workspace into `<directory>/<name>`,
 * where the scaffolder serves it, and outputs the URLs that
 * `catalog:register` and the task's links need.
 */
export function createPublishLocalAction(options: {
  directory: string;
  scaffolderBaseUrl: () => Promise<string>;
}) {
  return createTemplateAction({
    id: 'publish:local',
    description:
      "Publishes the workspace to a folder on the portal's machine, served by URL (development and CI: no Git host needed).",
    schema: {
      input: {
        name: z =>
          z.string({
            description:
              'Repository name: lowercase letters, digits and dashes, as in a URL',
          }),
      },
      output: {
        remoteUrl: z =>
          z.string({ description: 'Where the published files are served' }),
        repoContentsUrl: z =>
          z.string({ description: 'The root of the published files' }),
        catalogInfoUrl: z =>
          z.string({
            description: 'The published catalog-info.yaml, for catalog:register',
          }),
      },
    },
    async handler(ctx) {
      const { name } = ctx.input;
      if (!NAME.test(name)) {
        throw new InputError(
          `Cannot publish "${name}": a repository name is lowercase letters, digits and dashes (at most 63), starting and ending with a letter or digit`,
        );
      }
      const target = path.join(options.directory, name);
      await fs.mkdir(options.directory, { recursive: true });
      try {
        // Not recursive: fails if the name is taken, so nothing is overwritten.
        await fs.mkdir(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new ConflictError(
            `A repository named "${name}" was already published; choose another name`,
          );
        }
        throw error;
      }
      await fs.cp(ctx.workspacePath, target, { recursive: true });
      const base = `${await options.scaffolderBaseUrl()}${REPOS_PATH}/${name}`;
      ctx.logger.info(`Published ${name} to ${base}`);
      ctx.output('remoteUrl', base);
      ctx.output('repoContentsUrl', base);
      ctx.output('catalogInfoUrl', `${base}/catalog-info.yaml`);
    },
  });
}
