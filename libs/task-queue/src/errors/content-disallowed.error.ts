import { InvalidTaskMessageError } from './invalid-task-message.error';

/** A message in a content type the worker does not accept (see `acceptContent`). */
export class ContentDisallowedError extends InvalidTaskMessageError {
  constructor(
    readonly contentType: string,
    readonly accepted: readonly string[],
  ) {
    super(
      `Refusing a message of content type "${contentType}": only ${accepted.join(', ')} accepted (option acceptContent). Send it as JSON.`,
    );
  }
}
