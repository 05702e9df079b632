/**
 * The WarpAgent CRD's validation of spec.kafka.sasl (mechanisms, usersSecret, oauthbearer,
 * connectionsMaxReauth) on a real kube-apiserver + etcd (e2e/support/kube): the CEL rules and
 * defaults as the apiserver applies them, with dry-run creates. Only the control plane runs here;
 * operator/test/integration/operator.test.ts covers the other fields with the operator running.
 */
import assert from "node:assert/strict";
import { eventually } from "../../../e2e/support/eventually.js";
import { startControlPlane } from "../../../e2e/support/kube/control-plane.js";
import type { ControlPlane } from "../../../e2e/support/kube/control-plane.js";
import { warpAgentCrd } from "../../src/api/crd.js";
import type { KafkaSaslSpec, WarpAgent, WarpAgentSpec } from "../../src/api/types.js";
import { KubeApiError, KubeClient, resourcePath } from "../../src/kube/client.js";

const WA = { apiVersion: "warpagent.dev/v1alpha1", plural: "warpagents", namespace: "default" };
const JWKS_URL = "https://idp.example.com/realms/kafka/protocol/openid-connect/certs";

function spec(sasl: Partial<KafkaSaslSpec> | Record<string, unknown>): WarpAgentSpec {
  return {
    region: "us-east-1",
    tables: { files: "crd-files", chunks: "crd-chunks" },
    bucket: { name: "crd-bucket" },
    kafka: { sasl: sasl as KafkaSaslSpec },
  };
}

