#!/bin/sh
# Toxiproxy compatibility: the npm package toxiproxy-node-client@4.1.0 (a
# client nobody here wrote) drives `faultline proxy` through every call it
# has: create, get, getAll, populate, update, disable/enable, add/get/update/
# remove toxics of every Toxiproxy type, reset, version. Skips (77) when node
# or the package cannot be had.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}" "${BUILD:=build}"
ROOT=${ROOT:-$(pwd)}
command -v node >/dev/null 2>&1 || { echo "skip: node is not installed"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: npm is not installed"; exit 77; }
case "$BUILD" in /*) cache="$BUILD/node" ;; *) cache="$ROOT/$BUILD/node" ;; esac
if [ ! -f "$cache/node_modules/toxiproxy-node-client/package.json" ]; then
	mkdir -p "$cache"
	if ! (cd "$cache" && timeout 120 npm install --no-audit --no-fund --silent \
		toxiproxy-node-client@4.1.0 >npm.log 2>&1); then
		tail -n 5 "$cache/npm.log" || true
		echo "skip: cannot install toxiproxy-node-client@4.1.0 with npm (offline?)"
		exit 77
	fi
fi

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$FL_TEST_HELPERS/proxy_echo" >"$tmp/echo.port" & pids="$pids $!"
"$FAULTLINE" proxy --listen 127.0.0.1:0 --seed 3 >"$tmp/api.out" 2>"$tmp/api.err" & pids="$pids $!"
i=0
while ! grep -q "listening on" "$tmp/api.out" 2>/dev/null || [ ! -s "$tmp/echo.port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/api.err"; echo "proxy did not start"; exit 1; }
	sleep 0.05
done
api=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/api.out")
echo_port=$(cat "$tmp/echo.port")

cat >"$tmp/compat.js" <<'JS'
const { Toxiproxy } = require("toxiproxy-node-client");
const net = require("net");
const assert = require("assert");
const [api, echoPort] = process.argv.slice(2);
const up = `127.0.0.1:${echoPort}`;

function rtt(listen) { /* one echo round trip through the proxy, in ms */
  const [host, port] = listen.split(":");
  return new Promise((resolve, reject) => {
    const s = net.connect(+port, host, () => { t0 = Date.now(); s.write("ping"); });
    let t0 = 0;
    s.on("data", () => { s.destroy(); resolve(Date.now() - t0); });
    s.on("error", reject);
    s.setTimeout(3000, () => { s.destroy(); reject(new Error("timeout")); });
  });
}
function refused(listen) {
  const [host, port] = listen.split(":");
  return new Promise((resolve) => {
    const s = net.connect(+port, host, () => { s.destroy(); resolve(false); });
    s.on("error", (e) => resolve(e.code === "ECONNREFUSED"));
  });
}

