/**
 * Mocha's spec reporter, plus a closing table of the slowest test files (hooks included): the suite's
 * time is what keeps CI under its limit, and the table says where it goes. `.mocharc.json` names it.
 */
import Mocha from "mocha";

const { Spec } = Mocha.reporters;
const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;
const SHOWN = 25;

class FileTimesReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const started = new Map<Mocha.Suite, number>();
    const byFile = new Map<string, number>();
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.file !== undefined && suite.parent?.root === true) started.set(suite, performance.now());
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const t0 = started.get(suite);
      if (t0 === undefined || suite.file === undefined) return;
      const file = suite.file.startsWith(process.cwd()) ? suite.file.slice(process.cwd().length + 1) : suite.file;
      byFile.set(file, (byFile.get(file) ?? 0) + (performance.now() - t0));
    });
    runner.once(EVENT_RUN_END, () => {
      const rows = [...byFile].sort((a, b) => b[1] - a[1]);
      const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
      console.log(`\n  Slowest test files (of ${rows.length}, ${(total / 1000).toFixed(0)} s in all):`);
      for (const [file, ms] of rows.slice(0, SHOWN)) console.log(`  ${(ms / 1000).toFixed(1).padStart(8)} s  ${file}`);
    });
  }
}

export { FileTimesReporter as "module.exports" };
