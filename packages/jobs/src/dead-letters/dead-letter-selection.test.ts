import { DeadLetterSelection } from '@conveyor/contracts';
import { decodeCursor, encodeCursor, selectionFilter } from './dead-letter-selection.js';

describe('dead-letter cursors', () => {
  it('round-trips', () => {
    const cursor = {
      deadLetteredAt: new Date('2026-12-08T01:02:03.456Z'),
      id: '5b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a',
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    '',
    'garbage',
    Buffer.from('2026-12-08T01:02:03.456Z|nope').toString('base64url'),
    Buffer.from('x|5b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a').toString('base64url'),
  ])('refuses %j', (text) => expect(decodeCursor(text)).toBeUndefined());
});

describe('dead-letter selections', () => {
  const parse = (body: unknown) => DeadLetterSelection.safeParse(body);

  it('takes exactly one of ids, kind or all: true', () => {
    const id = '5b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a';
    expect(selectionFilter(DeadLetterSelection.parse({ ids: [id, id] }))).toEqual({ ids: [id] });
    expect(selectionFilter(DeadLetterSelection.parse({ kind: 'factorize' }))).toEqual({ kind: 'factorize' });
    expect(selectionFilter(DeadLetterSelection.parse({ all: true }))).toEqual({ all: true });
  });

  it.each([{}, { all: false }, { ids: [] }, { ids: ['x'] }, { kind: 'Bad Kind' }, { kind: 'a', all: true }])(
    'refuses %j',
    (body) => expect(parse(body).success).toBe(false),
  );
});
