import type { Argv } from 'yargs';
import type { CliContext } from './cli-context.js';

type Context = (argv: object) => CliContext;

/** `conveyor clients create|rotate-secret`. */
export function clientCommands(yargs: Argv, context: Context): Argv {
  return yargs
    .command(
      'create <name>',
      'register an API client (operator keys); prints its key and webhook secret once. The first operator key: ./scripts/pnpm client:create <name> --role operator (on the database)',
      (y) =>
        y
          .positional('name', { type: 'string', demandOption: true })
          .option('role', { choices: ['client', 'operator'] as const, default: 'client' as const }),
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(await ctx.client.createClient({ name: argv.name, role: argv.role }), (client) =>
          [
            `clientId:       ${client.clientId}`,
            `role:           ${client.role}`,
            `apiKey:         ${client.apiKey}`,
            `webhookSecret:  ${client.webhookSecret}`,
            'Keep both now: the key is not shown again.',
          ].join('\n'),
        );
      },
    )
    .command(
      'rotate-secret',
      "a new webhook signing secret for this key's client (the previous one signs too for a while)",
      (y) => y,
      async (argv) => {
        const ctx = context(argv);
        ctx.out.result(
          await ctx.client.rotateWebhookSecret(),
          (rotated) =>
            `webhookSecret: ${rotated.secret}\nthe previous secret keeps signing for ${Math.round(rotated.previousValidForMs / 60_000)} min`,
        );
      },
    )
    .demandCommand(1, 'name a clients command');
}
