import { createHash } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  CreateScheduleRequest,
  nulCharacterPath,
  ScheduleDetail,
  ScheduleListQuery,
  SchedulePage,
} from '@conveyor/contracts';
import {
  nextTicks,
  parseCron,
  toApiSchedule,
  type CronTicks,
  type ScheduleRecord,
  type ScheduleStore,
} from '@conveyor/jobs';
import { AppError } from '@conveyor/platform';
import express, { type Response } from 'express';
import { z } from 'zod';
import { clientIdOf } from '../auth/auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { validateCallbackUrl } from '../jobs/callback-url.js';
import { normalizeJobInput, requestHash, type JobInputLimits, type KindLookup } from '../jobs/job-request.js';
import { cursorId, keysetPage, LIST_QUERY_ERRORS } from '../http/keyset-page.js';

export interface ScheduleRoutesDeps {
  schedules: ScheduleStore;
  limits: JobInputLimits;
  kinds: KindLookup;
}

/** Run times shown by GET /v1/schedules/{id}. */
const NEXT_RUN_TIMES = 5;

const ScheduleId = z.uuid();

function notFound(id: string): AppError {
  return new AppError('not_found', `no schedule ${id}`, { status: 404 });
}

/** The cron read in its time zone; a 422 naming the field at fault, with the cron parser's message. */
function cronTicksOrThrow(cron: string, timezone: string): CronTicks {
  const parsed = parseCron(cron, timezone);
  if (parsed.ok && parsed.ticks.after(new Date()) === null) {
    const message = 'names no time from now on (a date that never comes, such as 30 February)';
    throw new AppError('invalid_cron', `body.cron ${message}`, {
      status: 422,
      details: [{ path: 'body.cron', message }],
    });
  }
  if (parsed.ok) return parsed.ticks;
  const path = `body.${parsed.field}`;
  throw new AppError(
    parsed.field === 'cron' ? 'invalid_cron' : 'invalid_timezone',
    `${path}: ${parsed.message}`,
    {
      status: 422,
      details: [{ path, message: parsed.message }],
    },
  );
}

/** The schedule's ticks as stored (checked when it was created). */
function ticksOf(schedule: ScheduleRecord): CronTicks {
  const parsed = parseCron(schedule.cron, schedule.timezone);
  if (!parsed.ok)
    throw new AppError('invalid_cron', `schedule ${schedule.id}: ${parsed.message}`, { status: 500 });
  return parsed.ticks;
}

function detail(schedule: ScheduleRecord): ScheduleDetail {
  const nextRunTimes =
    schedule.paused || schedule.nextRunAt === null
      ? []
      : [schedule.nextRunAt, ...nextTicks(ticksOf(schedule), schedule.nextRunAt, NEXT_RUN_TIMES - 1)];
  return { ...toApiSchedule(schedule), nextRunTimes: nextRunTimes.map((at) => at.toISOString()) };
}

/** A schedule of the requesting client, or a 404 (another client's schedule is not found either). */
async function ownSchedule(
  deps: ScheduleRoutesDeps,
  res: Response,
  id: string,
  change: (id: string, clientId: string) => Promise<ScheduleRecord | undefined>,
): Promise<ScheduleRecord> {
  const schedule = ScheduleId.safeParse(id).success ? await change(id, clientIdOf(res)) : undefined;
  if (!schedule) throw notFound(id);
  return schedule;
}

/**
 * Recurring jobs: create, list, read (with the next run times), pause, resume, delete. The
 * ticks are made by the scheduler routine in the cleanup (services/cleanup/src/scheduling).
 */
