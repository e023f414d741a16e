/**
 * @file Resident buffers: POST /buffers (upload, optionally under a client-chosen handle),
 * GET /buffers (list), GET /buffers/:id (download), DELETE /buffers/:id.
 */
import type { FastifyInstance } from 'fastify';
import { decodeTensor, encodeTensor } from '../../runtime/wire.js';
import { storageSize } from '../../compiler/program.js';
import { msgpack, MSGPACK } from '../app.js';
import { HttpError } from '../errors.js';

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;

export async function bufferRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { id?: string; dtype: string; shape: number[]; data: Uint8Array } }>('/buffers', {
    schema: {
      body: {
        type: 'object',
        required: ['dtype', 'shape', 'data'],
        properties: { id: { type: 'string' }, dtype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
      },
    },
  }, async (req, reply) => {
    if (!req.headers['content-type']?.includes('msgpack')) {
      throw new HttpError('KILN_ERR_UNSUPPORTED_MEDIA', `POST /buffers takes a msgpack tensor (Content-Type: ${MSGPACK})`);
    }
    const { device, buffers, limits } = app.kiln;
    const body = req.body;
    if (body.data instanceof Uint8Array && body.data.byteLength > limits.tensorBytes) {
      throw new HttpError('KILN_ERR_TOO_LARGE', `tensor of ${body.data.byteLength} bytes passes the limit of ${limits.tensorBytes}`);
    }
    const t = decodeTensor(body, 'body');
    if (body.id !== undefined) buffers.checkHandle(body.id);
    const type = { dtype: t.dtype, shape: t.shape };
    buffers.checkRoom(storageSize(type));
    const b = buffers.put(device.upload(t), storageSize(type), body.id);
    return reply.type(MSGPACK).send(msgpack({ buffer: b.id, dtype: t.dtype, shape: t.shape }));
  });

  app.get('/buffers', async () =>
    app.kiln.buffers.list().map((b) => ({ buffer: b.id, dtype: b.array.type.dtype, shape: b.array.type.shape, bytes: b.bytes, createdAt: b.createdAt })));

  app.get<{ Params: { id: string } }>('/buffers/:id', { schema: { params: idParams } }, async (req, reply) => {
    const b = app.kiln.buffers.get(req.params.id);
    const t = await app.kiln.device.read(b.array);
    return reply.type(MSGPACK).send(msgpack(encodeTensor(t)));
  });

  app.delete<{ Params: { id: string } }>('/buffers/:id', { schema: { params: idParams } }, async (req) => {
    if (!app.kiln.buffers.delete(req.params.id)) throw new HttpError('KILN_ERR_NOT_FOUND', `no buffer '${req.params.id}'`);
    return { deleted: req.params.id };
  });
}
