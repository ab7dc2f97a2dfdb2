import { Readable } from 'node:stream';
import type { Logger } from '@outbound/observability';
import busboy from 'busboy';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

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

function badRequest(message: string, status = 400): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): boolean {
  const keys = path.split('.');
  let node: unknown = target;
  for (const key of keys.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node !== 'object') return false;
  (node as Record<string, unknown>)[keys[keys.length - 1] ?? ''] = value;
  return true;
}

/**
 * GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec) parsed as a stream.
 * Yoga's own parser collects every file in memory first; a million-row CSV must not be. The spec puts `operations`
 * and `map` before the files, so the operation can start executing as soon as the file part begins, and the
 * resolver pulls the file's bytes through busboy with backpressure while the client is still sending them.
 * One file per request (the API has no operation taking two).
 */
export function useStreamingUploads(limits: UploadOptions): Plugin {
  const pending = new WeakMap<Request, Readable[]>();

  return {
    onRequestParse({ request, setRequestParser }) {
      if (!request.headers.get('content-type')?.startsWith('multipart/form-data')) return;
      setRequestParser(
        (req) =>
          new Promise<GraphQLParams | Response>((resolve) => {
            let operations: GraphQLParams | null = null;
            let map: Record<string, string[]> | null = null;
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
                limits: { files: 1, fields: 2, fieldSize: 1024 * 1024, fileSize: limits.maxFileBytes },
              });
            } catch (err) {
              settle(badRequest(`malformed multipart request: ${(err as Error).message}`));
              return;
            }
            parser.on('field', (name, value) => {
              try {
                if (name === 'operations') operations = JSON.parse(value) as GraphQLParams;
                else if (name === 'map') map = JSON.parse(value) as Record<string, string[]>;
              } catch {
                settle(badRequest(`the multipart field "${name}" is not valid JSON`));
              }
            });
            parser.on('file', (name, file, info) => {
              if (!operations || !map) {
                file.resume();
                settle(badRequest('multipart requests must send "operations" and "map" before the files'));
                return;
              }
              const paths = map[name];
              if (!paths?.length) {
                file.resume();
                settle(badRequest(`the file "${name}" is not named in "map"`));
                return;
              }
              // The resolver reading the stream gets its error (and reports it); this listener keeps an error that
              // arrives after the reader let go from becoming an uncaught exception.
              file.on('error', (err) =>
                limits.logger.debug({ err, file: info.filename }, 'upload stream failed'),
              );
              file.on('limit', () => {
                file.destroy(
                  new UploadError(`the file is larger than the upload limit of ${limits.maxFileBytes} bytes`),
                );
              });
              const upload: Upload = { name: info.filename ?? name, type: info.mimeType, stream: () => file };
              for (const path of paths) {
                if (!setPath(operations as unknown as Record<string, unknown>, path, upload)) {
                  settle(badRequest(`"map" names a path that is not in the operation: ${path}`));
                  return;
                }
              }
              pending.set(req, [...(pending.get(req) ?? []), file]);
              settle(operations);
            });
            parser.on('filesLimit', () => settle(badRequest('one file per request')));
            parser.on('error', (err: Error) =>
              settle(badRequest(`malformed multipart request: ${err.message}`)),
            );
            parser.on('close', () => {
              if (!operations) settle(badRequest('the multipart request has no "operations" field'));
              else settle(operations);
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
    // A resolver that failed before reading its file leaves bytes unread; drain them so the request completes.
    onResponse({ request }) {
      for (const file of pending.get(request) ?? []) {
        if (!file.destroyed && !file.readableEnded) file.resume();
      }
    },
  };
}
