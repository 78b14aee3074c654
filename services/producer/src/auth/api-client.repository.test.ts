import { revokedClientIdOf } from './api-client.repository.js';

describe('revokedClientIdOf', () => {
  it('names the client of a notification about this schema', () => {
    expect(revokedClientIdOf('{"schema":"conveyor","clientId":"cl_1"}', 'conveyor')).toBe('cl_1');
  });

  it("ignores another schema's revocations and anything malformed", () => {
    for (const payload of [
      '{"schema":"other","clientId":"cl_1"}',
      '{"schema":"conveyor"}',
      '{"schema":"conveyor","clientId":7}',
      'null',
      '',
      'not json',
    ]) {
      expect(revokedClientIdOf(payload, 'conveyor')).toBeUndefined();
    }
  });
});
