import { CSRF_HEADER } from './client';

export interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string }[];
}

/**
 * Sends a file as a GraphQL multipart request (the file in `variables[fileVariable]`), reporting upload progress:
 * fetch cannot, XHR can. Streamed through the dashboard's /graphql proxy to the gateway.
 */
export function uploadFile<T>(
  query: string,
  variables: Record<string, unknown>,
  fileVariable: string,
  file: File,
  onProgress: (sent: number, total: number) => void,
): Promise<GraphQLAnswer<T>> {
  const body = new FormData();
  body.append('operations', JSON.stringify({ query, variables: { ...variables, [fileVariable]: null } }));
  body.append('map', JSON.stringify({ 0: [`variables.${fileVariable}`] }));
  body.append('0', file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader(CSRF_HEADER, '1');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () =>
      xhr.response && typeof xhr.response === 'object'
        ? resolve(xhr.response as GraphQLAnswer<T>)
        : reject(new Error(`the upload failed (HTTP ${xhr.status})`));
    xhr.onerror = () => reject(new Error('the upload failed: the dashboard could not be reached'));
    xhr.send(body);
  });
}
