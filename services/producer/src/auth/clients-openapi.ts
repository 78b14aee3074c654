import { CreateClientRequest, CreatedClient, ErrorBody } from '@conveyor/contracts';
import { z } from 'zod';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'openapi-3.0', unrepresentable: 'any', io: 'input' });
const json = (s: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(s) } },
});

/** `POST /v1/clients`, in the style of openApiDocument's paths. */
export function clientsPaths(): Record<string, unknown> {
  return {
    '/v1/clients': {
      post: {
        tags: ['operator'],
        summary: 'Register an API client (operator keys only); its key and webhook secret are shown once',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schema(CreateClientRequest) } },
        },
        responses: {
          201: json(CreatedClient, 'Created'),
          401: json(ErrorBody, 'No API key (with authentication on)'),
          403: json(ErrorBody, '`operator_only`: a client key; this route needs an operator key'),
          400: json(ErrorBody, 'A bad name or role (validation_failed)'),
        },
      },
    },
  };
}
