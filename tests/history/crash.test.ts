import assert, { equal } from "node:assert/strict";
import { createRecorder, openHistory } from "../../core/history/mod.ts";
import { collect, withTempDir } from "./helpers.ts";

/** Reads `<seq> <ms>` lines from the child until `enough` holds; throws after `ms`. */
async function readProgress(
  stream: ReadableStream<Uint8Array>,
  enough: (lines: [number, number][]) => boolean,
  ms: number,
): Promise<[number, number][]> {
  const lines: [number, number][] = [];
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + ms;
  let buffer = "";
  while (!enough(lines)) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for the child to record (${lines.length} reports)`,
      );
    }
    const { value, done } = await reader.read();
    if (done) throw new Error("the recording child exited early");
    buffer += value;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const p of parts) {
      const [seq, at] = p.split(" ").map(Number);
      lines.push([seq, at]);
    }
  }
  reader.releaseLock();
  return lines;
}

Deno.test("kill -9 mid-recording: the history reads, loses at most ~1 s, and recording resumes after it", async () => {
  await withTempDir(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        new URL("./crash_child.ts", import.meta.url).pathname,
        dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let killedAt = 0;
    let progress: [number, number][] = [];
    try {
      // Record for 3 s of wall time after the first report.
      progress = await readProgress(
        child.stdout,
        (ls) => ls.length > 0 && ls[ls.length - 1][1] - ls[0][1] >= 3000,
        30_000,
      );
    } finally {
      killedAt = Date.now();
      Deno.kill(child.pid, "SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    // Every item reported more than 1 s before the kill must be on disk.
    const mustHave = progress.filter(([, at]) => at <= killedAt - 1000).pop();
    assert(mustHave, "the child reported progress more than 1 s before the kill");

    const history = openHistory(dir);
    const back = await collect(history.events({ from: 0, to: Infinity }));
    equal(history.problems().corruptBlocks, 0, "no damaged block");
    const seqs = back.map((r) => r.seq);
    for (let i = 0; i < seqs.length; i++) equal(seqs[i], i + 1, "no hole: items 1..n in order");
    const recorded = seqs.length;
    assert(
      recorded >= mustHave[0],
      `recorded ${recorded} items, reported ${mustHave[0]} over 1 s before the kill`,
    );
    history.close();

    // A new recorder on the same folder continues the sequence after the crash.
    const recorder = createRecorder({ dir });
    const now = Date.now();
    const seq = recorder.record({
      exchange: "binance",
      item: { type: "status", state: "connected" },
      receiveTime: now,
    });
    await recorder.close();
    equal(seq, recorded + 1, "sequence continues after the last recorded item");
    const after = openHistory(dir);
    const tail = await collect(after.events({ from: now, to: now }));
    equal(tail.length, 1);
    equal(tail[0].seq, recorded + 1);
    after.close();
  });
});
