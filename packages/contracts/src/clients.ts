import { z } from 'zod';
import { ApiRole } from './operator.js';

/** `POST /v1/clients` (operator keys only): registers an API client. */
export const CreateClientRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    role: ApiRole.default('client'),
  })
  .meta({ id: 'CreateClientRequest' });
export type CreateClientRequest = z.infer<typeof CreateClientRequest>;

/** Its answer (201): the API key and webhook secret are shown this once; only the key's hash is kept. */
export const CreatedClient = z
  .object({
    clientId: z.string(),
    apiKey: z.string(),
    webhookSecret: z.string(),
    role: ApiRole,
  })
  .meta({ id: 'CreatedClient' });
export type CreatedClient = z.infer<typeof CreatedClient>;
