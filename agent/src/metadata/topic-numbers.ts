/**
 * Topic numbers (docs/metadata-log.md, "Entry formats", level 8): a small per-log integer for a topic,
 * which level-8 binary entries write in a command's topic table instead of the topic's name.
 *
 * Every agent must give every topic the same number, whatever snapshot it started from. So numbers are
 * assigned only by folding an explicit command, `numberTopics` (naming each topic by name and topic id),
 * from a counter that is part of the state and of its snapshots; never by the fold of `createTopic`
 * and never from the order of a snapshot's topics. A number is never reused, and the table keeps the
 * numbers of deleted topics: an entry encoded for number 17 before its topic was deleted still decodes
 * after, to the topic it meant (name and id), and the fold drops its batches as it drops those of a
 * deleted topic named by name. A number unknown to the table is therefore an unreadable entry, never a
 * race. The table grows with every topic ever numbered (its name and id, about 60 bytes each).
 */
import type { NumberTopicsCommand } from "./commands.js";

/** The topic a number was given to. */
export interface NumberedTopic {
  readonly name: string;
  readonly topicId: string;
}

/**
 * What the entry codec asks of the state: the number to write for a topic when encoding (undefined:
 * the topic is written by name), and the topic a number means when decoding.
 */
export interface TopicNumbering {
  /** The live topic `name`'s number; with `topicId`, only if the topic numbered so has that id. */
  numberOf(name: string, topicId?: string): number | undefined;
  /** The topic given `number`, deleted or not. */
  topicOf(number: number): NumberedTopic | undefined;
}

/** A snapshot's row of the table: [name, topicId], the row's position being its number. */
export type TopicNumberRow = readonly [string, string];

/** Every number given so far, in order: number n is the n-th topic numbered. The counter is their count. */
export class TopicNumbers {
  private readonly topics: NumberedTopic[] = [];
  private readonly byId = new Map<string, number>();

  /** The next number to give (numbers are 0, 1, 2, ...; none is reused). */
  get next(): number {
    return this.topics.length;
  }

  /** The number of the topic with this id, if it has one. */
  numberOfId(topicId: string): number | undefined {
    return this.byId.get(topicId);
  }

  topicOf(number: number): NumberedTopic | undefined {
    return this.topics[number];
  }

  /** Gives the topic the next number (the caller checked it has none). */
  assign(topic: NumberedTopic): number {
    const number = this.topics.length;
    this.topics.push({ name: topic.name, topicId: topic.topicId });
    this.byId.set(topic.topicId, number);
    return number;
  }

  toRows(): TopicNumberRow[] {
    return this.topics.map((t) => [t.name, t.topicId] as const);
  }

  /** The table a snapshot holds; throws naming the first row it cannot restore. */
  static fromRows(rows: readonly TopicNumberRow[]): TopicNumbers {
    const numbers = new TopicNumbers();
    for (const [i, row] of rows.entries()) {
      if (!Array.isArray(row) || typeof row[0] !== "string" || typeof row[1] !== "string")
        throw new Error(`snapshot: topic number ${i} is malformed`);
      if (numbers.byId.has(row[1])) throw new Error(`snapshot: topic id ${row[1]} has two numbers`);
      numbers.assign({ name: row[0], topicId: row[1] });
    }
    return numbers;
  }
}

/**
 * At most this many topics that exist unnumbered are numbered per entry: a log upgraded with many topics
 * numbers them over its next entries, each staying small.
 */
export const NUMBERING_PER_ENTRY = 1000;

const UUID_HEX = /^[0-9a-f]{32}$/;

/** Bytes a topic takes in a numberTopics command, at most (tag and count aside): its name, and its id. */
export function numberingBytes(name: string): number {
  return Buffer.byteLength(name, "utf8") + 2 + 18;
}

/**
 * The numberTopics command a proposer adds to an entry written at level 8, or null: first the topics the
 * entry's own createTopic commands create (so that a new topic is numbered in the entry that creates it),
 * then up to NUMBERING_PER_ENTRY topics that exist without a number (created before level 8), as long as
 * they fit in `roomBytes`. Only a hint: the fold numbers what is still unnumbered when the entry folds,
 * and ignores the rest, so two agents proposing the same numbering is harmless.
 */
export function numberingCommand(
  created: readonly NumberedTopic[],
  unnumbered: Iterable<NumberedTopic>,
  roomBytes: number,
): NumberTopicsCommand | null {
  const topics: NumberedTopic[] = [];
  const listed = new Set<string>();
  let room = roomBytes - 4;
  const add = (t: NumberedTopic): boolean => {
    // A topic id that is no UUID (none is written today) cannot be numbered: its topic keeps its name.
    if (!UUID_HEX.test(t.topicId)) return true;
    const bytes = numberingBytes(t.name);
    if (bytes > room) return false;
    if (listed.has(t.topicId)) return true;
    listed.add(t.topicId);
    room -= bytes;
    topics.push({ name: t.name, topicId: t.topicId });
    return true;
  };
  for (const t of created) if (!add(t)) break;
  let existing = 0;
  for (const t of unnumbered) {
    if (existing++ >= NUMBERING_PER_ENTRY || !add(t)) break;
  }
  return topics.length > 0 ? { type: "numberTopics", topics } : null;
}
