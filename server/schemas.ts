/**
 * @file JSON schemas of request bodies and paths, and the content-type check of msgpack routes.
 */
import { HttpError, MAX_ID_LENGTH } from './errors.js';

/** `/:id` of an executable or a buffer. */
export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } },
  required: ['id'],
} as const;

/** `/:name` of a model. */
export const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } },
  required: ['name'],
} as const;

/** Refuses a body that is not msgpack (415), naming the route. */
export function msgpackOnly(contentType: string | undefined, route: string): void {
  if (!contentType?.includes('msgpack')) {
    throw new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', `${route} takes a msgpack body (Content-Type: application/msgpack)`);
  }
}

/** What a run's inputs may be: at most 4,096 tensors or `{buffer}` handles. */
export const inputsSchema = { type: 'array', maxItems: 4096 } as const;
export const keepSchema = { type: 'array', maxItems: 4096, items: { type: 'boolean' } } as const;
export const handlesSchema = { type: 'array', maxItems: 4096, items: { type: ['string', 'null'] } } as const;
export const profileSchema = { type: 'boolean' } as const;

/** `POST /models`: a name, the module, and its weights (server/register.ts `ModelBody`). */
export const modelSchema = {
  type: 'object',
  required: ['name', 'ir'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    ir: { type: 'string' },
    weights: {},
    bind: {
      type: 'array',
      maxItems: 4096,
      items: {
        type: 'object',
        required: ['arg'],
        additionalProperties: false,
        properties: { arg: { type: 'integer' }, tensor: { type: 'string', maxLength: 1024 }, buffer: { type: 'string', maxLength: MAX_ID_LENGTH } },
      },
    },
  },
} as const;

/** `POST /models/:name/infer`: the inputs no weight binds, as a call's. */
export const inferSchema = {
  type: 'object',
  required: ['inputs'],
  additionalProperties: false,
  properties: { inputs: inputsSchema, keep: keepSchema, handles: handlesSchema, profile: profileSchema },
} as const;
