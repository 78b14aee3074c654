export { CsvColumnSummer } from './fast-scanner.js';
export { sumCsvStream, type SumCsvStreamHooks } from './sum-csv-stream.js';
export { CsvSumError, type CsvSumErrorCode } from './errors.js';
export { formatScaledDecimal, parseScaledDecimal, FRACTION_DIGITS } from './exact-decimal.js';
export {
  DEFAULT_CSV_SUM_OPTIONS,
  type ColumnSum,
  type CsvDelimiter,
  type CsvSumOptions,
  type CsvSumResult,
} from './options.js';
