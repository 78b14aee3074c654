// The factorize kind, for the host that runs it; producers import only './contract'.
export * from './contract.js';
export { factorizeJob, type FactorizeJobSettings } from './factorize.job.js';
export { FactorizePool } from './factorize-pool.js';
