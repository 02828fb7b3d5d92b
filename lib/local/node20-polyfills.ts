/**
 * aws-local-stepfunctions targets Node 22 and calls Promise.withResolvers, which Node 20 lacks.
 * The local pipeline and the tests run on Node 20 too, so give it the standard behaviour when missing.
 */
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
