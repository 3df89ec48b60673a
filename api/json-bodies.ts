import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

/**
 * `/api` takes JSON bodies only: a body of any other media type (YAML, a form, XML) is a 415 problem
 * rather than being skipped by the JSON parser and read as "no body" by a route whose body is optional.
 */
export const jsonBodiesOnly: RequestHandler = (req, _res, next) => {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasBody = req.headers['transfer-encoding'] !== undefined || length > 0;
  if (hasBody && !req.is('application/json')) {
    throw new HttpError(415, 'Unsupported Media Type', 'request body must be application/json', [{ field: '(body)', message: 'must be application/json' }]);
  }
  next();
};
