/**
 * Mocha's spec reporter, plus a closing table of the slowest test files: the suite's time is what keeps
 * CI under its limit, and the table says where it goes. `.mocharc.json` names it.
 *
 * A file's time is the sum of its tests' and hooks' durations (a `before` that starts DynamoDB Local
 * counts), not the wall time between its first and last event: in parallel mode a worker's events reach
 * the reporter together once the file has run, and only the durations they carry are its own.
 */
import Mocha from "mocha";

const { Spec } = Mocha.reporters;
const { EVENT_TEST_END, EVENT_HOOK_END, EVENT_RUN_END } = Mocha.Runner.constants;
const SHOWN = 25;

class FileTimesReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const byFile = new Map<string, number>();
    const add = (runnable: Mocha.Runnable): void => {
      if (runnable.file === undefined || runnable.duration === undefined) return;
      const file = runnable.file.startsWith(process.cwd())
        ? runnable.file.slice(process.cwd().length + 1)
        : runnable.file;
      byFile.set(file, (byFile.get(file) ?? 0) + runnable.duration);
    };
    runner.on(EVENT_TEST_END, add);
    runner.on(EVENT_HOOK_END, add);
    runner.once(EVENT_RUN_END, () => {
      const rows = [...byFile].sort((a, b) => b[1] - a[1]);
      const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
      console.log(`\n  Slowest test files (of ${rows.length}, ${(total / 1000).toFixed(0)} s in all):`);
      for (const [file, ms] of rows.slice(0, SHOWN)) console.log(`  ${(ms / 1000).toFixed(1).padStart(8)} s  ${file}`);
    });
  }
}

export { FileTimesReporter as "module.exports" };
