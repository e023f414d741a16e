/**
 * @file JSON schemas shared by several route families.
 */
import { MAX_ID_LENGTH } from './errors.js';

/** `/:id` of an executable or a buffer. */
export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } },
  required: ['id'],
} as const;
