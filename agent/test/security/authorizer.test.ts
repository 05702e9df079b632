/**
 * The authorizer's decisions (security/authorizer.ts) as Kafka's StandardAuthorizer makes them: every
 * pairing of a binding's operation with an operation asked, on every resource type bindings may name
 * (implied operations for ALLOW only, ALL, DENY); patterns (literal, the `*` wildcard, prefixed);
 * principals (exact, `User:*`) and hosts (`*`, an IP, the IPv4-mapped form a dual-stack socket reports);
 * deny before allow; super users; -allowEveryoneIfNoAclFound both ways; authorizeByResourceType (what
 * InitProducerId asks); the authorized-operations bit field; and filters (DescribeAcls, DeleteAcls).
 */
import assert from "node:assert/strict";
import type { AclBinding, AclFilter, AclOperation, AclResourceType } from "../../src/metadata/acls.js";
import {
  AclStore,
  aclBindingProblem,
  canonicalHost,
  CLUSTER_RESOURCE_NAME,
  SUPPORTED_OPERATIONS,
} from "../../src/metadata/acls.js";
import type { AuthorizationConfig, RequestedOperation, Session } from "../../src/security/authorizer.js";
import { Authorizer, decide, decideByResourceType, sessionOf } from "../../src/security/authorizer.js";
import { capturedLogger } from "../support/captured-logger.js";

const ALICE: Session = { principal: "User:alice", host: "10.0.0.1" };
const BOB: Session = { principal: "User:bob", host: "10.0.0.2" };
const STRICT: AuthorizationConfig = { enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false };
const OPEN: AuthorizationConfig = { ...STRICT, allowEveryoneIfNoAclFound: true };

const RESOURCE_TYPES: readonly AclResourceType[] = ["TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"];
const nameFor = (type: AclResourceType) => (type === "CLUSTER" ? CLUSTER_RESOURCE_NAME : "orders");

function acl(over: Partial<AclBinding>): AclBinding {
  const b: AclBinding = {
    resourceType: "TOPIC",
    resourceName: "orders",
    patternType: "LITERAL",
    principal: "User:alice",
    host: "*",
    operation: "READ",
    permissionType: "ALLOW",
    ...over,
  };
  assert.equal(aclBindingProblem(b), null, `test binding ${JSON.stringify(b)} is valid`);
  return b;
}

function store(...bindings: AclBinding[]): AclStore {
  const s = new AclStore();
  for (const b of bindings) s.add(b);
  return s;
}

const allows = (
  s: AclStore,
  op: RequestedOperation,
  type: AclResourceType = "TOPIC",
  name = "orders",
  session: Session = ALICE,
  config: AuthorizationConfig = STRICT,
) => decide(s, config, session, op, type, name).allowed;

/** Operations a granted operation implies (ALLOW bindings only), as Kafka defines them. */
function impliedBy(granted: AclOperation, asked: AclOperation): boolean {
  if (granted === "ALL" || granted === asked) return true;
  if (asked === "DESCRIBE") return ["READ", "WRITE", "DELETE", "ALTER"].includes(granted);
  if (asked === "DESCRIBE_CONFIGS") return granted === "ALTER_CONFIGS";
  return false;
}

