import { config } from 'zod';

// Imported first by main.tsx, before any schema exists: zod decides whether to compile faster
// object parsers (with `new Function`) when it builds a schema, and its probe for eval breaks
// the page's CSP, which Chromium reports as an error. The plain parsers are fast enough here.
config({ jitless: true });
