import type { Router } from 'express';

/** A route an express app answers: its method (lowercase) and its path in express's syntax. */
export interface ServedRoute {
  method: string;
  path: string;
}

function isRouter(handle: unknown): handle is Router {
  return typeof handle === 'function' && 'stack' in handle && Array.isArray(handle.stack);
}

/**
 * Every route mounted on `router` and the routers inside it (all of ours are mounted without a
 * path prefix), read from express's own stack, so nothing can be served without being listed.
 * A route for every method (`router.all`) is listed with the method `all`.
 */
export function servedRoutes(router: Router): ServedRoute[] {
  return router.stack.flatMap((layer): ServedRoute[] => {
    if (layer.route) {
      const declared: unknown = layer.route.path;
      const paths = Array.isArray(declared) ? declared.map(String) : [String(declared)];
      const methods = new Set(layer.route.stack.map((handler) => handler.method ?? 'all'));
      return paths.flatMap((path) => [...methods].map((method) => ({ method, path })));
    }
    return isRouter(layer.handle) ? servedRoutes(layer.handle) : [];
  });
}
