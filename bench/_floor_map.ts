// Copyright 2026 the @lionpride/core authors. MIT license.
// The hand-written floor shared by the alcall benchmarks (time and peak RSS).

/**
 * The floor: `concurrency` workers pulling indexes from a shared counter into
 * a preallocated results array. No cancellation, no error handling, no
 * options: what any bounded map has to do at least.
 */
export async function floorMap<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  concurrency: number,
): Promise<R[]> {
  const n = items.length;
  const results = new Array<R>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  const workers = new Array<Promise<void>>(Math.min(concurrency, n));
  for (let w = 0; w < workers.length; w++) workers[w] = worker();
  await Promise.all(workers);
  return results;
}
