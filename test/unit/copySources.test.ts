// S3 read by Azure through a presigned GET: signed in the bucket's own region. The HEAD follows a region
// redirect (the SDK's followRegionRedirects), but Azure's read of the URL will not, so a URL signed for the
// configured region would fail at Azure. Fakes stand for S3's answers; the presigner and clients are real.
import { test } from "../support/testing.ts";
import assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import { s3Source } from "../../dist/stores/copySources.js";
import { silentLogger } from "../../dist/operation.js";

type Answers = Record<string, (input: Record<string, unknown>) => unknown>;

function factory(answers: Answers) {
  const built: string[] = [];
  const clientFor = (location: { region?: string }) => {
    const region = location.region ?? "us-east-1";
    built.push(region);
    const client = new S3Client({ region, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
    // Requests are answered by the fake; presigning uses the real client's configuration.
    Object.assign(client, {
      async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
        const answer = answers[command.constructor.name.replace(/Command$/, "")];
        if (!answer) throw new Error(`unexpected ${command.constructor.name}`);
        return answer(command.input);
      },
    });
    return client;
  };
  return { clientFor, built };
}

const head = () => ({ ETag: '"abc"', ContentLength: 3, Metadata: {} });
const context = { signal: new AbortController().signal, log: silentLogger };

test("a source bucket in another region than the one configured is presigned in its own region", async () => {
  const { clientFor, built } = factory({ HeadObject: head, HeadBucket: () => ({ BucketRegion: "eu-west-1" }) });
  const source = await s3Source(clientFor as never)({ s3: { bucket: "prod-seeds", key: "db/seed.sql.gz" } }, context);
  const url = new URL(source.url);
  assert.match(url.searchParams.get("X-Amz-Credential") ?? "", /\/eu-west-1\/s3\/aws4_request$/);
  assert.match(url.hostname, /eu-west-1/);
  assert.deepEqual(built, ["us-east-1", "eu-west-1"]);
});

test("the configured region is used when it is the bucket's, and when the bucket's cannot be read (no s3:ListBucket)", async () => {
  const same = factory({ HeadObject: head, HeadBucket: () => ({ BucketRegion: "us-east-1" }) });
  const a = await s3Source(same.clientFor as never)({ s3: { bucket: "b1-seeds", key: "k", region: "us-east-1" } }, context);
  assert.match(new URL(a.url).searchParams.get("X-Amz-Credential") ?? "", /\/us-east-1\/s3\//);
  assert.deepEqual(same.built, ["us-east-1"]);
  const denied = factory({ HeadObject: head, HeadBucket: () => { throw Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }); } });
  const b = await s3Source(denied.clientFor as never)({ s3: { bucket: "b1-seeds", key: "k" } }, context);
  assert.match(new URL(b.url).searchParams.get("X-Amz-Credential") ?? "", /\/us-east-1\/s3\//);
});
