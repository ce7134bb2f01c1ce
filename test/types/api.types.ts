// Type test: compiled by `npm test` (tsconfig.test.json), never run. Each `@ts-expect-error` line must fail to
// compile, or the compiler reports the directive as unused and the type-check (and so `npm test`) fails: a typo
// in a storage class, a tier or an encryption, a strategy that does not exist, and two locator kinds at once.
import * as pulumi from "@pulumi/pulumi";
import { CopiedObject, customStorageClass, type CopiedObjectArgs, type LocatorInput } from "pulumi-copied-object";

declare const bucket: pulumi.Output<string>;
const base = { source: { s3: { bucket: "prod-seeds", key: "db/seed.sql.gz" } }, destination: { s3: { bucket, key: "seed.sql.gz" } } };

// What must compile: the README's forms, Outputs anywhere, and a server's own placement named on purpose.
export const ok: CopiedObjectArgs[] = [
  base,
  { ...base, storageClass: "STANDARD_IA", serverSideEncryption: "aws:kms", kmsKeyId: "alias/seeds", strategy: "multipart" },
  { ...base, storageClass: customStorageClass("COLD_HDD") },
  { source: { url: pulumi.secret("https://example.com/seed?sig=x") }, destination: { azureBlob: { account: "devacct", container: "env", blob: "x" } }, accessTier: "Cool" },
  { source: bucket.apply((b) => ({ s3: { bucket: b, key: "k" } })), destination: base.destination, metadata: { team: pulumi.secret("data") } },
];
export const resource = new CopiedObject("seed", base);
export const outputs: Array<pulumi.Output<unknown>> = [resource.etag, resource.versionId, resource.copyStatus, resource.strategy];

export const typos: CopiedObjectArgs[] = [
  // @ts-expect-error "STANDRAD" is not a storage class
  { ...base, storageClass: "STANDRAD" },
  // @ts-expect-error a lower-case storage class
  { ...base, storageClass: "standard_ia" },
  // @ts-expect-error "Colder" is not an access tier
  { ...base, accessTier: "Colder" },
  // @ts-expect-error SSE is spelt "aws:kms"
  { ...base, serverSideEncryption: "kms" },
  // @ts-expect-error "fast" is not a strategy
  { ...base, strategy: "fast" },
];

const twoKinds = { s3: { bucket: "b", key: "k" }, url: "https://example.com/x" };
export const mixes: LocatorInput[] = [
  // @ts-expect-error s3 and url in one locator
  { s3: { bucket: "b", key: "k" }, url: "https://example.com/x" },
  // @ts-expect-error azureBlob and azureFile in one locator
  { azureBlob: { account: "a", container: "c", blob: "b" }, azureFile: { account: "a", share: "s", path: "p" } },
  // @ts-expect-error two kinds, not as a literal
  twoKinds,
  // @ts-expect-error a locator needs one kind
  {},
];