describe("authorizer", () => {
  describe("every operation on every resource type", () => {
    for (const type of RESOURCE_TYPES) {
      const name = nameFor(type);
      const ops = SUPPORTED_OPERATIONS[type];
      for (const granted of [...ops, "ALL" as const]) {
        it(`${type}: ALLOW ${granted} allows ${granted === "ALL" ? "every operation" : "it and what it implies, nothing else"}`, () => {
          const s = store(acl({ resourceType: type, resourceName: name, operation: granted }));
          for (const asked of ops)
            assert.equal(
              allows(s, asked as RequestedOperation, type, name),
              impliedBy(granted, asked),
              `ALLOW ${granted} → ${asked}`,
            );
        });
        it(`${type}: DENY ${granted} denies ${granted === "ALL" ? "every operation" : "it only (a deny implies nothing)"}`, () => {
          // Everything is allowed to alice by a wildcard ALLOW ALL; the DENY takes away what it names.
          const s = store(
            acl({ resourceType: type, resourceName: name, operation: "ALL" }),
            acl({ resourceType: type, resourceName: name, operation: granted, permissionType: "DENY" }),
          );
          for (const asked of ops)
            assert.equal(
              allows(s, asked as RequestedOperation, type, name),
              !(granted === "ALL" || granted === asked),
              `DENY ${granted} → ${asked}`,
            );
        });
      }
    }

    it("a binding on one resource type says nothing about another", () => {
      const s = store(acl({ resourceType: "GROUP", operation: "ALL" }));
      assert.equal(allows(s, "READ", "TOPIC"), false);
      assert.equal(allows(s, "READ", "GROUP"), true);
      assert.equal(allows(s, "WRITE", "TRANSACTIONAL_ID"), false);
    });
  });

  describe("patterns", () => {
    it("literal: only the resource named; the wildcard * every resource of the type", () => {
      const s = store(acl({ resourceName: "orders" }));
      assert.equal(allows(s, "READ", "TOPIC", "orders"), true);
      assert.equal(allows(s, "READ", "TOPIC", "orders-eu"), false);
      assert.equal(allows(s, "READ", "TOPIC", "order"), false);
      const w = store(acl({ resourceName: "*" }));
      for (const name of ["orders", "x", "*"]) assert.equal(allows(w, "READ", "TOPIC", name), true, name);
    });

    it("prefixed: every resource whose name starts with the prefix (the prefix itself included)", () => {
      const s = store(acl({ resourceName: "orders-", patternType: "PREFIXED" }));
      for (const [name, expected] of [
        ["orders-", true],
        ["orders-eu", true],
        ["orders-eu-1", true],
        ["orders", false],
        ["xorders-eu", false],
      ] as const)
        assert.equal(allows(s, "READ", "TOPIC", name), expected, name);
      // A prefix "*" is a literal character, not a wildcard.
      const star = store(acl({ resourceName: "*", patternType: "PREFIXED" }));
      assert.equal(allows(star, "READ", "TOPIC", "orders"), false);
      assert.equal(allows(star, "READ", "TOPIC", "*orders"), true);
    });

    it("several prefixes of different lengths all apply", () => {
      const s = store(
        acl({ resourceName: "o", patternType: "PREFIXED", operation: "READ" }),
        acl({ resourceName: "orders-e", patternType: "PREFIXED", operation: "WRITE" }),
        acl({ resourceName: "orders-eu-long-name", patternType: "PREFIXED", operation: "DELETE" }),
      );
      assert.equal(allows(s, "READ", "TOPIC", "orders-eu"), true);
      assert.equal(allows(s, "WRITE", "TOPIC", "orders-eu"), true);
      assert.equal(allows(s, "DELETE", "TOPIC", "orders-eu"), false);
    });
  });

  describe("principals and hosts", () => {
    it("a binding applies to its principal, and User:* to everybody", () => {
      const s = store(acl({ principal: "User:alice" }));
      assert.equal(allows(s, "READ", "TOPIC", "orders", ALICE), true);
      assert.equal(allows(s, "READ", "TOPIC", "orders", BOB), false);
      const any = store(acl({ principal: "User:*" }));
      assert.equal(allows(any, "READ", "TOPIC", "orders", BOB), true);
      assert.equal(allows(any, "READ", "TOPIC", "orders", { principal: "User:ANONYMOUS", host: "1.2.3.4" }), true);
    });

    it("principal names are compared exactly (case included)", () => {
      const s = store(acl({ principal: "User:Alice" }));
      assert.equal(allows(s, "READ"), false);
      const dn = store(acl({ principal: "User:CN=orders-app,O=Example" }));
      assert.equal(
        allows(dn, "READ", "TOPIC", "orders", { principal: "User:CN=orders-app,O=Example", host: "::1" }),
        true,
      );
    });

    it("a binding applies from its host (an IP) or from any host (*)", () => {
      const s = store(acl({ host: "10.0.0.1" }));
      assert.equal(allows(s, "READ", "TOPIC", "orders", ALICE), true);
      assert.equal(allows(s, "READ", "TOPIC", "orders", { ...ALICE, host: "10.0.0.9" }), false);
      // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d: the same client.
      assert.equal(
        allows(
          s,
          "READ",
          "TOPIC",
          "orders",
          sessionOf({ principal: "alice", tlsPrincipal: null, host: "::ffff:10.0.0.1" }),
        ),
        true,
      );
      const v6 = store(acl({ host: "2001:db8:0:0:0:0:0:1" }));
      assert.equal(
        allows(
          v6,
          "READ",
          "TOPIC",
          "orders",
          sessionOf({ principal: "alice", tlsPrincipal: null, host: "2001:DB8::1" }),
        ),
        true,
      );
    });

    it("canonical hosts: IPv4 as is, IPv6 compressed lowercase, IPv4-mapped IPv6 as IPv4", () => {
      assert.equal(canonicalHost("*"), "*");
      assert.equal(canonicalHost("10.1.2.3"), "10.1.2.3");
      assert.equal(canonicalHost("::FFFF:10.1.2.3"), "10.1.2.3");
      assert.equal(canonicalHost("0:0:0:0:0:0:0:1"), "::1");
      assert.equal(canonicalHost("fe80::1%eth0"), "fe80::1%eth0");
    });

    it("sessions: SASL user, else the mutual-TLS name, else ANONYMOUS", () => {
      assert.equal(sessionOf({ principal: "alice", tlsPrincipal: "CN=x", host: "1.1.1.1" }).principal, "User:alice");
      assert.equal(sessionOf({ principal: null, tlsPrincipal: "CN=x", host: "1.1.1.1" }).principal, "User:CN=x");
      assert.equal(sessionOf({ principal: null, tlsPrincipal: null, host: "1.1.1.1" }).principal, "User:ANONYMOUS");
    });
  });

  describe("deny before allow", () => {
    it("a DENY that applies wins over any ALLOW, whatever pattern carries either", () => {
      const cases: Array<[string, AclBinding]> = [
        ["literal", acl({ permissionType: "DENY" })],
        ["wildcard", acl({ resourceName: "*", permissionType: "DENY" })],
        ["prefixed", acl({ resourceName: "ord", patternType: "PREFIXED", permissionType: "DENY" })],
        ["User:*", acl({ principal: "User:*", permissionType: "DENY" })],
        ["DENY ALL", acl({ operation: "ALL", permissionType: "DENY" })],
      ];
      for (const [label, deny] of cases) {
        const s = store(acl({ operation: "ALL" }), acl({ resourceName: "*", operation: "READ" }), deny);
        assert.equal(allows(s, "READ"), false, label);
      }
    });

    it("a DENY for another principal, host or operation does not apply", () => {
      const s = store(
        acl({}),
        acl({ principal: "User:bob", permissionType: "DENY" }),
        acl({ host: "10.9.9.9", permissionType: "DENY" }),
        acl({ operation: "WRITE", permissionType: "DENY" }),
      );
      assert.equal(allows(s, "READ"), true);
      assert.equal(allows(s, "WRITE"), false);
    });

    it("a DENY READ does not deny DESCRIBE (implication is for ALLOW only)", () => {
      const s = store(acl({ operation: "DESCRIBE" }), acl({ operation: "READ", permissionType: "DENY" }));
      assert.equal(allows(s, "DESCRIBE"), true);
      assert.equal(allows(s, "READ"), false);
    });
  });

  describe("super users and resources without bindings", () => {
    it("a super user may do everything, DENY bindings notwithstanding", () => {
      const s = store(acl({ principal: "User:*", operation: "ALL", permissionType: "DENY" }));
      const config = { ...STRICT, superUsers: ["User:admin", "User:ops"] };
      for (const op of ["READ", "WRITE", "ALTER", "CLUSTER_ACTION"] as const)
        assert.equal(allows(s, op, "TOPIC", "orders", { principal: "User:ops", host: "1.1.1.1" }, config), true);
      assert.equal(allows(s, "READ", "TOPIC", "orders", ALICE, config), false);
    });

    it("-allowEveryoneIfNoAclFound=false: a resource no binding names is closed to everybody", () => {
      assert.equal(allows(store(), "READ", "TOPIC", "orders", ALICE, STRICT), false);
      assert.equal(decide(store(), STRICT, ALICE, "READ", "TOPIC", "orders").rule, "no acl: deny");
    });

    it("-allowEveryoneIfNoAclFound=true: open while no binding names it, closed to others once one does", () => {
      assert.equal(allows(store(), "WRITE", "TOPIC", "orders", BOB, OPEN), true);
      // A binding for alice on the resource: bob (no binding applies to him) is denied.
      const s = store(acl({}));
      assert.equal(allows(s, "READ", "TOPIC", "orders", BOB, OPEN), false);
      assert.equal(allows(s, "READ", "TOPIC", "other", BOB, OPEN), true, "other resources stay open");
      // A prefixed binding names every resource it covers.
      const p = store(acl({ resourceName: "ord", patternType: "PREFIXED" }));
      assert.equal(allows(p, "READ", "TOPIC", "orders", BOB, OPEN), false);
    });
  });

  describe("authorizeByResourceType (InitProducerId: WRITE on some topic)", () => {
    const byType = (s: AclStore, config: AuthorizationConfig = STRICT, session: Session = ALICE) =>
      decideByResourceType(s, config, session, "WRITE", "TOPIC");

    it("allowed by an ALLOW on any topic, literal, prefixed or wildcard; ALL counts, implied operations do not", () => {
      assert.equal(byType(store(acl({ operation: "WRITE" }))), true);
      assert.equal(byType(store(acl({ operation: "WRITE", patternType: "PREFIXED", resourceName: "o" }))), true);
      assert.equal(byType(store(acl({ operation: "WRITE", resourceName: "*" }))), true);
      assert.equal(byType(store(acl({ operation: "ALL" }))), true);
      assert.equal(byType(store(acl({ operation: "READ" }))), false);
      assert.equal(byType(store(acl({ operation: "WRITE", principal: "User:bob" }))), false);
      assert.equal(byType(store(acl({ operation: "WRITE", resourceType: "TRANSACTIONAL_ID" }))), false);
    });

    it("denied when every ALLOW is covered by a DENY", () => {
      const allow = acl({ operation: "WRITE", resourceName: "abcd" });
      assert.equal(byType(store(allow, acl({ ...allow, permissionType: "DENY" }))), false);
      assert.equal(
        byType(
          store(
            allow,
            acl({ operation: "WRITE", resourceName: "abc", patternType: "PREFIXED", permissionType: "DENY" }),
          ),
        ),
        false,
      );
      const prefixAllow = acl({ operation: "WRITE", resourceName: "abc", patternType: "PREFIXED" });
      assert.equal(
        byType(
          store(
            prefixAllow,
            acl({ operation: "WRITE", resourceName: "ab", patternType: "PREFIXED", permissionType: "DENY" }),
          ),
        ),
        false,
      );
      // A literal DENY of the prefix's text does not cover a prefix.
      assert.equal(
        byType(store(prefixAllow, acl({ operation: "WRITE", resourceName: "abc", permissionType: "DENY" }))),
        true,
      );
      assert.equal(byType(store(allow, acl({ operation: "WRITE", resourceName: "*", permissionType: "DENY" }))), false);
      assert.equal(
        byType(store(allow, acl({ operation: "WRITE", resourceName: "other", permissionType: "DENY" }))),
        true,
      );
    });

    it("super users, and -allowEveryoneIfNoAclFound with no binding, are allowed", () => {
      assert.equal(byType(store(), { ...STRICT, superUsers: ["User:alice"] }), true);
      assert.equal(byType(store(), OPEN), true);
      assert.equal(byType(store(), STRICT), false);
    });
  });

  describe("the Authorizer", () => {
    it("allows everything, reading no binding, when authorization is off", () => {
      const off = Authorizer.off();
      assert.equal(off.authorize(ALICE, "ALTER", "CLUSTER", CLUSTER_RESOURCE_NAME), true);
      assert.equal(off.authorizeByResourceType(ALICE, "WRITE", "TOPIC"), true);
      // Kafka without an authorizer reports every operation of the type.
      assert.equal(
        off.authorizedOperations(ALICE, "GROUP", "g"),
        (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11),
      );
    });

    it("reports a resource's authorized operations as Kafka's bit field", () => {
      const s = store(acl({ operation: "READ" }), acl({ operation: "ALTER_CONFIGS" }));
      const authorizer = new Authorizer(STRICT, () => s, null);
      // READ (3), DESCRIBE (8, implied by READ), DESCRIBE_CONFIGS (10, implied), ALTER_CONFIGS (11).
      assert.equal(
        authorizer.authorizedOperations(ALICE, "TOPIC", "orders"),
        (1 << 3) | (1 << 8) | (1 << 10) | (1 << 11),
      );
      assert.equal(authorizer.authorizedOperations(BOB, "TOPIC", "orders"), 0);
    });

    it("logs a denial at debug with host, operation and resource but not the principal, unless told not to", () => {
      const { logger, lines } = capturedLogger("debug");
      const authorizer = new Authorizer(STRICT, () => store(), logger);
      assert.equal(authorizer.authorize(ALICE, "WRITE", "TOPIC", "orders", { api: "Produce" }), false);
      assert.equal(authorizer.authorize(ALICE, "DESCRIBE", "TOPIC", "hidden", { logIfDenied: false }), false);
      assert.deepEqual(
        lines.map((l) => [l.level, l.message, l.host, l.operation, l.resource, l.api]),
        [["debug", "authorization denied", "10.0.0.1", "WRITE", "TOPIC:orders", "Produce"]],
      );
      assert.ok(!JSON.stringify(lines).includes("alice"), "no principal in the line");
    });

    it("decides with the bindings as they are at each call", () => {
      let s = store();
      const authorizer = new Authorizer(STRICT, () => s, null);
      assert.equal(authorizer.authorize(ALICE, "READ", "TOPIC", "orders"), false);
      s = store(acl({}));
      assert.equal(authorizer.authorize(ALICE, "READ", "TOPIC", "orders"), true);
    });
  });

  describe("filters (DescribeAcls, DeleteAcls)", () => {
    const ANY: AclFilter = {
      resourceType: "ANY",
      resourceName: null,
      patternType: "ANY",
      principal: null,
      host: null,
      operation: "ANY",
      permissionType: "ANY",
    };
    const literal = acl({ resourceName: "orders" });
    const wildcard = acl({ resourceName: "*", operation: "WRITE" });
    const prefixed = acl({ resourceName: "ord", patternType: "PREFIXED", principal: "User:bob" });
    const other = acl({ resourceName: "payments", permissionType: "DENY", host: "10.0.0.1" });
    const group = acl({ resourceType: "GROUP", resourceName: "orders" });
    const all = store(literal, wildcard, prefixed, other, group);
    const match = (f: Partial<AclFilter>) => all.matching({ ...ANY, ...f });

    it("ANY and nulls match everything; each field narrows", () => {
      assert.deepEqual(match({}), [literal, wildcard, prefixed, other, group]);
      assert.deepEqual(match({ resourceType: "GROUP" }), [group]);
      assert.deepEqual(match({ principal: "User:bob" }), [prefixed]);
      assert.deepEqual(match({ host: "10.0.0.1" }), [other]);
      assert.deepEqual(match({ operation: "WRITE" }), [wildcard]);
      assert.deepEqual(match({ permissionType: "DENY" }), [other]);
      assert.deepEqual(match({ patternType: "PREFIXED" }), [prefixed]);
    });

    it("a name with ANY or an exact pattern type matches that name as written", () => {
      assert.deepEqual(match({ resourceName: "orders" }), [literal, group]);
      assert.deepEqual(match({ resourceName: "orders", patternType: "LITERAL" }), [literal, group]);
      assert.deepEqual(match({ resourceName: "ord", patternType: "PREFIXED" }), [prefixed]);
      assert.deepEqual(match({ resourceName: "*", patternType: "LITERAL" }), [wildcard]);
    });

    it("MATCH: the bindings that apply to the named resource (literal, wildcard, prefixes)", () => {
      assert.deepEqual(match({ resourceType: "TOPIC", resourceName: "orders", patternType: "MATCH" }), [
        literal,
        wildcard,
        prefixed,
      ]);
      assert.deepEqual(match({ resourceType: "TOPIC", resourceName: "payments", patternType: "MATCH" }), [
        wildcard,
        other,
      ]);
    });

    it("DeleteAcls: each filter lists what it matched before anything is removed, then all of it goes", () => {
      const s = store(literal, wildcard, prefixed, other, group);
      const deleted = s.deleteMatching([
        { ...ANY, resourceName: "orders", resourceType: "TOPIC", patternType: "MATCH" },
        { ...ANY, principal: "User:bob" },
        { ...ANY, resourceName: "nothing" },
      ]);
      assert.deepEqual(deleted, [[literal, wildcard, prefixed], [prefixed], []]);
      assert.deepEqual(s.bindings(), [other, group]);
      assert.equal(decide(s, STRICT, BOB, "READ", "TOPIC", "orders").rule, "no acl: deny", "the index forgot them");
    });
  });
});
