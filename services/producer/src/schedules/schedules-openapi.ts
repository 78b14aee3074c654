import {
  CreateScheduleRequest,
  ErrorBody,
  ScheduleDetail,
  ScheduleListQuery,
  SchedulePage,
} from '@conveyor/contracts';
import { z } from 'zod';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'openapi-3.0', unrepresentable: 'any', io: 'input' });
const json = (s: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(s) } },
});
const error = (description: string) => json(ErrorBody, description);
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const listParams = Object.entries(schema(ScheduleListQuery).properties ?? {}).map(([name, property]) => ({
  name,
  in: 'query',
  required: false,
  schema: property,
}));

/** The recurring-jobs routes of /openapi.json, from the schemas that validate them. */
export function schedulePaths(): Record<string, unknown> {
  return {
    '/v1/schedules': {
      post: {
        summary: 'Create a recurring job: a job of `kind` with `input` at each tick of `cron` in `timezone`',
        description:
          'Each tick makes one job (customId `schedule:<id>:<tick>`), whatever the number of schedulers. ' +
          '`overlap: skip` makes none while the previous job is unfinished; `catchUp: latest` runs the most ' +
          'recent tick missed while no scheduler ran, `none` drops missed ticks.',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schema(CreateScheduleRequest) } },
        },
        responses: {
          201: json(ScheduleDetail, 'Created; `Location` points at it'),
          200: json(ScheduleDetail, 'The existing schedule with this customId and the same request'),
          400: error('Invalid request; `details` names each bad field'),
          409: error('customId already used with a different request'),
          422: error('Invalid cron or time zone (the parser’s message), or an unknown kind or invalid input'),
        },
      },
      get: {
        summary: "List the client's schedules, newest first",
        parameters: listParams,
        responses: { 200: json(SchedulePage, 'A page and the cursor of the next') },
      },
    },
    '/v1/schedules/{id}': {
      get: {
        summary: 'A schedule and its next run times',
        parameters: [idParam],
        responses: { 200: json(ScheduleDetail, 'The schedule'), 404: error('No such schedule') },
      },
      delete: {
        summary: 'Delete a schedule (the jobs it made stay)',
        parameters: [idParam],
        responses: { 204: { description: 'Deleted' }, 404: error('No such schedule') },
      },
    },
    '/v1/schedules/{id}/pause': {
      post: {
        summary: 'Pause: no ticks until resumed',
        parameters: [idParam],
        responses: { 200: json(ScheduleDetail, 'Paused'), 404: error('No such schedule') },
      },
    },
    '/v1/schedules/{id}/resume': {
      post: {
        summary: 'Resume from the next tick after now (ticks during the pause are not caught up)',
        parameters: [idParam],
        responses: { 200: json(ScheduleDetail, 'Resumed'), 404: error('No such schedule') },
      },
    },
  };
}
