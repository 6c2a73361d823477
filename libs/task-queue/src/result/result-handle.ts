/**
 * What every result handle offers (a task's `AsyncResult`, a group's `GroupResult`): the type of a
 * chain step's `.parent`, which may be either. Narrow it with `instanceof` or a cast to read more.
 * (It also keeps the two handle files from importing each other.)
 */
export interface ResultHandle {
  readonly id: string;
  ready(): Promise<boolean>;
  successful(): Promise<boolean>;
  failed(): Promise<boolean>;
  forget(): Promise<void>;
}
