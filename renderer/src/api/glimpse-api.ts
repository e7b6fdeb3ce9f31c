/**
 * A GlimpseApi over any transport that can call a method by name and deliver events: the WebSocket
 * client and the Electron bridge differ only in those two functions. Every method but subscribe is
 * `call(name, args)`, so methods added to the API need nothing here.
 */
import type { ApiMethod, EngineEvent, GlimpseApi } from '../../../main/engine/api.ts';

export type CallFn = (method: ApiMethod, args: unknown[]) => Promise<unknown>;

/** `extra`: members of the client itself (e.g. close), found before API methods. */
export function apiOver<Extra extends object = object>(
  call: CallFn,
  subscribe: (listener: (event: EngineEvent) => void) => () => void,
  extra?: Extra,
): GlimpseApi & Extra {
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const own: object = extra ?? {};
  const api = new Proxy({} as GlimpseApi & Extra, {
    get(_target, name) {
      if (name === 'subscribe') return subscribe;
      if (Object.hasOwn(own, name)) return (own as Record<string | symbol, unknown>)[name];
      // Not a thenable, and no symbol-named methods.
      if (typeof name !== 'string' || name === 'then') return undefined;
      let method = methods.get(name);
      if (!method) {
        method = (...args: unknown[]) => {
          // An optional argument left undefined is an absent one (browse() and browse(undefined) alike).
          while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
          return call(name as ApiMethod, args);
        };
        methods.set(name, method);
      }
      return method;
    },
  });
  return api;
}
