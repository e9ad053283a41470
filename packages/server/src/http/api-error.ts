/** An HTTP error with the API's shape: `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
export const badParameter = (name: string, message: string): ApiError =>
  new ApiError(400, 'invalid_parameter', `${name}: ${message}`);
