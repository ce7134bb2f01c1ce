/**
 * Loads a Pulumi TypeScript program (an examples/ directory) into this Node process, as `pulumi up` would run it, once
 * per call: each call imports a fresh instance of its index.ts (a query on its URL), since a program runs once per load;
 * the packages it imports stay shared. Pulumi runs TypeScript programs as CommonJS, where a subpath import such as
 * "@pulumi/azure-native/storage" names a directory; Node's ESM loader, which loads the .ts here (type stripping),
 * resolves no directory, so a resolve hook maps one to its index.js, as require() does.
 */
import { registerHooks } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

let hooked = false;
let loads = 0;

export function loadProgram(dir: string): Promise<unknown> {
  if (!hooked) {
    hooked = true;
    registerHooks({
      resolve(specifier, context, next) {
        try {
          return next(specifier, context);
        } catch (e) {
          if ((e as { code?: string }).code !== "ERR_UNSUPPORTED_DIR_IMPORT") throw e;
          return next(`${specifier}/index.js`, context);
        }
      },
    });
  }
  return import(`${pathToFileURL(path.join(dir, "index.ts")).href}?load=${++loads}`);
}
