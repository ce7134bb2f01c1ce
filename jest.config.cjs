// jest runs every test: TypeScript is compiled to CommonJS by @swc/jest (no type-check: `npm test` runs
// `tsc -p tsconfig.test.json` first). Three projects, the tiers of DESIGN.md §6: unit (pure rules and fakes),
// integration (through Pulumi's real provider host, against real local servers, with labelled simulations)
// and support (the test servers and harness themselves). A fourth, live, runs only when named
// (`npm run test:live`): the integration scenarios against a real bucket and container (test/live).
const transform = {
  "^.+\\.(t|j)s$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
};
const project = (displayName, dir, extra = {}) => ({
  displayName,
  testEnvironment: "node",
  transform,
  testMatch: [`<rootDir>/test/${dir}/**/*.test.ts`],
  // The package's compiled code (dist/) and a recorded release's (test/fixtures/) run as built, never transformed:
  // Pulumi serializes the provider from the function text, which a transform would change (the realm test sees it).
  transformIgnorePatterns: ["/node_modules/", "<rootDir>/dist/", "/test/fixtures/"],
  // ...and its package.json must not stand for the package's name in jest's module map.
  modulePathIgnorePatterns: ["<rootDir>/test/fixtures/releases/[^/]+/package.json"],
  ...extra,
});

/** @type {import("jest").Config} */
module.exports = {
  projects: [
    project("unit", "unit"),
    project("integration", "integration"),
    project("support", "support"),
    // Picks the targets and the run's prefix before the files, and sweeps the prefix after them, failed or not.
    project("live", "live", { globalSetup: "<rootDir>/test/live/globalSetup.ts", globalTeardown: "<rootDir>/test/live/globalTeardown.ts" }),
  ],
};
