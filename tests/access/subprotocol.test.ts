/**
 * The key carried as a `bearer.<key>` subprotocol: the offer is parsed as RFC 6455's
 * comma-separated token list (Node's `ws` sends no space after the comma), and the key
 * is never echoed back as the selected subprotocol.
 */
import assert from "node:assert/strict";
import NodeWebSocket from "ws";
import { gatewayWith, scriptedFeed } from "../helpers.ts";
import { parseProtocolList } from "../../core/access/keys.ts";
import { rawUpgrade } from "../raw_ws.ts";

const KEY = "subprotocol-key-0001";

Deno.test("parseProtocolList: comma-separated tokens with optional whitespace", () => {
  assert.deepEqual(parseProtocolList("quant-saas,bearer.k"), ["quant-saas", "bearer.k"]);
  assert.deepEqual(parseProtocolList("quant-saas, bearer.k"), ["quant-saas", "bearer.k"]);
  assert.deepEqual(parseProtocolList(" quant-saas \t,\tbearer.k "), ["quant-saas", "bearer.k"]);
  assert.deepEqual(parseProtocolList("a,,b, ,"), ["a", "b"]);
  assert.deepEqual(parseProtocolList(""), []);
});

/** Opens a Node `ws` client (it joins offered subprotocols with "," and no space). */
function openNodeWs(
  url: string,
  protocols: string[],
): Promise<{ protocol: string; ws: NodeWebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new NodeWebSocket(url, protocols);
    ws.on("open", () => resolve({ protocol: ws.protocol, ws }));
    ws.on("unexpected-response", (_req, res) => {
      reject(new Error(`upgrade refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on("error", reject);
  });
}

Deno.test("subprotocol key: parsed as the RFC's token list, never echoed", async (t) => {
  const gateway = await gatewayWith([scriptedFeed(["BTCUSDT"])], { apiKeys: KEY });
  try {
    await t.step('Node\'s ws with ["quant-saas", "bearer.<key>"] connects', async () => {
      const { protocol, ws } = await openNodeWs(`ws://127.0.0.1:${gateway.port}/ws`, [
        "quant-saas",
        `bearer.${KEY}`,
      ]);
      assert.equal(protocol, "quant-saas");
      const closed = new Promise((r) => ws.on("close", r));
      ws.close();
      await closed;
    });

    for (
      const header of [
        `quant-saas,bearer.${KEY}`,
        `quant-saas, bearer.${KEY}`,
        `bearer.${KEY} ,\tquant-saas`,
      ]
    ) {
      await t.step(
        `raw offer ${JSON.stringify(header.replace(KEY, "<key>"))} is accepted`,
        async () => {
          const res = await rawUpgrade(gateway.port, "/ws", { "Sec-WebSocket-Protocol": header });
          res.conn?.close();
          assert.equal(res.status, 101, JSON.stringify(res.body));
          assert.equal(res.headers["sec-websocket-protocol"], "quant-saas");
        },
      );
    }

    await t.step(
      "offering only bearer.<key> is refused with a clear error, key not echoed",
      async () => {
        const res = await rawUpgrade(gateway.port, "/ws", {
          "Sec-WebSocket-Protocol": `bearer.${KEY}`,
        });
        res.conn?.close();
        assert.equal(res.status, 400);
        const body = res.body as { error: { code: string; message: string } };
        assert.equal(body.error.code, "protocol_required");
        assert.match(body.error.message, /quant-saas/);
        assert.ok(!JSON.stringify(res.headers).includes(KEY), JSON.stringify(res.headers));
        assert.ok(!JSON.stringify(res.body).includes(KEY));
      },
    );

    await t.step("a bearer token is never the selected subprotocol", async () => {
      const res = await rawUpgrade(gateway.port, "/ws", {
        "Sec-WebSocket-Protocol": `bearer.${KEY}, other`,
      });
      res.conn?.close();
      assert.equal(res.status, 101);
      assert.equal(res.headers["sec-websocket-protocol"], "other");
      assert.ok(!JSON.stringify(res.headers).includes(KEY), JSON.stringify(res.headers));
    });
  } finally {
    await gateway.close();
  }
});
