import type { ErrorRequestHandler } from 'express';
import type { z } from 'zod';
import type { Problem } from '../common/problem.ts';

type FieldError = { field: string; message: string };

/** Base of every error the API maps to a problem body; thrown by services, caught by `problemHandler`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

/** Bad input: 400 with the offending fields. */
export class InputError extends HttpError {
  constructor(message: string, errors?: FieldError[]) {
    super(400, 'Bad Request', message, errors);
  }
}
/** Unknown or not visible to the caller (404 where existence itself would leak). */
export class NotFoundError extends HttpError {
  constructor(message = 'not found') {
    super(404, 'Not Found', message);
  }
}
/** Missing or invalid credentials (bad API token, missing bound client certificate). */
export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, 'Unauthorized', message);
  }
}
/** Authenticated but not allowed. */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}
/** The object's state does not allow the action (already decided, finished, stale preview). */
export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, 'Conflict', message);
  }
}
/** Well-formed but refused by policy. */
export class PolicyDeniedError extends HttpError {
  constructor(message: string, errors?: FieldError[]) {
    super(422, 'Unprocessable Content', message, errors);
  }
}

/** How long a client should wait before retrying a request refused for a missing dependency. */
export const RETRY_AFTER_SECONDS = 5;

/** 503 naming the dependency that is down or too slow (MongoDB, Redis, Temporal, the identity provider). */
export class DependencyUnavailableError extends HttpError {
  constructor(readonly dependency: string) {
    super(503, 'Service Unavailable', `${dependency} is unavailable; retry later`);
  }
}

/** A field path as clients name it: `quota.cpu`, `permissions[3]`, `bindings[0].scope.vdcId`. */
export function fieldPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '');
}

/** zod issues → field errors, e.g. `quota.cpu`, `quota.gpu` (unrecognized key), `vdcId`, `permissions[3]`. */
export function fromZod(err: z.ZodError, prefix = ''): InputError {
  const errors: FieldError[] = [];
  for (const issue of err.issues) {
    const base = fieldPath([prefix, ...issue.path].filter((s) => s !== ''));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) errors.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
    } else {
      errors.push({ field: base || '(body)', message: issue.message });
    }
  }
  return new InputError(`invalid request: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
}

/** Parses with a zod schema, throwing an InputError naming the fields. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, prefix = ''): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, prefix);
  return r.data;
}

export function sendProblem(res: Parameters<ErrorRequestHandler>[2], p: Problem): void {
  res.status(p.status).type('application/problem+json').json(p);
}

/**
 * The one error middleware: typed errors → problem bodies; an error `dependencyOf` attributes to an unreachable
 * dependency → 503 naming it with `Retry-After`; anything else → 500 without internals.
 */
export function problemHandler(
  log: (msg: string, err: unknown) => void,
  dependencyOf: (err: unknown) => string | undefined = () => undefined,
): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    const dependency = err instanceof DependencyUnavailableError ? err.dependency : dependencyOf(err);
    if (dependency) {
      if (!(err instanceof DependencyUnavailableError)) log(`${dependency} unavailable`, err);
      res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return sendProblem(res, {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: `${dependency} is unavailable; retry later`,
        dependency,
      });
    }
    if (err instanceof HttpError) {
      return sendProblem(res, {
        type: 'about:blank',
        title: err.title,
        status: err.status,
        detail: err.message,
        ...(err.errors ? { errors: err.errors } : {}),
      });
    }
    const e = err as { type?: string; status?: number; statusCode?: number };
    if (e.type === 'entity.parse.failed') {
      return sendProblem(res, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'request body is not valid JSON',
        errors: [{ field: '(body)', message: 'malformed JSON' }],
      });
    }
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendProblem(res, { type: 'about:blank', title: 'Bad Request', status, detail: (err as Error).message });
    }
    log('unhandled error', err);
    sendProblem(res, { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'internal error' });
  };
}
