const input = { type: 'object' };
export const job = [
  { kind: 'first', input, run: () => 1 },
  { kind: 'second', input, isolation: 'thread', run: () => 2 },
];
