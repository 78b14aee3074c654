export default { kind: 'Bad_Kind', input: { type: 'object' }, run: () => null };
