import assert from "node:assert/strict";
import fc from "fast-check";
import { connect, gatewayWith, scriptedFeed } from "../helpers.ts";
import { ERROR_CODES, parseClientFrame } from "../../core/protocol/messages.ts";
import { maskedFrame, rawUpgrade, readCloseCode, write } from "../raw_ws.ts";

Deno.test("client frame parser: any input yields a valid frame or a documented error", () => {
  const anyJson = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v));
  const nearValid = fc.record({
    action: fc.oneof(fc.constantFrom("subscribe", "unsubscribe", "list", "ping"), fc.string()),
    symbols: fc.option(fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 })),
    channels: fc.option(fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 })),
    depth: fc.option(fc.oneof(fc.integer(), fc.double())),
    id: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.double())),
  }, { requiredKeys: ["action"] }).map((v) => JSON.stringify(v));
  const bytes = fc.string({ maxLength: 200 });
  fc.assert(
    fc.property(fc.oneof(anyJson, nearValid, bytes), (text) => {
      const parsed = parseClientFrame(text);
      if (parsed.ok) {
        assert.ok(["subscribe", "unsubscribe", "list", "ping"].includes(parsed.frame.action));
      } else {
        assert.ok(parsed.code in ERROR_CODES, parsed.code);
        assert.equal(typeof parsed.message, "string");
        if (parsed.id !== undefined) {
          assert.ok(typeof parsed.id === "number" || parsed.id.length <= 64);
        }
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("client frame parser: hostile shapes are refused", async (t) => {
  await t.step("deep nesting is bad_json or invalid_request, never a crash", () => {
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    assert.ok(["bad_json", "invalid_request"].includes(
      (parseClientFrame(deep) as { code: string }).code,
    ));
    const nested = `{"action":"subscribe","symbols":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    assert.equal((parseClientFrame(nested) as { code: string }).code, "invalid_request");
  });
  await t.step("unknown fields are invalid_request", () => {
    const r = parseClientFrame('{"action":"ping","__proto__":{"x":1},"extra":1}');
    assert.equal(r.ok, false);
  });
  await t.step("thousands of symbols in one subscribe are invalid_request", () => {
    const symbols = Array.from({ length: 5000 }, (_, i) => `S${i}USDT`);
    const r = parseClientFrame(JSON.stringify({ action: "subscribe", symbols }));
    assert.equal((r as { code: string }).code, "invalid_request");
  });
});

Deno.test("hostile clients are refused or disconnected; other clients keep receiving", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], {
    maxFrameBytes: 1024,
    maxClientMessagesPerSecond: 20,
  });
  const good = await connect(gateway);
  try {
    good.send({ action: "subscribe", symbols: ["BTCUSDT"], id: "good" });
    await good.next((f) => f.type === "subscribed");

    await t.step("a frame over 4x the size cap closes the connection with 1009", async () => {
      const up = await rawUpgrade(gateway.port, "/ws");
      assert.equal(up.status, 101);
      await write(up.conn!, maskedFrame(1, new TextEncoder().encode("x".repeat(5000))));
      assert.equal(await readCloseCode(up.conn!), 1009);
    });

    await t.step("invalid UTF-8 in a text frame closes the connection (1007)", async () => {
      const up = await rawUpgrade(gateway.port, "/ws");
      await write(up.conn!, maskedFrame(1, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
      const code = await readCloseCode(up.conn!);
      assert.ok(code === 1007 || code === 1006, `closed with ${code}`);
    });

    await t.step("a subscribe/unsubscribe flood is cut with 1008", async () => {
      const up = await rawUpgrade(gateway.port, "/ws");
      const frames: Uint8Array[] = [];
      // 4x the per-second budget (20) is abuse; frame 81 closes the connection.
      for (let i = 0; i < 81; i++) {
        const action = i % 2 ? "unsubscribe" : "subscribe";
        frames.push(
          maskedFrame(
            1,
            new TextEncoder().encode(JSON.stringify({ action, symbols: ["BTCUSDT"] })),
          ),
        );
      }
      await write(up.conn!, new Uint8Array(frames.flatMap((f) => [...f])));
      assert.equal(await readCloseCode(up.conn!), 1008);
    });

    await t.step("the well-behaved client kept receiving trades throughout", async () => {
      const from = good.frames.length;
      await good.until((fs) => fs.slice(from).filter((f) => f.type === "trade").length >= 3);
      assert.equal(good.socket.readyState, WebSocket.OPEN);
      assert.equal(good.frames.some((f) => f.type === "error"), false);
    });
  } finally {
    await good.close();
    await gateway.close();
  }
});
