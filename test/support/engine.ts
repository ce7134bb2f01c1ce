/**
 * The engine's side of `pulumi up`, `refresh` and `destroy` for one resource, reduced to the
 * calls and the order the engine makes them in: check, then diff, then create, update or
 * replace (create the new, delete the old). Enough to test a provider as users will run it.
 */
import type { ProviderHost, Registration } from "./providerHost.ts";

type Props = Record<string, unknown>;

export interface Deployed {
  reg: Registration;
  id: string;
  inputs: Props;
  outputs: Props;
}

export type Step = "create" | "update" | "replace" | "same";

export class CheckFailed extends Error {
  readonly failures: { property: string; reason: string }[];
  constructor(failures: { property: string; reason: string }[]) {
    super(`check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    this.failures = failures;
  }
}

export class MiniEngine {
  readonly host: ProviderHost;
  constructor(host: ProviderHost) {
    this.host = host;
  }

  async check(reg: Registration, previous?: Deployed): Promise<Props> {
    const { inputs, failures } = await this.host.check(reg, previous?.inputs ?? {}, reg.inputs);
    if (failures.length) throw new CheckFailed(failures);
    return inputs;
  }

  /** One `pulumi up` of the resource: returns what the engine would now hold, and the step taken. */
  async up(reg: Registration, previous?: Deployed): Promise<{ deployed: Deployed; step: Step }> {
    const inputs = await this.check(reg, previous);
    if (!previous) {
      const created = await this.host.create(reg, inputs);
      return { deployed: { reg, id: created.id, inputs, outputs: created.properties }, step: "create" };
    }
    const diff = await this.host.diff(reg, previous.id, previous.outputs, inputs);
    if (diff.changes === "none") return { deployed: previous, step: "same" };
    if (diff.replaces.length) {
      if (diff.deleteBeforeReplace) await this.host.delete(reg, previous.id, previous.outputs);
      const created = await this.host.create(reg, inputs);
      if (!diff.deleteBeforeReplace) await this.host.delete(reg, previous.id, previous.outputs);
      return { deployed: { reg, id: created.id, inputs, outputs: created.properties }, step: "replace" };
    }
    const updated = await this.host.update(reg, previous.id, previous.outputs, inputs);
    return { deployed: { ...previous, reg, inputs, outputs: updated.properties }, step: "update" };
  }

  /** `pulumi refresh`: undefined when the provider reports the resource gone. */
  async refresh(deployed: Deployed): Promise<Deployed | undefined> {
    const read = await this.host.read(deployed.reg, deployed.id, deployed.outputs);
    if (!read.id) return undefined;
    return { ...deployed, id: read.id, outputs: read.properties };
  }

  /** `pulumi destroy`: returns whether Delete was called (not for retainOnDelete). */
  async destroy(deployed: Deployed): Promise<boolean> {
    if (deployed.reg.retainOnDelete) return false;
    await this.host.delete(deployed.reg, deployed.id, deployed.outputs);
    return true;
  }
}
