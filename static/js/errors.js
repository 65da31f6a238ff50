// Errors as a person can read and act on them.

import { ApiError, NetworkError } from './api.js';

export function describe(error) {
  if (error instanceof NetworkError) return 'Cannot reach the server. Check your connection and try again.';
  if (error instanceof ApiError) {
    return error.message;
  }
  console.error(error);
  return 'Something went wrong in this page. Reload it and try again.';
}
