/** Celery's logical clock: +1 per message sent, raised past any clock seen on incoming messages. */
export class LamportClock {
  private value = 0;

  forward(): number {
    return ++this.value;
  }

  adjust(other: unknown): number {
    if (typeof other === 'number' && other > this.value) this.value = other;
    return ++this.value;
  }

  get current(): number {
    return this.value;
  }
}
