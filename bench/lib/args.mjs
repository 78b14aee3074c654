// Command-line options of the bench scripts: `--name value`, no library, exit code 2 on a bad value.

/** The word after `--name`, or undefined when the option is absent. */
export function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}

/** Whether `--name` is on the command line at all (with or without a value). */
export function flag(name) {
  return process.argv.includes(`--${name}`);
}

/**
 * `--name 4,16,64`: positive numbers separated by commas (whole numbers with `integers`), or
 * `fallback` when the option is absent. `numberList(name, [])[0]` reads an optional single value.
 */
export function numberList(name, fallback, { integers = false } = {}) {
  const raw = argument(name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !(integers ? Number.isInteger(v) : Number.isFinite(v)) || v <= 0)) {
    console.error(`--${name} needs positive ${integers ? 'integers' : 'numbers'} separated by commas`);
    process.exit(2);
  }
  return values;
}

/** `--name 12.5`: one positive number, or `fallback` when the option is absent. */
export function numberOption(name, fallback) {
  if (!flag(name)) return fallback;
  const value = Number(argument(name));
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} needs a positive number`);
    process.exit(2);
  }
  return value;
}
