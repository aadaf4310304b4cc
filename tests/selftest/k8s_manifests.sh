#!/bin/sh
# Every Kubernetes manifest under deploy/kubernetes is validated against the
# Kubernetes API schemas (the npm package kubernetes-models@4.5.1, run with
# node), every kustomization's resources, components and patches exist, and
# the project's own rules hold: probes and a termination grace period on
# every workload, no :latest image, the agent's DaemonSet with hostNetwork,
# hostPID, NET_ADMIN and its token from a Secret, SYS_ADMIN/SYS_PTRACE and
# /run/netns only with --allow-netns (and then required), and every flag the
# manifests give `faultline agent` accepted by this build. When kubectl is
# there, every kustomization is rendered offline (`kubectl kustomize`) and
# the result validated the same way, and so is the sidecar component
# rendered onto a Deployment made of the example pod's application
# container. Skips (77) without node/npm or when the packages cannot be
# installed; the rendering step alone is skipped, saying so, without kubectl.
set -eu
: "${FAULTLINE:=build/faultline}" "${BUILD:=build}"
ROOT=${ROOT:-$(pwd)}
command -v node >/dev/null 2>&1 || { echo "skip: node is not installed (manifests not validated)"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "skip: npm is not installed (manifests not validated)"; exit 77; }
case "$BUILD" in /*) cache="$BUILD/node" ;; *) cache="$ROOT/$BUILD/node" ;; esac
if [ ! -f "$cache/node_modules/kubernetes-models/package.json" ] ||
	[ ! -f "$cache/node_modules/yaml/package.json" ]; then
	mkdir -p "$cache"
	if ! (cd "$cache" && timeout 180 npm install --no-audit --no-fund --silent \
		kubernetes-models@4.5.1 yaml@2.9.1 >npm-k8s.log 2>&1); then
		tail -n 5 "$cache/npm-k8s.log" || true
		echo "skip: cannot install kubernetes-models@4.5.1 and yaml@2.9.1 with npm (offline?)"
		exit 77
	fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# the flags this build's agent takes, from its --help
timeout 10 "$FAULTLINE" agent --help </dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/flags"

cat >"$tmp/validate.cjs" <<'JS'
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const [root, flagsFile] = process.argv.slice(2);
const agentFlags = new Set(fs.readFileSync(flagsFile, "utf8").split("\n").filter(Boolean));
let errors = 0, objects = 0, files = 0;
function fail(where, msg) { errors++; console.log(`${where}: ${msg}`); }

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".yaml") ? [path.join(dir, e.name)] : []);
}
const all = walk(root).sort();
const docs = new Map(); // file -> [{obj, line}]
for (const f of all) {
  files++;
  const text = fs.readFileSync(f, "utf8");
  const lc = new YAML.LineCounter();
  const parsed = YAML.parseAllDocuments(text, { lineCounter: lc });
  const list = [];
  for (const d of parsed) {
    if (d.errors.length) { fail(`${f}:${lc.linePos(d.errors[0].pos[0]).line}`, d.errors[0].message); continue; }
    const obj = d.toJS();
    if (obj !== null && obj !== undefined) list.push({ obj, line: lc.linePos(d.range[0]).line });
  }
  docs.set(f, list);
}

// kustomizations and components: what they name exists; patch files are partial objects
const patchFiles = new Set();
for (const [f, list] of docs) for (const { obj, line } of list) {
  if (!["Kustomization", "Component"].includes(obj.kind)) continue;
  const dir = path.dirname(f);
  for (const key of ["resources", "components"]) for (const r of obj[key] || []) {
    const p = path.join(dir, r);
    if (!fs.existsSync(p)) fail(`${f}:${line}`, `${key}: ${r} does not exist`);
    else if (fs.statSync(p).isDirectory() && !fs.existsSync(path.join(p, "kustomization.yaml")))
      fail(`${f}:${line}`, `${key}: ${r} has no kustomization.yaml`);
  }
  for (const p of obj.patches || []) {
    if (!p.path) continue;
    const pf = path.join(dir, p.path);
    patchFiles.add(pf);
    if (!fs.existsSync(pf)) fail(`${f}:${line}`, `patches: ${p.path} does not exist`);
  }
}

function checkAgentArgs(where, args) {
  for (const a of args || []) {
    if (typeof a !== "string" || !a.startsWith("--")) continue;
    const flag = a.split("=")[0];
    if (!agentFlags.has(flag)) fail(where, `faultline agent does not take ${flag}`);
  }
}

function podSpecOf(obj) {
  if (obj.kind === "Pod") return obj.spec;
  return obj.spec && obj.spec.template && obj.spec.template.spec;
}

function policy(where, obj, partial) {
  const spec = podSpecOf(obj);
  if (!spec) return;
  const workload = ["Deployment", "DaemonSet", "StatefulSet", "Pod"].includes(obj.kind);
  if (workload && !partial && spec.terminationGracePeriodSeconds === undefined)
    fail(where, "no terminationGracePeriodSeconds");
  for (const c of spec.containers || []) {
    const w = `${where} container ${c.name}`;
    if (!c.image || /:latest$/.test(c.image) || !/:/.test(c.image)) fail(w, `image '${c.image}' must carry a version tag`);
    if (!c.readinessProbe) fail(w, "no readinessProbe");
    if (!c.livenessProbe && !c.readinessProbe) fail(w, "no probes");
    const isAgent = (c.command || []).some((x) => /faultline$/.test(x)) && (c.args || [])[0] === "agent";
    if (isAgent) {
      checkAgentArgs(w, c.args);
      // the token: a file on a Secret's volume (--token-file), or an env var from a Secret
      const args = c.args || [];
      const i = args.findIndex((x) => x === "--token-file" || String(x).startsWith("--token-file="));
      const file = i < 0 ? null : (args[i].includes("=") ? args[i].split("=")[1] : args[i + 1]);
      const secretVols = new Set((spec.volumes || []).filter((v) => v.secret).map((v) => v.name));
      const fromVol = file && (c.volumeMounts || []).some((m) => secretVols.has(m.name) && file.startsWith(m.mountPath + "/"));
      const env = (c.env || []).find((e) => /^FAULTLINE(_PROXY)?_TOKEN$/.test(e.name));
      const fromEnv = env && env.valueFrom && env.valueFrom.secretKeyRef;
      if (args.includes("--token")) fail(w, "--token shows in the process list: use --token-file");
      if (!fromVol && !fromEnv) fail(w, "the agent's token must come from a Secret (--token-file on a secret volume)");
      const caps = ((c.securityContext || {}).capabilities || {});
      if (!(caps.add || []).includes("NET_ADMIN")) fail(w, "the agent needs NET_ADMIN");
      if (!(caps.drop || []).includes("ALL")) fail(w, "the agent drops every other capability");
      // entering pods' network namespaces: what it needs, and only then
      const ai = args.findIndex((x) => x === "--allow-netns" || String(x).startsWith("--allow-netns="));
      const allow = ai < 0 ? "" : (args[ai].includes("=") ? args[ai].split("=")[1] : String(args[ai + 1]));
      const need = new Set(["NET_ADMIN", "KILL"]);
      if (allow) need.add("SYS_ADMIN");
      if (allow.split(",").includes("pid")) need.add("SYS_PTRACE");
      for (const cap of caps.add || [])
        if (!need.has(cap)) fail(w, `capability ${cap} is not needed${allow ? "" : " (no --allow-netns)"}`);
      for (const cap of need)
        if (cap !== "KILL" && !(caps.add || []).includes(cap)) fail(w, `--allow-netns ${allow} needs ${cap}`);
      const netnsMount = (c.volumeMounts || []).find((m) => m.mountPath === "/run/netns");
      if (allow.split(",").some((x) => x.startsWith("name:"))) {
        if (!netnsMount) fail(w, "--allow-netns name:... needs /run/netns mounted");
        else if (!netnsMount.readOnly || netnsMount.mountPropagation !== "HostToContainer")
          fail(w, "/run/netns must be read-only with mountPropagation HostToContainer");
      } else if (netnsMount) fail(w, "/run/netns mounted without --allow-netns name:...");
    }
  }
  if (obj.kind === "DaemonSet" && /faultline-agent/.test(obj.metadata.name)) {
    if (spec.hostNetwork !== true) fail(where, "the agent DaemonSet needs hostNetwork");
    if (spec.hostPID !== true) fail(where, "the agent DaemonSet needs hostPID");
    if (spec.automountServiceAccountToken !== false) fail(where, "the agent needs no API token");
  }
}

function modelFor(apiVersion, kind) {
  const mod = apiVersion === "v1" ? "kubernetes-models/v1" : `kubernetes-models/${apiVersion}`;
  try { return require(mod)[kind]; } catch (e) { return undefined; }
}

for (const [f, list] of docs) for (const { obj, line } of list) {
  const where = `${f}:${line} ${obj.kind || "?"}/${(obj.metadata || {}).name || "?"}`;
  if (["Kustomization", "Component"].includes(obj.kind)) continue;
  if (Array.isArray(obj)) { // a JSON 6902 patch
    for (const op of obj) {
      if (!op.op || !op.path) fail(where, "JSON patch operation without op or path");
      if (op.value && typeof op.value === "string") checkAgentArgs(where, [op.value]);
    }
    continue;
  }
  if (!obj.apiVersion || !obj.kind) { fail(where, "no apiVersion or kind"); continue; }
  const Model = modelFor(obj.apiVersion, obj.kind);
  if (!Model) { fail(where, `unknown API ${obj.apiVersion} ${obj.kind}`); continue; }
  objects++;
  const partial = patchFiles.has(f);
  if (!partial) {
    try { new Model(obj).validate(); } catch (e) { fail(where, `schema: ${e.message}`); }
  }
  policy(where, obj, partial);
}
console.log(`${files} files, ${objects} API objects checked, ${errors} errors`);
process.exit(errors ? 1 : 0);
JS
NODE_PATH="$cache/node_modules" node "$tmp/validate.cjs" "$ROOT/deploy/kubernetes" "$tmp/flags"

# the validator itself: a broken manifest must be caught
mkdir -p "$tmp/bad/x"
cat >"$tmp/bad/x/bad.yaml" <<'EOF'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: faultline-agent
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      hostNetwork: "yes"
      containers:
        - name: agent
          image: faultline/faultline:latest
          command: ["/usr/bin/faultline"]
          args: ["agent", "--no-such-flag"]
          ports: [{containerPort: "8474"}]
        - name: agent2
          image: faultline/faultline:0.1.0
          command: ["/usr/bin/faultline"]
          args: ["agent", "--token-file", "/t/token", "--allow-netns", "pid,name:cni-*"]
          readinessProbe: {tcpSocket: {port: 8474}}
          securityContext: {capabilities: {drop: ["ALL"], add: ["NET_ADMIN", "SYS_PTRACE", "SYS_TIME"]}}
          volumeMounts: [{name: t, mountPath: /t}]
      volumes: [{name: t, secret: {secretName: x}}]
EOF
cat >"$tmp/bad/kustomization.yaml" <<'EOF'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [x/bad.yaml, missing.yaml]
EOF
if NODE_PATH="$cache/node_modules" node "$tmp/validate.cjs" "$tmp/bad" "$tmp/flags" >"$tmp/bad.out"; then
	cat "$tmp/bad.out"; echo "FAIL: a broken manifest passed"; exit 1
fi
for want in "missing.yaml does not exist" "schema:" "carry a version tag" "--no-such-flag" \
	"no readinessProbe" "needs hostPID" "token must come from a Secret" "needs SYS_ADMIN" \
	"capability SYS_TIME is not needed" "needs /run/netns mounted"; do
	grep -q -- "$want" "$tmp/bad.out" || { cat "$tmp/bad.out"; echo "FAIL: not reported: $want"; exit 1; }
done

# rendered: what kubectl would apply, validated the same way
if ! command -v kubectl >/dev/null 2>&1; then
	echo "skip (this step only): kubectl is not installed, kustomizations not rendered"
	echo "ok"
	exit 0
fi
mkdir -p "$tmp/rendered" "$tmp/sidecar-example"
for k in "$ROOT"/deploy/kubernetes/*/kustomization.yaml; do
	d=$(dirname "$k")
	timeout 60 kubectl kustomize "$d" >"$tmp/rendered/$(basename "$d").yaml" ||
		{ echo "FAIL: kubectl kustomize $d"; exit 1; }
