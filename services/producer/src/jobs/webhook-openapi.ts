import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WebhookPayload } from '@conveyor/contracts';
import { z } from 'zod';

/** The Standard Webhooks headers each push carries (see @conveyor/webhooks' webhook-signature.ts). */
const SignatureHeaders = z.object({
  'webhook-id': z.string().meta({
    description: 'The message id (`msg_…`), the same on every retry of a delivery: deduplicate by it',
  }),
  'webhook-timestamp': z.string().regex(/^\d+$/).meta({
    description: 'Unix seconds of this attempt; refuse one too far from now (a replay)',
  }),
  'webhook-signature': z.string().meta({
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` entries, ' +
      'one per secret (two while a rotated secret overlaps the new one)',
  }),
});

/** What a client's `callbackUrl` receives: declared under the document's `webhooks`. */
export function registerJobWebhook(registry: OpenAPIRegistry): void {
  registry.registerWebhook({
    method: 'post',
    path: 'jobChanged',
    operationId: 'jobChanged',
    summary: "A job's status or progress changed (sent to the job's callbackUrl)",
    description:
      'Pushed in sequence order, at least once: verify the signature over the exact body bytes, ' +
      'then deduplicate by `webhook-id`. Any answer but 2xx is retried with backoff.',
    tags: ['webhooks'],
    security: [],
    request: {
      headers: SignatureHeaders,
      body: { required: true, content: { 'application/json': { schema: WebhookPayload } } },
    },
    responses: {
      200: { description: 'Received (any 2xx)' },
      400: { description: 'Refused (a bad signature, say): retried with backoff, like any non-2xx' },
      410: { description: 'Gone: nothing more is sent to this URL' },
    },
  });
}
