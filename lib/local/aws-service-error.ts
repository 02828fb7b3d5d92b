/**
 * An error a local stand-in answers the way the AWS JSON protocol does: the `__type` short name,
 * the message, the HTTP status, and any extra fields the service adds (e.g. DynamoDB's `Item`).
 * The services' subclasses only name where an error came from.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}
