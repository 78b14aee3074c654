/** Integer factorization of inputs up to 100 decimal digits (parsing the user's number is in contracts). */
export { factorize } from './factorize.js';
export { isProbablePrime } from './primality.js';
export { FactorizationAborted, type FactorizeOptions, type FactorizeProgress } from './work-monitor.js';
