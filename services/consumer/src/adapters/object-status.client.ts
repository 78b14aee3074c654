import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { AppError, PermanentError } from '@conveyor/platform';

export const ObjectStatus = z.object({ id: z.number().int().nonnegative(), online: z.boolean() });
export type ObjectStatus = z.infer<typeof ObjectStatus>;

export interface ObjectStatusClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Sockets kept open to the upstream: one per check in flight, reused with keep-alive. */
  maxSockets: number;
}

/** `GET {baseUrl}/objects/:id` over a keep-alive pool. Transient failures throw AppError, a 4xx PermanentError. */
export class ObjectStatusClient {
  private readonly http: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(options: ObjectStatusClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' as const };
    this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      // Parse ourselves so a malformed body is our error with our code, not axios's.
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  async fetchStatus(objectId: number, signal?: AbortSignal): Promise<ObjectStatus> {
    let response;
    try {
      response = await this.http.get<string>(`/objects/${objectId}`, { signal });
    } catch (error) {
      throw new AppError('upstream_unreachable', `object-status API did not answer for object ${objectId}`, { cause: error });
    }
    if (response.status === 404) throw new PermanentError('object_not_found', `object-status API knows no object ${objectId}`);
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw new PermanentError('upstream_rejected', `object-status API answered ${response.status} for object ${objectId}`);
    }
    if (response.status !== 200) throw new AppError('upstream_failed', `object-status API answered ${response.status} for object ${objectId}`);
    let parsed: ObjectStatus;
    try {
      parsed = ObjectStatus.parse(JSON.parse(response.data));
    } catch {
      throw new AppError('upstream_bad_response', `object-status API sent an unreadable body for object ${objectId}`);
    }
    if (parsed.id !== objectId) throw new AppError('upstream_bad_response', `object-status API answered for object ${parsed.id} instead of ${objectId}`);
    return parsed;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
