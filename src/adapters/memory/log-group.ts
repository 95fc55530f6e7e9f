import type { PartitionOffset, TopicPartition } from '../../ports/log.ts'

/** How a group spreads partitions over its members (Kafka's RangeAssignor / RoundRobinAssignor). */
export type AssignmentStrategy = 'range' | 'roundrobin'

/** One member of a consumer group, as the embedded log's consumer sees it. */
export interface GroupMember {
  readonly memberId: string
  readonly groupId: string
  /** Generation of the group at the last rebalance. */
  readonly generation: number
  /** Partitions owned in the current generation. */
  readonly assignment: readonly TopicPartition[]
  /** The generation since which this member owns the partition without interruption. */
  ownedSince(topic: string, partition: number): number | undefined
  /**
   * Commits next offsets read in `generation`. A partition is committed only if this member
   * has owned it without interruption since then; the others moved (or the member left) and
   * are dropped silently, as Kafka refuses a commit with a stale generation. Returns how many
   * offsets were accepted.
   */
  commit(generation: number, offsets: readonly PartitionOffset[]): number
  leave(): void
}

interface MemberState {
  readonly id: string
  readonly topics: readonly string[]
  assignment: TopicPartition[]
  ownedSince: Map<string, number>
  readonly onChange: () => void
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

/**
 * A consumer group: members, their assignment, the generation and the committed offsets.
 * Committed offsets outlive the members (a restarted group resumes), like Kafka's.
 */
export class ConsumerGroup {
  readonly id: string
  readonly #strategy: AssignmentStrategy
  readonly #partitionsOf: (topic: string) => number
  readonly #members = new Map<string, MemberState>()
  readonly #commits = new Map<string, number>()
  #generation = 0
  #seq = 0

  constructor(id: string, strategy: AssignmentStrategy, partitionsOf: (topic: string) => number) {
    this.id = id
    this.#strategy = strategy
    this.#partitionsOf = partitionsOf
  }

  get generation(): number {
    return this.#generation
  }

  get memberCount(): number {
    return this.#members.size
  }

  subscribes(topic: string): boolean {
    for (const m of this.#members.values()) if (m.topics.includes(topic)) return true
    return false
  }

  /** Committed next offset of a partition, -1 where none. */
  committed(topic: string, partition: number): number {
    return this.#commits.get(tpKey(topic, partition)) ?? -1
  }

  forgetTopic(topic: string): void {
    for (const k of [...this.#commits.keys()]) if (k.startsWith(`${topic}\u0000`)) this.#commits.delete(k)
  }

  join(clientId: string, topics: readonly string[], onChange: () => void): GroupMember {
    // Zero-padded so that sorting the ids gives the join order.
    const id = `${clientId}-${String(++this.#seq).padStart(8, '0')}`
    const state: MemberState = {
      id,
      topics: [...new Set(topics)],
      assignment: [],
      ownedSince: new Map(),
      onChange
    }
    this.#members.set(id, state)
    this.rebalance()
    return this.#handle(state)
  }

  /** New generation: recomputes every member's assignment and tells every member. */
  rebalance(): void {
    const gen = ++this.#generation
    const members = [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
    const plan = assign(this.#strategy, members, this.#partitionsOf)
    for (const m of members) {
      const next = plan.get(m.id) ?? []
      const since = new Map<string, number>()
      for (const tp of next) {
        const k = tpKey(tp.topic, tp.partition)
        since.set(k, m.ownedSince.get(k) ?? gen)
      }
      m.assignment = next
      m.ownedSince = since
    }
    for (const m of members) m.onChange()
  }

  #handle(state: MemberState): GroupMember {
    const generation = (): number => this.#generation
    return {
      memberId: state.id,
      groupId: this.id,
      get generation() {
        return generation()
      },
      get assignment() {
        return state.assignment
      },
      ownedSince: (topic, partition) => state.ownedSince.get(tpKey(topic, partition)),
      commit: (generation, offsets) => {
        if (this.#members.get(state.id) !== state) return 0
        let accepted = 0
        for (const o of offsets) {
          const k = tpKey(o.topic, o.partition)
          const since = state.ownedSince.get(k)
          if (since === undefined || since > generation) continue
          this.#commits.set(k, o.offset)
          accepted++
        }
        return accepted
      },
      leave: () => {
        if (this.#members.get(state.id) !== state) return
        this.#members.delete(state.id)
        state.assignment = []
        state.ownedSince = new Map()
        this.rebalance()
      }
    }
  }
}

function assign(
  strategy: AssignmentStrategy,
  members: readonly MemberState[],
  partitionsOf: (topic: string) => number
): Map<string, TopicPartition[]> {
  const plan = new Map<string, TopicPartition[]>(members.map(m => [m.id, []]))
  const topics = [...new Set(members.flatMap(m => m.topics))].sort()
  if (strategy === 'range') {
    for (const topic of topics) {
      const subs = members.filter(m => m.topics.includes(topic))
      const n = partitionsOf(topic)
      const per = Math.floor(n / subs.length)
      const extra = n % subs.length
      let start = 0
      subs.forEach((m, i) => {
        const count = per + (i < extra ? 1 : 0)
        for (let p = start; p < start + count; p++) plan.get(m.id)!.push({ topic, partition: p })
        start += count
      })
    }
    return plan
  }
  let next = 0
  for (const topic of topics) {
    for (let p = 0; p < partitionsOf(topic); p++) {
      // Cycle over all members, skipping those not subscribed to this topic.
      for (let tries = 0; tries < members.length; tries++) {
        const m = members[next++ % members.length]!
        if (m.topics.includes(topic)) {
          plan.get(m.id)!.push({ topic, partition: p })
          break
        }
      }
    }
  }
  return plan
}
