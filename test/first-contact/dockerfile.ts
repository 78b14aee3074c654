/**
 * A Dockerfile read the way `docker build` reads it, as far as the first-contact checks need:
 * line continuations, comment lines (also inside a continued instruction), global and stage
 * ARGs, stages with their names and bases. Pure: text in, stages out.
 */
export interface Instruction {
  /** Upper-case keyword: RUN, COPY, WORKDIR, ... */
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
  /** 1-based line of the keyword, for messages. */
  line: number;
}

export interface Stage {
  /** The `AS <name>`, if any. */
  name: string | undefined;
  /** The image or stage it starts from, ARGs substituted. */
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions(text)) {
    const stage = stages.at(-1);
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const [image, as, name] = words;
      if (image === undefined) throw new Error(`line ${instruction.line}: FROM without an image`);
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base: substitute(image, globalArgs),
        instructions: [],
      });
    } else if (stage) {
      stage.instructions.push(instruction);
    } else if (instruction.keyword === 'ARG') {
      const { name, value } = argDeclaration(instruction.args);
      globalArgs[name] = value ?? '';
    } else {
      throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return { globalArgs, stages };
}

/** The stage named `name`; throws when there is none. */
export function stageNamed(dockerfile: Dockerfile, name: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage)
    throw new Error(
      `no stage named "${name}" (stages: ${dockerfile.stages.map((s) => s.name ?? '?').join(', ')})`,
    );
  return stage;
}

/**
 * The last `keyword` instruction (CMD, ENTRYPOINT) that applies to a stage, following its
 * `FROM <other stage>` chain as an image inherits them.
 */
export function inherited(dockerfile: Dockerfile, stage: Stage, keyword: string): Instruction | undefined {
  for (
    let current: Stage | undefined = stage;
    current;
    current = dockerfile.stages.find((s) => s.name === current?.base)
  ) {
    const found = current.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

/** `ARG NAME` or `ARG NAME=default`. */
export function argDeclaration(args: string): { name: string; value: string | undefined } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args.trim());
  if (!match?.[1]) throw new Error(`cannot read ARG ${args}`);
  return { name: match[1], value: match[2] === undefined ? undefined : unquote(match[2]) };
}

/** `ENV a=1 b="two words"` (or the legacy `ENV a 1`) as pairs. */
export function envDeclaration(args: string): [string, string][] {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(args.trim());
  if (legacy?.[1] && legacy[2] !== undefined) return [[legacy[1], legacy[2]]];
  const pairs: [string, string][] = [];
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    if (match[1] !== undefined && match[2] !== undefined) pairs.push([match[1], unquote(match[2])]);
  }
  return pairs;
}

/** Docker's variable substitution: `$NAME`, `${NAME}`, `${NAME:-default}`; unknown names become empty. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_all, braced?: string, fallback?: string, bare?: string) => {
      const value = vars[braced ?? bare ?? ''];
      return value !== undefined && value !== '' ? value : (fallback ?? '');
    },
  );
}

/** Words of a COPY or other exec-like argument list: a JSON array, or whitespace-separated. */
export function words(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return trimmed.split(/\s+/);
}

function unquote(value: string): string {
  if (
    value.length >= 2 &&
    (value.startsWith('"') || value.startsWith("'")) &&
    value.endsWith(value[0] ?? '')
  ) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

function* instructions(text: string): Generator<Instruction> {
  const lines = text.split('\n');
  let pending: { parts: string[]; line: number } | undefined;
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || (pending === undefined && line.trim() === '')) continue;
    const continued = /\\\s*$/.test(line);
    const part = continued ? line.replace(/\\\s*$/, '') : line;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(part.trim());
    if (continued) continue;
    const joined = pending.parts.filter((p) => p !== '').join(' ');
    const match = /^(\S+)\s*(.*)$/.exec(joined);
    if (match?.[1]) yield { keyword: match[1].toUpperCase(), args: match[2] ?? '', line: pending.line };
    pending = undefined;
  }
  if (pending) throw new Error(`line ${pending.line}: the file ends inside a continued instruction`);
}