export function schedulesRouter(deps: ScheduleRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/schedules',
      operationId: 'createSchedule',
      summary: 'Create a recurring job: a job of `kind` with `input` at each tick of `cron` in `timezone`',
      description:
        'Each tick makes one job (customId `schedule:<id>:<tick>`), whatever the number of schedulers. ' +
        '`overlap: skip` makes none while the previous job is unfinished; `catchUp: latest` runs the most ' +
        'recent tick missed while no scheduler ran, `none` drops missed ticks.',
      tags: ['schedules'],
      access: 'key',
      body: CreateScheduleRequest,
      responses: {
        201: { ...jsonResponse(ScheduleDetail, 'Created'), headers: SCHEDULE_LOCATION },
        200: jsonResponse(ScheduleDetail, 'The existing schedule with this customId and the same request'),
      },
      errors: {
        400:
          '`validation_failed`, `invalid_json`, `invalid_number`, `invalid_characters`, `invalid_callback_url` ' +
          'or `use_image_upload` (image-resize jobs cannot be scheduled); `details` names each field',
        409: '`custom_id_conflict`: customId already used with a different request',
        422:
          "`invalid_cron` or `invalid_timezone` (the parser's message), `unknown_kind`, or `invalid_input` " +
          "(the input breaks the kind's schema)",
      },
    },
    async ({ body: request }, _req, res) => {
      if (request.kind === 'image-resize') {
        throw new AppError(
          'use_image_upload',
          'image-resize jobs are created by uploading an image; they cannot be scheduled',
          {
            status: 400,
            details: [{ path: 'body.kind', message: 'image-resize jobs cannot be scheduled' }],
          },
        );
      }
      const ticks = cronTicksOrThrow(request.cron, request.timezone);
      // Checked as a submit would check it, once: every tick's job gets this input.
      const input = await normalizeJobInput(request.kind, request.input, deps.limits, deps.kinds);
      const nulAt = nulCharacterPath(input);
      if (nulAt !== undefined) {
        const path = nulAt === '' ? 'body.input' : `body.input.${nulAt}`;
        throw new AppError(
          'invalid_characters',
          `${path} contains a NUL character (\\u0000), which cannot be stored`,
          {
            status: 400,
            details: [{ path, message: 'must not contain NUL characters' }],
          },
        );
      }
      const callbackUrl = request.callbackUrl === undefined ? null : validateCallbackUrl(request.callbackUrl);
      const jobRequestHash = requestHash(request.kind, input, callbackUrl);
      const hash = createHash('sha256')
        .update(
          JSON.stringify([request.cron, request.timezone, request.overlap, request.catchUp, jobRequestHash]),
        )
        .digest('base64url');
      const customId = request.customId ?? null;
      const { schedule, created } = await deps.schedules.create(
        {
          clientId: clientIdOf(res),
          customId,
          requestHash: hash,
          cron: request.cron,
          timezone: request.timezone,
          kind: request.kind,
          input,
          callbackUrl,
          jobRequestHash,
          overlap: request.overlap,
          catchUp: request.catchUp,
        },
        ticks,
      );
      if (!created && schedule.requestHash !== hash) {
        throw new AppError(
          'custom_id_conflict',
          `customId "${customId}" is already used by schedule ${schedule.id} with a different request`,
          { status: 409 },
        );
      }
      if (created) res.setHeader('Location', `/v1/schedules/${schedule.id}`);
      res.status(created ? 201 : 200).json(detail(schedule));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/schedules',
      operationId: 'listSchedules',
      summary: "List the client's schedules, newest first",
      tags: ['schedules'],
      access: 'key',
      query: ScheduleListQuery,
      responses: { 200: jsonResponse(SchedulePage, 'A page and the cursor of the next') },
      errors: { 400: LIST_QUERY_ERRORS },
    },
    async ({ query }, _req, res) => {
      const schedules = await deps.schedules.list(clientIdOf(res), {
        after: cursorId(query.cursor),
        limit: query.limit + 1,
      });
      const { page, nextCursor } = keysetPage(schedules, query.limit);
      const body: SchedulePage = { schedules: page.map(toApiSchedule), nextCursor };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/schedules/{id}',
      operationId: 'getSchedule',
      summary: 'A schedule and its next run times',
      tags: ['schedules'],
      access: 'key',
      params: ScheduleIdParams,
      responses: { 200: jsonResponse(ScheduleDetail, 'The schedule') },
      errors: { 404: NO_SUCH_SCHEDULE },
    },
    async ({ params }, _req, res) => {
      const schedule = await ownSchedule(deps, res, params.id, (id, clientId) =>
        deps.schedules.get(id, clientId),
      );
      res.json(detail(schedule));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/schedules/{id}/pause',
      operationId: 'pauseSchedule',
      summary: 'Pause: no ticks until resumed',
      tags: ['schedules'],
      access: 'key',
      params: ScheduleIdParams,
      responses: { 200: jsonResponse(ScheduleDetail, 'Paused') },
      errors: { 404: NO_SUCH_SCHEDULE },
    },
    async ({ params }, _req, res) => {
      const schedule = await ownSchedule(deps, res, params.id, (id, clientId) =>
        deps.schedules.pause(id, clientId),
      );
      res.json(detail(schedule));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/schedules/{id}/resume',
      operationId: 'resumeSchedule',
      summary: 'Resume from the next tick after now (ticks during the pause are not caught up)',
      tags: ['schedules'],
      access: 'key',
      params: ScheduleIdParams,
      responses: { 200: jsonResponse(ScheduleDetail, 'Resumed') },
      errors: { 404: NO_SUCH_SCHEDULE },
    },
    async ({ params }, _req, res) => {
      const schedule = await ownSchedule(deps, res, params.id, async (id, clientId) => {
        const current = await deps.schedules.get(id, clientId);
        return current && deps.schedules.resume(id, clientId, ticksOf(current));
      });
      res.json(detail(schedule));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'delete',
      path: '/v1/schedules/{id}',
      operationId: 'deleteSchedule',
      summary: 'Delete a schedule (the jobs it made stay)',
      tags: ['schedules'],
      access: 'key',
      params: ScheduleIdParams,
      responses: { 204: { description: 'Deleted' } },
      errors: { 404: NO_SUCH_SCHEDULE },
    },
    async ({ params: { id } }, _req, res) => {
      const deleted = ScheduleId.safeParse(id).success && (await deps.schedules.delete(id, clientIdOf(res)));
      if (!deleted) throw notFound(id);
      res.status(204).end();
    },
  );

  return router;
}

const ScheduleIdParams = z.object({
  id: z.string().meta({ description: "The schedule's id (a UUID; any other value is a 404)" }),
});
const SCHEDULE_LOCATION = z.object({
  Location: z.string().meta({ description: 'Where the schedule is: `/v1/schedules/{id}`' }),
});
const NO_SUCH_SCHEDULE = '`not_found`: no such schedule (or not yours)';
