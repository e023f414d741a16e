/**
 * @file Resident buffers: POST /buffers (upload, optionally under a client-chosen handle),
 * GET /buffers (list), GET /buffers/:id (download), DELETE /buffers/:id.
 */
import type { FastifyInstance } from 'fastify';
import { encodeTensor } from '../../runtime/wire.js';
import { msgpack, MSGPACK, stateFor } from '../context.js';
import { uploadBuffer, uploadSchema, type UploadBody } from '../calls.js';
import { idParams } from '../schemas.js';
import { HttpError } from '../errors.js';

/** Room in an upload's body for its msgpack framing, dtype, shape and handle beside the tensor bytes. */
const UPLOAD_SLACK_BYTES = 4096;

export async function bufferRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: UploadBody }>('/buffers', { bodyLimit: app.kiln.limits.tensorBytes + UPLOAD_SLACK_BYTES, schema: { body: uploadSchema } }, async (req, reply) => {
    if (!req.headers['content-type']?.includes('msgpack')) {
      throw new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', `POST /buffers takes a msgpack tensor (Content-Type: ${MSGPACK})`);
    }
    const b = uploadBuffer(stateFor(app, req), req.body, 'body');
    return reply.type(MSGPACK).send(msgpack({ buffer: b.id, dtype: b.array.type.dtype, shape: b.array.type.shape }));
  });

  app.get('/buffers', async (req) =>
    stateFor(app, req).buffers.list().map((b) => ({ buffer: b.id, dtype: b.array.type.dtype, shape: b.array.type.shape, bytes: b.bytes, createdAt: b.createdAt })));

  app.get<{ Params: { id: string } }>('/buffers/:id', { schema: { params: idParams } }, async (req, reply) => {
    const b = stateFor(app, req).buffers.get(req.params.id);
    const t = await app.kiln.device.read(b.array);
    return reply.type(MSGPACK).send(msgpack(encodeTensor(t)));
  });

  app.delete<{ Params: { id: string } }>('/buffers/:id', { schema: { params: idParams } }, async (req) => {
    if (!stateFor(app, req).buffers.delete(req.params.id)) throw new HttpError('KILN_ERR_NOT_FOUND', `no buffer '${req.params.id}'`);
    return { deleted: req.params.id };
  });
}
