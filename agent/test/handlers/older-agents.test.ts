/**
 * A rolling upgrade: while an agent of an older release is live (it advertises the newest metadata log
 * entry format it reads in its heartbeat, and the log is told the oldest of them), a change that needs a
 * newer entry format is refused before anything is appended, so the older agent is not stopped by an
 * entry it cannot read. The admin APIs answer UNSUPPORTED_VERSION (not retriable) with a message saying
 * to upgrade every agent, and the same request works once every agent reads the format. The log and its
 * store are real (the mem store); the agent context holds only what these handlers use.
 */
import assert from "node:assert/strict";
import { randomBytes, pbkdf2Sync } from "node:crypto";
import { componentLogger } from "../../../common/logger.js";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { FormatNotReadByAllError } from "../../src/metadata/proposal.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import { Authorizer } from "../../src/security/authorizer.js";
import { SaslUsers } from "../../src/security/users.js";
import type { AgentContext } from "../../src/server/context.js";
import { MemMetadataStore } from "../../src/store/mem.js";
import { testMetadataLog } from "../support/metadata-log.js";
import { callHandler } from "../support/handler-call.js";

describe("changes that need a newer log format than a live agent reads", () => {
  let readers: number;
  let log: MetadataLog;
  let agent: AgentContext;
  const admin = { principal: "admin" };

  beforeEach(async () => {
    readers = 3;
    log = testMetadataLog(new MemMetadataStore(), { readersFormat: () => readers });
    await log.open();
    agent = {
      metadata: log,
      log: componentLogger("test"),
      authorizer: new Authorizer(
        { enabled: true, superUsers: ["User:admin"], allowEveryoneIfNoAclFound: false },
        () => log.state.acls,
        null,
      ),
      usersFile: () => new SaslUsers([]),
    } as unknown as AgentContext;
  });
  afterEach(async () => log.close());

  it("the log refuses the command before appending it, naming the formats", async () => {
    const before = log.state.appliedIndex;
    await assert.rejects(
      log.propose([{ type: "deleteAcls", filters: [] }]),
      (err: unknown) =>
        err instanceof FormatNotReadByAllError &&
        err.message ===
          "an agent of an older release is running: it reads metadata log entries up to format 3, and this change (deleteAcls) needs format 4; upgrade every agent first",
    );
    assert.equal(log.state.appliedIndex, before, "nothing appended");
    // A command every agent reads still goes through.
    const [created] = await log.propose([
      { type: "createTopic", name: "t", topicId: "a".repeat(32), partitions: 1, configs: {} },
    ]);
    assert.equal(created!.errorCode, ErrorCode.NONE);
  });

  it("CreateAcls, DeleteAcls and AlterUserScramCredentials answer UNSUPPORTED_VERSION until every agent is upgraded", async () => {
    const creation = {
      resourceType: 2,
      resourceName: "orders",
      resourcePatternType: 3,
      principal: "User:alice",
      host: "*",
      operation: 3,
      permissionType: 3,
    };
    const filter = {
      resourceTypeFilter: 1,
      resourceNameFilter: null,
      patternTypeFilter: 1,
      principalFilter: null,
      hostFilter: null,
      operation: 1,
      permissionType: 1,
    };
    const salt = randomBytes(16);
    const upsertion = {
      name: "carol",
      mechanism: 2,
      iterations: 4096,
      salt,
      saltedPassword: pbkdf2Sync("pw", salt, 4096, 64, "sha512"),
    };
    const upgrade = /needs format [45]; upgrade every agent first/;

    const created = await callHandler(agent, ApiKey.CreateAcls, 3, { creations: [creation] }, undefined, admin);
    assert.equal(created.results[0]!.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.match(created.results[0]!.errorMessage!, upgrade);
    const deleted = await callHandler(agent, ApiKey.DeleteAcls, 3, { filters: [filter] }, undefined, admin);
    assert.equal(deleted.filterResults[0]!.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    const alter = () =>
      callHandler(
        agent,
        ApiKey.AlterUserScramCredentials,
        0,
        { deletions: [], upsertions: [{ ...upsertion, saltedPassword: Buffer.from(upsertion.saltedPassword) }] },
        undefined,
        admin,
      );
    const altered = await alter();
    assert.deepEqual(
      [altered.results[0]!.errorCode, upgrade.test(altered.results[0]!.errorMessage!)],
      [ErrorCode.UNSUPPORTED_VERSION, true],
    );
    assert.equal(log.state.acls.size + log.state.scramCredentials.size, 0);

    readers = ENTRY_FORMAT.latest;
    assert.equal(
      (await callHandler(agent, ApiKey.CreateAcls, 3, { creations: [creation] }, undefined, admin)).results[0]!
        .errorCode,
      ErrorCode.NONE,
    );
    assert.equal((await alter()).results[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual([log.state.acls.size, log.state.scramCredentials.size], [1, 1]);
  });
});
