/**
 * How every function is bundled, in a module of its own so `npm run bench` reads the same settings
 * without loading aws-cdk-lib.
 */
export const BUNDLE_TARGET = 'node24';
export const BUNDLE_MAIN_FIELDS = ['module', 'main'] as const;
// Some CommonJS dependencies call require() on Node built-ins; give every ESM file one.
export const BUNDLE_BANNER = "import { createRequire as topLevelCreateRequire } from 'module';const require = topLevelCreateRequire(import.meta.url);";

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The esbuild command that rebuilds `lambdas/<handlerFolder>/handler.ts` (under the project root
 * `inputDir`) into `outputDir` as `index.mjs` plus shared chunks.
 * NodejsFunction always passes `--outfile`, which puts every `import()` target (the S3 client of the
 * claim-check) into the one file, so a cold start parses it anyway; with `--splitting` those stay
 * in chunks Node loads only when the `import()` runs (issue 22). It overwrites the first pass's
 * index.mjs and its map, so the asset is exactly this output.
 */
export function splitBundleCommand(inputDir: string, handlerFolder: string, outputDir: string): string {
  const args = [
    `${inputDir}/node_modules/.bin/esbuild`,
    `${inputDir}/lambdas/${handlerFolder}/handler.ts`,
    '--bundle',
    '--splitting',
    '--format=esm',
    '--platform=node',
    `--target=${BUNDLE_TARGET}`,
    `--main-fields=${BUNDLE_MAIN_FIELDS.join(',')}`,
    '--minify',
    '--sourcemap',
    '--sources-content=false',
    `--outdir=${outputDir}`,
    '--entry-names=index',
    '--chunk-names=chunk-[hash]',
    '--out-extension:.js=.mjs',
    `--banner:js=${BUNDLE_BANNER}`,
    '--log-level=warning',
  ];
  return args.map(shellQuote).join(' ');
}
