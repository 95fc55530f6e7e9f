import type { AnalyzeOutcome } from './analyze.ts'

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** The short text summary of a run for stdout: key figures and the paths written. */
export function formatSummary({ report, written, stored }: AnalyzeOutcome, mongo: string | null): string {
  const { run, results: r } = report
  const skipped = Object.entries(run.skipped.by_reason)
    .map(([k, n]) => `${k} ${int.format(n)}`)
    .join(', ')
  const lines = [
    `analyzed ${int.format(run.rows)} transactions from ${run.source.kind} ${run.source.name} in ${run.seconds.toFixed(2)} s` +
      (run.skipped.total > 0 ? ` (skipped ${int.format(run.skipped.total)}: ${skipped})` : ''),
    `total value ${int.format(r.summary.total_value)} Rial · average ${int.format(r.summary.average_amount)} Rial · ` +
      `commission ${int.format(r.summary.total_commission)} Rial` +
      (r.fraud ? ` · fraud rate ${(r.fraud.rate * 100).toFixed(2)} %` : ''),
    `customers ${int.format(r.users.users)} · merchants ${int.format(r.merchants.merchants)} · peak hours (UTC) ` +
      (r.temporal.peak_hours.map(p => `${String(p.hour).padStart(2, '0')}:00`).join(', ') || '—')
  ]
  const topCount = r.merchants.top_by_count[0]
  const topCommission = r.merchants.top_by_commission[0]
  if (topCount && topCommission) {
    lines.push(
      `top merchant by count ${topCount.merchant_id} (${int.format(topCount.count)}), ` +
        `by commission ${topCommission.merchant_id} (${int.format(topCommission.commission)} Rial)`
    )
  }
  if (written) {
    lines.push(`wrote ${written.html}`, `wrote ${written.json}`)
    if (written.pngs.length > 0) lines.push(`wrote ${written.pngs.length} charts: ${written.pngs.join(', ')}`)
    if (written.consoleErrors.length > 0)
      lines.push(`report page errors: ${written.consoleErrors.join(' | ')}`)
  }
  if (stored && mongo) lines.push(`stored run ${run.id} in ${mongo} (analytics_* collections)`)
  return lines.join('\n') + '\n'
}
