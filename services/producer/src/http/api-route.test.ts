import { once } from 'node:events';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { errorHandler, silentLogger } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { apiRegistry } from './api-registry.js';
import { defineRoute } from './api-route.js';

const Thing = z.object({ name: z.string().min(1), size: z.int().positive() }).meta({ id: 'Thing' });

describe('defineRoute', () => {
  const registry = apiRegistry();
  const router = express.Router();
  const seen: unknown[] = [];
  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/things/{group}',
      operationId: 'createThing',
      summary: 'Create a thing',
      tags: ['jobs'],
      access: 'operator',
      params: z.object({ group: z.string() }),
      query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
      body: Thing,
      responses: { 201: { description: 'Created' } },
      errors: { 409: '`exists`: a thing of that name is there already' },
    },
    (input, _req, res) => {
      seen.push(input);
      res.status(201).end();
    },
  );
  const app = express().use(express.json()).use(router).use(errorHandler(silentLogger()));
  let server: ReturnType<typeof app.listen>;
  let url = '';
  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening on a port');
    url = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

  it('hands the handler the declared parts, parsed by their schemas', async () => {
    const response = await post('/things/red?dryRun=true', JSON.stringify({ name: 'a', size: 2 }));
    expect(response.status).toBe(201);
    expect(seen.at(-1)).toEqual({
      params: { group: 'red' },
      query: { dryRun: 'true' },
      body: { name: 'a', size: 2 },
    });
  });

  it('refuses what breaks a schema with 400 naming each field, and a non-JSON body with 415', async () => {
    const bad = await post('/things/red?dryRun=maybe', JSON.stringify({ name: '', size: 'big' }));
    expect(bad.status).toBe(400);
    const body = z.object({ error: z.object({ code: z.string() }) }).parse(await bad.json());
    expect(body.error.code).toBe('validation_failed');
    const named = await post('/things/red', JSON.stringify({ name: '', size: 'big' }));
    const details = z
      .object({ error: z.object({ details: z.array(z.object({ path: z.string() })) }) })
      .parse(await named.json()).error.details;
    expect(details.map((d) => d.path)).toEqual(['body.name', 'body.size']);
    expect((await post('/things/red', 'name=a', 'text/plain')).status).toBe(415);
  });

  it('documents the route with the same schemas, the errors its spec implies, and its role', () => {
    const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
    });
    const operation = document.paths?.['/things/{group}']?.post;
    expect(operation?.operationId).toBe('createThing');
    expect(operation?.['x-required-role']).toBe('operator');
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(
      ['201', '400', '401', '403', '409', '413', '415', '500', '503'].sort(),
    );
    expect(operation?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
    });
    expect(operation?.parameters?.map((p) => ('name' in p ? `${p.in} ${p.name}` : p.$ref))).toEqual([
      'path group',
      'query dryRun',
    ]);
  });

  it('refuses a path parameter without a schema when the route is declared', () => {
    expect(() =>
      defineRoute(
        express.Router(),
        registry,
        {
          method: 'get',
          path: '/things/{id}',
          operationId: 'getThing',
          summary: 'A thing',
          tags: ['jobs'],
          access: 'key',
          responses: { 200: { description: 'The thing' } },
        },
        () => undefined,
      ),
    ).toThrow('route getThing: path parameter {id} has no schema in params');
  });
});
