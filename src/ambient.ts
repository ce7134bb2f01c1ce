/**
 * What the provider process knows besides a resource's inputs: its environment variables, and the stack's
 * configuration that the engine hands over in `configure`. Both belong to the process, are read at each call,
 * and are never stored: the state holds inputs and results only.
 */
import { EMPTY_STACK_CONFIG, type StackConfig } from "./stackConfig";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Ambient {
  env: Env;
  config: StackConfig;
}

let stack: StackConfig = EMPTY_STACK_CONFIG;

/** Called by the provider's `configure`, once per provider process. */
export function setStackConfig(config: StackConfig): void {
  stack = config;
}

/** The process's environment and stack config, now. */
export function ambient(): Ambient {
  return { env: process.env, config: stack };
}

/** An ambient made of given parts: for pure callers and tests. */
export function ambientOf(env: Env = {}, config: StackConfig = EMPTY_STACK_CONFIG): Ambient {
  return { env, config };
}