(async () => {
  const tp = new Toxiproxy(`http://${api}`);
  const v = await tp.getVersion();
  assert.ok(JSON.parse(v).version, "version: " + v);

  let p = await tp.createProxy({ name: "svc", listen: "127.0.0.1:0", upstream: up });
  assert.strictEqual(p.name, "svc");
  assert.match(p.listen, /^127\.0\.0\.1:[1-9][0-9]*$/);
  assert.strictEqual(p.enabled, true);
  const got = await tp.get("svc");
  assert.strictEqual(got.listen, p.listen);
  assert.strictEqual(got.upstream, up);
  assert.ok(await rtt(p.listen) < 100);

  const pop = await tp.populate([
    { name: "a", listen: "127.0.0.1:0", upstream: up },
    { name: "b", listen: "127.0.0.1:0", upstream: up, enabled: true },
  ]);
  assert.deepStrictEqual(Object.keys(pop).sort(), ["a", "b"]);
  const all = await tp.getAll();
  assert.deepStrictEqual(Object.keys(all).sort(), ["a", "b", "svc"]);
  assert.strictEqual(all.svc.upstream, up);

  // disable / enable (the "down" toxic)
  p = await p.update({ enabled: false, listen: p.listen, name: p.name, upstream: p.upstream });
  assert.strictEqual(p.enabled, false);
  assert.ok(await refused(p.listen), "disabled proxy must refuse");
  p = await p.update({ enabled: true, listen: p.listen, name: p.name, upstream: p.upstream });
  assert.strictEqual(p.enabled, true);
  assert.ok(await rtt(p.listen) < 100);

  const toxics = [
    ["latency", { latency: 120, jitter: 0 }, { latency: 130, jitter: 5 }],
    ["bandwidth", { rate: 1000 }, { rate: 2000 }],
    ["slow_close", { delay: 100 }, { delay: 200 }],
    ["timeout", { timeout: 1000 }, { timeout: 2000 }],
    ["slicer", { average_size: 64, size_variation: 16, delay: 10 }, { average_size: 32, size_variation: 8, delay: 20 }],
    ["limit_data", { bytes: 1000 }, { bytes: 2000 }],
    ["reset_peer", { timeout: 100 }, { timeout: 200 }],
  ];
  for (const [type, attrs, attrs2] of toxics) {
    for (const stream of ["upstream", "downstream"]) {
      const name = `${type}_${stream}_t`;
      const t = await p.addToxic({ name, type, stream, toxicity: 1, attributes: attrs });
      assert.strictEqual(t.name, name);
      assert.strictEqual(t.type, type);
      assert.strictEqual(t.stream, stream);
      assert.strictEqual(t.toxicity, 1);
      assert.deepStrictEqual(t.attributes, attrs);
      if (type === "latency" && stream === "downstream") {
        const ms = await rtt(p.listen);
        assert.ok(ms >= 118, `latency toxic: round trip ${ms} ms`);
      }
      const g = await p.getToxic(name);
      assert.deepStrictEqual(g.attributes, attrs);
      const u = await g.update({ name, type, stream, toxicity: 0.5, attributes: attrs2 });
      assert.strictEqual(u.toxicity, 0.5);
      assert.deepStrictEqual(u.attributes, attrs2);
      await u.remove();
      await assert.rejects(p.getToxic(name), /404/);
    }
  }
  // toxics with defaults (no name, no stream)
  const d = await p.addToxic({ type: "latency", attributes: { latency: 5 } });
  assert.strictEqual(d.name, "latency_downstream");
  assert.strictEqual(d.stream, "downstream");
  await p.addToxic({ type: "bandwidth", stream: "upstream", attributes: { rate: 100 } });
  await assert.rejects(p.addToxic({ type: "latency", attributes: { latency: 5 } }), /409/);
  await assert.rejects(p.addToxic({ type: "nonsense", attributes: {} }), /400/);
  await assert.rejects(tp.get("nope"), /404/);
  await assert.rejects(tp.createProxy({ name: "svc", listen: "127.0.0.1:0", upstream: up }), /409/);

  // reset: every toxic gone, every proxy enabled
  await (await tp.get("a")).update({ enabled: false, listen: pop.a.listen, name: "a", upstream: up });
  await tp.reset();
  const after = await tp.getAll();
  for (const name of Object.keys(after)) {
    assert.strictEqual(after[name].enabled, true);
  }
  const raw = await (await fetch(`http://${api}/proxies/svc/toxics`)).json();
  assert.deepStrictEqual(raw, []);
  assert.ok(await rtt(p.listen) < 100);

  await p.remove();
  await assert.rejects(tp.get("svc"), /404/);
  await pop.a.remove();
  await pop.b.remove();
  assert.deepStrictEqual(await tp.getAll(), {});
  console.log("toxiproxy-node-client 4.1.0: all calls passed");
})().catch((e) => { console.error(e); process.exit(1); });
JS
NODE_PATH="$cache/node_modules" timeout 60 node "$tmp/compat.js" "$api" "$echo_port"
