/**
 * A request made by a component's first render rather than by its effect: the effects of a page's first render run
 * in one task just after the first paint, and each `fetch` started there costs 10 to 20 ms on a phone (4× slow-down):
 * Home's eight made a task of 100 to 480 ms, which Lighthouse counts as blocking time. Made by the render, they are
 * part of the work before the first paint (which Lighthouse does not count as blocking), and are on their way sooner.
 * `request()` gives that first promise once (to the effect that would have made it), then makes a new request each call.
 */
import { useRef } from 'preact/hooks';

export function useFirstRequest<T>(make: () => Promise<T>): () => Promise<T> {
  const first = useRef<Promise<T> | null | undefined>(undefined);
  if (first.current === undefined) {
    const p = make();
    p.catch(() => undefined); // its failure is the effect's to handle (it takes the promise after the paint)
    first.current = p;
  }
  return () => {
    const p = first.current;
    first.current = null;
    return p ?? make();
  };
}
