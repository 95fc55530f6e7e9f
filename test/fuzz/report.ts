/** Findings: one line each (target, seed, case, mutations, first bytes), grouped for the summary. */

export type Target = 'processor' | 'file' | 'http'
export const TARGETS: readonly Target[] = ['processor', 'file', 'http']

export interface Finding {
  readonly target: Target
  readonly seed: string
  /** The case that produced it; null when only the batch as a whole shows it. */
  readonly case: number | null
  /** The batch's cases, [from, to). */
  readonly batch: readonly [number, number]
  /** Which assertion: crash, hang, threw, no-output, several-outputs, internal-error, … */
  readonly check: string
  readonly mutations: readonly string[]
  /** The first bytes of the record, escaped; and its length. */
  readonly head: string
  readonly bytes: number
  readonly detail: string
}

/** Printable ASCII as is, anything else as \xHH; at most `max` bytes. */
export function escapeBytes(b: Buffer | null, max = 96): string {
  if (b === null) return '<null value>'
  let s = ''
  const n = Math.min(b.length, max)
  for (let i = 0; i < n; i++) {
    const c = b[i]!
    if (c === 0x5c) s += '\\\\'
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c)
    else s += `\\x${c.toString(16).padStart(2, '0')}`
  }
  return b.length > max ? `${s}…` : s
}

export function formatFinding(f: Finding): string {
  const where = f.case === null ? `batch ${f.batch[0]}-${f.batch[1] - 1}` : `case ${f.case}`
  const what = f.mutations.length > 0 ? ` [${f.mutations.join(' + ')}]` : ''
  return (
    `${f.target} seed=${f.seed} ${where} ${f.check}${what}: ${f.detail}` +
    (f.bytes >= 0 ? `\n    ${f.bytes} bytes: ${f.head}` : '')
  )
}

/** The command that runs a finding's case (or batch) again, alone. */
export function reproduce(f: Finding, batchSize: number): string {
  const which =
    f.case === null ? `--from ${f.batch[0]} --cases ${f.batch[1] - f.batch[0]}` : `--case ${f.case}`
  return `npm run fuzz -- --target ${f.target} --seed ${f.seed} --batch ${batchSize} ${which} --show`
}

/** Findings grouped by target, check and the first words of the detail (numbers blanked). */
export function groupFindings(
  findings: readonly Finding[]
): { key: string; count: number; first: Finding }[] {
  const groups = new Map<string, { key: string; count: number; first: Finding }>()
  for (const f of findings) {
    const gist = f.detail.replace(/\d+/g, 'N').slice(0, 80)
    const key = `${f.target} ${f.check}: ${gist}`
    const g = groups.get(key)
    if (g) g.count++
    else groups.set(key, { key, count: 1, first: f })
  }
  return [...groups.values()].sort((a, b) => b.count - a.count)
}
