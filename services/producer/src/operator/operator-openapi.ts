import {
  DeadLetterDetail,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterSelection,
  ErrorBody,
  Job,
  JobHistory,
  Overview,
  PauseState,
  PurgeResult,
  QueueList,
  RedriveResult,
  Timeseries,
  TimeseriesQuery,
  WorkerList,
} from '@conveyor/contracts';
import { z } from 'zod';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'openapi-3.0', unrepresentable: 'any', io: 'input' });
const json = (s: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(s) } },
});
const error = (description: string) => json(ErrorBody, description);
const body = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(s) } } });
const queryParams = (s: z.ZodObject) =>
  Object.entries(schema(s).properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    schema: property,
  }));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const kindParam = {
  name: 'kind',
  in: 'path',
  required: true,
  description: '`object-check` or a job kind',
  schema: { type: 'string' },
};
const tags = ['operator'];
const refusals = {
  401: error('No API key (with authentication on)'),
  403: error('`operator_only`: a client key; this route needs an operator key'),
};
const sse = (description: string) => ({
  description,
  content: { 'text/event-stream': { schema: { type: 'string' } } },
});

/** The operator API's paths, in the style of openApiDocument's, tagged `operator`. */
export function operatorPaths(): Record<string, unknown> {
  return {
    '/v1/jobs/{id}/events': {
      get: {
        tags,
        summary: "A job's history: status changes, progress and webhook delivery attempts, oldest first",
        parameters: [idParam],
        responses: { 200: json(JobHistory, 'The history'), 404: error('No such job (or not yours)') },
      },
    },
    '/v1/jobs/{id}/retry': {
      post: {
        tags,
        summary: 'A new attempt of a failed or cancelled job, same id',
        parameters: [idParam],
        responses: {
          202: json(Job, 'Queued again; its work message is durable'),
          404: error('No such job (or not yours)'),
          409: error('`job_not_retryable`: the job is neither failed nor cancelled'),
        },
      },
    },
    '/v1/jobs/{id}/live': {
      get: {
        tags,
        summary: 'Server-Sent Events: `job` at once and on every change, `history` entries; ends when final',
        parameters: [idParam],
        responses: { 200: sse('The stream'), 404: error('No such job (or not yours)') },
      },
    },
    '/v1/live': {
      get: {
        tags,
        summary: 'Server-Sent Events: `overview` every 2 s, `job` on changes, `resync` when too many',
        responses: { 200: sse('The stream'), ...refusals },
      },
    },
    '/v1/dead-letters': {
      get: {
        tags,
        summary: 'Dead letters, newest first',
        parameters: queryParams(DeadLetterListQuery),
        responses: {
          200: json(DeadLetterPage, 'A page, the next cursor and the total'),
          400: error('Bad query'),
          ...refusals,
        },
      },
    },
    '/v1/dead-letters/{id}': {
      get: {
        tags,
        summary: 'A dead letter with its body and headers',
        parameters: [idParam],
        responses: {
          200: json(DeadLetterDetail, 'The dead letter'),
          404: error('No such dead letter'),
          ...refusals,
        },
      },
    },
    '/v1/dead-letters/{id}/redrive': {
      post: {
        tags,
        summary: 'Put the message back on its work queue (durably, through the outbox)',
        parameters: [idParam],
        responses: { 200: json(RedriveResult, 'Redriven'), 404: error('No such dead letter'), ...refusals },
      },
    },
    '/v1/dead-letters/redrive': {
      post: {
        tags,
        summary: 'Redrive the selected dead letters (ids, a kind, or all)',
        requestBody: body(DeadLetterSelection),
        responses: { 200: json(RedriveResult, 'How many'), 400: error('Bad selection'), ...refusals },
      },
    },
    '/v1/dead-letters/purge': {
      post: {
        tags,
        summary: 'Delete the selected dead letters (ids, a kind, or all)',
        requestBody: body(DeadLetterSelection),
        responses: { 200: json(PurgeResult, 'How many'), 400: error('Bad selection'), ...refusals },
      },
    },
    '/v1/queues': {
      get: {
        tags,
        summary: "Every queue of the topology: depth, consumers, rates (with RabbitMQ's management API)",
        responses: { 200: json(QueueList, 'The queues'), ...refusals },
      },
    },
    '/v1/queues/{kind}/pause': {
      post: {
        tags,
        summary: 'Worker hosts stop consuming this kind (work under way finishes)',
        parameters: [kindParam],
        responses: {
          200: json(PauseState, 'Paused'),
          404: error('`unknown_kind`, with the known kinds'),
          ...refusals,
        },
      },
    },
    '/v1/queues/{kind}/resume': {
      post: {
        tags,
        summary: 'Worker hosts consume this kind again',
        parameters: [kindParam],
        responses: {
          200: json(PauseState, 'Resumed'),
          404: error('`unknown_kind`, with the known kinds'),
          ...refusals,
        },
      },
    },
    '/v1/workers': {
      get: {
        tags,
        summary: 'Worker hosts and whether they are alive',
        responses: { 200: json(WorkerList, 'The hosts'), ...refusals },
      },
    },
    '/v1/overview': {
      get: {
        tags,
        summary: "Every client's job counts and the backlogs",
        responses: { 200: json(Overview, 'The overview'), ...refusals },
      },
    },
    '/v1/overview/timeseries': {
      get: {
        tags,
        summary: 'Per minute: submitted, succeeded, failed, queue wait and run time percentiles',
        parameters: queryParams(TimeseriesQuery),
        responses: {
          200: json(Timeseries, 'Every minute, oldest first'),
          400: error('Bad query'),
          ...refusals,
        },
      },
    },
  };
}
