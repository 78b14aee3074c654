import { parseCreateClientArgs } from './create-client-args.js';

describe('parseCreateClientArgs', () => {
  it('takes a name, with the client role by default', () => {
    expect(parseCreateClientArgs(['acme'])).toEqual({ name: 'acme', role: 'client' });
  });

  it('takes --role operator before or after the name, and --role=operator', () => {
    expect(parseCreateClientArgs(['ops', '--role', 'operator'])).toEqual({ name: 'ops', role: 'operator' });
    expect(parseCreateClientArgs(['--role', 'operator', 'ops'])).toEqual({ name: 'ops', role: 'operator' });
    expect(parseCreateClientArgs(['--role=operator', 'ops'])).toEqual({ name: 'ops', role: 'operator' });
  });

  it.each([
    [[], 'a name is needed'],
    [['ops', '--role'], '--role must be client or operator'],
    [['ops', '--role', 'admin'], '--role must be client or operator'],
    [['ops', '--admin'], 'unknown option --admin'],
    [['a', 'b'], 'one name only'],
  ])('refuses %j', (args, message) => {
    const parsed = parseCreateClientArgs(args);
    expect('error' in parsed && parsed.error).toContain(message);
  });
});
