import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const clientDir = join(root, 'packages/client');
const pnpm = join(root, 'scripts/pnpm');

/**
 * @conveyor/client as npm would install it: `pnpm pack` (its prepack builds and bundles the
 * declarations), unpacked beside only its public dependencies. Its JS must import no private
 * workspace package and its browser entry nothing from node:, and a strict TypeScript consumer
 * must type-check against the bundled declarations alone.
 */
describe('@conveyor/client as published', () => {
  let consumer: string;
  let installed: string;

  beforeAll(() => {
    consumer = mkdtempSync(join(tmpdir(), 'conveyor-consumer-'));
    execFileSync(pnpm, ['pack', '--pack-destination', consumer], { cwd: clientDir, stdio: 'pipe' });
    const tarball = readdirSync(consumer).find((name) => name.endsWith('.tgz'))!;
    installed = join(consumer, 'node_modules/@conveyor/client');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['xzf', join(consumer, tarball), '-C', installed, '--strip-components=1']);
    // Its public dependencies, and what a TypeScript consumer on Node has.
    for (const name of ['zod', 'yargs', 'ora', 'cli-progress'])
      symlinkSync(join(clientDir, 'node_modules', name), join(consumer, 'node_modules', name));
    mkdirSync(join(consumer, 'node_modules/@types'));
    symlinkSync(join(root, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'));
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
  }, 60_000);

  /** Every module specifier of the JS reachable from `entry`, followed through relative imports. */
  const importsFrom = (entry: string): Set<string> => {
    const seen = new Set<string>();
    const specifiers = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (specifier!.startsWith('.')) visit(join(file, '..', specifier!));
        else specifiers.add(specifier!);
      }
    };
    visit(join(installed, entry));
    return specifiers;
  };

  it('imports nothing private; the browser entry nothing at all', () => {
    expect([...importsFrom('dist/index.js')]).toEqual([]);
    expect([...importsFrom('dist/node/index.js')]).toEqual([]);
    const cli = [...importsFrom('dist/cli/main.js')];
    expect(cli.filter((name) => name.startsWith('@conveyor/'))).toEqual([]);
    expect(cli.filter((name) => !name.startsWith('node:'))).toEqual(
      expect.arrayContaining(['yargs', 'yargs/helpers', 'ora', 'cli-progress']),
    );
  });

  it('runs from the unpacked tarball', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { ConveyorClient, verifyWebhook } from '@conveyor/client'; import { webhookReceiver } from '@conveyor/client/node'; console.log(typeof ConveyorClient, typeof verifyWebhook, typeof webhookReceiver);",
      ],
      { cwd: consumer },
    ).toString();
    expect(out.trim()).toBe('function function function');
    const help = execFileSync(process.execPath, [join(installed, 'dist/cli/main.js'), '--help']).toString();
    expect(help).toContain('Exit codes');
  });

  it('type-checks a strict consumer against the bundled declarations', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { ConveyorClient, verifyWebhook, type Job } from '@conveyor/client';
import { webhookReceiver } from '@conveyor/client/node';

declare module '@conveyor/client' {
  interface JobKinds {
    thumbnail: { input: { url: string }; result: { bytes: number } };
  }
}

const conveyor = new ConveyorClient({ baseUrl: 'http://localhost:9090' });
export async function main(): Promise<void> {
  const done = await conveyor.wait(await conveyor.submit('factorize', { number: '12' }));
  const factors: string[] | undefined = done.result?.factors;
  const thumb: Job<'thumbnail'> = await conveyor.wait(await conveyor.submit('thumbnail', { url: 'https://x' }));
  const bytes: number | undefined = thumb.result?.bytes;
  // @ts-expect-error the input is typed by the kind
  await conveyor.submit('factorize', { digits: 12 });
  // @ts-expect-error image-resize jobs are uploads (uploadImage), whatever the input
  await conveyor.submit('image-resize', thumb.input as never);
  const payload = await verifyWebhook('{}', new Headers(), 'whsec_x');
  const status: string = payload.status;
  webhookReceiver({ secret: 'whsec_x', onEvent: (event) => event.jobId });
  console.log(factors, bytes, status);
}
`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', consumer], { stdio: 'pipe' });
    } catch (error) {
      output = error instanceof Error && 'stdout' in error ? String(error.stdout) : String(error);
    }
    expect(output).toBe('');
  });
});
