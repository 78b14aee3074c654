import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './exit-codes.js';
import { readJsonInput } from './json-input.js';

describe('readJsonInput', () => {
  it('reads inline JSON and @file', async () => {
    expect(await readJsonInput('{"number":"12"}')).toEqual({ number: '12' });
    const dir = await mkdtemp(join(tmpdir(), 'conveyor-input-'));
    await writeFile(join(dir, 'in.json'), '{"a":[1]}');
    expect(await readJsonInput(`@${join(dir, 'in.json')}`)).toEqual({ a: [1] });
  });

  it('refuses what is not JSON, or a file that is not there, as a usage error naming the option', async () => {
    await expect(readJsonInput('{number')).rejects.toThrow(UsageError);
    await expect(readJsonInput('{number')).rejects.toThrow(/--input must be JSON/);
    await expect(readJsonInput('@/nonexistent/in.json')).rejects.toThrow(/cannot read \/nonexistent/);
  });
});
