import { FaultProxy } from './fault-proxy.js';

const DEFAULT_PORTS: Record<string, number> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'amqp:': 5672,
  'http:': 80,
};

/**
 * Puts a fault proxy in front of a service URL and returns the same URL (credentials, path and
 * query kept) pointing through it, so a test can cut, stall or reset that one connection.
 */
export async function proxyInFrontOf(serviceUrl: string): Promise<{ proxy: FaultProxy; url: string }> {
  const target = new URL(serviceUrl);
  const proxy = await FaultProxy.start({
    targetHost: target.hostname,
    targetPort: Number(target.port || DEFAULT_PORTS[target.protocol]),
  });
  const through = new URL(serviceUrl);
  through.host = proxy.url;
  return { proxy, url: through.toString() };
}
