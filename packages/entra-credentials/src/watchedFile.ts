import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** Where credential rotations and refused files are reported. */
export interface CredentialLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** The last good content of a watched file, parsed, and how often it changed. */
export interface WatchedValue<T> {
  value: T;
  /** 1 at startup, +1 on each accepted change. */
  version: number;
}

/**
 * A file re-read when it changes, checked on each use with one `stat`
 * (cheap) rather than `fs.watch`: Kubernetes replaces mounted Secrets and
 * projected tokens by swapping a `..data` symlink, which file watchers on the
 * old target miss. `stat` follows the symlink, so a swap shows up as a new
 * inode, size or mtime; the content hash then decides whether anything
 * really changed. File systems keep mtime in coarse ticks, so a file
 * rewritten in place with the same size right after a read can keep its
 * stamp; while the stamp is that recent, the content is hashed on each use
 * (git's "racily clean" rule).
 *
 * A new content that does not parse (a half-written file, the wrong file)
 * is refused and the last good value kept; why is logged once per content.
 */
export class WatchedFile<T> {
  #stamp: string;
  #racy: boolean;
  #hash: string;
  #current: WatchedValue<T>;
  #refused: string | undefined;

  /**
   * Reads the file now; throws, naming `key` and the path, when it is
   * missing, unreadable or does not parse, so bad config fails startup.
   */
  constructor(
    readonly path: string,
    private readonly key: string,
    private readonly parse: (content: Buffer) => T,
    private readonly logger: CredentialLogger,
    private readonly onChange: (value: T) => string,
  ) {
    let stat: fs.Stats;
    let content: Buffer;
    try {
      stat = fs.statSync(path);
      content = fs.readFileSync(path);
    } catch (error) {
      throw new Error(
        `${key} names ${path}, which cannot be read (${describeFsError(
          error,
        )}); mount the file there or change ${key}.`,
      );
    }
    try {
      this.#current = { value: parse(content), version: 1 };
    } catch (error) {
      throw new Error(
        `${key} names ${path}, which is not usable: ${
          (error as Error).message
        }.`,
      );
    }
    this.#stamp = stampOf(stat);
    this.#racy = isRacy(stat);
    this.#hash = hashOf(content);
  }

  /** The current value, re-read first if the file changed since the last use. */
  current(): WatchedValue<T> {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.path);
    } catch (error) {
      this.#refuse(
        `missing:${describeFsError(error)}`,
        `cannot be read (${describeFsError(error)})`,
      );
      return this.#current;
    }
    const stamp = stampOf(stat);
    if (stamp === this.#stamp && !this.#racy) return this.#current;
    let content: Buffer;
    try {
      content = fs.readFileSync(this.path);
    } catch (error) {
      this.#refuse(
        `missing:${describeFsError(error)}`,
        `cannot be read (${describeFsError(error)})`,
      );
      return this.#current;
    }
    const hash = hashOf(content);
    if (hash === this.#hash) {
      this.#stamp = stamp;
      this.#racy = isRacy(stat);
      return this.#current;
    }
    let value: T;
    try {
      value = this.parse(content);
    } catch (error) {
      this.#refuse(hash, `is not usable: ${(error as Error).message}`);
      return this.#current;
    }
    this.#stamp = stamp;
    this.#racy = isRacy(stat);
    this.#hash = hash;
    this.#refused = undefined;
    this.#current = { value, version: this.#current.version + 1 };
    this.logger.info(
      `The Entra app credential in ${this.path} (${
        this.key
      }) changed and is used from now on: ${this.onChange(value)}.`,
    );
    return this.#current;
  }

  #refuse(reason: string, message: string) {
    if (this.#refused === reason) return;
    this.#refused = reason;
    this.logger.warn(
      `The Entra app credential file ${this.path} (${this.key}) changed but ${message}; the last good one stays in use.`,
    );
  }
}

const RACY_WINDOW_MS = 2000;

function stampOf(stat: fs.Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** Whether the file changed so recently that a same-size rewrite could keep its mtime. */
function isRacy(stat: fs.Stats): boolean {
  return Date.now() - stat.mtimeMs < RACY_WINDOW_MS;
}

function hashOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? 'unreadable';
}
