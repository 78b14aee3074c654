import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '@conveyor/platform';
import { StorageError, type BlobLocation } from './blob-store.js';

/** Longest file or folder name, in bytes (NAME_MAX on Linux and macOS file systems). */
const MAX_NAME_BYTES = 255;
/** Longest absolute path the kernel accepts, in bytes, its terminating NUL included (Linux PATH_MAX). */
const MAX_PATH_BYTES = 4096;

/**
 * Resolves `relative` under `root` and proves it stays there: NUL bytes, `..` segments, absolute
 * paths outside the root and symlinks whose target lies outside are refused with
 * `path_outside_root`. Returns the canonical absolute path: every component that exists has its
 * symlinks resolved, so opening the result cannot follow a link out of the root. The file itself
 * need not exist (writes create it). Used by the local store and by the API at submit time.
 *
 * A path no file can have (a name over 255 bytes, a whole path over PATH_MAX, a symlink loop) is
 * `invalid_location`: a client's mistake that no retry can fix, refused before it reaches a worker.
 *
 * `realRoot` is the root's own canonical path from {@link canonicalRoot}, for callers that resolve
 * it once (the root is configuration, not user data); by default it is resolved at every call.
 */
export async function validateLocalPath(root: string, relative: string, realRoot?: string): Promise<string> {
  rejectUnsafeSyntax(relative);
  const absoluteRoot = path.resolve(root);
  const lexical = path.resolve(absoluteRoot, relative);
  if (!isInside(absoluteRoot, lexical)) throw outsideRoot(relative);

  realRoot ??= await canonicalRoot(absoluteRoot);
  // Checked before resolving (no file system work for an impossible path) and again after, on
  // the path that is opened: both count the root's own length.
  const underRoot = path.join(realRoot, path.relative(absoluteRoot, lexical));
  rejectOverlongPath(relative, underRoot);
  const canonical = await realpathOfExistingPrefix(underRoot).catch((error: unknown) => {
    throw (
      impossiblePath(relative, error) ??
      new StorageError(
        'storage_unavailable',
        `path "${shorten(relative)}" is not accessible: ${errorMessage(error)}`,
        { cause: error },
      )
    );
  });
  if (!isInside(realRoot, canonical))
    throw outsideRoot(relative, 'a symlink on the way leads outside the root');
  if (canonical === realRoot)
    throw new StorageError('invalid_location', `"${relative}" names the storage root, not a file`);
  rejectOverlongPath(relative, canonical);
  return canonical;
}

function rejectOverlongPath(relative: string, absolute: string): void {
  const bytes = Buffer.byteLength(absolute);
  if (bytes >= MAX_PATH_BYTES) {
    throw new StorageError(
      'invalid_location',
      `path "${shorten(relative)}" is too long: under the storage root it has ${bytes} bytes, at most ${MAX_PATH_BYTES - 1} are possible`,
    );
  }
}

/** The StorageError for a path the file system cannot resolve, whoever asks; undefined for other errors. */
export function impossiblePath(relative: string, error: unknown): StorageError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') {
    return new StorageError(
      'invalid_location',
      `path "${shorten(relative)}" cannot be resolved: its symlinks form a loop`,
      { cause: error },
    );
  }
  if (code === 'ENAMETOOLONG') {
    return new StorageError(
      'invalid_location',
      `path "${shorten(relative)}" is too long for the file system`,
      { cause: error },
    );
  }
  return undefined;
}

/** Local stores keep a location's bucket as a top-level folder, mirroring the S3 layout. */
export function localRelativePath(location: BlobLocation): string {
  if (location.key === '') throw new StorageError('invalid_location', 'the blob key is empty');
  if (location.bucket === undefined) return location.key;
  if (!/^[^/\\\0]+$/.test(location.bucket) || location.bucket === '.' || location.bucket === '..') {
    throw new StorageError('invalid_location', `bucket "${location.bucket}" must be a single folder name`);
  }
  return path.join(location.bucket, location.key);
}

function rejectUnsafeSyntax(relative: string): void {
  if (relative.includes('\0')) throw outsideRoot(relative.replaceAll('\0', '\\0'), 'it contains a NUL byte');
  const segments = relative.split(/[/\\]/);
  // Refused even when they would resolve inside the root: no legitimate key needs them.
  if (segments.includes('..')) throw outsideRoot(relative, 'it contains a ".." segment');
  const tooLong = segments.find((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES);
  if (tooLong !== undefined) {
    throw new StorageError(
      'invalid_location',
      `path "${shorten(relative)}" has a name of ${Buffer.byteLength(tooLong)} bytes; file and folder names have at most ${MAX_NAME_BYTES}`,
    );
  }
}

/** Paths go into messages (and logs): a 4,000-character one is cut to something readable. */
function shorten(relative: string): string {
  return relative.length > 120 ? `${relative.slice(0, 60)}…${relative.slice(-40)}` : relative;
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

/** The storage root with its symlinks resolved; `storage_unavailable` when it cannot be reached. */
export async function canonicalRoot(root: string): Promise<string> {
  const absoluteRoot = path.resolve(root);
  try {
    return await realpath(absoluteRoot);
  } catch (error) {
    throw new StorageError(
      'storage_unavailable',
      `local storage root ${absoluteRoot} is not accessible: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** realpath() of the longest existing prefix of `target`, with the missing rest appended. */
async function realpathOfExistingPrefix(target: string): Promise<string> {
  try {
    return await realpath(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const parent = path.dirname(target);
    if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === target) throw error;
    return path.join(await realpathOfExistingPrefix(parent), path.basename(target));
  }
}

function outsideRoot(relative: string, reason = 'it resolves outside the storage root'): StorageError {
  return new StorageError('path_outside_root', `path "${relative}" is refused: ${reason}`);
}
