import { SentSequences } from './job-changes.js';

describe('SentSequences', () => {
  it('sends each change of a job once, and its next change again', () => {
    const sent = new SentSequences();
    expect(
      sent.news([
        { id: 'a', sequence: 1 },
        { id: 'b', sequence: 2 },
      ]).jobs,
    ).toHaveLength(2);
    expect(
      sent.news([
        { id: 'a', sequence: 1 },
        { id: 'b', sequence: 2 },
      ]).jobs,
    ).toEqual([]);
    expect(
      sent.news([
        { id: 'a', sequence: 2 },
        { id: 'b', sequence: 2 },
      ]).jobs,
    ).toEqual([{ id: 'a', sequence: 2 }]);
  });
});
