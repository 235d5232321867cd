/*
 * Prints bench results side by side: one column per variant, one row per
 * `[label, result => text]`. A row whose function throws shows '-'.
 */
function printVariantTable(rows, results, maxWidth = 60) {
  const width0 = Math.max(...rows.map(r => r[0].length));
  const cells = rows.map(([label, f]) => [
    label,
    ...results.map(r => {
      try {
        return f(r);
      } catch {
        return '-';
      }
    }),
  ]);
  const widths = results.map((_, i) =>
    Math.min(
      maxWidth,
      Math.max(
        results[i].name.length,
        ...cells.map(c => String(c[i + 1]).length),
      ),
    ),
  );
  const line = cs =>
    cs
      .map((c, i) =>
        i === 0
          ? c.padEnd(width0)
          : String(c)
              .slice(0, maxWidth)
              .padStart(widths[i - 1]),
      )
      .join('  ');
  console.log(line(['variant', ...results.map(r => r.name)]));
  for (const c of cells) console.log(line(c));
}

module.exports = { printVariantTable };
