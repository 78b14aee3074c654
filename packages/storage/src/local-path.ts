import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { StorageError, type BlobLocation } from './blob-store.js';

/**
 * Resolves `relative` under `root` and proves it stays there: NUL bytes, `..` segments, absolute
 * paths outside the root and symlinks whose target lies outside are refused with
 * `path_outside_root`. Returns the canonical absolute path: every component that exists has its
 * symlinks resolved, so opening the result cannot follow a link out of the root. The file itself
 * need not exist (writes create it). Used by the local store and by the API at submit time.
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
  const canonical = await realpathOfExistingPrefix(path.join(realRoot, path.relative(absoluteRoot, lexical)));
  if (!isInside(realRoot, canonical)) throw outsideRoot(relative, 'a symlink on the way leads outside the root');
  if (canonical === realRoot) throw new StorageError('invalid_location', `"${relative}" names the storage root, not a file`);
  return canonical;
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
  // Refused even when they would resolve inside the root: no legitimate key needs them.
  if (relative.split(/[/\\]/).includes('..')) throw outsideRoot(relative, 'it contains a ".." segment');
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
    throw new StorageError('storage_unavailable', `local storage root ${absoluteRoot} is not accessible: ${(error as Error).message}`, {
      cause: error,
    });
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
