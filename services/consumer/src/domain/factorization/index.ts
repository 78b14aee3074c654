/** Integer factorization of inputs up to 100 decimal digits, and parsing of the user's number. */
export { factorize } from './factorize.js';
export { isProbablePrime } from './primality.js';
export { FactorizationAborted, type FactorizeOptions, type FactorizeProgress } from './work-monitor.js';
export { parseFactorizeInput, type NumberRule, type ParsedNumber } from './parse-number.js';
