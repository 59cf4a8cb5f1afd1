import assert from "node:assert/strict";
import { failAfter, sleep, TimeoutError } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

Deno.test("failAfter rejects with TimeoutError when the virtual deadline passes", async () => {
  await withFakeTime(async (clock) => {
    const p = failAfter(60_000, () => sleep(120_000));
    const check = assert.rejects(p, TimeoutError);
    await clock.tickAsync(60_000);
    await check;
  });
});
