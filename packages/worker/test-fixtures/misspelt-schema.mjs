export default { kind: 'misspelt', input: { type: 'string', minLenght: 3 }, run: () => null };
