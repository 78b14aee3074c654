import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

const ERROR_BODY = { $ref: '#/components/schemas/ErrorBody' };

/** The error answers every route can give, written once in `components.responses`. */
export const SHARED_RESPONSES = {
  internalError: { $ref: '#/components/responses/InternalError' },
  unavailable: { $ref: '#/components/responses/Unavailable' },
};

/**
 * The registry the route modules declare their routes and schemas in (see defineRoute), with
 * what every route shares: the bearer scheme and the 500 and 503 answers.
 */
export function apiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`pnpm conveyor clients create`), required when authentication is on',
  });
  registry.registerComponent('responses', 'InternalError', {
    description: '`internal_error`: an unexpected failure; it has been logged',
    content: { 'application/json': { schema: ERROR_BODY } },
  });
  registry.registerComponent('responses', 'Unavailable', {
    description: '`database_unavailable`: PostgreSQL cannot be reached; try again after `Retry-After`',
    headers: {
      'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
    },
    content: { 'application/json': { schema: ERROR_BODY } },
  });
  return registry;
}
