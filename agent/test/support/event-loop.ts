import { setImmediate as yieldToEventLoop } from "node:timers/promises";

/**
 * Runs `work` and counts the event-loop turns (setImmediate callbacks) that ran meanwhile: work that
 * holds the loop from start to end lets none through, work cut into slices lets one through per pause.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let running = true;
  const ticker = (async () => {
    while (running) {
      turns++;
      await yieldToEventLoop();
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    running = false;
    await ticker;
  }
  return { turns, result };
}
