import { exitCodeOfState, TASKQ_EXIT } from './exit-codes';

describe('taskq exit codes', () => {
  it('FAILURE 1, REVOKED 2, SUCCESS and states not ready 0; timeout is 3', () => {
    expect(exitCodeOfState('SUCCESS')).toBe(0);
    expect(exitCodeOfState('FAILURE')).toBe(1);
    expect(exitCodeOfState('REVOKED')).toBe(2);
    expect(exitCodeOfState('PENDING')).toBe(0);
    expect(exitCodeOfState('PROGRESS')).toBe(0);
    expect(TASKQ_EXIT.timeout).toBe(3);
  });
});
