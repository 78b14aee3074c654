// The csv-sum kind, for the host that runs it; producers import only './contract'.
export * from './contract.js';
export { csvSumJob, csvSumPool, type CsvSumJobSettings } from './csv-sum.job.js';
