// Benchmark: our factorize() against GNU `factor` on the same semiprimes, in the same run.
//
//   cd /work/main && npx tsc -b services/consumer && node bench/factorize.bench.mjs
//
// The primes are found by a seeded search with our own isProbablePrime, so every run uses the same
// numbers. Our time is measured in-process around a single factorize() call, the first of the run (a
// cold start: no warm-up run, so it includes V8's JIT warm-up); factor's time is the wall-clock time of spawning `factor N`, process start-up included (about
// a millisecond, negligible next to these timings).
import { spawnSync } from 'node:child_process';

// Loading the module (about 20 ms: ES module graph, WebAssembly compilation) is not part of our time.
const importStart = performance.now();
const { factorize, isProbablePrime } = await import('../packages/kind-factorize/dist/domain/index.js');
const importMilliseconds = performance.now() - importStart;

/** GNU factor needs minutes on the 40-digit case (rho only); past this it is reported as "> 150 s". */
const FACTOR_TIMEOUT_MS = 150_000;
const SEED = 20_240_601n;

const CASES = [
  {
    name: '64-bit semiprime (two 32-bit primes, n ≥ 2^63)',
    primeOf: (random) => primeInRange(3_037_000_500n, 2n ** 32n, random),
  },
  { name: '30 digits (two 15-digit primes)', primeOf: (random) => primeWithDigits(15, random) },
  { name: '40 digits (two 20-digit primes)', primeOf: (random) => primeWithDigits(20, random) },
];

/** splitmix64 on BigInt: a tiny seeded generator of 64-bit values. */
function seededRandom64(seed) {
  let state = seed;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return z ^ (z >> 31n);
  };
}

/** The first prime at or after a random point of [low, high). */
function primeInRange(low, high, random) {
  const span = high - low;
  let candidate = low + (((random() << 64n) | random()) % span);
  while (!isProbablePrime(candidate)) candidate += 1n;
  return candidate;
}

function primeWithDigits(digits, random) {
  return primeInRange(10n ** BigInt(digits - 1), 10n ** BigInt(digits), random);
}

function timeOurs(n) {
  const start = performance.now();
  const factors = factorize(n);
  return { seconds: (performance.now() - start) / 1000, factors };
}

/** Returns seconds, or undefined when factor ran past the timeout. */
function timeGnuFactor(n, expectedFactors) {
  const start = performance.now();
  const result = spawnSync('factor', [n.toString()], { encoding: 'utf8', timeout: FACTOR_TIMEOUT_MS });
  const seconds = (performance.now() - start) / 1000;
  if (result.error?.code === 'ETIMEDOUT' || result.signal !== null) return undefined;
  if (result.status !== 0) throw new Error(`factor failed: ${result.stderr}`);
  const theirs = result.stdout.split(':')[1].trim();
  if (theirs !== expectedFactors.join(' ')) throw new Error(`factor disagrees on ${n}: ${theirs}`);
  return seconds;
}

function formatSeconds(seconds) {
  return seconds === undefined ? `> ${FACTOR_TIMEOUT_MS / 1000} s` : `${seconds.toFixed(3)} s`;
}

function formatRatio(ours, theirs) {
  return theirs === undefined
    ? `< ${(ours / (FACTOR_TIMEOUT_MS / 1000)).toFixed(3)}`
    : (ours / theirs).toFixed(3);
}

function main() {
  const random = seededRandom64(SEED);
  console.log(
    `node ${process.version}, ${spawnSync('factor', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`,
  );
  console.log(`module import ${importMilliseconds.toFixed(1)} ms (not included below)`);
  console.log('ratio = our time / factor time (below 1: we are faster)\n');
  let oursTotal = 0;
  let theirsTotal = 0;
  let theirsTimedOut = false;
  for (const { name, primeOf } of CASES) {
    const [p, q] = [primeOf(random), primeOf(random)].sort((a, b) => (a < b ? -1 : 1));
    const n = p * q;
    const ours = timeOurs(n);
    if (ours.factors.join(' ') !== `${p} ${q}`)
      throw new Error(`wrong factorization of ${n}: ${ours.factors.join(' ')}`);
    const theirs = timeGnuFactor(n, ours.factors);
    oursTotal += ours.seconds;
    theirsTotal += theirs ?? FACTOR_TIMEOUT_MS / 1000;
    theirsTimedOut ||= theirs === undefined;
    console.log(name);
    console.log(`  n = ${n} = ${p} × ${q}`);
    console.log(
      `  ours ${formatSeconds(ours.seconds)}   factor ${formatSeconds(theirs)}   ratio ${formatRatio(ours.seconds, theirs)}`,
    );
  }
  const theirsTotalText = `${theirsTimedOut ? '> ' : ''}${theirsTotal.toFixed(3)} s`;
  console.log(`\ntotal: ours ${oursTotal.toFixed(3)} s   factor ${theirsTotalText}`);
}

main();