done
# the sidecar component onto the example pod: its application container as
# a Deployment labelled for the component
cat >"$tmp/to_deployment.cjs" <<'JS'
const fs = require("fs");
const YAML = require("yaml");
const [podFile, out] = process.argv.slice(2);
const pod = YAML.parse(fs.readFileSync(podFile, "utf8"));
const app = pod.spec.containers.filter((c) => c.name !== "faultline-agent");
const labels = { "app.kubernetes.io/name": pod.metadata.labels["app.kubernetes.io/name"] };
const dep = {
  apiVersion: "apps/v1", kind: "Deployment",
  metadata: { name: pod.metadata.name, labels: { ...labels, "faultline.dev/agent": "sidecar" } },
  spec: { replicas: 1, selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: {
            terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds, containers: app } } },
};
fs.writeFileSync(out, YAML.stringify(dep));
JS
NODE_PATH="$cache/node_modules" node "$tmp/to_deployment.cjs" "$ROOT/deploy/kubernetes/sidecar/pod.yaml" \
	"$tmp/sidecar-example/deployment.yaml"
cat >"$tmp/sidecar-example/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
components: [$(realpath --relative-to="$tmp/sidecar-example" "$ROOT/deploy/kubernetes/components/sidecar")]
EOF
timeout 60 kubectl kustomize --load-restrictor LoadRestrictionsNone "$tmp/sidecar-example" \
	>"$tmp/rendered/sidecar-example.yaml" || { echo "FAIL: kubectl kustomize (sidecar component onto the example pod)"; exit 1; }
for c in "name: orders" "name: faultline-agent" "shareProcessNamespace: true" "secretName: faultline-agent-token"; do
	grep -q "$c" "$tmp/rendered/sidecar-example.yaml" ||
		{ cat "$tmp/rendered/sidecar-example.yaml"; echo "FAIL: the rendered sidecar Deployment has no '$c'"; exit 1; }
done
if ! NODE_PATH="$cache/node_modules" node "$tmp/validate.cjs" "$tmp/rendered" "$tmp/flags" >"$tmp/rendered.out"; then
	cat "$tmp/rendered.out"; echo "FAIL: a rendered kustomization does not validate"; exit 1
fi
sed 's/^/rendered with kubectl kustomize: /' "$tmp/rendered.out"
echo "ok"
