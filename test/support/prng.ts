/** Seeded mulberry32: uniform floats in [0, 1), identical on every platform for a given seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One normal sample by Box-Muller. Stateless (two draws per call, the second variate is dropped)
 * so a sequence depends only on the generator, not on hidden caching.
 */
export function randomNormal(rng: () => number, mean = 0, std = 1): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const u1 = 1 - rng();
  const u2 = rng();
  return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
