// What the bench scripts print: timestamped progress lines, numbers, and markdown tables.

export const log = (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

/** A number with thousands separators and `digits` decimals; 'n/a' for NaN and ±Infinity (e.g. no samples). */
export const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

/** A markdown table: the first column left-aligned, the figures right-aligned, padded to read as text too. */
export function printTable(title, headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const row of rows) console.log(line(row));
}