describe("WarpAgent CRD on a real kube-apiserver: spec.kafka.sasl", function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let admin: KubeClient;

  /** A dry-run create; resolves with the object as the apiserver would store it (defaults applied). */
  function dryRunCreate(s: WarpAgentSpec): Promise<WarpAgent> {
    return admin.request<WarpAgent>("POST", resourcePath(WA), {
      query: { dryRun: "All" },
      body: {
        apiVersion: WA.apiVersion,
        kind: "WarpAgent",
        metadata: { name: "sasl", namespace: WA.namespace },
        spec: s,
      },
    });
  }

  before(async () => {
    cp = await startControlPlane();
    admin = await KubeClient.fromKubeConfig(cp.adminConfig());
    // Raw server-side apply: the typed serializer of @kubernetes/client-node drops `default` and the
    // x-kubernetes-* keys of a CRD schema.
    const crd = warpAgentCrd();
    await admin.patch(
      { apiVersion: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions", name: crd.metadata.name },
      "apply",
      crd,
      "warp-e2e",
    );
    await eventually(
      async () => {
        const got = await admin.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>({
          apiVersion: "apiextensions.k8s.io/v1",
          plural: "customresourcedefinitions",
          name: crd.metadata.name,
        });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { timeoutMs: 30_000, what: "the WarpAgent CRD to be Established" },
    );
    await eventually(() => admin.list({ ...WA }).then(() => true), { timeoutMs: 30_000, what: "warpagents served" });
  });

  after(async () => {
    await cp?.stop();
  });

  it("refuses SASL settings the agents could not start with, naming the field and the fix", async () => {
    const oauth = { jwks: { url: JWKS_URL } };
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        "OAUTHBEARER without oauthbearer settings",
        { mechanisms: ["OAUTHBEARER"] },
        /spec\.kafka\.sasl\.oauthbearer: Invalid value.*oauthbearer .* is required when OAUTHBEARER is enabled/,
      ],
      [
        "oauthbearer settings without OAUTHBEARER",
        { mechanisms: ["SCRAM-SHA-512"], usersSecret: { name: "users" }, oauthbearer: oauth },
        /spec\.kafka\.sasl\.oauthbearer: .*OAUTHBEARER is not in mechanisms: add it or remove oauthbearer/,
      ],
      [
        "a JWKS from both a URL and a Secret",
        {
          mechanisms: ["OAUTHBEARER"],
          oauthbearer: { jwks: { url: JWKS_URL, secretKeyRef: { name: "jwks" } } },
        },
        /spec\.kafka\.sasl\.oauthbearer\.jwks: .*set exactly one of url, configMapKeyRef and secretKeyRef/,
      ],
      [
        "a JWKS from both a ConfigMap and a Secret",
        {
          mechanisms: ["OAUTHBEARER"],
          oauthbearer: { jwks: { configMapKeyRef: { name: "jwks" }, secretKeyRef: { name: "jwks" } } },
        },
        /spec\.kafka\.sasl\.oauthbearer\.jwks: .*set exactly one of/,
      ],
      [
        "a JWKS from nowhere",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: {} } },
        /spec\.kafka\.sasl\.oauthbearer\.jwks: .*set exactly one of/,
      ],
      [
        "PLAIN without usersSecret",
        { mechanisms: ["PLAIN"] },
        /spec\.kafka\.sasl\.usersSecret: .*usersSecret is required when PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 is enabled/,
      ],
      [
        "SCRAM beside OAUTHBEARER without usersSecret",
        { mechanisms: ["OAUTHBEARER", "SCRAM-SHA-256"], oauthbearer: oauth },
        /spec\.kafka\.sasl\.usersSecret: .*usersSecret is required when PLAIN/,
      ],
      [
        "usersSecret with OAUTHBEARER only (the agent refuses a users file nothing reads)",
        { mechanisms: ["OAUTHBEARER"], usersSecret: { name: "users" }, oauthbearer: oauth },
        /spec\.kafka\.sasl\.usersSecret: .*only read by PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512/,
      ],
      [
        "an unknown mechanism",
        { mechanisms: ["GSSAPI"], usersSecret: { name: "users" } },
        /spec\.kafka\.sasl\.mechanisms\[0\]: Unsupported value: "GSSAPI"/,
      ],
      [
        "a file:// JWKS URL (a file comes from a ConfigMap or Secret)",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { url: "file:///etc/jwks.json" } } },
        /spec\.kafka\.sasl\.oauthbearer\.jwks\.url: .*http:\/\/ or https:\/\/ URL .*use configMapKeyRef or secretKeyRef/,
      ],
      [
        "a JWKS URL with a password in it",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { url: "https://u:p@idp.example.com/certs" } } },
        /spec\.kafka\.sasl\.oauthbearer\.jwks\.url: .*without a user name, password/,
      ],
      [
        "a JWKS ConfigMap key that is no key",
        {
          mechanisms: ["OAUTHBEARER"],
          oauthbearer: { jwks: { configMapKeyRef: { name: "jwks", key: "keys/jwks.json" } } },
        },
        /spec\.kafka\.sasl\.oauthbearer\.jwks\.configMapKeyRef\.key: .*ConfigMap or Secret key/,
      ],
      [
        "an audience with a comma (the agent flag is comma-separated)",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, audience: ["a,b"] } },
        /spec\.kafka\.sasl\.oauthbearer\.audience\[0\]: .*without ','/,
      ],
      [
        "an issuer with a space",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, issuer: "https://idp example" } },
        /spec\.kafka\.sasl\.oauthbearer\.issuer: .*issuer must be non-empty and contain no spaces/,
      ],
      [
        "a clock skew without a unit",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, clockSkew: "30" } },
        /spec\.kafka\.sasl\.oauthbearer\.clockSkew: .*clockSkew must be a duration of whole numbers with units h, m, s or ms/,
      ],
      [
        "a clock skew above the agent's 10m",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, clockSkew: "11m" } },
        /spec\.kafka\.sasl\.oauthbearer\.clockSkew: .*clockSkew must be from 0s to 10m/,
      ],
      [
        "a JWKS refresh interval below 1s",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, jwksRefreshInterval: "500ms" } },
        /spec\.kafka\.sasl\.oauthbearer\.jwksRefreshInterval: .*from 1s to 168h/,
      ],
      [
        "a JWKS refresh interval in days (not a Go duration)",
        { mechanisms: ["OAUTHBEARER"], oauthbearer: { ...oauth, jwksRefreshInterval: "1d" } },
        /spec\.kafka\.sasl\.oauthbearer\.jwksRefreshInterval: .*duration of whole numbers/,
      ],
      [
        "a re-authentication interval below 1s",
        { mechanisms: ["PLAIN"], usersSecret: { name: "users" }, connectionsMaxReauth: "500ms" },
        /spec\.kafka\.sasl\.connectionsMaxReauth: .*connectionsMaxReauth must be 0s \(off\) or from 1s to 720h/,
      ],
      [
        "a re-authentication interval beyond any duration",
        { mechanisms: ["PLAIN"], usersSecret: { name: "users" }, connectionsMaxReauth: "9999999999999h" },
        /spec\.kafka\.sasl\.connectionsMaxReauth: .*duration of whole numbers/,
      ],
      [
        "the longest re-authentication interval the shape allows (inside CEL's duration range, above the agent's)",
        { mechanisms: ["PLAIN"], usersSecret: { name: "users" }, connectionsMaxReauth: "999999h999999h" },
        /spec\.kafka\.sasl\.connectionsMaxReauth: .*connectionsMaxReauth must be 0s \(off\) or from 1s to 720h/,
      ],
      [
        "a fractional re-authentication interval",
        { mechanisms: ["PLAIN"], usersSecret: { name: "users" }, connectionsMaxReauth: "1.5h" },
        /spec\.kafka\.sasl\.connectionsMaxReauth: .*duration of whole numbers/,
      ],
    ];
    for (const [what, sasl, re] of cases) {
      await assert.rejects(
        dryRunCreate(spec(sasl)),
        (e: unknown) => {
          assert.ok(e instanceof KubeApiError && e.code === 422, `${what}: ${String(e)}`);
          assert.match(e.message, re, what);
          assert.doesNotMatch(e.message, /type conversion error|no such key|cost/i, what);
          return true;
        },
        what,
      );
    }
  });

  it("accepts OAUTHBEARER without usersSecret and fills in the agent's defaults", async () => {
    const created = await dryRunCreate(
      spec({ mechanisms: ["OAUTHBEARER"], oauthbearer: { jwks: { configMapKeyRef: { name: "idp-jwks" } } } }),
    );
    assert.deepEqual(created.spec.kafka?.sasl, {
      mechanisms: ["OAUTHBEARER"],
      oauthbearer: {
        jwks: { configMapKeyRef: { name: "idp-jwks", key: "jwks.json" } },
        principalClaim: "sub",
        clockSkew: "30s",
        jwksRefreshInterval: "1h",
      },
    });
  });

  it("accepts every mechanism together, each source of the JWKS, and the durations people write", async () => {
    const accepted: Array<Record<string, unknown>> = [
      {
        mechanisms: ["OAUTHBEARER", "SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"],
        usersSecret: { name: "users" },
        oauthbearer: {
          jwks: { url: JWKS_URL },
          issuer: "https://idp.example.com/realms/kafka",
          audience: ["warp-kafka", "api://warp"],
          principalClaim: "client_id",
          clockSkew: "0s",
          jwksRefreshInterval: "168h",
        },
        connectionsMaxReauth: "1h30m",
      },
      {
        mechanisms: ["OAUTHBEARER"],
        oauthbearer: { jwks: { url: "http://[::1]:8080/jwks" }, clockSkew: "10m", jwksRefreshInterval: "1s" },
        connectionsMaxReauth: "0s",
      },
      {
        mechanisms: ["OAUTHBEARER"],
        oauthbearer: { jwks: { secretKeyRef: { name: "idp-jwks", key: "keys.json" } } },
        connectionsMaxReauth: "720h",
      },
      { mechanisms: ["SCRAM-SHA-512"], usersSecret: { name: "users" }, connectionsMaxReauth: "1s" },
    ];
    for (const sasl of accepted) {
      const created = await dryRunCreate(spec(sasl));
      assert.deepEqual(created.spec.kafka?.sasl?.mechanisms, sasl.mechanisms, JSON.stringify(sasl));
    }
  });
});
