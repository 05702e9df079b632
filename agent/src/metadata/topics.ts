/**
 * Topic administration on top of the metadata log: name validation, auto-creation, create/delete,
 * partitions and configs. Results come from the fold, so every agent agrees.
 */
import { randomBytes } from "node:crypto";
import { errorMessage, type Logger } from "../../../common/logger.js";
import type { Command, TruncateCommand } from "./commands.js";
import type { MetadataLog } from "./log.js";
import { ProposalOutcomeUnknownError } from "./proposal.js";
import type { CommandResult } from "./state.js";
import { FoldError } from "./state.js";
import { partitionCountProblem } from "./limits.js";
import { validateTopicConfig } from "./topic-config.js";

const MAX_TOPIC_NAME = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Returns why a topic name is invalid, or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "topic name is empty";
  if (name === "." || name === "..") return `topic name ${JSON.stringify(name)} is not allowed`;
  if (name.length > MAX_TOPIC_NAME) return `topic name longer than ${MAX_TOPIC_NAME} characters`;
  if (!TOPIC_NAME.test(name))
    return `topic name ${JSON.stringify(name)} may contain only ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

export interface TopicOptions {
  readonly autoCreate: boolean;
  readonly defaultPartitions: number;
  readonly logger: Logger;
}

/**
 * Topic changes go through the metadata log; when it cannot be appended to (store throttled past its
 * retries, unreachable) the change is answered with this retriable code, as a Kafka controller answers
 * a request it could not complete in time, instead of failing the request and closing the connection.
 */
export const LOG_UNAVAILABLE = FoldError.REQUEST_TIMED_OUT;

/** One partition of a DeleteRecords request: its records below `offset` go (−1: the high watermark). */
export interface DeleteRecordsTarget {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface DeleteRecordsResult {
  readonly errorCode: number;
  /** The partition's log start after the deletion; −1 on error. */
  readonly lowWatermark: bigint;
}

/** DeleteRecords' offset for "up to the high watermark". */
export const HIGH_WATERMARK = -1n;

export class TopicService {
  constructor(
    private readonly log: MetadataLog,
    readonly options: TopicOptions,
  ) {}

  partitionCount(topic: string): number | null {
    return this.log.state.topics.get(topic)?.partitions.length ?? null;
  }

  /**
   * Makes sure a topic exists, creating it when auto-creation is on. Returns NONE when it exists now,
   * UNKNOWN_TOPIC_OR_PARTITION when it does not and may not be created, or LOG_UNAVAILABLE when
   * creating it failed for now.
   */
  async ensure(topic: string): Promise<number> {
    if (this.log.state.topics.has(topic)) return FoldError.NONE;
    if (!this.options.autoCreate || topicNameProblem(topic) !== null) return FoldError.UNKNOWN_TOPIC_OR_PARTITION;
    const result = await this.create(topic, this.options.defaultPartitions, {});
    if (result.errorCode === FoldError.NONE || result.errorCode === FoldError.TOPIC_ALREADY_EXISTS)
      return FoldError.NONE;
    return result.errorCode === LOG_UNAVAILABLE ? LOG_UNAVAILABLE : FoldError.UNKNOWN_TOPIC_OR_PARTITION;
  }

  /** Validates without proposing; returns an error result or null. */
  check(name: string, partitions: number, configs: Readonly<Record<string, string>>): CommandResult | null {
    const nameProblem = topicNameProblem(name);
    if (nameProblem) return { errorCode: FoldError.INVALID_TOPIC_EXCEPTION, message: nameProblem };
    if (this.log.state.topics.has(name))
      return { errorCode: FoldError.TOPIC_ALREADY_EXISTS, message: `topic ${name} already exists` };
    const countProblem = partitionCountProblem(partitions, 0, this.log.state.partitionTotal);
    if (countProblem) return { errorCode: FoldError.INVALID_PARTITIONS, message: countProblem };
    for (const [k, v] of Object.entries(configs)) {
      const problem = validateTopicConfig(k, v);
      if (problem) return { errorCode: FoldError.INVALID_CONFIG, message: problem };
    }
    return null;
  }

  async create(name: string, partitions: number, configs: Readonly<Record<string, string>>): Promise<CommandResult> {
    const problem = this.check(name, partitions, configs);
    if (problem) return problem;
    return this.propose({ type: "createTopic", name, topicId: randomBytes(16).toString("hex"), partitions, configs });
  }

  async delete(name: string): Promise<CommandResult> {
    return this.propose({ type: "deleteTopic", name });
  }

  /** Validates a new partition count without proposing; returns an error result or null. */
  checkCreatePartitions(name: string, count: number): CommandResult | null {
    const current = this.partitionCount(name);
    if (current === null)
      return { errorCode: FoldError.UNKNOWN_TOPIC_OR_PARTITION, message: `topic ${name} does not exist` };
    const countProblem = partitionCountProblem(count, current, this.log.state.partitionTotal);
    if (countProblem) return { errorCode: FoldError.INVALID_PARTITIONS, message: countProblem };
    if (count <= current) {
      return {
        errorCode: FoldError.INVALID_PARTITIONS,
        message: `topic ${name} has ${current} partitions; the new count must be larger`,
      };
    }
    return null;
  }

  async createPartitions(name: string, count: number): Promise<CommandResult> {
    const problem = this.checkCreatePartitions(name, count);
    if (problem) return problem;
    return this.propose({ type: "createPartitions", name, count });
  }

  async alterConfigs(
    name: string,
    set: Readonly<Record<string, string | null>>,
    replace: boolean,
  ): Promise<CommandResult> {
    return this.propose({ type: "alterConfigs", name, set, replace });
  }

  /**
   * DeleteRecords: moves each partition's log start to its target with the `truncate` command retention
   * uses, so every agent's fold moves it the same way and it never moves back. Per partition:
   * UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist (or was re-created meanwhile);
   * OFFSET_OUT_OF_RANGE for an offset below −1 or beyond the high watermark; LOG_UNAVAILABLE when the log
   * cannot be written, or when `viewIsCurrent` is false and the answer depends on the end of the log
   * (−1, or an offset beyond this agent's view of it); else NONE with the log start after the command.
   * An offset at or below the log start changes nothing and answers the current log start, as in Kafka.
   */
  async deleteRecords(targets: readonly DeleteRecordsTarget[], viewIsCurrent: boolean): Promise<DeleteRecordsResult[]> {
    const failed = (errorCode: number): DeleteRecordsResult => ({ errorCode, lowWatermark: -1n });
    const results: DeleteRecordsResult[] = [];
    const proposed: Array<{ at: number; command: TruncateCommand }> = [];
    for (const t of targets) {
      const topic = this.log.state.topics.get(t.topic);
      const p = topic?.partitions[t.partition];
      if (!topic || !p) {
        results.push(failed(FoldError.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      const end = BigInt(p.nextOffset);
      if (t.offset < HIGH_WATERMARK || t.offset > end) {
        results.push(
          failed(viewIsCurrent || t.offset < HIGH_WATERMARK ? FoldError.OFFSET_OUT_OF_RANGE : LOG_UNAVAILABLE),
        );
        continue;
      }
      if (t.offset === HIGH_WATERMARK && !viewIsCurrent) {
        results.push(failed(LOG_UNAVAILABLE));
        continue;
      }
      const offset = t.offset === HIGH_WATERMARK ? p.nextOffset : Number(t.offset);
      if (offset <= p.logStartOffset) {
        results.push({ errorCode: FoldError.NONE, lowWatermark: BigInt(p.logStartOffset) });
        continue;
      }
      proposed.push({
        at: results.length,
        command: { type: "truncate", topic: t.topic, partition: t.partition, offset, topicId: topic.topicId },
      });
      results.push(failed(LOG_UNAVAILABLE));
    }
    if (proposed.length === 0) return results;
    let folded: CommandResult[];
    try {
      folded = await this.log.propose(proposed.map((p) => p.command));
    } catch (err) {
      this.options.logger.warn("deleting records failed", { partitions: proposed.length, error: errorMessage(err) });
      return results;
    }
    proposed.forEach(({ at }, i) => {
      const r = folded[i]!;
      results[at] =
        r.errorCode === FoldError.NONE && r.logStartOffset !== undefined
          ? { errorCode: FoldError.NONE, lowWatermark: BigInt(r.logStartOffset) }
          : failed(r.errorCode === FoldError.NONE ? FoldError.UNKNOWN_SERVER_ERROR : r.errorCode);
    });
    this.options.logger.info("records deleted (log start moved)", {
      partitions: proposed.map(({ command: c }) => `${c.topic}-${c.partition}@${c.offset}`).join(","),
    });
    return results;
  }

  /**
   * Proposes one command; a log that cannot be appended to, or a change whose outcome the log cannot
   * tell (metadata/proposal.ts), is answered LOG_UNAVAILABLE, not thrown.
   */
  private async propose(command: Command): Promise<CommandResult> {
    let results: CommandResult[];
    try {
      results = await this.log.propose([command]);
    } catch (err) {
      this.options.logger.warn("topic change failed", { command: command.type, error: errorMessage(err) });
      return {
        errorCode: LOG_UNAVAILABLE,
        message:
          err instanceof ProposalOutcomeUnknownError
            ? `the change may or may not have been applied, check and try again: ${errorMessage(err)}`
            : `the metadata log could not be written, try again: ${errorMessage(err)}`,
      };
    }
    return results[0]!;
  }
}
