import { ApiRole } from '@conveyor/contracts';

export type CreateClientArgs = { name: string; role: ApiRole } | { error: string };

export const CREATE_CLIENT_USAGE = 'usage: pnpm client:create <name> [--role client|operator]';

/** `<name> [--role client|operator]` (the role may come first, or as --role=operator); role defaults to client. */
export function parseCreateClientArgs(args: readonly string[]): CreateClientArgs {
  let name: string | undefined;
  let role: ApiRole = 'client';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let value: string | undefined;
    if (arg === '--role') value = args[++i] ?? '';
    else if (arg.startsWith('--role=')) value = arg.slice('--role='.length);
    else if (arg.startsWith('--')) return { error: `unknown option ${arg}` };
    else if (name === undefined) {
      name = arg;
      continue;
    } else return { error: `one name only (got "${name}" and "${arg}")` };
    const parsed = ApiRole.safeParse(value);
    if (!parsed.success) return { error: `--role must be client or operator (got "${value}")` };
    role = parsed.data;
  }
  if (name === undefined || name === '') return { error: 'a name is needed' };
  return { name, role };
}
