import { randomInt } from 'node:crypto';

/**
 * Random fault times a failing run can repeat: the seed comes from
 * KILN_TEST_SEED when set, else is drawn, and is printed either way, so
 * `KILN_TEST_SEED=<seed> npm test -- <file>` replays the same moments.
 */
export interface SeededRandom {
  seed: number;
  /** A whole number from `min` to `max`, both included. */
  between(min: number, max: number): number;
}

export function seededRandom(what: string): SeededRandom {
  const fromEnv = process.env.KILN_TEST_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : randomInt(2 ** 31);
  process.stderr.write(`${what}: random seed ${seed} (KILN_TEST_SEED=${seed} repeats it)\n`);
  // mulberry32: small, fast, and good enough to spread fault times.
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, between: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
