/**
 * Celery's result tuples (`ResultBase.as_tuple()`): how a meta's `children` and a saved group name
 * results. A task is `[[id, null], null]`; a group is `[[group_id, null], [task tuples…]]`.
 */
export type TaskTuple = [[string, null], null];
export type GroupTuple = [[string, null], TaskTuple[]];

export function taskTuple(id: string): TaskTuple {
  return [[id, null], null];
}

export function groupTuple(groupId: string, memberIds: readonly string[]): GroupTuple {
  return [[groupId, null], memberIds.map(taskTuple)];
}

/** The member ids of a saved group's tuple. */
export function groupMemberIds(tuple: unknown[]): string[] {
  return (tuple[1] as unknown[][]).map((m) => String((m[0] as unknown[])[0]));
}

/** The id a child entry names: a result tuple's id, or a bare id (older metas). */
export function childId(child: unknown): string {
  return Array.isArray(child) && Array.isArray(child[0]) ? String(child[0][0]) : String(child);
}
