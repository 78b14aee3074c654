/**
 * `pnpm client:revoke <client id or API key>`: revokes a client's API key. Every running
 * producer forgets it at once (see revokeApiClient); the client's jobs stay.
 */
import { revokeApiClient } from '../auth/api-client.repository.js';
import { runClientCommand } from './producer-command.js';

const revocation = await runClientCommand('client:revoke', 'client id or API key', revokeApiClient);
switch (revocation.outcome) {
  case 'revoked':
    process.stdout.write(`${JSON.stringify({ clientId: revocation.clientId, revoked: true })}\n`);
    break;
  case 'already_revoked':
    process.stdout.write(
      `${JSON.stringify({ clientId: revocation.clientId, revoked: true, revokedAt: revocation.revokedAt.toISOString() })}\n`,
    );
    break;
  case 'not_found':
    process.stderr.write('no client has that id or API key (the default client has no key to revoke)\n');
    process.exit(1);
}
