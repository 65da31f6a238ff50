// GraphQL over HTTP: JSON requests with fetch, and file uploads per the GraphQL multipart request spec.

export const ENDPOINT = '/graphql';

// An error the API answered with; `code` is its extensions.code (UNAUTHENTICATED, BAD_USER_INPUT, ...).
export class ApiError extends Error {
  constructor(message, code, details = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
}

// The server could not be reached at all.
export class NetworkError extends Error {
  constructor() {
    super('Cannot reach the server');
    this.name = 'NetworkError';
  }
}

function headers(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// The data of a GraphQL answer, or the ApiError of its first error.
function unwrap(status, body) {
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const [first] = body.errors;
    return { error: new ApiError(first.message, first.extensions?.code ?? 'INTERNAL', body.errors) };
  }
  if (status !== 200 || !body || !body.data) {
    return { error: new ApiError(`The server answered with an error (HTTP ${status}).`, 'INTERNAL') };
  }
  return { data: body.data };
}

export async function graphql(query, variables = {}, token = null) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers(token) },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new NetworkError();
  }
  const body = await response.json().catch(() => null);
  const { data, error } = unwrap(response.status, body);
  if (error) throw error;
  return data;
}

// `files` maps a variable path ("file", or "files.0") to a File. onProgress(loadedBytes, totalBytes)
// follows the request body going out: XMLHttpRequest, because fetch cannot report upload progress.
export function upload(query, variables, files, token = null, onProgress = () => {}) {
  const form = new FormData();
  const entries = Object.entries(files);
  form.append('operations', JSON.stringify({ query, variables }));
  form.append('map', JSON.stringify(Object.fromEntries(entries.map(([path], i) => [String(i), [`variables.${path}`]]))));
  entries.forEach(([, file], i) => form.append(String(i), file, file.name));

  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', ENDPOINT);
    for (const [name, value] of Object.entries(headers(token))) request.setRequestHeader(name, value);
    // The server refuses multipart requests without it: a cross-site form cannot send it (CSRF guard).
    request.setRequestHeader('X-GraphQL-Preflight', '1');
    request.responseType = 'json';
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener('error', () => reject(new NetworkError()));
    request.addEventListener('load', () => {
      const { data, error } = unwrap(request.status, request.response);
      if (error) reject(error);
      else resolve(data);
    });
    request.send(form);
  });
}
