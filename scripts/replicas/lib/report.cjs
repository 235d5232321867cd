/*
 * What the replica harness prints: one line per check with its counts, and a
 * closing `N passed, N failed` line (scripts/summarize-tests.mjs and CI read it).
 */
class Report {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.failures = [];
  }

  section(title) {
    console.log(`\n== ${title}`);
  }

  info(text) {
    console.log(`   ${text}`);
  }

  /** Records one check: `ok` decides, `detail` says what was seen (counts). */
  check(name, ok, detail = '') {
    if (ok) this.passed++;
    else {
      this.failed++;
      this.failures.push(name);
    }
    console.log(
      `  ${ok ? 'ok  ' : 'FAIL'}  ${name}${detail ? ` (${detail})` : ''}`,
    );
    return ok;
  }

  /** A check that could not run because something before it threw. */
  error(name, error) {
    return this.check(name, false, `error: ${error?.message ?? error}`);
  }

  summaryLine() {
    return `${this.passed} passed, ${this.failed} failed`;
  }
}

module.exports = { Report };
