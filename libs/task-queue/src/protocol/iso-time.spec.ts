import { parseIsoTime, toCeleryIso } from './iso-time';

describe('ISO times', () => {
  it('writes six fraction digits and an offset, which Celery 5.2.6 reads right', () => {
    expect(toCeleryIso(new Date('2026-11-23T22:56:05.186Z'))).toBe('2026-11-23T22:56:05.186000+00:00');
  });

  it.each([
    ['2026-11-23T22:56:05.186877+00:00', '2026-11-23T22:56:05.187Z'],
    ['2026-11-23T22:56:05Z', '2026-11-23T22:56:05.000Z'],
    ['2026-11-23 22:56:05', '2026-11-23T22:56:05.000Z'],
    ['2026-11-23T23:56:05+01:00', '2026-11-23T22:56:05.000Z'],
    ['2026-11-23T21:26:05-0130', '2026-11-23T22:56:05.000Z'],
    ['2026-11-23', '2026-11-23T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(iso);
  });

  it('returns null for text that is not a time', () => {
    expect(parseIsoTime('tomorrow')).toBeNull();
  });
});
