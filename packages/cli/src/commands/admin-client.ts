import type { Legim } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { cliName } from '../invocation.js';

/**
 * A client for the operators' endpoints (`/v1/cluster`, `/v1/health`,
 * `/v1/stats`, `/v1/events`). Without a configured admin key the command
 * stops before asking: the gateway would only answer 401.
 */
export async function adminClient(context: CliContext, command: string): Promise<Legim> {
  if (context.settings.apiKey === undefined) {
    throw new CliError(
      'NO_ADMIN_KEY',
      `legim ${command} needs the admin key: set it with "${cliName()} config set apiKey KEY" or LEGIM_API_KEY ("${cliName()} up" saves it for you)`,
    );
  }
  return context.client();
}
