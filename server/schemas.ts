/**
 * @file JSON schemas shared by several route families.
 */

/** `/:id` of an executable or a buffer. */
export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;
