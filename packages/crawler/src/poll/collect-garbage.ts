import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection, or a no-op where the runtime will not give one.
 *
 * Why: every `git ls-remote` leaves a few kilobytes of process and pipe
 * handles that outlive a young-generation sweep and land in the old
 * generation. V8 sizes its next full collection from the largest heap it has
 * seen (the first cycle, with every head new, is the largest), so a thousand
 * repositories' worth of that garbage piles up for several cycles: measured
 * at 1,000 repositories, the heap grew by ~15 MB a cycle towards 200 MB while
 * only ~30 MB was live. One full collection after each cycle (milliseconds,
 * once per poll interval) keeps the crawler flat.
 */
export function garbageCollector(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    if (typeof gc === 'function') {
      // Twice: the first call may only finish an incremental marking that began
      // before the cycle's garbage was made, and keep that garbage alive.
      return () => {
        (gc as () => void)();
        (gc as () => void)();
      };
    }
  } catch {
    // Not offered by this runtime: V8's own schedule applies.
  }
  return () => {};
}
