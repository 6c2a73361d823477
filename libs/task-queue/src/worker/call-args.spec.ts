import { toCallArgs } from './call-args';
import { TaskDefinition } from '../registry/task-definition';
import { paramNamesOf } from '../discovery/param-names';

const def = (fn: Function, contextIndex: number | null = null): TaskDefinition => ({
  name: 't',
  options: {},
  source: 'T.t',
  instance: {},
  paramNames: paramNamesOf(fn),
  contextIndex,
  invoke: () => undefined,
});

describe('call arguments', () => {
  it('reads parameter names, defaults and comments included', () => {
    expect(
      paramNamesOf(function (x: number, /* c */ y = 2, { z }: { z: number } = { z: 1 }, ...rest: number[]) {
        return [x, y, z, rest];
      }),
    ).toEqual(['x', 'y', null, null]);
    expect(paramNamesOf(async (a: string, b = '(,)') => a + b)).toEqual(['a', 'b']);
  });

  it('maps kwargs onto positions by name, as Python does', () => {
    const d = def(function (x: number, y: number, z: number) {
      return x + y + z;
    });
    expect(toCallArgs(d, [1], { z: 3, y: 2 }, null)).toEqual([1, 2, 3]);
    expect(() => toCallArgs(d, [1], { x: 2 }, null)).toThrow("t() got multiple values for argument 'x'");
    expect(() => toCallArgs(d, [], { w: 2 }, null)).toThrow("t() got an unexpected keyword argument 'w'");
  });

  it('puts the task context at its @CurrentTask position, which kwargs never reach', () => {
    const d = def(function (x: number, ctx: unknown, y: number) {
      return [x, ctx, y];
    }, 1);
    expect(toCallArgs(d, [1, 2], {}, 'CTX')).toEqual([1, 'CTX', 2]);
    expect(toCallArgs(d, [1], { y: 5 }, 'CTX')).toEqual([1, 'CTX', 5]);
    expect(() => toCallArgs(d, [1], { ctx: 5 }, 'CTX')).toThrow(/unexpected keyword argument 'ctx'/);
    expect(
      toCallArgs(
        def(function (ctx: unknown) {
          return ctx;
        }, 0),
        [],
        {},
        'CTX',
      ),
    ).toEqual(['CTX']);
  });
});
