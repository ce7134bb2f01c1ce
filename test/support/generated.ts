/** Large test objects made on the fly, never held whole in memory. */
import { randomBytes, type Hash } from "node:crypto";
import { Readable } from "node:stream";

const MiB = 1024 * 1024;

/** `totalMiB` chunks of 1 MiB from one random block, each stamped with its index (so no two are equal), hashed as they are made. */
export function generated(totalMiB: number, hash: Hash): Readable {
  const block = randomBytes(MiB);
  let i = 0;
  return new Readable({
    read() {
      if (i === totalMiB) return void this.push(null);
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(i++, 0);
      hash.update(chunk);
      this.push(chunk);
    },
  });
}
