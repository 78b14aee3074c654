import { envDeclaration, inherited, parseDockerfile, stageNamed, substitute, words } from './dockerfile.js';

const SAMPLE = `# syntax=docker/dockerfile:1
ARG NODE_IMAGE=node:24-bookworm-slim

FROM \${NODE_IMAGE} AS build
WORKDIR /build
RUN echo one \\
  # a comment inside a continued instruction is dropped, as docker does
      && echo two
COPY ["a b", "c/"]

FROM --platform=linux/amd64 \${NODE_IMAGE} AS runtime
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]

FROM runtime AS producer
COPY --from=build /build/out /app
`;

describe('parseDockerfile', () => {
  const dockerfile = parseDockerfile(SAMPLE);

  it('reads global ARGs and substitutes them in FROM', () => {
    expect(dockerfile.globalArgs).toEqual({ NODE_IMAGE: 'node:24-bookworm-slim' });
    expect(dockerfile.stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:24-bookworm-slim'],
      ['runtime', 'node:24-bookworm-slim'],
      ['producer', 'runtime'],
    ]);
  });

  it('joins continued lines and drops comment lines inside them', () => {
    const build = stageNamed(dockerfile, 'build');
    expect(build.instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ['WORKDIR', '/build', 5],
      ['RUN', 'echo one && echo two', 6],
      ['COPY', '["a b", "c/"]', 9],
    ]);
    expect(words(build.instructions[2]?.args ?? '')).toEqual(['a b', 'c/']);
  });

  it('finds CMD and ENTRYPOINT through the stage a target starts from', () => {
    const producer = stageNamed(dockerfile, 'producer');
    expect(inherited(dockerfile, producer, 'ENTRYPOINT')?.args).toBe('["/usr/bin/tini", "--"]');
    expect(inherited(dockerfile, producer, 'CMD')?.args).toBe('["node", "dist/main.js"]');
    expect(inherited(dockerfile, stageNamed(dockerfile, 'build'), 'CMD')).toBeUndefined();
  });

  it('refuses a file that ends inside a continued instruction, or a stage that does not exist', () => {
    expect(() => parseDockerfile('FROM x\nRUN a \\')).toThrow(/ends inside/);
    expect(() => stageNamed(dockerfile, 'deploy')).toThrow(/no stage named "deploy"/);
  });
});

describe('substitute and envDeclaration', () => {
  it('expands $NAME, ${NAME} and ${NAME:-default} like docker', () => {
    expect(substitute('$A/${B}/${C:-fallback}/${A:-unused}', { A: 'a', B: 'b' })).toBe('a/b/fallback/a');
  });

  it('reads both ENV forms, with quoted values', () => {
    expect(envDeclaration('NODE_ENV=production LOG="two words" EMPTY=')).toEqual([
      ['NODE_ENV', 'production'],
      ['LOG', 'two words'],
      ['EMPTY', ''],
    ]);
    expect(envDeclaration('NODE_ENV production')).toEqual([['NODE_ENV', 'production']]);
  });
});
