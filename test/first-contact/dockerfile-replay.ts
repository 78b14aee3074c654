import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';
import {
  argDeclaration,
  envDeclaration,
  substitute,
  words,
  type Instruction,
  type Stage,
} from './dockerfile.js';

export interface ReplayOptions {
  /** The build context: a clean copy of the committed files. */
  context: string;
  /** Stands in for the container's `/`: WORKDIR /build becomes `<fsRoot>/build`. */
  fsRoot: string;
  /** ARG values from before the first FROM (their defaults). */
  globalArgs: Record<string, string>;
  /** The environment RUN steps start from (the base image's, in docker). */
  env: Record<string, string>;
  /** Longest time one RUN step may take. */
  stepTimeoutMs: number;
}

export class ReplayStepFailed extends Error {
  constructor(
    readonly instruction: Instruction,
    readonly output: string,
    exit: string,
  ) {
    super(
      `line ${instruction.line}: ${instruction.keyword} ${instruction.args}\n${exit}; last output:\n${output.split('\n').slice(-30).join('\n')}`,
    );
    this.name = 'ReplayStepFailed';
  }
}

/**
 * Replays a stage's WORKDIR, COPY, ARG, ENV and RUN steps on this machine, as `docker build`
 * would run them: each RUN with `/bin/sh -c` in the current WORKDIR, stdin from /dev/null (no
 * TTY), the environment given plus the stage's ARGs and ENVs (so no CI variable unless the
 * Dockerfile sets one), COPY honouring .dockerignore. Absolute container paths land under
 * `fsRoot`; RUN commands see host paths, so they must use paths relative to WORKDIR.
 * Throws ReplayStepFailed on the first failing step; instructions that change nothing a build
 * step sees (EXPOSE, LABEL, CMD, ...) are skipped, anything else is refused.
 */
export async function replayStage(stage: Stage, options: ReplayOptions): Promise<void> {
  const ignored = dockerignore(options.context);
  const vars: Record<string, string> = {};
  let workdir = '/';
  mkdirSync(options.fsRoot, { recursive: true });
  for (const instruction of stage.instructions) {
    const expand = (text: string) => substitute(text, vars);
    switch (instruction.keyword) {
      case 'ARG': {
        const { name, value } = argDeclaration(instruction.args);
        vars[name] = value !== undefined ? expand(value) : (options.globalArgs[name] ?? '');
        break;
      }
      case 'ENV':
        for (const [name, value] of envDeclaration(instruction.args)) vars[name] = expand(value);
        break;
      case 'WORKDIR':
        workdir = posix.resolve(workdir, expand(instruction.args.trim()));
        mkdirSync(join(options.fsRoot, workdir), { recursive: true });
        break;
      case 'COPY':
        copy(instruction, words(instruction.args).map(expand), { ...options, workdir, ignored });
        break;
      case 'RUN':
        await run(instruction, {
          cwd: join(options.fsRoot, workdir),
          env: { ...options.env, ...vars },
          timeoutMs: options.stepTimeoutMs,
        });
        break;
      case 'EXPOSE':
      case 'LABEL':
      case 'CMD':
      case 'ENTRYPOINT':
      case 'HEALTHCHECK':
      case 'STOPSIGNAL':
        break;
      default:
        throw new Error(
          `line ${instruction.line}: the replay cannot reproduce ${instruction.keyword}; keep the build stage to WORKDIR, COPY, ARG, ENV and RUN`,
        );
    }
  }
}

function copy(
  instruction: Instruction,
  args: string[],
  options: ReplayOptions & { workdir: string; ignored: (path: string) => boolean },
): void {
  const flags = args.filter((arg) => arg.startsWith('--'));
  const paths = args.filter((arg) => !arg.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='));
  if (from) throw new Error(`line ${instruction.line}: COPY ${from} cannot be replayed in the build stage`);
  const dest = paths.pop();
  if (dest === undefined || paths.length === 0)
    throw new Error(`line ${instruction.line}: COPY needs a source and a destination`);
  const target = join(options.fsRoot, posix.resolve(options.workdir, dest));
  const intoDirectory = dest.endsWith('/') || paths.length > 1;
  for (const source of paths) {
    if (/[*?[]/.test(source))
      throw new Error(`line ${instruction.line}: COPY with wildcards is not replayed`);
    const from = join(options.context, source);
    const inContext = relative(options.context, from);
    if (inContext.startsWith('..'))
      throw new Error(`line ${instruction.line}: COPY ${source} is outside the context`);
    if (!existsSync(from) || options.ignored(inContext))
      throw new ReplayStepFailed(instruction, '', `${source} is not in the build context`);
    const filter = (path: string) => !options.ignored(relative(options.context, path));
    if (statSync(from).isDirectory()) {
      // docker copies a directory's contents, not the directory itself.
      cpSync(from, target, { recursive: true, filter });
    } else {
      const file = intoDirectory ? join(target, basename(source)) : target;
      mkdirSync(join(file, '..'), { recursive: true });
      cpSync(from, file);
    }
  }
}

function run(
  instruction: Instruction,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<void> {
  const trimmed = instruction.args.trim();
  const argv = trimmed.startsWith('[') ? (JSON.parse(trimmed) as string[]) : ['/bin/sh', '-c', trimmed];
  const [file, ...rest] = argv;
  if (file === undefined) throw new Error(`line ${instruction.line}: RUN without a command`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new ReplayStepFailed(
            instruction,
            output,
            signal ? `killed by ${signal} (timeout ${options.timeoutMs} ms?)` : `exit code ${code}`,
          ),
        );
    });
  });
}

/**
 * The context's .dockerignore as a predicate on context-relative paths: `*`, `?` and `**`
 * patterns, `!` exceptions, a pattern matching a directory excluding what is inside it.
 */
export function dockerignore(context: string): (path: string) => boolean {
  const file = join(context, '.dockerignore');
  const rules = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => ({
          exclude: !line.startsWith('!'),
          pattern: globToRegExp(posix.normalize(line.replace(/^!/, '')).replace(/^\/+/, '')),
        }))
    : [];
  return (path: string) => {
    if (path === '') return false;
    const parts = path.split(/[\\/]/);
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((prefix) => rule.pattern.test(prefix))) excluded = rule.exclude;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i] ?? '';
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
