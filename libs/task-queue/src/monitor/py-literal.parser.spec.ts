import { parsePyLiteral } from './py-literal.parser';

describe('parsePyLiteral', () => {
  it('reads back the reprs Celery events carry', () => {
    expect(parsePyLiteral("(1, 'a', None, True, [2.5, {'k': \"v\"}])")).toEqual([
      1,
      'a',
      null,
      true,
      [2.5, { k: 'v' }],
    ]);
    expect(parsePyLiteral("('it\\'s',)")).toEqual(["it's"]);
    expect(parsePyLiteral('{}')).toEqual({});
  });

  it('refuses cut reprs and non-literals', () => {
    expect(() => parsePyLiteral("('aaaa...")).toThrow(/cut at 1024/);
    expect(() => parsePyLiteral('(object(),)')).toThrow(SyntaxError);
  });
});
