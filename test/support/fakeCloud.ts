/**
 * A fake cloud for Pulumi's mocks: plays @pulumi/aws and @pulumi/azure-native for the example programs, as the engine
 * and the real providers would answer them. A bucket gets a name and a region, a resource group, storage account and
 * container a name, listStorageAccountKeys a key. With `computed: false` it answers as `pulumi preview` does for
 * resources not created yet: no computed output at all, so each reaches the resources using it as an unknown.
 * A test double: its names and key are made up, and nothing is created anywhere.
 */
import type * as pulumi from "@pulumi/pulumi";

/** What listStorageAccountKeys answers: a test asserts it reaches the provider only under secret paths. */
export const ACCOUNT_KEY = "bW9ja2VkLWFjY291bnQta2V5LWZvci10aGUtZXhhbXBsZS1wcm9ncmFtcy0wMDAx";
/** The region every bucket is in. */
export const REGION = "eu-west-2";

type Props = Record<string, unknown>;

export interface FakeCloud {
  mocks: pulumi.runtime.Mocks;
  /** Every invoke, in order. */
  calls: Array<{ token: string; inputs: Props }>;
  /** The state each resource got, keyed `type::name`: what the engine would hold for it. */
  states: Record<string, Props>;
}

export function fakeCloud(computed: boolean): FakeCloud {
  const calls: FakeCloud["calls"] = [];
  const states: FakeCloud["states"] = {};
  let n = 0;
  const suffix = () => (++n).toString(16).padStart(6, "0");
  const mocks: pulumi.runtime.Mocks = {
    newResource(a) {
      const state: Props = { ...a.inputs };
      if (computed) {
        switch (a.type) {
          case "aws:s3/bucket:Bucket": // a read (`Bucket.get`) finds the bucket by its id
            Object.assign(state, { bucket: a.id || `${a.name}-${suffix()}`, region: REGION });
            break;
          case "azure-native:resources:ResourceGroup":
            state.name = `${a.name}${suffix()}`;
            break;
          case "azure-native:storage:StorageAccount": // 3-24 lower-case letters and digits
            state.name = `${a.name.replace(/[^a-z0-9]/g, "")}${suffix()}`;
            break;
          case "azure-native:storage:BlobContainer":
            state.name = a.inputs.containerName ?? `${a.name}-${suffix()}`;
            break;
        }
      }
      states[`${a.type}::${a.name}`] = state;
      return { id: a.id || `${a.name}-id`, state };
    },
    call(a) {
      calls.push({ token: a.token, inputs: a.inputs });
      if (a.token === "azure-native:storage:listStorageAccountKeys") return { keys: [{ keyName: "key1", permissions: "FULL", value: ACCOUNT_KEY }] };
      throw new Error(`the fake cloud has no ${a.token}`);
    },
  };
  return { mocks, calls, states };
}
