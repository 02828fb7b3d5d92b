/**
 * What Node 20 needs to run the local tools, all of it to be deleted with the move to Node 22
 * (README "Node.js versions").
 *
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

/**
 * The AWS SDK prints a nine-line notice, once per process, that its releases after January 2027 need
 * Node 22. Locally every function runs in a worker of its own, so `npm start --verbose` would show it
 * once per function. Only that notice is switched off (the SDK's own variable, unless the operator set
 * it), here and in the functions' workers; every other warning still prints.
 */
export const SDK_NODE_NOTICE_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
process.env[SDK_NODE_NOTICE_SWITCH] ??= 'true';
