/* Reading the committed deploy files, for the tests. */
import fs from 'node:fs';
import path from 'node:path';
import { repositoryRoot } from './generate';
import { parseYamlStream } from './yamlFile';

export const root = repositoryRoot();

export function readRepoFile(file: string): string {
  return fs.readFileSync(path.join(root, file), 'utf8');
}

/** The documents of a committed YAML file. */
export function readYaml(file: string): any[] {
  return parseYamlStream(readRepoFile(file));
}

/** Every committed manifest (*.yaml) under a folder, kustomizations aside. */
export function manifestFiles(folder: string): string[] {
  return fs
    .readdirSync(path.join(root, folder), { recursive: true })
    .map(String)
    .filter(f => f.endsWith('.yaml') && path.basename(f) !== 'kustomization.yaml')
    .map(f => path.posix.join(folder, f.split(path.sep).join('/')))
    .sort();
}
