import { Readable } from 'node:stream';
import type { Logger } from '@outbound/observability';
import busboy from 'busboy';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { MultipartMapError, parseMap, parseOperations, placeFile } from './multipart-map.ts';

/**
 * An uploaded file as resolvers see it (the `File` scalar): its bytes are a stream read straight off the request,
 * never buffered whole. A resolver reads it once.
 */
export interface Upload {
  name: string;
  type: string;
  stream(): AsyncIterable<Buffer>;
}

export interface UploadOptions {
  /** Largest file, in bytes; a larger upload fails its stream with a clear error. */
  maxFileBytes: number;
  logger: Logger;
}

class UploadError extends Error {}

/** Limits of the multipart form fields (`operations`, `map`): anything larger is refused, not read further. */
export const MAX_MULTIPART_FIELD_BYTES = 1024 * 1024;

/**
 * A refusal answered before the body was read to its end: `connection: close` makes Node end the socket after the
 * answer instead of keeping it alive with unread request bytes in it (the next request would wait behind them).
 */
function badRequest(message: string, status = 400): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
  });
}

/**
 * GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec) parsed as a stream.
 * Yoga's own parser collects every file in memory first; a million-row CSV must not be. The spec puts `operations`
 * and `map` before the files, so the operation can start executing as soon as the file part begins, and the
 * resolver pulls the file's bytes through busboy with backpressure while the client is still sending them.
 * One file per request (the API has no operation taking two).
 */
export function useStreamingUploads(limits: UploadOptions): Plugin {
  /** Requests whose body busboy is still reading, with their file stream. */
  const unfinished = new WeakMap<Request, Readable>();

  return {
    onRequestParse({ request, setRequestParser }) {
      if (!request.headers.get('content-type')?.startsWith('multipart/form-data')) return;
      setRequestParser(
        (req) =>
          new Promise<GraphQLParams | Response>((resolve) => {
            let operations: Record<string, unknown> | null = null;
            let map: Map<string, string[]> | null = null;
            let settled = false;
            const settle = (value: GraphQLParams | Response) => {
              if (!settled) {
                settled = true;
                resolve(value);
              }
            };
            let parser: busboy.Busboy;
            try {
              parser = busboy({
                headers: { 'content-type': req.headers.get('content-type') ?? '' },
                limits: {
                  files: 1,
                  fields: 2,
                  fieldSize: MAX_MULTIPART_FIELD_BYTES,
                  fileSize: limits.maxFileBytes,
                  parts: 3,
                  headerPairs: 20,
                },
              });
            } catch (err) {
              settle(badRequest(`malformed multipart request: ${(err as Error).message}`));
              return;
            }
            parser.on('field', (name, value, info) => {
              if (info.valueTruncated) {
                settle(
                  badRequest(
                    `the multipart field "${name.slice(0, 40)}" is larger than ${MAX_MULTIPART_FIELD_BYTES} bytes`,
                    413,
                  ),
                );
                parser.destroy();
                return;
              }
              try {
                if (name === 'operations') operations = parseOperations(value);
                else if (name === 'map') map = parseMap(value);
              } catch (err) {
                settle(
                  badRequest(
                    err instanceof MultipartMapError
                      ? err.message
                      : `the multipart field "${name.slice(0, 40)}" is not valid JSON`,
                  ),
                );
              }
            });
            parser.on('file', (name, file, info) => {
              // A cut body destroys the file stream with an error, whether a resolver reads it (it gets the error and
              // reports it) or it was refused here: this listener keeps that error from becoming an uncaught exception,
              // which would end the process.
              file.on('error', (err) =>
                limits.logger.debug({ err, file: info.filename }, 'upload stream failed'),
              );
              if (!operations || !map) {
                file.resume();
                settle(badRequest('multipart requests must send "operations" and "map" before the files'));
                return;
              }
              const paths = map.get(name);
              if (!paths?.length) {
                file.resume();
                settle(badRequest(`the file "${name.slice(0, 40)}" is not named in "map"`));
                return;
              }
              file.on('limit', () => {
                file.destroy(
                  new UploadError(`the file is larger than the upload limit of ${limits.maxFileBytes} bytes`),
                );
              });
              const upload: Upload = { name: info.filename ?? name, type: info.mimeType, stream: () => file };
              try {
                for (const path of paths) placeFile(operations, path, upload);
              } catch (err) {
                file.resume();
                settle(badRequest((err as Error).message));
                return;
              }
              unfinished.set(req, file);
              settle(operations as GraphQLParams);
            });
            parser.on('filesLimit', () => settle(badRequest('one file per request')));
            parser.on('fieldsLimit', () =>
              settle(badRequest('only "operations" and "map" may come before the file')),
            );
            parser.on('partsLimit', () =>
              settle(badRequest('a multipart request has three parts: operations, map, file')),
            );
            parser.on('error', (err: Error) =>
              settle(badRequest(`malformed multipart request: ${err.message}`)),
            );
            parser.on('close', () => {
              unfinished.delete(req);
              if (!operations) settle(badRequest('the multipart request has no "operations" field'));
              else settle(operations as GraphQLParams);
            });
            if (!req.body) {
              settle(badRequest('empty multipart request'));
              return;
            }
            Readable.from(req.body as unknown as AsyncIterable<Uint8Array>)
              .on('error', (err) => parser.destroy(err))
              .pipe(parser);
          }),
      );
    },
    // A resolver that refused its file before reading it all leaves request bytes unread on the socket: the answer
    // closes the connection (Node ends it after the response) instead of keeping it alive behind those bytes, which
    // would hold the client's next request until a timeout. What busboy already buffered is let go.
    onResponse({ request, response }) {
      const file = unfinished.get(request);
      if (!file) return;
      response.headers.set('connection', 'close');
      if (!file.destroyed) file.resume();
    },
  };
}
