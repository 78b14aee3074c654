import { filtersOf, matches, queryOf, searchTarget } from './job-filters.js';
import { aJob as job } from './job.fixture.js';

describe('job filters', () => {
  it('round-trip through the address, dropping an unknown status and blanks', () => {
    const filters = filtersOf(new URLSearchParams('status=failed&kind=csv-sum&customId=&clientId=cl_1'));
    expect(filters).toEqual({ status: 'failed', kind: 'csv-sum', customId: '', clientId: 'cl_1' });
    expect(queryOf(filters, { limit: '50' })).toBe('?status=failed&kind=csv-sum&clientId=cl_1&limit=50');
    expect(filtersOf(new URLSearchParams('status=lost')).status).toBeNull();
    expect(queryOf(filtersOf(new URLSearchParams('')))).toBe('');
  });

  it('match a live job on status, kind and customId; never under a client filter', () => {
    const none = filtersOf(new URLSearchParams(''));
    expect(matches(none, job({}))).toBe(true);
    expect(matches({ ...none, status: 'running' }, job({}))).toBe(false);
    expect(matches({ ...none, kind: 'factorize', customId: 'a' }, job({ customId: 'a' }))).toBe(true);
    expect(matches({ ...none, clientId: 'cl_1' }, job({}))).toBe(false);
  });

  it('read the search box as a job id or a customId', () => {
    expect(searchTarget('  6F0C1F8E-1D2B-4C3A-9E8F-0A1B2C3D4E5F ')).toEqual({
      jobId: '6f0c1f8e-1d2b-4c3a-9e8f-0a1b2c3d4e5f',
    });
    expect(searchTarget('order-42')).toEqual({ customId: 'order-42' });
    expect(searchTarget('   ')).toBeNull();
  });
});
