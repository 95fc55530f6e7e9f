/** A case rebuilt from its seed and number, for `--show` and for naming a crash's bytes. */
import { alertCase, eventCase } from './cases.ts'
import { baseAlerts, baseEvents, CleanStream } from './corpus.ts'
import type { Mutated } from './mutations.ts'
import { escapeBytes, type Finding, type Target } from './report.ts'

export async function rebuildCase(
  target: Target,
  seed: string,
  k: number,
  batch: number
): Promise<Mutated & { k: number }> {
  if (target === 'http') return alertCase(seed, k, await baseAlerts(seed))
  const clean = new CleanStream(seed).window(Math.floor(k / batch))
  return eventCase(seed, target, k, baseEvents(seed), clean)
}

/** Fills in the mutations and bytes of findings that name a case but could not carry them (crashes, hangs). */
export async function withBytes(findings: Finding[], batch: number): Promise<Finding[]> {
  const out: Finding[] = []
  for (const f of findings) {
    if (f.case === null || f.bytes >= 0) {
      out.push(f)
      continue
    }
    const c = await rebuildCase(f.target, f.seed, f.case, batch)
    const p = c.payloads[0] ?? null
    out.push({ ...f, mutations: c.mutations, head: escapeBytes(p), bytes: p?.length ?? 0 })
  }
  return out
}

export function describe(c: Mutated & { k: number }, max = 600): string {
  const lines = [`case ${c.k}: ${c.mutations.join(' + ')}`]
  if (c.recordTimestamp !== undefined) lines.push(`  record timestamp ${c.recordTimestamp}`)
  for (const [k, v] of c.headers ?? [])
    lines.push(`  header ${JSON.stringify(k.slice(0, 40))} (${v.length} chars)`)
  c.payloads
    .slice(0, 5)
    .forEach((p, i) => lines.push(`  record ${i}: ${p?.length ?? 'null'} bytes: ${escapeBytes(p, max)}`))
  if (c.payloads.length > 5) lines.push(`  … ${c.payloads.length} records in all`)
  return lines.join('\n')
}
