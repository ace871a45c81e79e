// Where the suite's time goes: wall time per test file (its top-level suites, hooks included),
// slowest first, then mocha's closing line. Measures, never judges:
//   npx mocha --reporter ./test/harness/timingReporter.js 'test/**/*.test.ts' 'policy/test/**/*.test.ts'
const Mocha = require("mocha");

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class TimingReporter extends Mocha.reporters.Base {
    constructor(runner, options) {
        super(runner, options);
        const started = new Map();
        const perFile = new Map();
        const runStart = Date.now();
        runner.on(EVENT_SUITE_BEGIN, (suite) => {
            if (suite.file && suite.parent && suite.parent.root) started.set(suite, Date.now());
        });
        runner.on(EVENT_SUITE_END, (suite) => {
            if (!started.has(suite)) return;
            perFile.set(suite.file, (perFile.get(suite.file) || 0) + Date.now() - started.get(suite));
        });
        runner.on(EVENT_TEST_FAIL, (test, err) => process.stdout.write(`failed: ${test.fullTitle()}: ${err && err.message}\n`));
        runner.once(EVENT_RUN_END, () => {
            const rows = [...perFile.entries()].sort((a, b) => b[1] - a[1]);
            for (const [file, ms] of rows) {
                process.stdout.write(`${(ms / 1000).toFixed(2).padStart(8)} s  ${file.replace(`${process.cwd()}/`, "")}\n`);
            }
            process.stdout.write(`${((Date.now() - runStart) / 1000).toFixed(1).padStart(8)} s  whole run\n`);
            const { passes, failures, pending } = runner.stats;
            process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
        });
    }
}

module.exports = TimingReporter;
